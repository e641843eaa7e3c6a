"""What the two probe stages share (``03_asr_probe``, ``04_classification_probe``).

:func:`probe_stage_config` validates a notebook's parameters; for each dataset, the feature
sources (the codec's embeddings when it has them, and the log-mel of the original and of the
resynthesized audio) are extracted into the shared cache (:func:`features_for`) and handed to
:mod:`.asr` or :mod:`.classification`, which train the probes and write the result tables
(:mod:`codecbench_utils.probes.results`).

A probe stage does no other stage's work: the datasets must be prepared and the codec's
resynthesis done; a missing one is an error naming the command that makes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..audio import PathLike
from ..data.manifest import ManifestItem, read_manifest
from ..errors import ConfigError, MissingArtefactError, UnknownNameError, renamed_keyword
from ..layout import RunsLayout
from ..paths import project_path
from ..probes.cache import FeatureSet, extract_features
from ..probes.config import load_probe_profile, torch_threads
from ..probes.features import make_extractor, parse_feature_source

__all__ = ["ProbeStageConfig", "probe_stage_config", "load_dataset_items", "resolve_features", "features_for",
           "feature_sets",
           "extraction_row", "StageResult", "DEFAULT_FEATURES", "notebook_overrides", "torch_threads",
           "PATH_PARAMS", "RENAMED"]

#: the notebook parameters that are paths, and the old names still accepted (see ``stages``)
PATH_PARAMS = ("runs", "manifest", "data_root", "resynth_dir")
RENAMED = {"profile": "preset"}

logger = logging.getLogger(__name__)

#: What a stage probes by default: the codec's embeddings (skipped for codecs without),
#: log-mel of the original audio (upper reference) and of the codec's resynthesized audio.
DEFAULT_FEATURES = ("codec", "logmel:original", "logmel:resynth")


@dataclass(frozen=True)
class ProbeStageConfig:
    """Validated parameters of one probe stage (see :func:`probe_stage_config`)."""

    probe: Literal["asr", "classification"]
    codec: str
    preset: str
    probe_cfg: Any  # ASRConfig | ClassificationConfig
    datasets: tuple[str, ...]
    features: tuple[str, ...]
    seeds: tuple[int, ...]
    device: str
    steps: int | None
    runs: Path
    data_root: Path
    manifest: Path | None
    resynth_dir: Path
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def out_dir(self) -> Path:
        """Where this codec's result tables and probe checkpoints go: ``<runs>/<codec>/probes``."""
        return RunsLayout(self.runs).probes_dir(self.codec)

    @property
    def cache_dir(self) -> Path:
        """The feature cache, shared by all codecs and stages: ``<runs>/cache/features``."""
        return RunsLayout(self.runs).feature_cache

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        d["probe_cfg"] = self.probe_cfg.to_dict()
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}


