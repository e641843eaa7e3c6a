"""Shared input checks and batching helpers for the metric functions.

Every metric validates its ``(ref, est, sr)`` triple with :func:`_check_pair`, so that
empty, non-finite, mismatched or too-short audio raises the same typed
:class:`~codecbench_utils.errors.InvalidAudioError` with the same wording everywhere,
and never turns into a number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidAudioError, MetricError

__all__ = ["_check_pair", "_check_batch", "_check_sr", "_pad_batch", "_torch_device"]


def _check_sr(sr: int, *, metric: str) -> int:
    """Return ``sr`` as a positive int or raise InvalidAudioError naming the metric."""
    if isinstance(sr, bool) or not isinstance(sr, int | np.integer) or int(sr) <= 0:
        raise InvalidAudioError(f"{metric}: sr must be a positive integer in Hz, got {sr!r}", metric=metric)
    return int(sr)


def _check_one(
    wav: np.ndarray,
    *,
    what: str,
    sr: int,
    min_samples: int,
    min_seconds: float,
    metric: str,
    item_id: str | None,
) -> np.ndarray:
    """Validate one signal of a pair and return it as a float64 array."""
    wav = np.asarray(wav)
    if wav.ndim < 1:
        raise InvalidAudioError(
            f"{metric}: {what} must have shape (..., time), got a scalar", item_id=item_id, metric=metric
        )
    if not (np.issubdtype(wav.dtype, np.floating) or np.issubdtype(wav.dtype, np.integer)):
        raise InvalidAudioError(
            f"{metric}: {what} must be a real float array, got dtype {wav.dtype}", item_id=item_id, metric=metric
        )
    if wav.size == 0:
        raise InvalidAudioError(
            f"{metric}: {what} is empty (shape {wav.shape})", item_id=item_id, metric=metric
        )
    n = wav.shape[-1]
    need = max(int(min_samples), int(np.ceil(min_seconds * sr - 1e-9)))
    if n < need:
        raise InvalidAudioError(
            f"{metric}: {what} lasts {n / sr:.3g} s ({n} samples at {sr} Hz), "
            f"{metric} needs >= {need / sr:.3g} s ({need} samples)",
            item_id=item_id,
            metric=metric,
        )
    out = wav.astype(np.float64, copy=False)
    finite = np.isfinite(out)
    if not finite.all():
        n_bad = int(out.size - np.count_nonzero(finite))
        raise InvalidAudioError(
            f"{metric}: {what} has {n_bad} NaN/inf samples", item_id=item_id, metric=metric
        )
    return out


def _check_pair(
    ref: np.ndarray,
    est: np.ndarray,
    sr: int,
    *,
    metric: str,
    min_seconds: float = 0.0,
    min_samples: int = 1,
    item_id: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate an aligned ``(ref, est)`` pair of shape ``(..., time)``; return both as float64.

    Raises InvalidAudioError (with ``metric`` and ``item_id`` set) when either is empty,
    not real, contains NaN/inf, is shorter than ``max(min_samples, min_seconds * sr)``
    samples, or when the shapes differ (alignment is the profile's job, not the metric's).
    """
    sr = _check_sr(sr, metric=metric)
    ref_arr = np.asarray(ref)
    est_arr = np.asarray(est)
    if ref_arr.shape != est_arr.shape:
        raise InvalidAudioError(
            f"{metric}: ref and est must have the same shape (..., time), got {ref_arr.shape} and "
            f"{est_arr.shape}; align them first (e.g. truncate to the shorter one)",
            item_id=item_id,
            metric=metric,
        )
    kw = dict(sr=sr, min_samples=min_samples, min_seconds=min_seconds, metric=metric, item_id=item_id)
    return _check_one(ref_arr, what="ref", **kw), _check_one(est_arr, what="est", **kw)


def _check_batch(
    refs: Sequence[np.ndarray],
    ests: Sequence[np.ndarray],
    sr: int,
    *,
    metric: str,
    min_seconds: float = 0.0,
    min_samples: int = 1,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Validate a batch of 1-D pairs item by item; the error names the failing item index."""
    if len(refs) != len(ests):
        raise InvalidAudioError(f"{metric}: got {len(refs)} refs but {len(ests)} ests", metric=metric)
    out_r: list[np.ndarray] = []
    out_e: list[np.ndarray] = []
    for i, (r, e) in enumerate(zip(refs, ests, strict=True)):
        if np.ndim(r) != 1 or np.ndim(e) != 1:
            raise InvalidAudioError(
                f"{metric}: batch item {i}: expected 1-D (time,) arrays, got shapes "
                f"{np.shape(r)} and {np.shape(e)}",
                item_id=str(i),
                metric=metric,
            )
        try:
            r64, e64 = _check_pair(
                r, e, sr, metric=metric, min_seconds=min_seconds, min_samples=min_samples
            )
        except InvalidAudioError as exc:
            raise InvalidAudioError(f"batch item {i}: {exc}", item_id=str(i), metric=metric) from exc
        out_r.append(r64)
        out_e.append(e64)
    return out_r, out_e


def _pad_batch(arrays: Sequence[np.ndarray], *, dtype=None, device: str = "cpu"):
    """Stack 1-D arrays of varying length into a zero-padded ``(B, T_max)`` tensor.

    Returns ``(batch, lengths, mask)``: ``lengths`` is a long tensor ``(B,)`` and ``mask`` a
    bool tensor ``(B, T_max)`` that is True on real samples.
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype
    lengths = torch.tensor([len(a) for a in arrays], dtype=torch.long)
    t_max = int(lengths.max()) if len(arrays) else 0
    host = np.zeros((len(arrays), t_max), dtype=np.float64)
    for i, a in enumerate(arrays):
        host[i, : len(a)] = a
    batch = torch.from_numpy(host).to(device=device, dtype=dtype)
    lengths = lengths.to(device)
    mask = torch.arange(t_max, device=device)[None, :] < lengths[:, None]
    return batch, lengths, mask


def _torch_device(device: str):
    """Resolve a device string; a CUDA request without CUDA raises a clear error."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise MetricError(f"device {device!r} requested but CUDA is not available here; pass device='cpu'")
    return dev
