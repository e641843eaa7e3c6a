"""Tokenizers with continuous latents (no codebooks), backed by transformers: VibeVoice and Pocket TTS.

Speech LLMs of 2025-26 generate continuous frames instead of discrete tokens: VibeVoice's
σ-VAE acoustic tokenizer (64 dims at 7.5 Hz, 24 kHz) and Pocket TTS's Mimi-derived tokenizer
(32 dims at 12.5 Hz, 24 kHz). They resynthesize like any codec and their latents are what the
probes read (``embed``), but a latent frame is floats, not bits: there is no bitrate, so the
YAMLs leave ``kbps``, ``n_q`` and ``codebook_size`` empty and the tables say so. There are no
tokens either: ``tokens:<id>`` probe sources refuse them.

Both are causal convolution stacks (Pocket TTS adds a causal transformer), so right padding
cannot reach an item's own samples: items of unequal length share batches (measured by the
conformance suite on the tiny configurations).

===================  ==========================================  =================================  ===
backend              class                                        ``embed`` returns                  dim
===================  ==========================================  =================================  ===
hf_vibevoice         ``VibeVoiceAcousticTokenizerModel``          the encoder's mean latent              64
                                                                  (``encode(sample=False)``)
hf_pockettts         ``PocketTTSAudioTokenizerModel``             ``encode(...).latents``                32
===================  ==========================================  =================================  ===
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .hf import HFCodec

__all__ = ["ContinuousHFCodec", "VibeVoiceCodec", "PocketTTSCodec"]

#: VibeVoice's feature extractor scales every item to this RMS level (its ``target_dB_FS``)
VIBEVOICE_TARGET_DBFS = -25.0


class ContinuousHFCodec(HFCodec):
    """A transformers tokenizer whose codes are its latents: ``embed`` returns them, and, being causal, it
    batches items of unequal length (right padding never reaches an item's own samples)."""

    CONTINUOUS = True
    BATCHES_UNEQUAL_LENGTHS = True

    def _embed_t(self, x: Any, codes: Any) -> Any:
        return codes


class VibeVoiceCodec(ContinuousHFCodec):
    """VibeVoice's acoustic tokenizer (σ-VAE): deterministic here, the mean latent without the VAE's noise.

    Its feature extractor normalises each item to ``options.target_dbfs`` (default -25 dBFS RMS, peak
    at most 1) before encoding; the adapter does the same and divides the gain out of the decoded
    audio, so the resynthesis keeps the input's level and the metrics compare like with like.
    """

    MODEL_CLASS = "VibeVoiceAcousticTokenizerModel"  # causal convolutions

    def _input_gain(self, wav: np.ndarray) -> float:
        target = float(self.spec.options.get("target_dbfs", VIBEVOICE_TARGET_DBFS))
        eps = 1e-6
        gain = 10 ** (target / 20) / (float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) + eps)
        peak = float(np.max(np.abs(wav))) * gain if wav.size else 0.0
        return gain / (peak + eps) if peak > 1.0 else gain

    def _encode_t(self, x: Any) -> Any:
        return self.model.encode(x, sample=False).latents.transpose(1, 2)

    def _decode_t(self, codes: Any) -> Any:
        return self.model.decode(codes.transpose(1, 2)).audio[:, 0]


class PocketTTSCodec(ContinuousHFCodec):
    """Pocket TTS's audio tokenizer: Mimi with its residual quantizer replaced by a continuous bottleneck."""

    MODEL_CLASS = "PocketTTSAudioTokenizerModel"  # causal convolutions and causal attention

    @property
    def hop_length(self) -> int:
        return int(self.config.frame_size)

    def _encode_t(self, x: Any) -> Any:
        return self.model.encode(x).latents.transpose(1, 2)

    def _decode_t(self, codes: Any) -> Any:
        return self.model.decode(codes.transpose(1, 2)).audio_values[:, 0]
