"""The base of codecs published only as upstream repositories (or their own pip package).

These adapters import the upstream code from a local checkout (``options.repo_dir``)
and load a checkpoint from a local path (``options.checkpoint`` or ``weights=``);
YAML values may use ``~`` and ``${ENV_VARS}``, e.g. ``${CODECBENCH_BIGCODEC_DIR}``.
Nothing is cloned or downloaded here: when a path is missing the error names the
codec, the file expected and where to get it.

One module per codec builds on it (upstream, and what ``embed`` returns, with its dimension):

- ``bigcodec`` (:mod:`.bigcodec`): github.com/Aria-K-Alethia/BigCodec (``bigcodec.pt``,
  huggingface.co/Alethia/BigCodec); the post-VQ embedding ``vq_post_emb`` (1024).
- ``maskgct`` (:mod:`.maskgct`): the acoustic codec of github.com/open-mmlab/Amphion (huggingface.co/amphion/MaskGCT,
  ``acoustic_codec/model*.safetensors``); the decoder quantizer's output for the first ``n_q``
  codebooks (256).
- ``stablecodec`` (:mod:`.stablecodec`): ``pip install stable-codec``; the post-hoc FSQ's dequantized latent, i.e. what
  ``decode`` feeds the decoder (6; ``encode``'s own latents are the continuous pre-bottleneck ones).
- ``flowdec`` (:mod:`.flowdec`): github.com/facebookresearch/FlowDec
  and its ``checkpoints.zip``; the quantized latent ``z`` of its NDAC codec (``latent_dim``, 1024).
- ``baichuan`` (:mod:`.baichuan`): the Baichuan-Audio-Base snapshot's
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

from ..audio import check_audio
from ..errors import MissingDependencyError, MissingWeightsError
from .base import Codec, CodecSpec, Encoded, expand_path

__all__ = ["RepoCheckoutCodec", "option_path"]


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
