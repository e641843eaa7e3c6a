"""ViSQOL v3 through ``visqol-python`` (a pure-Python port of Google's ViSQOL 3.3).

Two modes, chosen by the profile:

- ``audio``: 48 kHz, 32 gammatone bands, SVR quality mapper (the ``paper`` profile
  runs every item this way, as the reference code does);
- ``speech``: 16 kHz, 21 bands, VAD patches, lattice quality mapper (the
  ``standard`` profile's choice for speech items).

The library returns a value even where ViSQOL is undefined (about 4.7 for a silent
reference, NaN for a silent estimate); we raise instead. The API object is built
once per process and mode (numba kernels compile once and are cached on disk).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..errors import InvalidAudioError, MetricError, require

__all__ = ["visqol", "VISQOL_RATES", "VISQOL_MIN_SECONDS"]

#: Sample rate each mode requires.
VISQOL_RATES = {"audio": 48000, "speech": 16000}
#: Shorter signals give fewer spectrogram frames than one patch (library raises).
VISQOL_MIN_SECONDS = 0.5

_APIS: dict[str, Any] = {}


def _api(mode: str) -> Any:
    """The ``VisqolApi`` for ``mode``, created once per process."""
    api = _APIS.get(mode)
    if api is None:
        lib = require("visqol", "visqol-python[lattice,accel]", purpose="ViSQOL")
        api = lib.VisqolApi()
        api.create(mode=mode)
        _APIS[mode] = api
    return api


def visqol(ref: np.ndarray, est: np.ndarray, sr: int, *,
           mode: Literal["audio", "speech"] = "audio") -> np.ndarray:
    """ViSQOL v3 MOS-LQO (Chinen et al., 2020) from ``visqol-python``.

    Range 1 to 5 (audio mode tops out near 4.73), higher is better. The library
    aligns the signals itself (global cross-correlation and patch realignment).

    Parameters
    ----------
    ref, est : np.ndarray, shape (time,)
        Reference and estimate at ``sr`` (lengths may differ slightly).
    sr : int
        48000 for ``mode="audio"``, 16000 for ``mode="speech"``.
    mode : {"audio", "speech"}
        Audio mode (SVR mapper) or speech mode (VAD patches, lattice mapper).

    Returns
    -------
    np.ndarray, shape (), float64
        Same value as ``VisqolApi().create(mode=mode)`` then
        ``measure_from_arrays(ref, est, sr).moslqo`` (exact).

    Raises
    ------
    InvalidAudioError
        Wrong rate for the mode, not 1-D, shorter than 0.5 s, NaN/inf, silent ``ref``.
    MetricError
        The library failed or returned a non-finite score (e.g. silent ``est``).
    """
    if mode not in VISQOL_RATES:
        raise InvalidAudioError(f"visqol: mode must be 'audio' or 'speech', got {mode!r}", metric="visqol")
    if sr != VISQOL_RATES[mode]:
        raise InvalidAudioError(f"visqol: {mode} mode needs sr={VISQOL_RATES[mode]}, got {sr}; resample first",
                                metric="visqol")
    ref = np.asarray(ref, dtype=np.float64)
    est = np.asarray(est, dtype=np.float64)
    if ref.ndim != 1 or est.ndim != 1:
        raise InvalidAudioError(f"visqol: expected 1-D ref and est, got {ref.shape} and {est.shape}",
                                metric="visqol")
    n = min(ref.size, est.size)
    if n < VISQOL_MIN_SECONDS * sr:
        raise InvalidAudioError(f"visqol: signal lasts {n / sr:.3f} s, ViSQOL needs >= {VISQOL_MIN_SECONDS} s",
                                metric="visqol")
    for name, x in (("ref", ref), ("est", est)):
        if not np.all(np.isfinite(x)):
            raise InvalidAudioError(f"visqol: {name} holds NaN/inf samples", metric="visqol")
    if not np.any(ref):
        raise InvalidAudioError("visqol: ref is silent (all zeros); ViSQOL is undefined", metric="visqol")
    api = _api(mode)
    try:
        score = float(api.measure_from_arrays(ref, est, sr).moslqo)
    except Exception as exc:  # the library raises ValueError/IndexError on degenerate input
        raise MetricError(f"visqol: library failed: {type(exc).__name__}: {exc}", metric="visqol") from exc
    if not np.isfinite(score):
        raise MetricError(f"visqol: the library returned {score} (silent or degenerate est?)", metric="visqol")
    return np.float64(score)