def probe_stage_config(probe: Literal["asr", "classification"], *, codec: str, preset: str = "demo",
                       datasets: str | list[str] = "", features: str | list[str] = "",
                       seeds: str | int | list[int] = "0", device: str = "auto", steps: int = 0,
                       runs: PathLike = "runs", manifest: PathLike = "", data_root: PathLike = "",
                       resynth_dir: PathLike = "", progress: bool = True, **overrides: Any) -> ProbeStageConfig:
    """Validate a probe notebook's parameters and derive the rest.

    Parameters
    ----------
    probe : {"asr", "classification"}
    codec : str
        Codec id (``codecbench codecs list``).
    preset : str
        Probe preset in ``params/probes`` (``demo``, ``small``, ``paper``); ``profile=``, its
        old name, is accepted for one release.
    datasets : str or list of str
        Datasets to probe (comma-separated or a list); empty means the profile's.
    features : str or list of str
        Feature sources; empty means ``codec,logmel:original,logmel:resynth``, where
        ``codec`` stands for ``codec:<codec>`` (left out for codecs without embeddings), ``tokens``
        for ``tokens:<codec>`` (the token-based probe; left out for codecs without discrete codes)
        and ``logmel:resynth`` for ``logmel:<resynth_dir>`` (stage 01's output; left out for
        encode-only tokenizers). A ``whisper:``/``ssl:`` source ending in ``?`` (``whisper:small?``,
        the paper's Table 5 baseline) is optional: used when its weights are on disk, else left
        out with the reason in the log.
    seeds : str, int or list of int
        One probe per seed (``"0,1,2"``); tables report mean ± std over seeds.
    device : str
        ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    steps : int
        ASR training steps; 0 keeps the profile's.
    runs : path
        Runs root: tables and checkpoints go to ``<runs>/<codec>/probes``, the
        feature cache to ``<runs>/cache/features``.
    manifest : path
        A prepared manifest holding the datasets (e.g. the mini corpus's); each
        dataset is the items whose ``dataset`` field has its name. Empty: each dataset's
        manifest at ``<data_root>/<dataset>/manifest.jsonl``.
    data_root : path
        Where the prepared datasets are when ``manifest`` is empty; empty means ``<runs>/data``.
    resynth_dir : path
        The codec's resynthesis folder (stage 01); empty means ``<runs>/<codec>/resynth``.
    Relative paths are relative to the project root.
    **overrides
        Probe hyperparameters replacing the profile's (e.g. ``hidden_size=64``).

    Raises
    ------
    UnknownNameError
        Unknown probe, profile, codec, hyperparameter or feature source.
    """
    from ..codecs.registry import get_spec

    old = {k: overrides.pop(k) for k in list(overrides) if k in RENAMED}  # the rest are hyperparameters
    preset = renamed_keyword(old, "profile", "preset", preset, "demo", f"{probe} stage")
    datasets, features = _names(datasets), _names(features)
    seeds = [int(s) for s in _names(seeds)]
    if probe not in ("asr", "classification"):
        raise UnknownNameError(f"unknown probe '{probe}'; expected 'asr' or 'classification'")
    get_spec(codec)  # unknown codec -> UnknownNameError now, not after an hour of training
    pcfg = load_probe_profile(preset, probe, **overrides)
    feats = tuple(features) or DEFAULT_FEATURES
    for f in feats:
        if f not in ("codec", "tokens", "logmel:resynth"):
            src = parse_feature_source(f.removesuffix("?"))
            if f.endswith("?") and src.kind not in ("whisper", "ssl"):
                raise ConfigError(f"feature source '{f}': only whisper:/ssl: sources can be optional ('?')")
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise UnknownNameError(f"unknown device '{device}'; expected 'auto', 'cpu' or 'cuda[:N]'")
    if steps < 0:
        raise ConfigError(f"steps must be >= 0 (0 keeps the preset's), got {steps}")
    if not seeds:
        raise ConfigError("seeds must name at least one seed")
    root = RunsLayout(project_path(runs))
    return ProbeStageConfig(
        probe=probe, codec=codec, preset=preset, probe_cfg=pcfg,
        datasets=tuple(datasets) or tuple(pcfg.datasets), features=feats, seeds=tuple(int(s) for s in seeds),
        device=device, steps=int(steps) or None, runs=root.root,
        data_root=project_path(data_root) if str(data_root) else root.data_root,
        manifest=project_path(manifest) if str(manifest) else None,
        resynth_dir=project_path(resynth_dir) if str(resynth_dir) else root.resynth_dir(codec), progress=progress)


def notebook_overrides(overrides: str = "", **given: Any) -> dict[str, Any]:
    """Probe hyperparameters from notebook parameters (papermill cannot pass ``None``).

    ``given`` are the notebook's typed parameters, where 0 or "" means "the profile's"; they
    are dropped. ``overrides`` is a YAML mapping for anything else, where ``null`` is a value:
    ``"{select_split: null, eval_split: test-clean}"``.
    """
    import yaml

    out = {k: v for k, v in given.items() if v not in (0, "", None)}
    if overrides.strip():
        text = overrides.strip()
        try:
            extra = yaml.safe_load(text if text.startswith(("{", "[")) else "{" + text + "}")
        except yaml.YAMLError as exc:
            raise ConfigError(f"overrides must be a YAML mapping like '{{hidden_size: 64}}', got {overrides!r}") from exc
        if not isinstance(extra, dict):
            raise ConfigError(f"overrides must be a YAML mapping like '{{hidden_size: 64}}', got {overrides!r}")
        out.update(extra)
    return out


def _names(value: str | int | list | tuple) -> list[str]:
    """A comma-separated string (notebook parameters are literals) or a list, as a list of names."""
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def load_dataset_items(name: str, data_root: PathLike, *, manifest: PathLike | None = None
                       ) -> tuple[list[ManifestItem], Path]:
    """Items of one prepared dataset and the folder their relative paths hang off.

    With ``manifest``, the items of that manifest whose ``dataset`` is ``name`` (``mini``: all of
    them); otherwise the manifest ``<data_root>/<name>/manifest.jsonl``.

    Raises
    ------
    MissingArtefactError
        The manifest is not there (the message names the ``codecbench data prepare`` line).
    UnknownNameError
        No item belongs to ``name``.
    """
    if manifest is not None:
        path = Path(manifest)
        if not path.is_file():
            raise MissingArtefactError(
                f"dataset '{name}': manifest not found: '{path}'; make it with `codecbench data prepare RECIPE "
                f"--root DIR --out {path}` (the built-in corpus: `codecbench data prepare mini --root "
                f"{path.parent} --out {path}`)")
    else:
        folder = Path(data_root) / name
        path = folder / "manifest.jsonl"
        if not path.is_file():
            raise MissingArtefactError(
                f"dataset '{name}': no prepared manifest at '{path}'; unpack the corpus into {folder} and run "
                f"`codecbench data prepare {name} --root {folder} --out {path}`, or pass a manifest that holds it")
    every = read_manifest(path)
    items = [it for it in every if it.dataset == name] if name != "mini" else every
    if not items:
        known = sorted({it.dataset for it in every})
        raise UnknownNameError(f"dataset '{name}': no items in {path}; it holds {known}")
    return items, path.parent


