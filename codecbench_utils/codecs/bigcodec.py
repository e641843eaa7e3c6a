"""BigCodec (github.com/Aria-K-Alethia/BigCodec, ``bigcodec.pt``), from a local checkout."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..audio import fit_length
from .base import Encoded
from .checkout import RepoCheckoutCodec

__all__ = ["BigCodecCodec"]


class BigCodecCodec(RepoCheckoutCodec):
    """BigCodec (Xin et al., 2024): one 8192-entry VQ at 80 Hz on 16 kHz speech."""

    SOURCE = "github.com/Aria-K-Alethia/BigCodec"
    PATHS = {
        "repo_dir": "clone https://github.com/Aria-K-Alethia/BigCodec and point options.repo_dir at it",
        "checkpoint": "download bigcodec.pt from https://huggingface.co/Alethia/BigCodec",
    }
    HOP = 200

    def frames_for(self, n_samples: int) -> int:
        # upstream pads 200 - len % 200 samples, i.e. always at least one
        return n_samples // self.HOP + 1

    def _load(self) -> None:
        import torch

        enc_mod = self._import("vq.codec_encoder")
        dec_mod = self._import("vq.codec_decoder")
        ckpt = torch.load(self.paths["checkpoint"], map_location="cpu", weights_only=True)
        self.encoder = enc_mod.CodecEncoder()
        self.encoder.load_state_dict(ckpt["CodecEnc"])
        self.decoder = dec_mod.CodecDecoder()
        self.decoder.load_state_dict(ckpt["generator"])
        self.encoder = self.encoder.eval().to(self.device)
        self.decoder = self.decoder.eval().to(self.device)
        self.model = torch.nn.ModuleDict({"encoder": self.encoder, "decoder": self.decoder})

    def _quantize(self, wav: np.ndarray) -> tuple[Any, Any]:
        import torch

        with torch.inference_mode():
            vq_emb = self.encoder(self._tensor(wav))
            vq_post_emb, vq_code, _ = self.decoder(vq_emb, vq=True)
        return vq_post_emb, vq_code  # (1, D, F), (n_q, 1, F)

    def encode(self, wav: np.ndarray) -> Encoded:
        _, code = self._quantize(wav)
        return self._encoded(code[:, 0].cpu().numpy(), len(wav))

    def decode(self, encoded: Encoded) -> np.ndarray:
        import torch

        codes = torch.as_tensor(np.asarray(encoded.codes), device=self.device)  # (n_q, F)
        with torch.inference_mode():
            emb = self.decoder.vq2emb(codes.T[None])  # upstream takes (B, F, n_q)
            if emb.shape[1] != (self.spec.embedding_dim or emb.shape[1]):
                emb = emb.transpose(1, 2)
            audio = self.decoder(emb, vq=False)
        return fit_length(audio.reshape(-1).float().cpu().numpy(), encoded.n_samples)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        post, _ = self._quantize(wav)
        return post[0].T[: self.frames_for(len(wav))].float().cpu().numpy()
