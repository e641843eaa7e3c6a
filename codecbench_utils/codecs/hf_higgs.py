"""The Higgs-Audio v2 tokenizer (``HiggsAudioV2TokenizerModel``): X-codec's recipe at 25 Hz on 24 kHz audio.

A DAC acoustic encoder (hop 960) and HuBERT semantic features (read at 16 kHz) are joined
and quantized by one RVQ of 1024-entry codebooks, 250 bps each; the decoder is DAC's. The
YAML's ``n_q`` picks the bandwidth (8 codebooks = 2 kbps, what Higgs Audio v2 generates).
``embed`` is ``quantizer.decode(codes)``, the joint quantized latent before the decoder's
projection (``hidden_size``, 1024 in the release). Input is right-padded to whole frames and
the output trimmed, as for the other transformers codecs.

transformers builds this model only with **torchaudio** installed: its module imports it and
resamples the semantic branch's input with ``torchaudio.functional.resample``. The core
environment has no torchaudio (no build of it matches the pinned torch), so ``available()``
says so and nothing is loaded. With torchaudio present the adapter runs as is; its tests run
the real transformers model with a stand-in torchaudio whose ``resample`` is CodecBench's own
reimplementation (:mod:`codecbench_utils.metrics.resample`, checked against torchaudio's
formula), in a separate process.
"""

from __future__ import annotations

import os

from ..errors import MissingDependencyError
from .base import CodecSpec
from .hf import XcodecCodec

__all__ = ["HiggsAudioV2Codec", "torchaudio_missing"]


def torchaudio_missing() -> str | None:
    """Why transformers will not build the Higgs tokenizer here (None: it will)."""
    from transformers.utils.import_utils import is_torchaudio_available

    if is_torchaudio_available():
        return None
    import torch

    return (f"transformers' HiggsAudioV2TokenizerModel needs torchaudio (its module imports it and resamples the "
            f"semantic branch with it), which is not installed: install the torchaudio built for torch "
            f"{torch.__version__.split('+')[0]} (pip install torchaudio==<that version>)")


class HiggsAudioV2Codec(XcodecCodec):
    """Higgs-Audio v2 tokenizer: X-codec's adapter (bandwidth from ``n_q``, ``quantizer.decode`` as the
    embedding) on another transformers class, which needs torchaudio; see the module docstring."""

    MODEL_CLASS = "HiggsAudioV2TokenizerModel"
    PACKAGES = ("transformers", "torch", "torchaudio")

    def __init__(self, spec: CodecSpec, *, device: str = "cpu",
                 weights: str | os.PathLike[str] | None = None) -> None:
        reason = torchaudio_missing()
        if reason:
            raise MissingDependencyError(f"codec '{spec.id}': {reason}", codec_id=spec.id)
        super().__init__(spec, device=device, weights=weights)

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        return torchaudio_missing() or super().available(spec)
