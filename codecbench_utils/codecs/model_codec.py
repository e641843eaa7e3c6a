"""What every codec wrapping one torch network shares: wrapping a built model, freezing it, and its weights'
place (a local folder, or files of a pinned Hugging Face repo in the cache) and fetch plan.

The YAML's ``options`` name the weights: ``weights`` (a local folder, ``~``/``$VARS`` expanded), or
``repo`` + ``revision`` (+ ``subfolder`` when the repo holds several checkpoints). Nothing is
downloaded here; ``codecbench codecs fetch ID`` fills the cache from :meth:`ModelCodec.fetch_plan`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..audio import check_audio
from ..errors import MissingDependencyError, MissingWeightsError
from .base import Codec, CodecSpec, expand_path
from .fetch import FetchPlan

__all__ = ["ModelCodec"]

C = TypeVar("C", bound="ModelCodec")


class ModelCodec(Codec):
    """Base of the codecs that run one torch network; subclasses implement ``_setup(model)``.

    Package backends also set ``REQUIRES`` (import names) with ``INSTALL`` (the line that installs
    them) and ``CHECKPOINT_FILES`` (what a checkpoint folder holds), and implement ``_build(folder)``;
    this class then loads them and says what is missing. Backends that resolve their weights
    another way (transformers' ``from_pretrained``) override ``__init__`` and ``available``.
    """

    REQUIRES: tuple[str, ...] = ()
    INSTALL: str = ""
    CHECKPOINT_FILES: tuple[str, ...] = ()

    def __init__(self, spec: CodecSpec, *, device: str = "cpu",
                 weights: str | os.PathLike[str] | None = None) -> None:
        super().__init__(spec, device=device)
        why = self._missing_packages()
        if why:
            raise MissingDependencyError(f"codec '{spec.id}': {why}", codec_id=spec.id)
        self._setup(self._build(self.checkpoint_folder(spec, weights)))

    def _build(self, folder: Path) -> Any:
        """The network, with its weights loaded from ``folder``."""
        raise NotImplementedError

    @classmethod
    def _missing_packages(cls) -> str | None:
        import importlib.util

        missing = [m for m in cls.REQUIRES if importlib.util.find_spec(m) is None]
        return f"package(s) {', '.join(missing)} not installed: {cls.INSTALL}" if missing else None

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        why = cls._missing_packages()
        if why:
            return why
        try:
            cls.checkpoint_folder(spec)
        except MissingWeightsError as exc:
            return str(exc)
        return None

    @classmethod
    def from_model(cls: type[C], spec: CodecSpec, model: Any, *, device: str = "cpu") -> C:
        """Wrap an already built model (e.g. a tiny random one in tests); loads nothing."""
        self = cls.__new__(cls)
        Codec.__init__(self, spec, device=device)
        self._setup(model)
        return self

    def _setup(self, model: Any) -> None:
        raise NotImplementedError

    def _check(self, wav: np.ndarray) -> np.ndarray:
        """The item as mono float32, refused with the reason when empty, non-finite or multi-channel."""
        return check_audio(np.asarray(wav, dtype=np.float32), what=f"codec '{self.id}' input")

    def _tensor(self, wav: np.ndarray) -> Any:
        """One checked item as a ``(1, 1, T)`` tensor on this codec's device."""
        import torch

        return torch.from_numpy(self._check(wav))[None, None].to(self.device)

    def close(self) -> None:
        self.model = None

    def _freeze(self, model: Any) -> Any:
        """The model in eval mode on this codec's device, without gradients: inference only."""
        model = model.eval().to(self.device)
        for p in model.parameters():
            p.requires_grad_(False)
        return model

    @classmethod
    def _repo_files(cls, spec: CodecSpec) -> tuple[str, ...]:
        sub = spec.options.get("subfolder", "")
        return tuple(f"{sub}/{f}" if sub else f for f in cls.CHECKPOINT_FILES)

    @classmethod
    def fetch_plan(cls, spec: CodecSpec) -> FetchPlan | None:
        """The pinned ``options.repo``@``options.revision`` snapshot (only the checkpoint's files under a subfolder)."""
        repo = spec.options.get("repo")
        if not repo:
            return None
        files = cls._repo_files(spec) if spec.options.get("subfolder") else ()
        return FetchPlan(spec.id, hub_repo=str(repo), hub_revision=spec.options.get("revision"), hub_files=files)

    @classmethod
    def checkpoint_folder(cls, spec: CodecSpec, weights: str | os.PathLike[str] | None = None) -> Path:
        """The folder holding ``CHECKPOINT_FILES``: ``weights`` / ``options.weights``, else the Hub cache of ``options.repo``.

        Raises
        ------
        MissingWeightsError
            Neither is there; the message names the files and the command or setting that fixes it.
        """
        local = weights if weights is not None else spec.options.get("weights")
        repo = spec.options.get("repo")
        want = " + ".join(cls.CHECKPOINT_FILES)
        if local:
            folder = expand_path(local)
            if all((folder / f).is_file() for f in cls.CHECKPOINT_FILES):
                return folder
            raise MissingWeightsError(f"codec '{spec.id}': no checkpoint at {folder} (expected {want})"
                                      + (f"; copy the files of '{repo}' there" if repo else ""), codec_id=spec.id)
        if not repo:
            raise MissingWeightsError(f"codec '{spec.id}': its YAML names neither options.weights nor options.repo",
                                      codec_id=spec.id)
        from huggingface_hub import try_to_load_from_cache

        hits = [try_to_load_from_cache(repo, f, revision=spec.options.get("revision")) for f in cls._repo_files(spec)]
        if all(isinstance(h, str) for h in hits):
            return Path(hits[0]).parent
        where = f"{repo}/{spec.options['subfolder']}" if spec.options.get("subfolder") else repo
        raise MissingWeightsError(
            f"codec '{spec.id}': checkpoint '{where}' is not in the Hugging Face cache (expected {want}); download it "
            f"with `codecbench codecs fetch {spec.id}`, or set options.weights in params/codecs/{spec.id}.yaml to a "
            "local copy", codec_id=spec.id)
