"""SNAC, the multi-scale neural audio codec (``pip install snac``: the optional extra ``codecbench[snac]``).

SNAC quantizes one latent with residual codebooks at *different* frame rates: the 24 kHz
speech model has three codebooks of 4096 entries at 11.7, 23.4 and 46.9 Hz (strides 4, 2, 1
of the finest rate), 0.98 kbps in all. The spec's ``frame_rate`` is the finest rate and
``options.vq_strides`` the strides, so ``kbps = frame_rate * sum(log2(codebook_size) / stride)``.

- ``encode`` returns one int64 array per codebook (of unequal lengths); ``codes_matrix`` repeats
  each coarse code over the finest frames it spans, giving the ``(n_q, frames)`` matrix the
  token probe embeds.
- ``embed`` is the quantized latent the decoder consumes (``quantizer.from_codes``), at the
  finest rate: 768 dims for the 24 kHz model, 1024 for the 32/44 kHz ones. It and
  ``codes_matrix`` stop at the frames covering the input (``ceil(n / hop)``); the stream's bits
  count every frame sent, padding included.
- The input is right-padded as SNAC's own ``preprocess`` does (to a multiple of
  ``hop * lcm(coarsest stride, attention window)``); its convolutions are symmetric, so the
  decoded audio is aligned with the input and trimmed back to its length.
- The decoder injects Gaussian noise (``NoiseBlock``): decoding runs under a fixed seed
  (``options.seed``, default 0) with the torch RNG forked, so a resynthesis is reproducible and
  the caller's random state is left untouched.

Weights (``config.json`` + ``pytorch_model.bin``) come from ``options.weights`` (a folder) or the
Hugging Face cache for ``options.repo`` (``codecbench codecs fetch ID``); nothing is downloaded here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import fit_length
from ..errors import CodecRuntimeError
from .base import Encoded
from .model_codec import ModelCodec

__all__ = ["SnacCodec"]


class SnacCodec(ModelCodec):
    """SNAC through its own package; see the module docstring."""

    PACKAGES = ("snac", "torch", "einops")
    REQUIRES = ("snac", "einops")
    INSTALL = "pip install 'codecbench[snac]' (or: pip install snac==1.2.1)"
    CHECKPOINT_FILES = ("config.json", "pytorch_model.bin")

    def _build(self, folder: Path) -> Any:
        import torch
        from snac import SNAC

        model = SNAC(**json.loads((folder / "config.json").read_text()))
        model.load_state_dict(torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True))
        return model

    def _setup(self, model: Any) -> None:
        self.model = self._freeze(model)
        self.seed = int(self.spec.options.get("seed", 0))
        checks = {"sample_rate": (int(model.sampling_rate), int(self.sample_rate)),
                  "n_q": (int(model.n_codebooks), int(self.spec.n_q or 0)),
                  "codebook_size": (int(model.codebook_size), int(self.spec.codebook_size or 0)),
                  "options.vq_strides": (list(model.vq_strides), list(self.spec.options.get("vq_strides", [])))}
        for name, (got, said) in checks.items():
            if got != said:
                raise CodecRuntimeError(f"codec '{self.id}': YAML says {name} {said} but the checkpoint has {got}",
                                        codec_id=self.id)

    @property
    def hop_length(self) -> int:
        """Input samples per frame of the finest codebook."""
        return int(self.model.hop_length)

    @property
    def strides(self) -> list[int]:
        return [int(s) for s in self.model.vq_strides]

    def encode(self, wav: np.ndarray) -> Encoded:
        """One int64 array per codebook, coarsest first (lengths differ by the strides)."""
        import torch

        x = self._tensor(wav)
        with torch.inference_mode():
            codes = [c[0].cpu().numpy().astype(np.int64) for c in self.model.encode(x)]
        bits = sum(c.size * math.log2(self.model.codebook_size) for c in codes)
        return Encoded(codes=codes, n_samples=int(x.shape[-1]), sample_rate=self.sample_rate, n_bits=int(round(bits)))

    def decode(self, encoded: Encoded) -> np.ndarray:
        """Audio at ``sample_rate``, as long as the input; the decoder's noise is seeded (``options.seed``)."""
        import torch

        codes = [torch.from_numpy(np.asarray(c))[None].to(self.device) for c in encoded.codes]
        devices = [self.device] if str(self.device).startswith("cuda") else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(self.seed)
            audio = self.model.decode(codes)[0, 0].float().cpu().numpy()
        return fit_length(audio, encoded.n_samples)

    def frames_for(self, n_samples: int) -> int:
        """Finest-rate frames covering ``n_samples`` (the codes go on over ``preprocess``'s padding; these stop)."""
        return max(1, math.ceil(n_samples / self.hop_length))

    def codes_matrix(self, encoded: Encoded) -> np.ndarray:
        """``(n_q, finest frames)``: each coarse code repeated over the finest frames it spans."""
        frames = self.frames_for(encoded.n_samples)
        return np.stack([np.repeat(np.asarray(c), s)[:frames] for c, s in zip(encoded.codes, self.strides, strict=True)])

    def embed(self, wav: np.ndarray) -> np.ndarray:
        """The quantized latent ``(finest frames, latent_dim)`` the decoder consumes."""
        import torch

        x = self._tensor(wav)
        with torch.inference_mode():
            z = self.model.quantizer.from_codes(self.model.encode(x))
        frames = self.frames_for(int(x.shape[-1]))
        return np.ascontiguousarray(z[0, :, :frames].T.float().cpu().numpy(), dtype=np.float32)
