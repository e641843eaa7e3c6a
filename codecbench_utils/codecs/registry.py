"""Codec registry: every ``params/codecs/<id>.yaml`` is one codec configuration.

The YAML's ``backend`` names a class in ``BACKENDS``; its other keys fill a
:class:`CodecSpec`. ``load_codec(id)`` builds the codec; ``list_codecs()``
reports each with whether it can run here, and if not, why.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UnknownNameError
from ..paths import params_dir
from .base import Codec, CodecSpec

__all__ = ["BACKENDS", "codec_specs", "get_spec", "codec_class", "load_codec", "list_codecs"]

#: backend name -> "module:Class" (imported lazily so `codecbench --help` stays fast)
BACKENDS: dict[str, str] = {
    "identity": "codecbench_utils.codecs.identity:IdentityCodec",
    "pyav": "codecbench_utils.codecs.classical:PyAVCodec",
    "codec2": "codecbench_utils.codecs.classical:Codec2Codec",
    "hf_dac": "codecbench_utils.codecs.hf:DacCodec",
    "hf_encodec": "codecbench_utils.codecs.hf:EncodecCodec",
    "hf_mimi": "codecbench_utils.codecs.hf:MimiCodec",
    "hf_xcodec": "codecbench_utils.codecs.hf:XcodecCodec",
    "hf_xcodec2": "codecbench_utils.codecs.hf:Xcodec2Codec",
    "hf_neucodec": "codecbench_utils.codecs.hf:NeuCodecCodec",
    "hf_higgs": "codecbench_utils.codecs.hf_higgs:HiggsAudioV2Codec",
    "hf_vibevoice": "codecbench_utils.codecs.hf_latent:VibeVoiceCodec",
    "hf_pockettts": "codecbench_utils.codecs.hf_latent:PocketTTSCodec",
    "hf_wavtokenizer": "codecbench_utils.codecs.hf:WavTokenizerCodec",
    "bigcodec": "codecbench_utils.codecs.bigcodec:BigCodecCodec",
    "maskgct": "codecbench_utils.codecs.maskgct:MaskGCTCodec",
    "flowdec": "codecbench_utils.codecs.flowdec:FlowDecCodec",
    "baichuan": "codecbench_utils.codecs.baichuan:BaichuanCodec",
    "stablecodec": "codecbench_utils.codecs.stablecodec:StableCodecCodec",
    "lyra": "codecbench_utils.codecs.lyra:LyraCodec",
    "snac": "codecbench_utils.codecs.snac:SnacCodec",
    "ssl_kmeans": "codecbench_utils.codecs.ssl_kmeans:SSLKMeansCodec",
    "speechtokenizer": "codecbench_utils.codecs.speechtokenizer:SpeechTokenizerCodec",
}


def _codec_dir(directory: Path | None) -> Path:
    return Path(directory) if directory is not None else params_dir() / "codecs"


def codec_specs(directory: Path | None = None) -> dict[str, CodecSpec]:
    """All codec specs found in ``params/codecs``, by id (sorted)."""
    import yaml

    out: dict[str, CodecSpec] = {}
    for path in sorted(_codec_dir(directory).glob("*.yaml")):
        data: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
        data.setdefault("id", path.stem)
        if data["id"] != path.stem:
            raise ConfigError(f"{path}: id '{data['id']}' does not match the file name")
        out[data["id"]] = CodecSpec.from_dict(data)
    return out


def get_spec(codec_id: str, directory: Path | None = None) -> CodecSpec:
    specs = codec_specs(directory)
    if codec_id not in specs:
        raise UnknownNameError(
            f"unknown codec '{codec_id}'; known: {', '.join(specs)} (see `codecbench codecs list`)",
            codec_id=codec_id,
        )
    return specs[codec_id]


def codec_class(spec: CodecSpec) -> type[Codec]:
    if spec.backend not in BACKENDS:
        raise UnknownNameError(
            f"codec '{spec.id}': unknown backend '{spec.backend}'; known: {sorted(BACKENDS)}",
            codec_id=spec.id,
        )
    module, name = BACKENDS[spec.backend].split(":")
    return getattr(importlib.import_module(module), name)


def load_codec(codec: str | CodecSpec, *, device: str = "cpu", **kwargs: Any) -> Codec:
    """Build a codec by id (or spec). Raises MissingDependencyError/MissingWeightsError when it cannot run."""
    spec = get_spec(codec) if isinstance(codec, str) else codec
    return codec_class(spec)(spec, device=device, **kwargs)


def list_codecs(directory: Path | None = None) -> list[dict[str, Any]]:
    """One dict per codec: its metadata plus ``available`` and ``reason``."""
    rows = []
    for spec in codec_specs(directory).values():
        try:
            reason = codec_class(spec).available(spec)
        except Exception as exc:  # an import error in a backend module
            reason = f"{type(exc).__name__}: {exc}"
        row = spec.to_dict()
        row.pop("options", None)
        row["available"] = reason is None
        row["reason"] = reason
        rows.append(row)
    return rows
