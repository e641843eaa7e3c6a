"""Codecs published only as upstream repositories (or their own pip package).

These adapters import the upstream code from a local checkout (``options.repo_dir``)
and load a checkpoint from a local path (``options.checkpoint`` or ``weights=``);
YAML values may use ``~`` and ``${ENV_VARS}``, e.g. ``${CODECBENCH_BIGCODEC_DIR}``.
Nothing is cloned or downloaded here: when a path is missing the error names the
codec, the file expected and where to get it.

Per backend, upstream and what ``embed`` returns (dimension):

- ``bigcodec``: github.com/Aria-K-Alethia/BigCodec (``bigcodec.pt``,
  huggingface.co/Alethia/BigCodec); the post-VQ embedding ``vq_post_emb`` (1024).
- ``maskgct``: the acoustic codec of github.com/open-mmlab/Amphion (huggingface.co/amphion/MaskGCT,
  ``acoustic_codec/model*.safetensors``); the decoder quantizer's output for the first ``n_q``
  codebooks (256).
- ``stablecodec``: ``pip install stable-codec``; the post-hoc FSQ's dequantized latent, i.e. what
  ``decode`` feeds the decoder (6; ``encode``'s own latents are the continuous pre-bottleneck ones).
- ``flowdec`` (module :mod:`~codecbench_utils.codecs.flowdec`): github.com/facebookresearch/FlowDec
  and its ``checkpoints.zip``; the quantized latent ``z`` of its NDAC codec (``latent_dim``, 1024).
- ``baichuan`` (module :mod:`~codecbench_utils.codecs.baichuan`): the Baichuan-Audio-Base snapshot's
  audio tokenizer + the repository's 24 kHz vocoder; the RVQ-dequantized latent at 12.5 Hz.

Like the transformers backends, inputs are right-padded to whole frames and outputs
trimmed back to the input length (BigCodec, MaskGCT and Stable Codec are non-causal
convolutional codecs with symmetric padding, so no delay remains).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import check_audio, fit_length
from ..errors import MissingDependencyError, MissingWeightsError
from .base import Codec, CodecSpec, Encoded, expand_path
from .fetch import FetchPlan

__all__ = ["RepoCheckoutCodec", "BigCodecCodec", "MaskGCTCodec", "StableCodecCodec", "option_path"]


def option_path(spec: CodecSpec, key: str, override: str | os.PathLike[str] | None = None) -> Path:
    """``spec.options[key]`` as a path with ``~`` and ``$VARS`` expanded.

    Raises
    ------
    MissingWeightsError
        The option is absent or names an environment variable that is not set.
    """
    raw = override if override is not None else spec.options.get(key)
    if raw is None:
        raise MissingWeightsError(f"codec '{spec.id}': options.{key} is not set in its YAML", codec_id=spec.id)
    path = expand_path(raw)
    if "$" in str(path):
        raise MissingWeightsError(f"codec '{spec.id}': options.{key} = {raw!r} uses an environment variable "
                                  "that is not set; export it or edit the YAML", codec_id=spec.id)
    return path


@contextlib.contextmanager
def _on_sys_path(folder: Path) -> Iterator[None]:
    """Import upstream modules from a checkout without leaving it on sys.path."""
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(folder))


class RepoCheckoutCodec(Codec):
    """Base of the repository-checkout adapters: path checks, imports, padding."""

    PACKAGES = ("torch",)

    #: where the code comes from (for error messages)
    SOURCE: str = ""
    #: options that must name existing paths, and where to get each
    PATHS: dict[str, str] = {}
    #: option filled by ``weights=``
    WEIGHTS_KEY: str = "checkpoint"
    #: input samples per code frame
    HOP: int = 1

    def __init__(self, spec: CodecSpec, *, device: str = "cpu",
                 weights: str | os.PathLike[str] | None = None) -> None:
        super().__init__(spec, device=device)
        self.paths = self._resolve_paths(spec, weights)
        self.n_q = int(spec.n_q or 1)
        self._load()

    @classmethod
    def _resolve_paths(cls, spec: CodecSpec, weights: str | os.PathLike[str] | None = None) -> dict[str, Path]:
        out = {}
        for key, how in cls.PATHS.items():
            path = option_path(spec, key, weights if key == cls.WEIGHTS_KEY else None)
            if not path.exists():
                raise MissingWeightsError(f"codec '{spec.id}': {key} not found at {path}; {how}", codec_id=spec.id)
            out[key] = path
        return out

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        try:
            cls._resolve_paths(spec)
        except MissingWeightsError as exc:
            return str(exc)
        return None

    def _import(self, module: str, folder: Path | None = None) -> Any:
        """Import ``module`` from ``folder`` (default: the checkout) without leaving it on sys.path."""
        repo = folder if folder is not None else self.paths.get("repo_dir")
        ctx = _on_sys_path(repo) if repo is not None else contextlib.nullcontext()
        with ctx:
            try:
                return importlib.import_module(module)
            except ImportError as exc:
                raise MissingDependencyError(f"codec '{self.id}': cannot import {module} from {repo} "
                                             f"({self.SOURCE}): {exc}", codec_id=self.id) from exc

    def _load(self) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def _seeded(self, seed: int | None) -> Iterator[None]:
        """Run sampling decoders (flow matching, vocoder noise) from ``seed`` without touching global RNG state.

        ``None`` leaves the RNG alone (not repeatable).
        """
        if seed is None:
            yield
            return
        import torch

        dev = torch.device(self.device)
        devices = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    @property
    def codebook_sizes(self) -> list[int]:
        return [int(self.spec.codebook_size or 1)] * self.n_q

    def frames_for(self, n_samples: int) -> int:
        return max(1, math.ceil(n_samples / self.HOP))

    def _tensor(self, wav: np.ndarray) -> Any:
        """(1, 1, T') float tensor on the device, right-padded to whole frames."""
        import torch
        import torch.nn.functional as F

        wav = check_audio(np.asarray(wav, dtype=np.float32), what=f"codec '{self.id}' input")
        x = torch.from_numpy(wav)[None, None].to(self.device)
        pad = self.frames_for(wav.shape[0]) * self.HOP - wav.shape[0]
        return F.pad(x, (0, pad)) if pad > 0 else x

    def _encoded(self, codes: np.ndarray, n_samples: int) -> Encoded:
        codes = np.asarray(codes, dtype=np.int64).reshape(self.n_q, -1)[:, : self.frames_for(n_samples)]
        bits = sum(math.log2(s) for s in self.codebook_sizes)
        return Encoded(codes=codes, n_samples=n_samples, sample_rate=self.sample_rate,
                       n_bits=int(round(codes.shape[1] * bits)))


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
