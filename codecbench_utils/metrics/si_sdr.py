"""Scale-invariant SDR: the standard definition and the paper's variant.

``si_sdr`` is SI-SDR as defined by Le Roux et al. (2019). ``si_sdr_paper`` is what the
paper's reference code reports as "SI-SDR": a function of the zero-lag normalized correlation
only, ``10 log10((1/N) / ((1 - rho^2)/N + 1e-10))``, which is never below
``-10 log10(1 + 1e-10 N)`` (about -5e-5 dB, i.e. 0) and saturates
near ``10 log10(1e10 / N)`` (49.5 dB for 7 s at 16 kHz). They are different metrics and
carry different names; ``metrics/profiles.py`` picks one per profile.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidAudioError
from ._checks import _check_batch, _check_pair, _pad_batch, _torch_device

__all__ = ["SI_SDR_VERSION", "SI_SDR_PAPER_VERSION", "si_sdr", "si_sdr_paper", "batched_si_sdr", "batched_si_sdr_paper"]

SI_SDR_VERSION = "codecbench si_sdr 2 (Le Roux et al. 2019, float64, float64 eps in both energies)"
SI_SDR_PAPER_VERSION = "codecbench si_sdr_paper 1 (CodecBench reference compute_sisdr, float64)"

#: The reference's regularizer, added to both norms and to the distortion power.
PAPER_EPS = 1e-10
#: Added to both energies of standard SI-SDR, as torchmetrics does with its dtype's eps: an exact
#: copy scores a finite ``10 log10(||ref||^2 / eps)`` (about 156 dB + the reference's energy in dB)
#: instead of +inf, so the best items stay in the means.
SI_SDR_EPS = float(np.finfo(np.float64).eps)


def _reject_silent(x: np.ndarray, what: str, metric: str) -> None:
    """Raise when any signal along the leading dims is all zeros (the ratio is then 0/0)."""
    silent = ~np.any(x != 0, axis=-1)
    if np.any(silent):
        raise InvalidAudioError(
            f"{metric}: {what} is silent (all zeros) in {int(np.sum(silent))} of {silent.size} signals; "
            f"{metric} is undefined for silence",
            metric=metric,
        )


def si_sdr(ref: np.ndarray, est: np.ndarray, sr: int, *, zero_mean: bool = False) -> np.ndarray:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., 2019).

    ``alpha = <est, ref> / <ref, ref>``; ``10 log10((||alpha ref||^2 + eps) / (||est - alpha ref||^2 + eps))``
    with ``eps`` the float64 machine epsilon (:data:`SI_SDR_EPS`). Higher is better; an exact
    copy gets a finite, very high value rather than ``+inf``, an estimate orthogonal to the
    reference a very low one.

    Parameters
    ----------
    ref, est : np.ndarray, shape (..., time)
        Aligned reference and estimate at ``sr``.
    sr : int
        Sample rate in Hz (validated only).
    zero_mean : bool, keyword-only
        Subtract each signal's mean first. Off by default, as in ``torchmetrics``'
        ``scale_invariant_signal_distortion_ratio``; Le Roux et al. assume zero-mean signals.

    Returns
    -------
    np.ndarray, shape (...), float64

    Raises
    ------
    InvalidAudioError
        Empty, non-finite or mismatched inputs, or a silent (all-zero) ``ref`` or ``est``
        (after mean removal when ``zero_mean``), for which the ratio is undefined.

    Notes
    -----
    As torchmetrics adds its dtype's ``eps`` to both energies; solved in float64, so the
    ``eps`` only matters near an exact copy (where float32 torchmetrics saturates much lower).

    Examples
    --------
    >>> t = np.arange(1600) / 16000
    >>> ref = np.sin(2 * np.pi * 440 * t)
    >>> round(float(si_sdr(ref, 0.5 * ref + 0.05 * np.cos(2 * np.pi * 440 * t), 16000)), 2)
    20.0
    """
    r, e = _check_pair(ref, est, sr, metric="si_sdr")
    if zero_mean:
        r = r - r.mean(axis=-1, keepdims=True)
        e = e - e.mean(axis=-1, keepdims=True)
    _reject_silent(r, "ref", "si_sdr")
    _reject_silent(e, "est", "si_sdr")
    alpha = np.sum(e * r, axis=-1, keepdims=True) / np.sum(r * r, axis=-1, keepdims=True)
    target = alpha * r
    noise = e - target
    return 10 * np.log10((np.sum(target**2, axis=-1) + SI_SDR_EPS) / (np.sum(noise**2, axis=-1) + SI_SDR_EPS))


