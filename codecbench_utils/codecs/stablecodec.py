"""Stable Codec (``pip install stable-codec``) with a post-hoc FSQ bottleneck."""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import fit_length
from ..errors import MissingDependencyError, MissingWeightsError
from .base import CodecSpec, Encoded
from .checkout import RepoCheckoutCodec, option_path
from .fetch import FetchPlan

__all__ = ["StableCodecCodec"]


class StableCodecCodec(RepoCheckoutCodec):
    """Stable Codec (Parker et al., 2024) with a post-hoc FSQ bottleneck, via ``pip install stable-codec``.

    ``options.pretrained`` is a Hub id that must already be in the local cache
    (loaded with ``HF_HUB_OFFLINE=1``), or ``options.model_config`` + ``options.checkpoint``
    name local files.
    """

    PACKAGES = ("stable-codec", "torch")

    SOURCE = "pip install stable-codec"
    HOP = 640  # 16 kHz / 25 Hz

    @classmethod
    def _resolve_paths(cls, spec: CodecSpec, weights: str | os.PathLike[str] | None = None) -> dict[str, Path]:
        if importlib.util.find_spec("stable_codec") is None:
            raise MissingDependencyError(f"codec '{spec.id}': package 'stable_codec' is not installed; "
                                         "install it with: pip install stable-codec", codec_id=spec.id)
        if weights is not None or spec.options.get("checkpoint"):
            out = {"checkpoint": option_path(spec, "checkpoint", weights),
                   "model_config": option_path(spec, "model_config")}
            for key, path in out.items():
                if not path.exists():
                    raise MissingWeightsError(f"codec '{spec.id}': {key} not found at {path}; download it from "
                                              f"https://huggingface.co/{spec.options.get('pretrained')}",
                                              codec_id=spec.id)
            return out
        repo = spec.options.get("pretrained", "")
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(repo, "model_config.json"), str):
            raise MissingWeightsError(f"codec '{spec.id}': '{repo}' is not in the Hugging Face cache (expected "
                                      f"model_config.json + model.ckpt); run `codecbench codecs fetch {spec.id}`, "
                                      "or set options.model_config and options.checkpoint", codec_id=spec.id)
        return {}

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        try:
            cls._resolve_paths(spec)
        except (MissingWeightsError, MissingDependencyError) as exc:
            return str(exc)
        return None

    @classmethod
    def fetch_plan(cls, spec: CodecSpec) -> FetchPlan | None:
        """The ``options.pretrained`` Hub snapshot that ``stable_codec`` loads from the Hugging Face cache."""
        repo = spec.options.get("pretrained")
        return FetchPlan(spec.id, hub_repo=str(repo), hub_revision=spec.options.get("revision")) if repo else None

    def _load(self) -> None:
        import torch

        sc = self._import("stable_codec")
        if self.paths:
            self.sc = sc.StableCodec(model_config_path=str(self.paths["model_config"]),
                                     ckpt_path=str(self.paths["checkpoint"]), device=torch.device(self.device))
        else:
            os.environ["HF_HUB_OFFLINE"] = "1"  # never download
            self.sc = sc.StableCodec(pretrained_model=self.spec.options["pretrained"],
                                     device=torch.device(self.device))
        self.sc.set_posthoc_bottleneck(self.spec.options["bottleneck"])
        self.model = getattr(self.sc, "model", None)

    def _run(self, wav: np.ndarray) -> tuple[Any, Any]:
        import torch

        with torch.inference_mode():
            latents, tokens = self.sc.encode(self._tensor(wav), posthoc_bottleneck=True)
        return latents, tokens

    def encode(self, wav: np.ndarray) -> Encoded:
        import torch

        _, tokens = self._run(wav)
        if isinstance(tokens, (list, tuple)):  # one (1, F, 1) tensor per stage of the bottleneck
            t = torch.stack([x.reshape(-1) for x in tokens])
        elif tokens.shape[-1] == self.n_q:  # (1, F, n_q)
            t = tokens.reshape(-1, self.n_q).T
        else:
            t = tokens.reshape(self.n_q, -1)
        return self._encoded(t.cpu().numpy(), len(wav))

    def decode(self, encoded: Encoded) -> np.ndarray:
        import torch

        codes = torch.as_tensor(np.asarray(encoded.codes), device=self.device)  # (n_q, F)
        tokens = [c[None, :, None] for c in codes]  # upstream: one (1, F, 1) tensor per bottleneck stage
        with torch.inference_mode():
            audio = self.sc.decode(tokens, posthoc_bottleneck=True)
        return fit_length(audio.reshape(-1).float().cpu().numpy(), encoded.n_samples)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        import torch

        _, tokens = self._run(wav)  # encode's latents are pre-bottleneck (continuous), not quantized
        with torch.inference_mode():
            lat = self.sc.residual_fsq.decode(tokens)  # (1, D, F): the latent ``decode`` synthesizes from
        return lat[0].T[: self.frames_for(len(wav))].float().cpu().numpy()
