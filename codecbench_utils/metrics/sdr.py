"""Signal-to-distortion ratio of BSS Eval v3 (``mir_eval.separation.bss_eval_sources``), single source.

For one source, ``bss_eval_sources`` projects the estimate onto the span of the reference
and its delays by 0..511 samples (a 512-tap least-squares filter); SDR is the energy of that
projection over the energy of what is left. ``mir_eval`` builds the 512x512 Gram matrix and
the cross-correlations with FFTs, solves, filters, and does it all twice (the "spatial" and
the "interference" projections coincide for one source). Here the same arithmetic runs once
per item, in float64, and the batched kernel solves all items' systems in one
``torch.linalg.solve`` call on CPU or GPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.fft
import scipy.linalg

from ..errors import InvalidAudioError
from ._checks import _check_batch, _check_pair, _torch_device

__all__ = ["SDR_VERSION", "FILTER_LENGTH", "sdr", "batched_sdr"]

SDR_VERSION = "codecbench sdr 2 (BSS Eval v3 bss_eval_sources, 1 source, 512-tap filter; = mir_eval 0.8)"

#: BSS Eval v3's distortion filter length: 512 taps = 32 ms at 16 kHz.
FILTER_LENGTH = 512


def _reject_silent(x: np.ndarray, what: str, item: str = "") -> None:
    """mir_eval rejects all-zero sources (the projection is then undefined)."""
    silent = ~np.any(x != 0, axis=-1)
    if np.any(silent):
        raise InvalidAudioError(
            f"sdr: {item}{what} is silent (all zeros); BSS Eval SDR is undefined for silence",
            metric="sdr",
        )


def _safe_db(num: float, den: float) -> float:
    """mir_eval's ``_safe_db``: +inf when nothing is left over."""
    if den == 0:
        return np.inf
    return float(10 * np.log10(num / den))


#: Relative residual ``||G c - d|| / ||d||`` above which the Levinson solution is not trusted
#: and the system is solved again by LU, as mir_eval solves it.
LEVINSON_RTOL = 1e-9


