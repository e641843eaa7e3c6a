"""Lyra v2 (Google's SoundStream-style codec) on the CPU through the TFLite runtime.

Three TensorFlow Lite models from the google/lyra release (Apache-2.0): a convolutional
encoder (320 samples of 16 kHz audio -> one 64-d latent, 50 Hz), a residual vector
quantizer of 46 codebooks of 16 entries (4 bits each; the first ``n_q`` are used, the
rest are -1), and the LyraGAN decoder (one quantized latent -> 320 samples).
``embed`` returns the quantizer's ``decode`` output, the 64-d quantized latent the
decoder consumes.

The models are **stateful streaming** models: they keep internal state between calls and
``reset_all_variables`` does not clear it (measured). Every item therefore gets fresh
interpreters (about 10 ms), so nothing of one item leaks into the next. Interpreters run
one frame per call with one thread each; items run in parallel on threads, each with its
own interpreters (the runtime releases the GIL while it computes).

The decoder's output is time-aligned with the input (cross-correlation peak at lag 0 on
real speech, measured at every bitrate); ``options.delay_samples`` states that measured
delay, and the last partial frame is zero-padded, then trimmed. Output depends on the
TFLite kernels used (the XNNPACK delegate, the runtime's default, is used here), and is
bit-identical between runs on one machine.

Weights are looked up in this order: ``weights=`` / ``options.weights``, then
``$CODECBENCH_LYRA_DIR``, then the cache (``$XDG_CACHE_HOME/codecbench/lyra_v2/<commit>``),
which ``codecbench codecs fetch ID`` fills from the pinned commit. Each file's sha256 is
checked when the codec loads.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CodecRuntimeError, InvalidAudioError, MissingDependencyError, MissingWeightsError
from .base import Codec, CodecSpec, Encoded, Resynthesis, expand_path
from .fetch import FetchPlan, PinnedFile, cache_root, missing_files

__all__ = ["LyraCodec", "LYRA_COMMIT", "LYRA_FILES", "lyra_weights_dir"]

logger = logging.getLogger(__name__)

#: google/lyra commit (tag v1.3.2) whose ``lyra/model_coeffs`` the files come from
LYRA_COMMIT = "47698dadf0010abff6a848e02642f55f806d4842"
_URL = "https://raw.githubusercontent.com/google/lyra/{commit}/lyra/model_coeffs/{name}"
#: the three model files with their pinned sha256 and size
LYRA_FILES: tuple[PinnedFile, ...] = tuple(
    PinnedFile(name, _URL.format(commit=LYRA_COMMIT, name=name), sha, size)
    for name, sha, size in (
        ("soundstream_encoder.tflite", "237da0b16226fb0a68d49551c81bebf614e42142af72764448359f68581e88f1", 1779200),
        ("quantizer.tflite", "841ee05989687d32d1f616a8ad1419fc7eda37599d3c05c7cf5a0d60ccf8ac5c", 329012),
        ("lyragan.tflite", "50e7839cda4f30599a3a34cfaddcd9c98449b049eee884e1a74295780448ad06", 1475160),
    )
)
ENV_VAR = "CODECBENCH_LYRA_DIR"
FRAME = 320  # samples per frame at 16 kHz (20 ms)
MAX_QUANTIZERS = 46
BITS_PER_QUANTIZER = 4
LATENT_DIM = 64


def lyra_weights_dir(spec: CodecSpec, weights: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """The folder the codec reads, and where that choice came from.

    The first of ``weights`` / ``options.weights`` / ``$CODECBENCH_LYRA_DIR`` that is set wins
    (an explicit choice never silently falls through); else the cache.
    """
    explicit = weights if weights is not None else spec.options.get("weights")
    if explicit:
        return expand_path(explicit), "options.weights"
    if os.environ.get(ENV_VAR):
        return expand_path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    return cache_root() / "lyra_v2" / LYRA_COMMIT, "the cache"


def _check_weights(spec: CodecSpec, folder: Path, origin: str, *, verify: bool) -> None:
    bad = missing_files(folder, LYRA_FILES, verify=verify)
    if bad:
        fix = (f"run `codecbench codecs fetch {spec.id}`" if origin == "the cache" else
               f"put them there, or unset {origin} and run `codecbench codecs fetch {spec.id}`")
        raise MissingWeightsError(
            f"codec '{spec.id}': Lyra v2 model files missing or wrong in {folder} (from {origin}): "
            f"{', '.join(bad)}; {fix}", codec_id=spec.id)


class _Session:
    """Fresh interpreters for one item: the models' streaming state starts empty."""

    def __init__(self, folder: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        def load(name: str) -> Any:
            it = Interpreter(model_path=str(folder / name), num_threads=1)
            it.allocate_tensors()
            return it

        enc, quant, gan = (load(f.name) for f in LYRA_FILES)
        self._enc = enc.get_signature_runner("serving_default")
        self._quantize = quant.get_signature_runner("encode")
        self._dequantize = quant.get_signature_runner("decode")
        self._gan = gan.get_signature_runner("serving_default")

    def codes(self, frames: np.ndarray, n_q: int) -> np.ndarray:
        """(F, 320) float32 -> (n_q, F) int32 quantizer indices."""
        nq = np.int32(n_q)
        out = np.empty((n_q, frames.shape[0]), np.int32)
        for k in range(frames.shape[0]):
            z = self._enc(input_audio=frames[k : k + 1])["output_0"]
            out[:, k] = self._quantize(input_frames=z, num_quantizers=nq)["output_0"][:n_q, 0, 0]
        return out

    def latents(self, codes: np.ndarray) -> np.ndarray:
        """(n_q, F) indices -> (F, 64) quantized latents."""
        full = np.full((MAX_QUANTIZERS, 1, 1), -1, np.int32)  # -1: quantizer not used
        out = np.empty((codes.shape[1], LATENT_DIM), np.float32)
        for k in range(codes.shape[1]):
            full[: codes.shape[0], 0, 0] = codes[:, k]
            out[k] = self._dequantize(encoding_indices=full)["output_0"].reshape(-1)
        return out

    def audio(self, latents: np.ndarray) -> np.ndarray:
        """(F, 64) latents -> (F * 320,) audio."""
        out = np.empty((latents.shape[0], FRAME), np.float32)
        for k in range(latents.shape[0]):
            out[k] = self._gan(input_audio=latents[k].reshape(1, 1, LATENT_DIM))["output_0"][0]
        return out.reshape(-1)


class LyraCodec(Codec):
    """Lyra v2 at ``spec.n_q`` quantizers (16 = 3.2 kbps, 30 = 6 kbps, 46 = 9.2 kbps).

    Parameters
    ----------
    spec : CodecSpec
        ``sample_rate`` 16000; ``options``: ``weights`` (folder), ``delay_samples``, ``workers``.
    device : str
        Ignored beyond a note: TFLite runs on the CPU.
    weights : path, optional
        A folder holding the three ``.tflite`` files; overrides the lookup order.
    workers : int, optional
        Items coded in parallel by ``resynthesize_batch`` (default: the CPU count).
    """

    PACKAGES = ("ai-edge-litert",)

    def __init__(self, spec: CodecSpec, *, device: str = "cpu", weights: str | os.PathLike[str] | None = None,
                 workers: int | None = None) -> None:
        super().__init__(spec, device=device)
        reason = _dependency_missing()
        if reason:
            raise MissingDependencyError(f"codec '{spec.id}': {reason}", codec_id=spec.id)
        if int(spec.sample_rate) != 16000:
            raise CodecRuntimeError(f"codec '{spec.id}': Lyra v2 runs at 16000 Hz, the YAML says {spec.sample_rate}",
                                    codec_id=spec.id)
        self.n_q = int(spec.n_q or 0)
        if not 1 <= self.n_q <= MAX_QUANTIZERS:
            raise CodecRuntimeError(f"codec '{spec.id}': n_q must be 1..{MAX_QUANTIZERS}, got {spec.n_q}",
                                    codec_id=spec.id)
        if device != "cpu":
            logger.info("codec %s: the TFLite models run on the CPU (device %s ignored)", spec.id, device)
        self.folder, origin = lyra_weights_dir(spec, weights)
        _check_weights(spec, self.folder, origin, verify=True)
        self.delay_samples = int(spec.options.get("delay_samples", 0))
        self.workers = int(workers or spec.options.get("workers") or os.cpu_count() or 1)

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        reason = _dependency_missing()
        if reason:
            return reason
        folder, origin = lyra_weights_dir(spec)
        try:
            _check_weights(spec, folder, origin, verify=False)
        except MissingWeightsError as exc:
            return str(exc)
        return None

    @classmethod
    def fetch_plan(cls, spec: CodecSpec) -> FetchPlan:
        folder, _ = lyra_weights_dir(spec)
        return FetchPlan(spec.id, target=folder, files=LYRA_FILES)

    @property
    def default_batch_size(self) -> int:
        return 4 * self.workers

    # ------------------------------------------------------------------ coding
    def _frames(self, wav: np.ndarray, extra: int = 0) -> np.ndarray:
        wav = np.asarray(wav, dtype=np.float32)
        if wav.ndim != 1:
            raise InvalidAudioError(f"codec '{self.id}' takes mono audio of shape (samples,), got {wav.shape}",
                                    codec_id=self.id)
        if wav.shape[0] == 0:
            raise InvalidAudioError(f"codec '{self.id}': empty audio", codec_id=self.id)
        n = wav.shape[0] + extra
        padded = np.zeros(max(1, math.ceil(n / FRAME)) * FRAME, np.float32)
        padded[: wav.shape[0]] = wav
        return padded.reshape(-1, FRAME)

    def encode(self, wav: np.ndarray) -> Encoded:
        """Quantizer indices ``(n_q, frames)`` in [0, 16); the input is padded by the delay, then to whole frames."""
        frames = self._frames(wav, extra=self.delay_samples)
        codes = _Session(self.folder).codes(frames, self.n_q)
        return Encoded(codes, n_samples=int(np.asarray(wav).shape[0]), sample_rate=self.sample_rate,
                       n_bits=codes.size * BITS_PER_QUANTIZER)

    def decode(self, encoded: Encoded) -> np.ndarray:
        """Audio aligned with the encoded input (the codec's delay removed), ``n_samples`` long."""
        codes = np.asarray(encoded.codes)
        if codes.ndim != 2 or codes.shape[0] != self.n_q:
            raise CodecRuntimeError(f"codec '{self.id}': expected codes of shape ({self.n_q}, frames), "
                                    f"got {codes.shape}", codec_id=self.id)
        session = _Session(self.folder)
        out = session.audio(session.latents(codes.astype(np.int32)))
        return out[self.delay_samples : self.delay_samples + encoded.n_samples]

    def embed(self, wav: np.ndarray) -> np.ndarray:
        """Quantized latents ``(frames, 64)`` at 50 Hz."""
        session = _Session(self.folder)
        return session.latents(session.codes(self._frames(wav), self.n_q))

    def resynthesize_batch(self, wavs: list[np.ndarray]) -> list[Resynthesis]:
        """Items in parallel on ``workers`` threads, each item with its own interpreters."""
        if len(wavs) < 2 or self.workers < 2:
            return [self.resynthesize(w) for w in wavs]
        with ThreadPoolExecutor(min(self.workers, len(wavs))) as pool:
            return list(pool.map(self.resynthesize, wavs))


def _dependency_missing() -> str | None:
    if importlib.util.find_spec("ai_edge_litert") is None:
        return "package 'ai-edge-litert' is not installed (TFLite runtime); install it with: pip install ai-edge-litert"
    return None
