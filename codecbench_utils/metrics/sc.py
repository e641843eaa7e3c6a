"""Spectral convergence between magnitude spectrograms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidAudioError
from ._checks import _check_batch, _check_pair, _pad_batch, _torch_device

__all__ = ["SC_VERSION", "sc", "batched_sc"]

SC_VERSION = "codecbench sc 1 (librosa.stft defaults: 2048/512 periodic Hann, centered zero padding)"

#: librosa.stft defaults: 2048 samples = 128 ms at 16 kHz, hop 512 = 32 ms.
N_FFT = 2048
HOP_LENGTH = 512


def _magnitude(x: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """|STFT| like ``librosa.stft`` defaults: zero-pad n_fft//2 each side, periodic Hann; (..., frames, bins)."""
    pad = [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)]
    xp = np.pad(x, pad, mode="constant")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(xp, n_fft, axis=-1)[..., ::hop_length, :]
    return np.abs(np.fft.rfft(frames * window, axis=-1))


def sc(ref: np.ndarray, est: np.ndarray, sr: int, *, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """Spectral convergence ``||S_ref - S_est||_F / ||S_ref||_F`` of STFT magnitudes.

    At least 0, lower is better (0 for identical magnitudes; 1 for a silent estimate).

    Parameters
    ----------
    ref, est : np.ndarray, shape (..., time)
        Aligned reference and estimate at ``sr``.
    sr : int
        Sample rate in Hz (validated only: the frame sizes are in samples, as in librosa).
    n_fft, hop_length : int, keyword-only
        STFT size and hop in samples; librosa's defaults 2048 and 512 (128 ms and 32 ms at 16 kHz).

    Returns
    -------
    np.ndarray, shape (...), float64

    Raises
    ------
    InvalidAudioError
        Empty, non-finite or mismatched inputs, or a silent ``ref`` (0/0).

    Notes
    -----
    Reproduces ``reconstruct_evaluation/spectral_convergence.py`` of the reference
    implementation: ``np.abs(librosa.stft(x))`` with every default (periodic Hann,
    ``center=True`` with ``pad_mode="constant"``, librosa >= 0.10), Frobenius norms over all
    frames and bins. Computed here in float64 (librosa computes in complex64 when given
    float32, e.g. after the reference's float32 resampling: a ~1e-7 relative difference).

    Examples
    --------
    >>> t = np.arange(16000) / 16000
    >>> ref = np.sin(2 * np.pi * 440 * t)
    >>> round(float(sc(ref, 0.5 * ref, 16000)), 3)
    0.5
    """
    r, e = _check_pair(ref, est, sr, metric="sc")
    if not np.all(np.any(r != 0, axis=-1)):
        raise InvalidAudioError("sc: ref is silent (all zeros); spectral convergence is undefined", metric="sc")
    s_ref = _magnitude(r, n_fft, hop_length)
    s_est = _magnitude(e, n_fft, hop_length)
    num = np.sqrt(np.sum((s_ref - s_est) ** 2, axis=(-2, -1)))
    den = np.sqrt(np.sum(s_ref**2, axis=(-2, -1)))
    return num / den


def batched_sc(
    refs: Sequence[np.ndarray],
    ests: Sequence[np.ndarray],
    sr: int,
    *,
    device: str = "cpu",
    n_fft: int = N_FFT,
    hop_length: int = HOP_LENGTH,
) -> np.ndarray:
    """:func:`sc` for a list of 1-D pairs of varying lengths, with ``torch.stft`` on ``device`` (float64).

    The zero padding of the batch plays the role of librosa's constant padding, and frames
    past ``1 + len // hop_length`` are masked out, so each item gets exactly its own frames.
    Returns shape ``(n,)``.
    """
    import torch

    rs, es = _check_batch(refs, ests, sr, metric="sc")
    for i, r in enumerate(rs):
        if not np.any(r != 0):
            raise InvalidAudioError(
                f"sc: batch item {i}: ref is silent (all zeros); spectral convergence is undefined",
                item_id=str(i),
                metric="sc",
            )
    if not rs:
        return np.zeros(0)
    dev = _torch_device(device)
    r, lengths, _ = _pad_batch(rs, device=dev)
    e, _, _ = _pad_batch(es, device=dev)
    window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64, device=dev)
    with torch.no_grad():
        kw = dict(n_fft=n_fft, hop_length=hop_length, window=window, center=True, pad_mode="constant",
                  return_complex=True)
        s_ref = torch.stft(r, **kw).abs()  # (B, bins, frames)
        s_est = torch.stft(e, **kw).abs()
        n_frames = 1 + lengths // hop_length
        fmask = (torch.arange(s_ref.shape[-1], device=dev)[None, :] < n_frames[:, None]).to(s_ref.dtype)
        num = (((s_ref - s_est) ** 2) * fmask[:, None, :]).sum((-2, -1)).sqrt()
        den = ((s_ref**2) * fmask[:, None, :]).sum((-2, -1)).sqrt()
    return (num / den).cpu().numpy()