def _solve_gram(col: np.ndarray, row: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve the Toeplitz system ``G c = d``: Levinson (O(L^2)) when it checks out, else mir_eval's LU.

    Levinson recursion is 7x faster than LU at 512 taps but can break down on a singular or
    badly conditioned Gram matrix; its answer is kept only when the residual, checked with the
    full matrix, is tiny. Otherwise: ``np.linalg.solve`` with mir_eval's ``lstsq`` fallback.
    Returns ``(c, G, G @ c)``.
    """
    g = scipy.linalg.toeplitz(col, row)
    try:
        c = scipy.linalg.solve_toeplitz((col, row), d, check_finite=False)
        gc = g @ c
        res = np.linalg.norm(gc - d) / max(float(np.linalg.norm(d)), np.finfo(float).tiny)
        if np.isfinite(res) and res <= LEVINSON_RTOL:
            return c, g, gc
    except (np.linalg.LinAlgError, ValueError):
        pass
    try:
        c = np.linalg.solve(g, d)
    except np.linalg.LinAlgError:  # same fallback as mir_eval
        c = np.linalg.lstsq(g, d, rcond=None)[0]
    return c, g, g @ c


#: The closed-form energies are used only while their rounding bound is below this fraction of
#: the residual energy (a change of < 5e-6 dB); otherwise the projection is computed explicitly.
CLOSED_FORM_RTOL = 1e-6


def _sdr_one(ref: np.ndarray, est: np.ndarray, flen: int) -> float:
    """SDR of one 1-D float64 pair, following ``mir_eval.separation._bss_decomp_mtifilt`` for nsrc = 1.

    The FFT length is the next fast size >= N + flen - 1 rather than mir_eval's next power of
    two (no correlation at lags < flen and no sample of the N + flen - 1 convolution changes;
    4x faster FFTs for typical lengths).

    The projection ``p = ref * c`` (full convolution) need not be formed: its energy is
    ``c'Gc`` and the residual's is ``|est|^2 - 2c'd + c'Gc``, with the Gram matrix ``G`` and
    ``d`` already at hand (exact algebra; saves 2 of 6 FFTs). Where the residual is so small
    that rounding in that difference could matter (high SDR, or a large ill-conditioned
    ``c``), the projection is filtered explicitly, as mir_eval does.
    """
    n = ref.size
    n_fft = scipy.fft.next_fast_len(n + flen - 1, real=True)
    s_f = scipy.fft.rfft(ref, n=n_fft)
    e_f = scipy.fft.rfft(est, n=n_fft)
    acf = scipy.fft.irfft(s_f * np.conj(s_f), n=n_fft)  # circular, no wrap for |lag| < flen
    xcf = scipy.fft.irfft(s_f * np.conj(e_f), n=n_fft)
    lags = -np.arange(flen) % n_fft
    # G[i, j] = <ref delayed by i, ref delayed by j>: first column acf[-lags], first row acf[lags]
    d = xcf[lags]  # d[k] = <est, ref delayed by k>
    c, g, gc = _solve_gram(acf[lags], acf[:flen], d)
    target = float(c @ gc)
    energy = float(est @ est)
    rest = energy - 2 * float(c @ d) + target
    abs_c = np.abs(c)
    bound = 4 * flen * np.finfo(float).eps * (float(abs_c @ (np.abs(g) @ abs_c)) + 2 * float(abs_c @ np.abs(d))
                                              + energy)
    if rest > 0 and bound <= CLOSED_FORM_RTOL * rest:
        return _safe_db(target, rest)
    proj = scipy.fft.irfft(scipy.fft.rfft(c, n=n_fft) * s_f, n=n_fft)[: n + flen - 1]
    # s_filt = proj; e_artif = est (zero-padded) - proj, as mir_eval's error terms reduce to
    e_artif = -proj
    e_artif[:n] += est
    return _safe_db(np.sum(proj**2), np.sum(e_artif**2))


def sdr(ref: np.ndarray, est: np.ndarray, sr: int, *, filter_length: int = FILTER_LENGTH) -> np.ndarray:
    """BSS Eval v3 signal-to-distortion ratio in dB for one source (``bss_eval_sources``).

    The estimate is split into ``ref`` filtered by the best ``filter_length``-tap FIR filter
    (least squares) and the rest; SDR = ``10 log10(||filtered ref||^2 / ||rest||^2)``. Higher
    is better; a time-invariant filtering of ``ref`` (gain, short delay, EQ) is not penalized.

    Parameters
    ----------
    ref, est : np.ndarray, shape (..., time)
        Aligned reference and estimate at ``sr``; each signal along the leading dims is scored
        as its own single-source problem (as ``bss_eval_sources(ref_1d, est_1d)`` does).
    sr : int
        Sample rate in Hz (validated only: the filter length is in samples).
    filter_length : int, keyword-only
        Distortion filter taps (BSS Eval v3: 512).

    Returns
    -------
    np.ndarray, shape (...), float64
        ``+inf`` if the estimate is exactly in the filter's span (as ``mir_eval``).

    Raises
    ------
    InvalidAudioError
        Empty, non-finite or mismatched inputs, signals shorter than ``filter_length``
        samples, or a silent ``ref`` or ``est`` (``mir_eval`` raises ValueError for those).

    Notes
    -----
    The paper's reference (``reconstruct_evaluation/sdr_sisdr.py::evaluate_sdr_sisdr``) calls
    ``mir_eval.separation.bss_eval_sources(ref, est)`` on the whole 16 kHz 1-D signals (not
    framewise) and keeps ``sdr[0]``. For one source mir_eval's interference term is exactly
    zero and its two projections are identical, so this computes one projection with the
    same maths: FFT correlations (at a fast FFT length >= N + 511 instead of a power of two),
    the Toeplitz Gram matrix, a Levinson solve verified by its residual (LU with mir_eval's
    ``lstsq`` fallback otherwise), and the two energies in closed form from the Gram matrix
    (the projection is filtered explicitly, as mir_eval does, wherever rounding in the closed
    form could reach 5e-6 dB). Agrees with mir_eval 0.8.2 within 0.01 dB (tested: ~1e-11 dB,
    band-limited and sinusoidal refs included); about 10x faster than its LU/power-of-two
    version and 50x faster than mir_eval.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.standard_normal(4000)
    >>> est = ref + 0.1 * rng.standard_normal(4000)
    >>> round(float(sdr(ref, est, 16000)), 1)
    20.5
    """
    r, e = _check_pair(ref, est, sr, metric="sdr", min_samples=filter_length)
    _reject_silent(r, "ref")
    _reject_silent(e, "est")
    flat_r = r.reshape(-1, r.shape[-1])
    flat_e = e.reshape(-1, e.shape[-1])
    out = np.array([_sdr_one(a, b, filter_length) for a, b in zip(flat_r, flat_e, strict=True)])
    return out.reshape(r.shape[:-1])


def batched_sdr(
    refs: Sequence[np.ndarray],
    ests: Sequence[np.ndarray],
    sr: int,
    *,
    device: str = "cpu",
    filter_length: int = FILTER_LENGTH,
    _force_torch: bool = False,
) -> np.ndarray:
    """:func:`sdr` for a list of 1-D pairs of varying lengths; float64 torch kernel on CUDA.

    On a CUDA device all items share one FFT size (next power of two >= longest + 511; the
    zero padding changes no correlation at lags < 512) and one batched
    ``torch.linalg.solve`` of the 512x512 systems (2 MiB each). On CPU the per-item path
    runs item by item, which is faster there (measured 25 ms vs ~90 ms per 7-s item on a
    loaded 2-core box). Returns shape ``(n,)``; the kernel agrees with :func:`sdr` within
    1e-9 dB on the tested inputs (same arithmetic, different FFT/LU libraries).
    """
    rs, es = _check_batch(refs, ests, sr, metric="sdr", min_samples=filter_length)
    for i, (r, e) in enumerate(zip(rs, es, strict=True)):
        _reject_silent(r, "ref", f"batch item {i}: ")
        _reject_silent(e, "est", f"batch item {i}: ")
    if not rs:
        return np.zeros(0)
    dev = _torch_device(device)
    if dev.type == "cpu" and not _force_torch:
        # On CPU the per-item NumPy path is faster (no (B, n_fft) temporaries); same numbers.
        return np.array([_sdr_one(a, b, filter_length) for a, b in zip(rs, es, strict=True)])
    return _batched_sdr_torch(rs, es, dev, filter_length)


def _batched_sdr_torch(rs: list[np.ndarray], es: list[np.ndarray], dev, flen: int) -> np.ndarray:
    """The torch kernel of :func:`batched_sdr` (validated float64 1-D inputs)."""
    import torch

    lengths = [len(x) for x in rs]
    n_fft = int(2 ** np.ceil(np.log2(max(lengths) + flen - 1.0)))
    host_r = np.zeros((len(rs), n_fft))
    host_e = np.zeros((len(rs), n_fft))
    for i, (a, b) in enumerate(zip(rs, es, strict=True)):
        host_r[i, : len(a)] = a
        host_e[i, : len(b)] = b
    with torch.no_grad():
        r = torch.from_numpy(host_r).to(dev)
        e = torch.from_numpy(host_e).to(dev)
        s_f = torch.fft.rfft(r)
        acf = torch.fft.irfft(s_f * s_f.conj(), n=n_fft)
        xcf = torch.fft.irfft(s_f * torch.fft.rfft(e).conj(), n=n_fft)
        k = torch.arange(flen, device=dev)
        lags = (-k) % n_fft
        neg = acf[:, lags]  # first column of G (lags 0, -1, ..., -(flen-1))
        pos = acf[:, :flen]  # first row of G
        diff = k[:, None] - k[None, :]
        # scipy.linalg.toeplitz(c=neg, r=pos): on/below the diagonal from c, above from r
        g = torch.where(diff >= 0, neg[:, diff.clamp(min=0)], pos[:, (-diff).clamp(min=0)])
        c = torch.linalg.solve(g, xcf[:, lags].unsqueeze(-1)).squeeze(-1)
        proj = torch.fft.irfft(torch.fft.rfft(c, n=n_fft) * s_f, n=n_fft)
        e_spat = proj - r  # r is s_true zero-padded to n_fft; beyond N + flen - 1 all terms are 0
        s_filt = r + e_spat
        e_artif = e - r - e_spat
        out = 10 * torch.log10((s_filt**2).sum(-1) / (e_artif**2).sum(-1))
    return out.cpu().numpy()