def _check_resynthesis(cfg: ProbeStageConfig, items: list[ManifestItem], manifest_dir: Path) -> None:
    """Refuse to probe resynthesized audio that stage 01 has not made (failed items are the probe's to skip)."""
    from ..codecs.resynth import read_index

    index = read_index(cfg.resynth_dir)
    missing = [it.id for it in items if it.id not in index]
    if missing:
        manifest = cfg.manifest or manifest_dir / "manifest.jsonl"
        raise MissingArtefactError(
            f"codec '{cfg.codec}': {len(missing)} of {len(items)} item(s) not resynthesized in '{cfg.resynth_dir}' "
            f"(first: {missing[0]}); run `codecbench run --codec {cfg.codec} --stages resynthesis` or "
            f"`codecbench resynth --codec {cfg.codec} --manifest {manifest} --out {cfg.resynth_dir}` first",
            codec_id=cfg.codec)


def resolve_features(cfg: ProbeStageConfig, items: list[ManifestItem], manifest_dir: Path) -> list[str]:
    """Concrete feature sources: expand the shorthands ``codec``, ``tokens`` and ``logmel:resynth`` (which needs
    stage 01 done), leaving out what the codec lacks, and the optional (``?``) sources whose weights are absent."""
    from ..codecs.base import Codec
    from ..codecs.registry import codec_class, get_spec
    from ..probes.pretrained import pretrained_missing
    from ..probes.tokens import token_vocab

    out = []
    spec = get_spec(cfg.codec)
    for f in cfg.features:
        if f == "codec":
            if codec_class(spec).embed is Codec.embed:
                logger.info("codec '%s' has no embeddings: probing its resynthesized audio only", cfg.codec)
                continue
            out.append(f"codec:{cfg.codec}")
        elif f == "tokens":
            try:
                token_vocab(f"tokens:{cfg.codec}")
            except ConfigError:
                logger.info("codec '%s' has no discrete codes: no token-based probe", cfg.codec)
                continue
            out.append(f"tokens:{cfg.codec}")
        elif f == "logmel:resynth":
            if not spec.round_trip:
                logger.info("codec '%s' is encode-only: no resynthesis to probe", cfg.codec)
                continue
            _check_resynthesis(cfg, items, manifest_dir)
            out.append(f"logmel:{cfg.resynth_dir}")
        elif f.endswith("?"):
            src = parse_feature_source(f[:-1])
            why = pretrained_missing(src.kind, str(src.model))
            if why:
                logger.warning("optional feature source '%s' left out: %s", f[:-1], why)
                continue
            out.append(f[:-1])
        else:
            out.append(f)
    return list(dict.fromkeys(out))


def _torch_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def features_for(cfg: ProbeStageConfig, source: str, items: list[ManifestItem], manifest_dir: Path) -> FeatureSet:
    """Features of ``items`` from one source, through the shared cache."""
    ex = make_extractor(source, manifest_dir=manifest_dir, device=_torch_device(cfg.device))
    try:
        return extract_features(ex, items, cfg.cache_dir, progress=cfg.progress)
    finally:
        ex.close()


@dataclass
class StageResult:
    """What a probe stage wrote: tables (DataFrames) and their paths."""

    table: Any  # per-run rows (ASR: one per feature/dataset/seed; classification: per fold)
    summary: Any  # mean ± std over seeds (ASR) or folds and seeds (classification)
    curves: Any = None  # ASR learning curves
    paths: dict[str, Path] = field(default_factory=dict)
    extraction: Any = None  # per feature source: items/s, extracted, cached, failed


def feature_sets(cfg: ProbeStageConfig, extraction: list[dict[str, Any]]
                 ) -> Iterator[tuple[str, list[ManifestItem], FeatureSet]]:
    """Each (dataset, its items, the features of one source) a probe stage trains on, in order;
    appends each source's extraction line to ``extraction``."""
    for ds in cfg.datasets:
        items, mdir = load_dataset_items(ds, cfg.data_root, manifest=cfg.manifest)
        for source in resolve_features(cfg, items, mdir):
            fs = features_for(cfg, source, items, mdir)
            extraction.append(extraction_row(fs, ds))
            yield ds, items, fs


def extraction_row(fs: FeatureSet, dataset: str) -> dict[str, Any]:
    """One line of a stage's extraction table: items/s, extracted, cached, failed."""
    return {"dataset": dataset, "source": fs.source, "n_items": len(fs), "extracted": fs.n_extracted,
            "cached": fs.n_cached, "failed": len(fs.failed), "seconds": round(fs.extract_s, 3),
            "items_per_s": (fs.n_extracted / fs.extract_s) if fs.n_extracted and fs.extract_s > 0 else None}
