"""The ``identity`` anchor: output = input. Upper bound of every metric."""

from __future__ import annotations

import numpy as np

from .base import Codec, Encoded

__all__ = ["IdentityCodec"]


class IdentityCodec(Codec):
    """Passes audio through unchanged; bitrate is that of 16-bit PCM at its rate."""

    def encode(self, wav: np.ndarray) -> Encoded:
        wav = np.asarray(wav, dtype=np.float32)
        return Encoded(codes=wav.copy(), n_samples=wav.shape[0], sample_rate=self.sample_rate,
                       n_bits=16 * wav.shape[0])

    def decode(self, encoded: Encoded) -> np.ndarray:
        return np.asarray(encoded.codes, dtype=np.float32)
