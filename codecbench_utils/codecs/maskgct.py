"""MaskGCT's acoustic codec (github.com/open-mmlab/Amphion, huggingface.co/amphion/MaskGCT), from a local checkout."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..audio import fit_length
from ..errors import MissingDependencyError
from .base import Encoded
from .checkout import RepoCheckoutCodec

__all__ = ["MaskGCTCodec"]


class MaskGCTCodec(RepoCheckoutCodec):
    """MaskGCT's acoustic codec (Amphion): 12 RVQ codebooks of 1024 at 50 Hz on 24 kHz audio."""

    SOURCE = "github.com/open-mmlab/Amphion"
    PATHS = {
        "repo_dir": "clone https://github.com/open-mmlab/Amphion and point options.repo_dir at it",
        "encoder": "download acoustic_codec/model.safetensors from https://huggingface.co/amphion/MaskGCT",
        "decoder": "download acoustic_codec/model_1.safetensors from https://huggingface.co/amphion/MaskGCT",
    }
    WEIGHTS_KEY = "encoder"
    HOP = 480
    #: the acoustic codec's architecture (models/tts/maskgct/config/maskgct.json upstream; its decoder
    #: key "in_channel" is a typo that upstream's cfg lookup ignores, the keyword is ``in_channels``)
    ENCODER_KW = {"d_model": 96, "up_ratios": [3, 4, 5, 8], "out_channels": 256, "use_tanh": False}
    DECODER_KW = {"in_channels": 256, "upsample_initial_channel": 1536, "up_ratios": [8, 5, 4, 3],
                  "num_quantizers": 12, "codebook_size": 1024, "codebook_dim": 8, "quantizer_type": "fvq",
                  "quantizer_dropout": 0.5, "commitment": 0.25, "codebook_loss_weight": 1.0,
                  "use_l2_normlize": True, "codebook_type": "euclidean", "kmeans_init": False,
                  "kmeans_iters": 10, "decay": 0.8, "eps": 0.5, "threshold_ema_dead_code": 2,
                  "weight_init": False, "use_vocos": True, "vocos_dim": 512, "vocos_intermediate_dim": 4096,
                  "vocos_num_layers": 30, "n_fft": 1920, "hop_size": 480, "padding": "same"}

    def _load(self) -> None:
        import torch

        mod = self._import("models.codec.amphion_codec.codec")
        st = self._import_safetensors()
        self.encoder = mod.CodecEncoder(**self.ENCODER_KW)
        self.decoder = mod.CodecDecoder(**self.DECODER_KW)
        st.load_model(self.encoder, str(self.paths["encoder"]))
        st.load_model(self.decoder, str(self.paths["decoder"]))
        self.encoder = self.encoder.eval().to(self.device)
        self.decoder = self.decoder.eval().to(self.device)
        self.model = torch.nn.ModuleDict({"encoder": self.encoder, "decoder": self.decoder})

    @staticmethod
    def _import_safetensors() -> Any:
        try:
            import safetensors.torch as st
        except ImportError as exc:  # pragma: no cover - installed with transformers
            raise MissingDependencyError("pip install safetensors") from exc
        return st

    def _quantize(self, wav: np.ndarray) -> tuple[Any, Any]:
        import torch

        with torch.inference_mode():
            latent = self.encoder(self._tensor(wav))
            quantized, vq = self.decoder.quantize(latent, n_quantizers=self.n_q)
        return quantized, vq  # (1, 256, F), (n_q, 1, F)

    def encode(self, wav: np.ndarray) -> Encoded:
        _, vq = self._quantize(wav)
        return self._encoded(vq[: self.n_q, 0].cpu().numpy(), len(wav))

    def decode(self, encoded: Encoded) -> np.ndarray:
        import torch

        vq = torch.as_tensor(np.asarray(encoded.codes), device=self.device)[:, None]  # (n_q, 1, F)
        with torch.inference_mode():
            # upstream sums all 12 codebooks unless told how many rows ``vq`` has
            audio = self.decoder(self.decoder.vq2emb(vq, n_quantizers=vq.shape[0]), vq=False)
        return fit_length(audio.reshape(-1).float().cpu().numpy(), encoded.n_samples)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        quantized, _ = self._quantize(wav)
        return quantized[0].T[: self.frames_for(len(wav))].float().cpu().numpy()
