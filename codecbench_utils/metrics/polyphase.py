"""``scipy.signal.resample_poly`` (its default filter or a given FIR), in plain NumPy.

The paper's STOI port resamples to 10 kHz with ``scipy.signal.resample_poly(x, 10000, sr)``,
and pystoi's Octave-style ``resample_oct`` (the standard profile's STOI) is the same
operation with another filter. Importing ``scipy.signal`` costs each metric worker about
0.7 s at start-up (it pulls in ``scipy.stats``), a tenth of a 100-item benchmark run; this
module computes the same polyphase filtering without it, and 2-5x faster: same filter
(default ``firwin(20 * max(up, down) + 1, 1 / max(up, down), window=("kaiser", 5.0))``),
scaled by ``up``, same zero padding and output alignment; agrees with SciPy within 1e-12
(tested).
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["resample_poly"]

#: SciPy's default: sinc half-length of 10 zero crossings of the slower rate, Kaiser beta 5.
HALF_ZERO_CROSSINGS = 10
KAISER_BETA = 5.0


@functools.lru_cache(maxsize=16)
def _default_filter(up: int, down: int) -> np.ndarray:
    """SciPy's default low-pass: windowed sinc, cutoff at the lower Nyquist, unit DC gain."""
    max_rate = max(up, down)
    half = HALF_ZERO_CROSSINGS * max_rate
    n = 2 * half + 1
    h = np.sinc((np.arange(n) - half) / max_rate) * np.kaiser(n, KAISER_BETA)
    return h / h.sum()


def _phases(h: np.ndarray, up: int, down: int) -> tuple[np.ndarray, int]:
    """Polyphase taps ``(up, T)`` of the filter ``h * up`` (each row reversed) and the output offset.

    The filter is delayed by ``down - half % down`` zeros (``half = (len(h) - 1) // 2``) so that
    output samples fall on its centre, as in SciPy; the first ``(half + delay) // down`` filtered
    samples are the transient dropped.
    """
    n = h.size
    half = (n - 1) // 2
    delay = down - half % down
    taps = -(-(n + delay) // up)
    padded = np.zeros(taps * up)
    padded[delay : delay + n] = h * up
    # phase r holds h[r], h[r + up], ...; reversed so that row @ x[q - T + 1 : q + 1] filters at q
    return padded.reshape(taps, up).T[:, ::-1].copy(), (half + delay) // down


def resample_poly(x: np.ndarray, up: int, down: int, *, window: np.ndarray | None = None) -> np.ndarray:
    """Resample ``x`` along its last axis by ``up / down`` (``scipy.signal.resample_poly``, zero padding).

    Parameters
    ----------
    x : np.ndarray, shape (..., time)
        Real signal(s); computed in float64.
    up, down : int
        Positive rate factors, e.g. ``10000, 16000``.
    window : np.ndarray, optional
        FIR filter coefficients at the upsampled rate, as SciPy's array ``window`` (scaled by
        ``up`` after reducing ``up / down``); default: SciPy's Kaiser(5.0) low-pass.

    Returns
    -------
    np.ndarray, shape (..., ceil(time * up / down)), float64

    Examples
    --------
    >>> resample_poly(np.ones(160), 10000, 16000).shape
    (100,)
    """
    if up <= 0 or down <= 0:
        raise ValueError(f"resample_poly: up and down must be positive, got {up}, {down}")
    g = math.gcd(int(up), int(down))
    up, down = int(up) // g, int(down) // g
    x = np.asarray(x, dtype=np.float64)
    if up == down:
        return x.copy()
    n_in = x.shape[-1]
    n_out = -(-n_in * up // down)
    if window is None:
        h = _default_filter(up, down)
    else:
        h = np.asarray(window, dtype=np.float64)
        if h.ndim != 1 or h.size == 0:
            raise ValueError(f"resample_poly: window must be 1-D and non-empty, got shape {h.shape}")
    phases, skip = _phases(h, up, down)
    taps = phases.shape[1]
    # Output m = m0 + k * up (m0 < up) uses phase (m0 + skip) * down % up and reads taps samples of
    # x from base(m0) + k * down. One block k of `up` consecutive outputs is therefore one row of
    # x (read every `down` samples, `span` wide) times a (span, up) matrix holding each phase at
    # its offset: a single matmul instead of one strided pass per phase (2-3x faster).
    m0 = np.arange(min(up, n_out))
    j0 = (m0 + skip) * down
    base = j0 // up
    offsets = base - base[0]
    span = int(offsets[-1]) + taps
    block = np.zeros((span, m0.size))
    for i, off in enumerate(offsets):
        block[off : off + taps, i] = phases[j0[i] % up]
    n_blocks = -(-n_out // m0.size)
    # x shifted right by taps - 1 zeros (the filter's history) and zero-padded past its end
    width = max(int(base[0]) + (n_blocks - 1) * down + span, taps - 1 + n_in)
    xp = np.zeros((*x.shape[:-1], width))
    xp[..., taps - 1 : taps - 1 + n_in] = x
    step = xp.strides[-1]
    rows = np.lib.stride_tricks.as_strided(xp[..., base[0] :], shape=(*x.shape[:-1], n_blocks, span),
                                           strides=(*xp.strides[:-1], step * down, step), writeable=False)
    return (rows @ block).reshape(*x.shape[:-1], -1)[..., :n_out]
