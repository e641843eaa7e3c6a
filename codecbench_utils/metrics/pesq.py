"""PESQ (ITU-T P.862 narrow-band, P.862.2 wide-band) through the ``pesq`` C library.

Both functions take the sample rate the C library should run at explicitly: the
``paper`` profile runs NB *and* WB at 16 kHz (what the reference code does), the
``standard`` profile runs NB on 8 kHz audio. Every error of the library becomes a
typed CodecBench error, never a number: no utterance found -> :class:`MetricError`,
too short / silent / NaN / wrong rate -> :class:`InvalidAudioError`.

:func:`pesq_many` scores many pairs across worker processes and returns one
value-or-error per pair in the input order, so a failed item never shifts rows
(the bug of ``torchmetrics``' use of ``pesq_batch``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

from ..errors import InvalidAudioError, MetricError, require

__all__ = ["pesq_nb", "pesq_wb", "pesq_many", "PESQ_RATES", "PESQ_MIN_SECONDS"]

#: Rates the C library accepts.
PESQ_RATES = (8000, 16000)
#: The C library refuses buffers shorter than a quarter second.
PESQ_MIN_SECONDS = 0.25


def _check(ref: np.ndarray, est: np.ndarray, sr: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Shape, rate, length, finiteness and silence checks shared by NB and WB."""
    ref = np.asarray(ref)
    est = np.asarray(est)
    if sr not in PESQ_RATES:
        raise InvalidAudioError(f"{metric}: sr must be one of {PESQ_RATES}, got {sr}; resample first",
                                metric=metric)
    if ref.ndim != 1 or est.ndim != 1:
        raise InvalidAudioError(f"{metric}: expected 1-D ref and est, got shapes {ref.shape} and {est.shape}",
                                metric=metric)
    if ref.shape != est.shape:
        raise InvalidAudioError(f"{metric}: ref has {ref.size} samples, est {est.size}; align them first",
                                metric=metric)
    if ref.size < PESQ_MIN_SECONDS * sr:
        raise InvalidAudioError(f"{metric}: signal lasts {ref.size / sr:.3f} s, PESQ needs >= "
                                f"{PESQ_MIN_SECONDS} s", metric=metric)
    for name, x in (("ref", ref), ("est", est)):
        if not np.all(np.isfinite(x)):
            raise InvalidAudioError(f"{metric}: {name} holds NaN/inf samples", metric=metric)
    if not np.any(ref):
        raise InvalidAudioError(f"{metric}: ref is silent (all zeros); PESQ is undefined", metric=metric)
    return ref, est


def _run(ref: np.ndarray, est: np.ndarray, sr: int, mode: Literal["nb", "wb"], metric: str) -> np.ndarray:
    ref, est = _check(ref, est, sr, metric)
    lib = require("pesq", purpose="PESQ")
    try:
        value = lib.pesq(sr, ref, est, mode)
    except lib.NoUtterancesError as exc:
        raise MetricError(f"{metric}: the PESQ library found no utterance in ref (speech level too "
                          "low or no speech)", metric=metric) from exc
    except lib.BufferTooShortError as exc:
        raise InvalidAudioError(f"{metric}: signal too short for PESQ (needs >= 0.25 s)",
                                metric=metric) from exc
    except lib.InvalidSampleRateError as exc:
        raise InvalidAudioError(f"{metric}: the PESQ library rejected sr={sr}", metric=metric) from exc
    except lib.PesqError as exc:  # OutOfMemoryError and any future code
        raise MetricError(f"{metric}: PESQ library error {type(exc).__name__}: {exc}", metric=metric) from exc
    value = float(value)
    if not np.isfinite(value):
        raise MetricError(f"{metric}: the PESQ library returned {value}", metric=metric)
    return np.float64(value)


def pesq_nb(ref: np.ndarray, est: np.ndarray, sr: int) -> np.ndarray:
    """Narrow-band PESQ (ITU-T P.862, raw MOS mapped by P.862.1), from the ``pesq`` package.

    MOS-LQO in about [1.0, 4.55], higher is better. ``sr`` is the rate the C
    library runs at (8000 or 16000); the ``paper`` profile passes 16 kHz audio
    (the reference code's choice), the ``standard`` profile 8 kHz audio.

    Parameters
    ----------
    ref, est : np.ndarray, shape (time,)
        Aligned reference and estimate at ``sr``, same length.
    sr : int
        8000 or 16000.

    Returns
    -------
    np.ndarray, shape (), float64
        Same value as ``pesq.pesq(sr, ref, est, "nb")`` (exact).

    Raises
    ------
    InvalidAudioError
        Wrong rate, shapes differ, shorter than 0.25 s, NaN/inf, silent ``ref``.
    MetricError
        The library found no utterance.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> x = np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    >>> 1.0 <= float(pesq_nb(x, x, 16000)) <= 4.6
    True
    """
    return _run(ref, est, sr, "nb", "pesq_nb")


def pesq_wb(ref: np.ndarray, est: np.ndarray, sr: int) -> np.ndarray:
    """Wide-band PESQ (ITU-T P.862.2), from the ``pesq`` package.

    MOS-LQO in about [1.0, 4.64], higher is better. Only defined at 16 kHz.

    Parameters
    ----------
    ref, est : np.ndarray, shape (time,)
        Aligned reference and estimate at 16 kHz, same length.
    sr : int
        Must be 16000.

    Returns
    -------
    np.ndarray, shape (), float64
        Same value as ``pesq.pesq(16000, ref, est, "wb")`` (exact).

    Raises
    ------
    InvalidAudioError
        ``sr`` is not 16000, shapes differ, shorter than 0.25 s, NaN/inf, silent ``ref``.
    MetricError
        The library found no utterance.
    """
    if sr != 16000:
        raise InvalidAudioError(f"pesq_wb: wide-band PESQ needs sr=16000, got {sr}; resample first",
                                metric="pesq_wb")
    return _run(ref, est, sr, "wb", "pesq_wb")


def pesq_many(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]] | Sequence[tuple[np.ndarray, np.ndarray]],
    sr: int,
    *,
    mode: Literal["nb", "wb"],
    workers: int = 1,
    progress: bool = False,
) -> list[float | Exception]:
    """Score many aligned pairs with PESQ across ``workers`` processes.

    Parameters
    ----------
    pairs : iterable of (ref, est)
        Aligned pairs at ``sr``.
    sr : int
        8000 or 16000 (16000 for ``mode="wb"``).
    mode : {"nb", "wb"}
    workers : int
        Worker processes; 0 or 1 runs in this process.

    Returns
    -------
    list
        One entry per pair, in input order: a float, or the typed exception
        (:class:`InvalidAudioError` / :class:`MetricError`) that pair raised.
    """
    from .pool import MetricPool

    fn = pesq_nb if mode == "nb" else pesq_wb
    tasks = [(i, fn, r, e, sr, {}) for i, (r, e) in enumerate(pairs)]
    out: list[float | Exception] = [MetricError("not run")] * len(tasks)
    with MetricPool(workers if workers > 1 else 0) as pool:
        for i, value in pool.map_tasks(tasks, progress=progress, desc=fn.__name__):
            out[i] = value
    return out
