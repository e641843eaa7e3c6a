"""Feature sources for the semantic probes: codec embeddings and log-mel baselines.

A *feature source* turns one manifest item into a ``(frames, dim)`` float32 matrix
at a known frame rate. These kinds exist, named by a short string:

``codec:<id>``
    The codec's continuous quantized embeddings (``Codec.embed``), the input the
    paper's probes use. Only neural codecs have them.
``logmel:original``
    Log-mel features of the original audio: the upper reference every codec is
    compared with.
``logmel:<dir>``
    Log-mel features of a codec's resynthesized audio, read from a resynthesis
    folder (``<dir>/<item id>.flac``, see :mod:`codecbench_utils.codecs.resynth`).
    This is how classical codecs, which have no embeddings, are probed.
``tokens:<id>``
    The codec's discrete codes, ``(frames, n_q)``, for the token-based probe: the probes learn an
    embedding per codebook in front of their head (:mod:`codecbench_utils.probes.tokens`).
``whisper:<model>``, ``ssl:<model>@<layer>``
    Baseline rows from pretrained speech models on the original audio: Whisper's encoder
    output and an SSL model's hidden layer (:mod:`codecbench_utils.probes.pretrained`).

Each source has a ``fingerprint`` (what changes its output: codec spec, log-mel
settings, resynthesis folder) that keys the embedding cache, and a per-item
``item_key`` (input file size and mtime, or the resynthesis record's key) that
tells a stale cache entry from a valid one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ..audio import PathLike, check_audio, load_audio
from ..data.manifest import ManifestItem, resolve_path
from ..errors import CodecRuntimeError, InvalidAudioError, UnknownNameError

__all__ = [
    "LOGMEL_SR",
    "LOGMEL_HOP",
    "LogMelConfig",
    "FeatureSource",
    "parse_feature_source",
    "logmel",
    "FeatureExtractor",
    "make_extractor",
]

#: Log-mel baseline settings: 16 kHz, 25 ms Hann window, 20 ms hop (50 frames/s,
#: the rate the ASR probe needs for CTC), 80 mel bands (the usual ASR front end).
LOGMEL_SR = 16000
LOGMEL_HOP = 320


@dataclass(frozen=True)
class LogMelConfig:
    """Log-mel front end; the defaults give 80 bands at 50 frames/s from 16 kHz audio."""

    sample_rate: int = LOGMEL_SR
    n_fft: int = 400
    hop_length: int = LOGMEL_HOP
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    floor: float = 1e-6

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop_length


def logmel(wav: np.ndarray, sr: int, *, config: LogMelConfig | None = None) -> np.ndarray:
    """Natural-log mel power spectrogram, shape ``(frames, n_mels)``, float32.

    Parameters
    ----------
    wav : np.ndarray, shape (time,)
        Mono audio in [-1, 1].
    sr : int
        Sample rate of ``wav``; it must equal ``config.sample_rate`` (resample first).
    config : LogMelConfig, optional
        Front-end settings (default: 16 kHz, 400-sample window, hop 320, 80 mels).

    Returns
    -------
    np.ndarray, shape (1 + time // hop_length, n_mels), float32
        ``log(max(mel_power, floor))``; centred frames, so frame ``t`` covers
        ``t * hop_length`` samples +- half a window.

    Raises
    ------
    InvalidAudioError
        Empty or non-finite audio, or ``sr`` differs from the config's rate.

    Examples
    --------
    >>> import numpy as np
    >>> wav = np.zeros(16000, dtype=np.float32)
    >>> logmel(wav, 16000).shape
    (51, 80)
    """
    cfg = config or LogMelConfig()
    if sr != cfg.sample_rate:
        raise InvalidAudioError(f"logmel: audio at {sr} Hz, the config expects {cfg.sample_rate} Hz; resample first")
    wav = check_audio(wav, what="logmel input")
    import librosa

    mel = librosa.feature.melspectrogram(
        y=wav, sr=sr, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.n_fft,
        window="hann", center=True, pad_mode="constant", power=2.0, n_mels=cfg.n_mels,
        fmin=cfg.fmin, fmax=cfg.fmax,
    )
    return np.log(np.maximum(mel, cfg.floor)).T.astype(np.float32)


@dataclass(frozen=True)
class FeatureSource:
    """A parsed feature-source name (see the module docstring)."""

    kind: Literal["codec", "tokens", "logmel", "whisper", "ssl"]
    codec_id: str | None = None  # for kind "codec"
    audio: str = "original"  # for kind "logmel": "original" or a resynthesis folder
    model: str | None = None  # for kinds "whisper" and "ssl": a short name, repo id or folder
    layer: int | None = None  # for kind "ssl"

    @property
    def name(self) -> str:
        """The canonical string form (``codec:<id>``, ``logmel:<audio>``, ``whisper:<m>``, ``ssl:<m>@<layer>``)."""
        if self.kind in ("codec", "tokens"):
            return f"{self.kind}:{self.codec_id}"
        if self.kind == "whisper":
            return f"whisper:{self.model}"
        if self.kind == "ssl":
            return f"ssl:{self.model}@{self.layer}"
        return f"logmel:{self.audio}"

    @property
    def label(self) -> str:
        """Short label for tables: ``codec_embedding``, ``logmel_original``, ``logmel_resynth``,
        ``whisper_<model>`` or ``ssl_<model>_l<layer>``."""
        if self.kind == "codec":
            return "codec_embedding"
        if self.kind == "tokens":
            from .tokens import MAX_ROWS, token_vocab

            return "codec_tokens_hashed" if max(token_vocab(self.name)) > MAX_ROWS else "codec_tokens"
        if self.kind in ("whisper", "ssl"):
            short = Path(str(self.model)).name.replace("-", "_")
            return f"whisper_{short}" if self.kind == "whisper" else f"ssl_{short}_l{self.layer}"
        return "logmel_original" if self.audio == "original" else "logmel_resynth"


def parse_feature_source(name: str | FeatureSource) -> FeatureSource:
    """Parse ``codec:<id>``, ``logmel:original`` or ``logmel:<resynthesis dir>``.

    Raises
    ------
    UnknownNameError
        Anything else.

    Examples
    --------
    >>> parse_feature_source("codec:dac_16k").codec_id
    'dac_16k'
    >>> parse_feature_source("logmel:original").label
    'logmel_original'
    """
    if isinstance(name, FeatureSource):
        return name
    kind, sep, rest = str(name).partition(":")
    if sep and rest:
        if kind in ("codec", "tokens"):
            return FeatureSource(kind, codec_id=rest)  # type: ignore[arg-type]
        if kind == "logmel":
            return FeatureSource("logmel", audio=rest)
        if kind == "whisper":
            return FeatureSource("whisper", model=rest)
        model, at, layer = rest.rpartition("@")
        if kind == "ssl" and at and model and layer.isdigit():
            return FeatureSource("ssl", model=model, layer=int(layer))
    raise UnknownNameError(
        f"unknown feature source '{name}'; expected 'codec:<id>', 'tokens:<id>', 'logmel:original', 'logmel:<resynthesis dir>', "
        "'whisper:<model>' or 'ssl:<model>@<layer>'"
    )


def _hash(payload: object) -> str:
    """Short stable hash of a JSON-able payload (cache keys)."""
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _file_key(path: Path) -> str:
    """Cheap content key of an input file: size and mtime (nanoseconds)."""
    st = os.stat(path)
    return f"{st.st_size}-{st.st_mtime_ns}"


class FeatureExtractor:
    """Turns manifest items into feature matrices for one source.

    Build it with :func:`make_extractor`. ``frame_rate`` is frames per second,
    ``dim`` the feature size (``None`` until the first item for codecs whose
    spec does not give it), ``fingerprint`` the cache namespace.
    """

    def __init__(self, source: FeatureSource, *, fingerprint: str, frame_rate: float, dim: int | None,
                 manifest_dir: PathLike | None = None, codec: object | None = None,
                 logmel_config: LogMelConfig | None = None) -> None:
        self.source = source
        self.fingerprint = fingerprint
        self.frame_rate = float(frame_rate)
        self.dim = dim
        self.manifest_dir = Path(manifest_dir) if manifest_dir is not None else None
        self._codec = codec
        self._logmel = logmel_config or LogMelConfig()
        self._resynth_index: dict | None = None

    # -- the audio each item is read from
    def _resynth_records(self) -> dict:
        if self._resynth_index is None:
            from ..codecs.resynth import read_index

            self._resynth_index = read_index(self.source.audio)
        return self._resynth_index

    def input_path(self, item: ManifestItem) -> Path:
        """The audio file this source reads for ``item``."""
        if self.source.kind == "logmel" and self.source.audio != "original":
            from ..codecs.resynth import output_path

            return output_path(self.source.audio, item.id)
        return resolve_path(item, self.manifest_dir)

    def item_key(self, item: ManifestItem) -> str:
        """Key that changes when the item's input changes (stale-cache detection)."""
        path = self.input_path(item)
        if self.source.kind == "logmel" and self.source.audio != "original":
            rec = self._resynth_records().get(item.id)
            if rec is not None and rec.status == "ok" and rec.key:
                return f"resynth-{rec.key}"
        try:
            return _file_key(path)
        except OSError as exc:
            raise InvalidAudioError(f"item '{item.id}': cannot read '{path}': {exc.strerror or exc}",
                                    item_id=item.id) from exc

    def __call__(self, item: ManifestItem) -> np.ndarray:
        """Features of one item, shape ``(frames, dim)``, float32."""
        path = self.input_path(item)
        if self.source.kind in ("whisper", "ssl"):
            from .pretrained import PRETRAINED_SR

            wav, sr = load_audio(path, sr=PRETRAINED_SR)
            feats = np.asarray(self._codec(check_audio(wav, what=f"item '{item.id}'", item_id=item.id), sr),
                               dtype=np.float32)
        elif self.source.kind == "logmel":
            if self.source.audio != "original":
                rec = self._resynth_records().get(item.id)
                if rec is not None and rec.status != "ok":
                    raise CodecRuntimeError(f"item '{item.id}': resynthesis failed ({rec.reason})",
                                            item_id=item.id)
            wav, sr = load_audio(path, sr=self._logmel.sample_rate)
            feats = logmel(check_audio(wav, what=f"item '{item.id}'", item_id=item.id), sr,
                           config=self._logmel)
        else:
            codec = self._codec
            wav, _ = load_audio(path, sr=codec.sample_rate)  # type: ignore[attr-defined]
            wav = check_audio(wav, what=f"item '{item.id}'", item_id=item.id)
            if self.source.kind == "tokens":
                codes = np.asarray(codec.codes_matrix(codec.encode(wav)))  # type: ignore[attr-defined]
                if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer):
                    raise CodecRuntimeError(f"codec '{self.source.codec_id}': encode gave {codes.dtype} codes of "
                                            f"shape {codes.shape}, expected integer (n_q, frames)",
                                            codec_id=self.source.codec_id, item_id=item.id)
                feats = codes.T.astype(np.float32)
            else:
                feats = np.asarray(codec.embed(wav), dtype=np.float32)  # type: ignore[attr-defined]
            if feats.ndim != 2:
                raise CodecRuntimeError(f"codec '{self.source.codec_id}': embed returned shape {feats.shape}, "
                                        "expected (frames, dim)", codec_id=self.source.codec_id, item_id=item.id)
        if not np.all(np.isfinite(feats)):
            raise CodecRuntimeError(f"item '{item.id}': features of '{self.source.name}' hold NaN/inf",
                                    item_id=item.id)
        if self.dim is None:
            self.dim = int(feats.shape[1])
        return feats

    def close(self) -> None:
        if self._codec is not None and hasattr(self._codec, "close"):
            self._codec.close()


