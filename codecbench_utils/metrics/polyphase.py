"""``scipy.signal.resample_poly`` with its default filter, in plain NumPy.

The paper's STOI port resamples to 10 kHz with ``scipy.signal.resample_poly(x, 10000, sr)``.
Importing ``scipy.signal`` costs each metric worker about 0.7 s at start-up (it pulls in
``scipy.stats``), a tenth of a 100-item benchmark run; this module computes the same
polyphase filtering without it. Same filter (``firwin(20 * max(up, down) + 1, 1 / max(up,
down), window=("kaiser", 5.0))`` scaled by ``up``), same zero padding and output alignment;
agrees with SciPy within 1e-12 (tested).
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
def _phases(up: int, down: int) -> tuple[np.ndarray, int]:
    """Polyphase taps ``(up, T)`` (each row reversed, for a sliding dot product) and the output offset.

    The windowed-sinc low-pass (cutoff at the lower Nyquist, unit DC gain, times ``up``) is
    delayed by ``down - half % down`` zeros so that output samples fall on its centre, as in
    SciPy; the first ``(half + delay) // down`` filtered samples are the transient dropped.
    """
    max_rate = max(up, down)
    half = HALF_ZERO_CROSSINGS * max_rate
    n = 2 * half + 1
    h = np.sinc((np.arange(n) - half) / max_rate) * np.kaiser(n, KAISER_BETA)
    h = h / h.sum() * up
    delay = down - half % down
    taps = -(-(n + delay) // up)
    padded = np.zeros(taps * up)
    padded[delay : delay + n] = h
    # phase r holds h[r], h[r + up], ...; reversed so that row @ x[q - T + 1 : q + 1] filters at q
    return padded.reshape(taps, up).T[:, ::-1].copy(), (half + delay) // down


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """Resample ``x`` along its last axis by ``up / down`` (``scipy.signal.resample_poly`` defaults).

    Parameters
    ----------
    x : np.ndarray, shape (..., time)
        Real signal(s); computed in float64.
    up, down : int
        Positive rate factors, e.g. ``10000, 16000``.

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
    phases, skip = _phases(up, down)
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
