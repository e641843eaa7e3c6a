"""Mean squared error between waveforms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._checks import _check_batch, _check_pair, _pad_batch, _torch_device

__all__ = ["MSE_VERSION", "mse", "batched_mse"]

MSE_VERSION = "codecbench mse 1 (float64 mean of squared sample differences)"


def mse(ref: np.ndarray, est: np.ndarray, sr: int) -> np.ndarray:
    """Mean squared error of the waveform samples.

    ``mean((ref - est) ** 2)`` over the time axis, in float64. At least 0, lower is better;
    its scale is that of the signals (full scale is [-1, 1]).

    Parameters
    ----------
    ref, est : np.ndarray, shape (..., time)
        Aligned reference and estimate at ``sr``.
    sr : int
        Sample rate in Hz (only validated: the value does not depend on it).

    Returns
    -------
    np.ndarray, shape (...), float64

    Raises
    ------
    InvalidAudioError
        Empty, non-finite or mismatched inputs.

    Notes
    -----
    The paper profile computes it on the raw 16 kHz waveform after truncating both signals
    to the shorter one (reference ``reconstruct_evaluation/mse.py::evaluate_mse``).

    Examples
    --------
    >>> float(mse(np.array([0.0, 1.0]), np.array([0.0, 0.5]), 16000))
    0.125
    """
    r, e = _check_pair(ref, est, sr, metric="mse")
    return np.mean((r - e) ** 2, axis=-1)


def batched_mse(
    refs: Sequence[np.ndarray], ests: Sequence[np.ndarray], sr: int, *, device: str = "cpu"
) -> np.ndarray:
    """:func:`mse` for a list of 1-D pairs of varying lengths, on ``device`` (float64).

    Returns an array of shape ``(n,)``; equal to :func:`mse` item by item to float64 rounding.
    """
    import torch

    rs, es = _check_batch(refs, ests, sr, metric="mse")
    if not rs:
        return np.zeros(0)
    dev = _torch_device(device)
    r, lengths, _ = _pad_batch(rs, device=dev)
    e, _, _ = _pad_batch(es, device=dev)
    with torch.no_grad():
        out = ((r - e) ** 2).sum(-1) / lengths
    return out.cpu().numpy()