def si_sdr_paper(ref: np.ndarray, est: np.ndarray, sr: int) -> np.ndarray:
    """The paper's "SI-SDR": a correlation score in dB, ~0 to ~49.5 (7 s at 16 kHz), higher is better.

    ``r = ref / (||ref|| + 1e-10)``, ``e = est / (||est|| + 1e-10)``,
    ``d = e - <r, e> r``; result ``10 log10(mean(r^2) / (mean(d^2) + 1e-10))``
    ``~= 10 log10((1/N) / ((1 - rho^2)/N + 1e-10))``, ``rho`` the zero-lag normalized
    correlation and ``N`` the number of samples.

    Parameters
    ----------
    ref, est : np.ndarray, shape (..., time)
        Aligned reference and estimate at ``sr`` (16 kHz in the paper profile).
    sr : int
        Sample rate in Hz (validated only; the cap depends on ``N``, hence on ``sr``).

    Returns
    -------
    np.ndarray, shape (...), float64

    Raises
    ------
    InvalidAudioError
        Empty, non-finite or mismatched inputs, or a silent ``ref`` or ``est``.

    Notes
    -----
    Reproduces ``reconstruct_evaluation/sdr_sisdr.py::compute_sisdr`` of the reference
    implementation, operation for operation, in float64. Quirks kept: both signals are
    normalized, so the score ignores gain *and* the sign is not (``rho`` enters squared); it
    is not standard SI-SDR (see :func:`si_sdr`); the ``1e-10`` added to the mean distortion
    power caps the score at ``10 log10(1e10 / N)``, which depends on the duration. The
    reference computes it inside the same ``try`` as ``bss_eval_sources``, which rejects
    silent signals, so a silent ``ref`` or ``est`` never yields a score there: we raise.

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> ref = np.sin(2 * np.pi * 440 * t)
    >>> round(float(si_sdr_paper(ref, ref, 16000)), 2)  # the cap for N = 16000
    57.96
    """
    r, e = _check_pair(ref, est, sr, metric="si_sdr_paper")
    _reject_silent(r, "ref", "si_sdr_paper")
    _reject_silent(e, "est", "si_sdr_paper")
    r = r / (np.linalg.norm(r, axis=-1, keepdims=True) + PAPER_EPS)
    e = e / (np.linalg.norm(e, axis=-1, keepdims=True) + PAPER_EPS)
    proj = np.sum(r * e, axis=-1, keepdims=True) * r
    dist = e - proj
    return 10 * np.log10(np.mean(r**2, axis=-1) / (np.mean(dist**2, axis=-1) + PAPER_EPS))


def _batch_inputs(refs, ests, sr, metric, device):
    """Validate, reject silence item by item, and pad to float64 tensors on ``device``."""
    rs, es = _check_batch(refs, ests, sr, metric=metric)
    for i, (r, e) in enumerate(zip(rs, es, strict=True)):
        for x, what in ((r, "ref"), (e, "est")):
            if not np.any(x != 0):
                raise InvalidAudioError(
                    f"{metric}: batch item {i}: {what} is silent (all zeros); {metric} is undefined for silence",
                    item_id=str(i),
                    metric=metric,
                )
    dev = _torch_device(device)
    r, lengths, mask = _pad_batch(rs, device=dev)
    e, _, _ = _pad_batch(es, device=dev)
    return r, e, lengths, mask


def batched_si_sdr(
    refs: Sequence[np.ndarray],
    ests: Sequence[np.ndarray],
    sr: int,
    *,
    device: str = "cpu",
    zero_mean: bool = False,
) -> np.ndarray:
    """:func:`si_sdr` for a list of 1-D pairs of varying lengths, on ``device`` (float64).

    Returns shape ``(n,)``; equals :func:`si_sdr` item by item to float64 rounding.
    """
    import torch

    if len(refs) == 0:
        return np.zeros(0)
    if zero_mean:
        refs = [np.asarray(x, dtype=np.float64) - np.mean(x) for x in refs]
        ests = [np.asarray(x, dtype=np.float64) - np.mean(x) for x in ests]
    r, e, _, _ = _batch_inputs(refs, ests, sr, "si_sdr", device)
    with torch.no_grad():
        alpha = (e * r).sum(-1, keepdim=True) / (r * r).sum(-1, keepdim=True)
        target = alpha * r
        out = 10 * torch.log10(((target**2).sum(-1) + SI_SDR_EPS) / (((e - target) ** 2).sum(-1) + SI_SDR_EPS))
    return out.cpu().numpy()


def batched_si_sdr_paper(
    refs: Sequence[np.ndarray], ests: Sequence[np.ndarray], sr: int, *, device: str = "cpu"
) -> np.ndarray:
    """:func:`si_sdr_paper` for a list of 1-D pairs of varying lengths, on ``device`` (float64).

    Returns shape ``(n,)``; equals :func:`si_sdr_paper` item by item to float64 rounding.
    """
    import torch

    if len(refs) == 0:
        return np.zeros(0)
    r, e, lengths, _ = _batch_inputs(refs, ests, sr, "si_sdr_paper", device)
    with torch.no_grad():
        r = r / (torch.linalg.vector_norm(r, dim=-1, keepdim=True) + PAPER_EPS)
        e = e / (torch.linalg.vector_norm(e, dim=-1, keepdim=True) + PAPER_EPS)
        dist = e - (r * e).sum(-1, keepdim=True) * r  # zero on the padding
        out = 10 * torch.log10(((r**2).sum(-1) / lengths) / ((dist**2).sum(-1) / lengths + PAPER_EPS))
    return out.cpu().numpy()
