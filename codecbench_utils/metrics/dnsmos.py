"""DNSMOS (Reddy et al., 2021/2022): reference-free MOS predicted for speech, offline.

The ONNX models ship inside the ``speechmos`` wheel (P.835 ``sig_bak_ovr.onnx`` and P.808
``model_v8.onnx``); nothing is downloaded. The recipe is Microsoft's ``dnsmos_local.py``, as
``speechmos`` implements it: 16 kHz audio, tiled by doubling up to 9.01 s, windows of 9.01 s
every 1 s, P.835 raw scores mapped by the non-personalized polynomials, P.808 on a 120-band
log-mel of each window, means over windows.

Two things differ from ``speechmos.dnsmos.run`` and neither changes a value (tested):
all windows of both signals go through each model in one batched call, and the ONNX sessions
are made once per process with the thread count the worker pool sets (``OMP_NUM_THREADS``),
so N workers use N cores. Values outside [-1, 1] are scored as they are (a file read from
disk is already in range); ``speechmos`` refuses them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidAudioError, require
from .registry import scored_signals

__all__ = ["DNSMOS_VERSION", "DNSMOS_SR", "dnsmos", "dnsmos_scores"]

DNSMOS_VERSION = ("codecbench dnsmos 1 (speechmos ONNX: P.835 sig_bak_ovr + P.808 model_v8; 9.01 s windows, "
                  "1 s hop, non-personalized polynomials)")
#: The only rate the models take.
DNSMOS_SR = 16000
_INPUT_SECONDS = 9.01
#: P.835 raw score -> MOS, non-personalized (``dnsmos_local.py``)
_POLY = {"sig": np.poly1d([-0.08397278, 1.22083953, 0.0052439]),
         "bak": np.poly1d([-0.13166888, 1.60915514, -0.39604546]),
         "ovrl": np.poly1d([-0.06766283, 1.11546468, 0.04602535])}
_SESSIONS: dict[str, Any] = {}


def _model_dir() -> Path:
    """The ``dnsmos_models`` folder of the installed ``speechmos`` (no import of its heavy module)."""
    import importlib.util

    spec = importlib.util.find_spec("speechmos")
    if spec is None or not spec.submodule_search_locations:
        require("speechmos", "speechmos==0.0.1.1 onnxruntime", purpose="DNSMOS")
    return Path(next(iter(spec.submodule_search_locations))) / "dnsmos_models"


def _sessions() -> tuple[Any, Any]:
    """(P.835, P.808) inference sessions, made once per process."""
    if not _SESSIONS:
        ort = require("onnxruntime", "onnxruntime", purpose="DNSMOS")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
        opts.inter_op_num_threads = 1
        folder = _model_dir()
        for key, name in (("p835", "sig_bak_ovr.onnx"), ("p808", "model_v8.onnx")):
            _SESSIONS[key] = ort.InferenceSession(str(folder / name), sess_options=opts,
                                                  providers=["CPUExecutionProvider"])
    return _SESSIONS["p835"], _SESSIONS["p808"]


def _windows(audio: np.ndarray) -> list[np.ndarray]:
    """The 9.01 s windows ``dnsmos_local.py`` scores (same index arithmetic, so the same windows)."""
    fs = DNSMOS_SR
    n = int(_INPUT_SECONDS * fs)
    while len(audio) < n:
        audio = np.append(audio, audio)
    hops = int(np.floor(len(audio) / fs) - _INPUT_SECONDS) + 1
    segs = [audio[int(i * fs): int((i + _INPUT_SECONDS) * fs)] for i in range(hops)]
    return [s for s in segs if len(s) >= n]


def _log_mel(seg: np.ndarray) -> np.ndarray:
    import librosa

    mel = librosa.feature.melspectrogram(y=seg, sr=DNSMOS_SR, n_fft=321, hop_length=160, n_mels=120)
    return ((librosa.power_to_db(mel, ref=np.max) + 40) / 40).T


def dnsmos_scores(signals: list[np.ndarray]) -> list[dict[str, float]]:
    """``{sig, bak, ovrl, p808}`` for each 16 kHz signal, every window of every signal in one call per model."""
    p835, p808 = _sessions()
    wins, owner = [], []
    for k, x in enumerate(signals):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 1 or x.size == 0:
            raise InvalidAudioError(f"dnsmos: expected a non-empty mono signal, got shape {x.shape}", metric="dnsmos")
        if not np.isfinite(x).all():
            raise InvalidAudioError("dnsmos: signal holds NaN/inf samples", metric="dnsmos")
        for w in _windows(x):
            wins.append(w)
            owner.append(k)
    raw = p835.run(None, {"input_1": np.stack(wins).astype(np.float32)})[0]
    mels = np.stack([_log_mel(w[:-160]) for w in wins]).astype(np.float32)
    p808_mos = p808.run(None, {"input_1": mels})[0][:, 0]
    owner_arr = np.asarray(owner)
    out = []
    for k in range(len(signals)):
        sel = owner_arr == k
        d = {name: float(np.mean(_POLY[name](raw[sel, j]))) for j, name in enumerate(("sig", "bak", "ovrl"))}
        d["p808"] = float(np.mean(p808_mos[sel]))
        out.append(d)
    return out


def dnsmos(ref: np.ndarray, est: np.ndarray, sr: int, *, columns: tuple[str, ...] | None = None
           ) -> dict[str, float]:
    """DNSMOS of the resynthesis (``dnsmos_*``) and of the reference (``dnsmos_*_ref``), at 16 kHz.

    Higher is better, about 1 to 5. The reference's scores sit beside the resynthesis's so a
    table can show the codec's drop on the same span of audio. ``columns`` (default: all eight)
    picks which signals are scored: the model is the costly part, so a signal none of the
    asked-for columns needs is not run through it.
    """
    if sr != DNSMOS_SR:
        raise InvalidAudioError(f"dnsmos: needs {DNSMOS_SR} Hz audio, got {sr}", metric="dnsmos")
    suffixes = scored_signals(columns)
    signals = {"": est, "_ref": ref}
    out: dict[str, float] = {}
    for suffix, scores in zip(suffixes, dnsmos_scores([signals[s] for s in suffixes]), strict=True):
        out.update({f"dnsmos_{k}{suffix}": v for k, v in scores.items()})
    return out
