"""Probe profiles: ``params/probes/<profile>.yaml`` holds an ``asr`` and a ``classification`` section.

``paper`` carries the reference's hyperparameters (2x1024 BiLSTM, 400k steps, ...);
``demo`` the same recipe sized for minutes on a laptop CPU and the mini corpus.
Overrides are keyword arguments; an unknown name is an error, never ignored.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, UnknownNameError
from ..paths import params_dir

__all__ = ["ASRConfig", "ClassificationConfig", "load_probe_profile", "probe_profiles", "preset_seeds", "torch_threads"]


@dataclass(frozen=True)
class ASRConfig:
    """Hyperparameters of the ASR (BiLSTM + CTC) probe; see ``params/probes/paper.yaml``."""

    profile: str = "custom"
    datasets: tuple[str, ...] = ("librispeech",)
    #: split names, or "auto": read off the items by role (see ``asr.resolve_splits``)
    train_split: str = "train-clean-100"
    eval_split: str = "dev-clean"
    select_split: str | None = None  # None: a held-out part of train picks the checkpoint
    heldout_fraction: float = 0.01
    heldout_max: int = 500
    hidden_size: int = 1024
    num_layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.0
    min_frame_rate: float = 50.0
    lr: float = 1e-4
    batch_size: int = 4
    grad_clip: float = 5.0
    steps: int = 400_000
    eval_every: int = 7000
    ckpt_every: int = 2000
    log_every: int = 100
    lr_plateau_factor: float | None = 0.1
    lr_plateau_patience: int = 2
    normalize: bool = False
    eval_batch_size: int = 16
    max_select_items: int | None = None
    max_eval_items: int | None = None
    #: torch threads while this probe trains (0: leave torch's default); does not change results
    threads: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["datasets"] = list(self.datasets)
        return d

    def training_dict(self) -> dict[str, Any]:
        """The fields that change a trained probe (a checkpoint's identity)."""
        d = self.to_dict()
        for k in ("profile", "datasets", "log_every", "ckpt_every", "eval_batch_size", "steps", "threads"):
            d.pop(k)
        return d


@dataclass(frozen=True)
class ClassificationConfig:
    """Hyperparameters of the classification probe; see ``params/probes/paper.yaml``."""

    profile: str = "custom"
    datasets: tuple[str, ...] = ()
    head: Literal["linear", "mlp"] = "linear"
    pooling: Literal["mean", "attention"] = "mean"
    lr: float = 1e-3
    weight_decay: float = 0.01
    epochs: int = 20
    batch_size: int = 16
    warmup_fraction: float = 0.1
    val_fraction: float = 0.2
    n_folds: int = 5
    dropout: float = 0.1
    select: Literal["val_loss", "val_accuracy", "last"] = "val_loss"
    #: below this many validation items, selection falls back to the last epoch (stated in each row)
    min_val_items: int = 10
    #: items without a fold when others have one: "exclude" them (with a warning) or stop with an "error"
    missing_folds: Literal["exclude", "error"] = "exclude"
    normalize: bool = False
    max_seconds: dict[str, float] = field(default_factory=dict)
    #: torch threads while this probe trains (0: leave torch's default); does not change results
    threads: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["datasets"] = list(self.datasets)
        return d


_CHOICES = {"head": ("linear", "mlp"), "pooling": ("mean", "attention"),
            "select": ("val_loss", "val_accuracy", "last"), "missing_folds": ("exclude", "error")}


def probe_profiles(directory: Path | None = None) -> list[str]:
    """Names of the probe profiles in ``params/probes``."""
    d = Path(directory) if directory is not None else params_dir() / "probes"
    return sorted(p.stem for p in d.glob("*.yaml"))


def _build(cls: type, section: dict[str, Any], profile: str, what: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise UnknownNameError(f"probe profile '{profile}', section '{what}': unknown keys {unknown}; "
                               f"known: {sorted(known)}")
    section = dict(section)
    if "datasets" in section:
        section["datasets"] = tuple(section["datasets"] or ())
    if cls is ClassificationConfig and section.get("max_seconds") is None:
        section["max_seconds"] = {}
    for k, choices in _CHOICES.items():
        if k in section and section[k] not in choices:
            raise ConfigError(f"probe profile '{profile}': {what}.{k} = {section[k]!r}, expected one of {choices}")
    return cls(profile=profile, **section)


def load_probe_profile(profile: str, probe: Literal["asr", "classification"], *,
                       directory: Path | None = None, **overrides: Any) -> Any:
    """Read one section of ``params/probes/<profile>.yaml`` as a config, with overrides.

    Parameters
    ----------
    profile : str
        ``paper``, ``demo`` or another file in ``params/probes``.
    probe : {"asr", "classification"}
    **overrides
        Field values that replace the profile's; ``None`` is a value too (e.g.
        ``select_split=None`` resets a preset's selection split to a held-out part of train).

    Returns
    -------
    ASRConfig or ClassificationConfig

    Raises
    ------
    UnknownNameError
        Unknown profile or field name.

    Examples
    --------
    >>> load_probe_profile("paper", "asr").hidden_size
    1024
    """
    data = _read_profile(profile, directory)
    if probe not in ("asr", "classification"):
        raise UnknownNameError(f"unknown probe '{probe}'; expected 'asr' or 'classification'")
    cls = ASRConfig if probe == "asr" else ClassificationConfig
    cfg = _build(cls, data.get(probe) or {}, profile, probe)
    if overrides:
        cfg = _build(cls, {**{k: v for k, v in cfg.to_dict().items() if k != "profile"}, **overrides},
                     profile, probe)
    return replace(cfg)


def preset_seeds(profile: str, *, directory: Path | None = None) -> tuple[int, ...]:
    """The seeds a preset asks for (its top-level ``seeds``; ``(0,)`` when it names none)."""
    return tuple(int(s) for s in _read_profile(profile, directory).get("seeds") or [0])


def _read_profile(profile: str, directory: Path | None) -> dict[str, Any]:
    """``params/probes/<profile>.yaml`` as a dict; unknown profile or top-level key: UnknownNameError."""
    import yaml

    d = Path(directory) if directory is not None else params_dir() / "probes"
    path = d / f"{profile}.yaml"
    if not path.is_file():
        raise UnknownNameError(f"unknown probe profile '{profile}'; known: {', '.join(probe_profiles(d))}")
    data = yaml.safe_load(path.read_text()) or {}
    unknown = sorted(set(data) - {"asr", "classification", "seeds"})
    if unknown:
        raise UnknownNameError(f"probe profile '{profile}': unknown top-level keys {unknown}; "
                               "known: asr, classification, seeds")
    return data


@contextlib.contextmanager
def torch_threads(n: int):
    """Run a block with ``n`` torch threads (0: unchanged); small LSTMs are latency-bound."""
    import torch

    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