def make_extractor(source: str | FeatureSource, *, manifest_dir: PathLike | None = None, device: str = "cpu",
                   logmel_config: LogMelConfig | None = None, codec: object | None = None) -> FeatureExtractor:
    """Build the extractor of a feature source.

    Parameters
    ----------
    source : str or FeatureSource
        ``codec:<id>``, ``logmel:original``, ``logmel:<resynthesis dir>``, ``whisper:<model>`` or
        ``ssl:<model>@<layer>``.
    manifest_dir : path, optional
        Folder that relative manifest paths hang off.
    device : str
        Where a codec runs (``cpu``, ``cuda``).
    codec : Codec, optional
        An already loaded codec (tests, or reuse across calls) instead of loading ``<id>``.

    Raises
    ------
    CodecRuntimeError
        The codec has no embeddings (probe ``logmel:<its resynthesis dir>`` instead).
    MissingWeightsError, MissingDependencyError
        The codec cannot be loaded here.
    """
    src = parse_feature_source(source)
    cfg = logmel_config or LogMelConfig()
    if src.kind in ("whisper", "ssl"):
        from .pretrained import SSLFeatures, WhisperEncoderFeatures

        model = (WhisperEncoderFeatures(str(src.model), device=device) if src.kind == "whisper"
                 else SSLFeatures(str(src.model), int(src.layer or 0), device=device))
        return FeatureExtractor(src, fingerprint=model.fingerprint, frame_rate=model.frame_rate, dim=model.dim,
                                manifest_dir=manifest_dir, codec=model)
    if src.kind == "logmel":
        where = "original" if src.audio == "original" else str(Path(src.audio).resolve())
        fp = _hash({"kind": "logmel", "audio": where, "config": asdict(cfg)})
        return FeatureExtractor(src, fingerprint=f"logmel-{fp}", frame_rate=cfg.frame_rate, dim=cfg.n_mels,
                                manifest_dir=manifest_dir, logmel_config=cfg)
    if codec is None:
        from ..codecs.registry import load_codec

        codec = load_codec(src.codec_id, device=device)  # type: ignore[arg-type]
    if src.kind == "tokens":
        from ..codecs.fingerprint import codec_fingerprint
        from .tokens import token_vocab

        spec = codec.spec  # type: ignore[attr-defined]
        vocab = token_vocab(src.name)
        if not spec.frame_rate:
            raise CodecRuntimeError(f"codec '{spec.id}': spec has no frame_rate; the probes need it", codec_id=spec.id)
        return FeatureExtractor(src, fingerprint=f"{spec.id}-tokens-{codec_fingerprint(spec, extra='tokens')}",
                                frame_rate=spec.frame_rate, dim=len(vocab), manifest_dir=manifest_dir, codec=codec)
    if not getattr(codec, "has_embeddings", False):
        raise CodecRuntimeError(
            f"codec '{src.codec_id}' has no continuous embeddings; probe 'logmel:<its resynthesis dir>' instead",
            codec_id=src.codec_id,
        )
    from ..codecs.fingerprint import codec_fingerprint

    spec = codec.spec  # type: ignore[attr-defined]
    if not spec.frame_rate:
        raise CodecRuntimeError(f"codec '{spec.id}': spec has no frame_rate; the probes need it",
                                codec_id=spec.id)
    fp = codec_fingerprint(spec, extra="embed")
    return FeatureExtractor(src, fingerprint=f"{spec.id}-{fp}", frame_rate=spec.frame_rate,
                            dim=spec.embedding_dim, manifest_dir=manifest_dir, codec=codec)
