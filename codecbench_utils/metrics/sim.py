"""Speaker similarity (SIM): cosine of speaker embeddings of ``ref`` and ``est``.

Two embedding models:

- ``resemblyzer`` (default, runs anywhere): the GE2E LSTM ``VoiceEncoder`` whose
  weights ship inside the ``resemblyzer`` wheel. Its ``preprocess_wav`` normalises
  the volume and trims long silences (webrtcvad) before embedding.
- ``wavlm_ecapa:<path>`` (paper-comparable): WavLM-Large + ECAPA-TDNN fine-tuned for
  speaker verification, UniSpeech's ``wavlm_large_finetune.pth``, as the paper's
  reference code uses. The WavLM trunk is ``transformers``' ``WavLMModel``; the
  ECAPA head is in :mod:`.wavlm_ecapa`; checkpoint keys (s3prl/UniSpeech names) are mapped
  and loaded **strictly**. The reference loads with ``strict=False`` and would
  silently keep random weights for any key it does not find; we raise instead.

Every result row records which model produced it (``SpeakerEncoder.name``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..errors import InvalidAudioError, MetricError, MissingWeightsError, require

__all__ = [
    "SpeakerEncoder",
    "ResemblyzerEncoder",
    "sim",
    "cosine_similarity",
    "load_sim_model",
    "SIM_MIN_SECONDS",
]

#: Shortest voiced signal we embed (after resemblyzer's silence trimming).
SIM_MIN_SECONDS = 0.1



class SpeakerEncoder(Protocol):
    """A loaded speaker-embedding model."""

    name: str

    def embed(self, wavs: Sequence[np.ndarray], sr: int) -> np.ndarray:
        """Embed each signal; returns ``(n, dim)`` float64."""
        ...


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of ``(..., dim)`` arrays, in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    num = np.sum(a * b, axis=-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    if np.any(den == 0):
        raise MetricError("sim: an embedding has zero norm; cosine similarity is undefined", metric="sim")
    return num / den


def sim(ref: np.ndarray, est: np.ndarray, sr: int, *, model: SpeakerEncoder) -> np.ndarray:
    """Speaker similarity: cosine of ``model``'s embeddings of ``ref`` and ``est``.

    In [-1, 1], higher is better (1 = same voice as far as the model can tell).
    Lengths may differ (the paper embeds each full file).

    Parameters
    ----------
    ref, est : np.ndarray, shape (time,)
    sr : int
        Rate of both signals.
    model : SpeakerEncoder
        From :func:`load_sim_model`.

    Returns
    -------
    np.ndarray, shape (), float64

    Raises
    ------
    InvalidAudioError
        Empty, NaN/inf, or (after silence trimming) too little voiced audio.
    """
    emb = model.embed([ref, est], sr)
    return np.float64(cosine_similarity(emb[0], emb[1]))


def _check_wav(wav: np.ndarray, sr: int, what: str) -> np.ndarray:
    wav = np.asarray(wav)
    if wav.ndim != 1 or wav.size == 0:
        raise InvalidAudioError(f"sim: {what} must be non-empty 1-D audio, got shape {wav.shape}", metric="sim")
    if not np.all(np.isfinite(wav)):
        raise InvalidAudioError(f"sim: {what} holds NaN/inf samples", metric="sim")
    if not np.any(wav):
        raise InvalidAudioError(f"sim: {what} is silent (all zeros); no speaker to embed", metric="sim")
    if wav.size < SIM_MIN_SECONDS * sr:
        raise InvalidAudioError(f"sim: {what} lasts {wav.size / sr:.3f} s, SIM needs >= {SIM_MIN_SECONDS} s",
                                metric="sim")
    return wav


# ---------------------------------------------------------------- resemblyzer
class ResemblyzerEncoder:
    """Resemblyzer's ``VoiceEncoder`` (weights bundled in the wheel; 256-d embeddings)."""

    def __init__(self, device: str = "cpu") -> None:
        import warnings

        require("webrtcvad", "webrtcvad-wheels", purpose="resemblyzer's silence trimming")
        with warnings.catch_warnings():  # resemblyzer imports scipy.ndimage.morphology (deprecated)
            warnings.simplefilter("ignore", DeprecationWarning)
            lib = require("resemblyzer", purpose="speaker similarity")
        from importlib.metadata import version

        self._lib = lib
        self.encoder = lib.VoiceEncoder(device, verbose=False)
        self.name = f"resemblyzer-{version('resemblyzer')}"

    def embed(self, wavs: Sequence[np.ndarray], sr: int) -> np.ndarray:
        out = []
        for i, wav in enumerate(wavs):
            what = "ref" if i == 0 and len(wavs) == 2 else ("est" if len(wavs) == 2 else f"signal {i}")
            wav = _check_wav(wav, sr, what).astype(np.float32)
            pre = self._lib.preprocess_wav(wav, source_sr=sr)
            if pre.size < SIM_MIN_SECONDS * 16000:
                raise InvalidAudioError(f"sim: {what} has {pre.size / 16000:.3f} s of voiced audio after "
                                        f"silence trimming, need >= {SIM_MIN_SECONDS} s", metric="sim")
            out.append(self.encoder.embed_utterance(pre))
        return np.asarray(out, dtype=np.float64)


def load_sim_model(spec: str | SpeakerEncoder = "resemblyzer", *, device: str = "cpu") -> SpeakerEncoder:
    """Load a speaker encoder from a spec string.

    ``"resemblyzer"`` (bundled weights) or ``"wavlm_ecapa:<path to wavlm_large_finetune.pth>"``.
    An already loaded encoder is returned unchanged.
    """
    if not isinstance(spec, str):
        return spec
    if spec == "resemblyzer":
        return ResemblyzerEncoder(device)
    if spec.startswith("wavlm_ecapa"):
        _, _, path = spec.partition(":")
        if not path:
            from .wavlm_ecapa import WAVLM_ECAPA_HINT

            raise MissingWeightsError(f"sim model 'wavlm_ecapa' needs a checkpoint path; {WAVLM_ECAPA_HINT}",
                                      metric="sim")
        from .wavlm_ecapa import WavLMEcapaEncoder

        return WavLMEcapaEncoder(path, device=device)
    from ..errors import UnknownNameError

    raise UnknownNameError(f"unknown sim model {spec!r}; use 'resemblyzer' or 'wavlm_ecapa:<path>'")
