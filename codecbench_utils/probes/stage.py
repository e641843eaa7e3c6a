"""Stage drivers behind ``03_asr_probe`` and ``04_classification_probe``.

A notebook validates its parameters with :func:`probe_stage_config` and then
calls :func:`run_asr_stage` or :func:`run_classification_stage`. For each
dataset and each feature source (the codec's embeddings when it has them, and
the log-mel baselines of the original and of the resynthesized audio) these
extract features into the shared cache, train the probes and write the result
tables (:mod:`codecbench_utils.probes.results`).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..audio import PathLike
from ..data.manifest import ManifestItem, read_manifest
from ..errors import UnknownNameError
from .cache import FeatureSet, extract_features
from .config import ASRConfig, ClassificationConfig, load_probe_profile
from .features import make_extractor, parse_feature_source
from .results import (
    ASR_CURVES_FILE,
    ASR_FILE,
    ASR_ITEMS_FILE,
    ASR_SUMMARY_FILE,
    CLS_FILE,
    CLS_ITEMS_FILE,
    CLS_SUMMARY_FILE,
    asr_item_rows,
    probe_results_dir,
    summarize_asr,
    write_table,
)

__all__ = ["ProbeStageConfig", "probe_stage_config", "load_dataset_items", "resolve_features",
           "run_asr_stage", "run_classification_stage", "StageResult", "DEFAULT_FEATURES", "notebook_overrides",
           "torch_threads"]

logger = logging.getLogger(__name__)

#: What a stage probes by default: the codec's embeddings (skipped for codecs without),
#: log-mel of the original audio (upper reference) and of the codec's resynthesized audio.
DEFAULT_FEATURES = ("codec", "logmel:original", "logmel:resynth")


@dataclass(frozen=True)
class ProbeStageConfig:
    """Validated parameters of one probe stage (see :func:`probe_stage_config`)."""

    probe: Literal["asr", "classification"]
    codec: str
    profile: str
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
        return probe_results_dir(self.runs, self.codec)

    @property
    def cache_dir(self) -> Path:
        """The feature cache, shared by all codecs and stages: ``<runs>/cache/features``."""
        return self.runs / "cache" / "features"

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        d["probe_cfg"] = self.probe_cfg.to_dict()
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}


def probe_stage_config(probe: Literal["asr", "classification"], *, codec: str, profile: str = "demo",
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
    profile : str
        Probe profile in ``params/probes`` (``demo``, ``paper``).
    datasets : str or list of str
        Datasets to probe (comma-separated or a list); empty means the profile's.
    features : str or list of str
        Feature sources; empty means ``codec,logmel:original,logmel:resynth``, where
        ``codec`` stands for ``codec:<codec>`` (left out for codecs without embeddings)
        and ``logmel:resynth`` for ``logmel:<resynth_dir>`` (resynthesized first if missing).
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
        dataset is the items whose ``dataset`` field has its name. Empty: every
        dataset is prepared by its recipe under ``data_root``.
    data_root : path
        Where dataset recipes find (mini: generate) their corpora; empty means ``<runs>/data``.
    resynth_dir : path
        The codec's resynthesis folder; empty means ``<runs>/<codec>/resynth``.
    **overrides
        Probe hyperparameters replacing the profile's (e.g. ``hidden_size=64``).

    Raises
    ------
    UnknownNameError
        Unknown probe, profile, codec, hyperparameter or feature source.
    """
    from ..codecs.registry import get_spec

    datasets, features = _names(datasets), _names(features)
    seeds = [int(s) for s in _names(seeds)]
    if probe not in ("asr", "classification"):
        raise UnknownNameError(f"unknown probe '{probe}'; expected 'asr' or 'classification'")
    get_spec(codec)  # unknown codec -> UnknownNameError now, not after an hour of training
    pcfg = load_probe_profile(profile, probe, **overrides)
    feats = tuple(features) or DEFAULT_FEATURES
    for f in feats:
        if f not in ("codec", "logmel:resynth"):
            parse_feature_source(f)
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise UnknownNameError(f"unknown device '{device}'; expected 'auto', 'cpu' or 'cuda[:N]'")
    if steps < 0:
        raise ValueError(f"steps must be >= 0 (0 keeps the profile's), got {steps}")
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    root = Path(runs)
    return ProbeStageConfig(
        probe=probe, codec=codec, profile=profile, probe_cfg=pcfg,
        datasets=tuple(datasets) or tuple(pcfg.datasets), features=feats, seeds=tuple(int(s) for s in seeds),
        device=device, steps=int(steps) or None, runs=root,
        data_root=Path(data_root) if str(data_root) else root / "data",
        manifest=Path(manifest) if str(manifest) else None,
        resynth_dir=Path(resynth_dir) if str(resynth_dir) else root / codec / "resynth", progress=progress)


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
            raise ValueError(f"overrides must be a YAML mapping like '{{hidden_size: 64}}', got {overrides!r}") from exc
        if not isinstance(extra, dict):
            raise ValueError(f"overrides must be a YAML mapping like '{{hidden_size: 64}}', got {overrides!r}")
        out.update(extra)
    return out


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


def _names(value: str | int | list | tuple) -> list[str]:
    """A comma-separated string (notebook parameters are literals) or a list, as a list of names."""
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def load_dataset_items(name: str, data_root: PathLike, *, manifest: PathLike | None = None
                       ) -> tuple[list[ManifestItem], Path]:
    """Items of one dataset and the folder their relative paths hang off.

    With ``manifest``, the items of that manifest whose ``dataset`` is ``name``.
    Otherwise ``mini_*`` datasets come from the built-in mini corpus (generated
    under ``<data_root>/mini`` on first use) and any other name is a dataset
    recipe whose corpus is unpacked at ``<data_root>/<name>``; the manifest is
    written next to the data and reused by later calls.

    Raises
    ------
    UnknownNameError
        No item belongs to ``name``.
    """
    from ..data.registry import prepare_dataset

    if manifest is not None:
        path = Path(manifest)
        if not path.is_file():
            root = path.parent
            prepare_dataset("mini" if name.startswith("mini") else name, root, out=path)
    else:
        root = Path(data_root)
        recipe, folder = ("mini", root / "mini") if name.startswith("mini") else (name, root / name)
        path = folder / "manifest.jsonl"
        if not path.is_file():
            prepare_dataset(recipe, folder, out=path)
    every = read_manifest(path)
    items = [it for it in every if it.dataset == name] if name != "mini" else every
    if not items:
        known = sorted({it.dataset for it in every})
        raise UnknownNameError(f"dataset '{name}': no items in {path}; it holds {known}")
    return items, path.parent


def resolve_features(cfg: ProbeStageConfig, items: list[ManifestItem], manifest_dir: Path) -> list[str]:
    """Concrete feature sources: expand ``codec`` and ``logmel:resynth``, resynthesizing if needed."""
    from ..codecs.base import Codec
    from ..codecs.registry import codec_class, get_spec

    out = []
    for f in cfg.features:
        if f == "codec":
            cls = codec_class(get_spec(cfg.codec))
            if cls.embed is Codec.embed:
                logger.info("codec '%s' has no embeddings: probing its resynthesized audio only", cfg.codec)
                continue
            out.append(f"codec:{cfg.codec}")
        elif f == "logmel:resynth":
            from ..codecs.resynth import resynthesize

            summary = resynthesize(cfg.codec, items, cfg.resynth_dir, manifest_dir=manifest_dir,
                                   device=_torch_device(cfg.device), progress=cfg.progress)
            logger.info(summary.describe())
            out.append(f"logmel:{cfg.resynth_dir}")
        else:
            out.append(f)
    return list(dict.fromkeys(out))


def _torch_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _features(cfg: ProbeStageConfig, source: str, items: list[ManifestItem], manifest_dir: Path) -> FeatureSet:
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


def _extraction_row(fs: FeatureSet, dataset: str) -> dict[str, Any]:
    return {"dataset": dataset, "source": fs.source, "n_items": len(fs), "extracted": fs.n_extracted,
            "cached": fs.n_cached, "failed": len(fs.failed), "seconds": round(fs.extract_s, 3),
            "items_per_s": (fs.n_extracted / fs.extract_s) if fs.n_extracted and fs.extract_s > 0 else None}


def _asr_runs(cfg: ProbeStageConfig, pcfg: ASRConfig, rows: list, curves: list, extraction: list,
              item_rows: list) -> None:
    """Every (dataset, feature source, seed) run of the ASR stage; appends to the lists given."""
    import pandas as pd

    from .asr import train_asr_probe

    for ds in cfg.datasets:
        items, mdir = load_dataset_items(ds, cfg.data_root, manifest=cfg.manifest)
        for source in resolve_features(cfg, items, mdir):
            fs = _features(cfg, source, items, mdir)
            extraction.append(_extraction_row(fs, ds))
            label = parse_feature_source(source).label
            for seed in cfg.seeds:
                run_dir = cfg.out_dir / "asr" / ds / label / f"seed{seed}"
                res = train_asr_probe(fs, items, pcfg, run_dir, codec=cfg.codec, dataset=ds, seed=seed,
                                      steps=cfg.steps, device=cfg.device, progress=cfg.progress)
                rows.append(res.to_dict())
                item_rows += asr_item_rows(rows[-1])
                c = pd.read_csv(res.curve_path)
                c.insert(0, "seed", seed)
                c.insert(0, "dataset", ds)
                c.insert(0, "feature", label)
                c.insert(0, "codec", cfg.codec)
                curves.append(c)


def run_asr_stage(cfg: ProbeStageConfig) -> StageResult:
    """Train and score the ASR probe for every (dataset, feature source, seed); write the tables.

    Writes ``asr.parquet`` (one row per run), ``asr_items.csv`` (one row per utterance and
    seed), ``asr_summary.csv`` (intervals, seed spread) and ``asr_curves.csv`` (plot with :func:`codecbench_utils.plots.plot_learning_curves`)
    under :attr:`ProbeStageConfig.out_dir`.
    """
    import pandas as pd

    pcfg: ASRConfig = cfg.probe_cfg
    rows, curves, extraction, item_rows = [], [], [], []
    with torch_threads(pcfg.threads):
        _asr_runs(cfg, pcfg, rows, curves, extraction, item_rows)
    table = pd.DataFrame(rows)
    curve_df = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    items = pd.DataFrame(item_rows)
    summary = summarize_asr(table, items)
    paths = {"asr": write_table(table, cfg.out_dir / ASR_FILE),
             "items": write_table(items, cfg.out_dir / ASR_ITEMS_FILE),
             "summary": write_table(summary, cfg.out_dir / ASR_SUMMARY_FILE),
             "curves": write_table(curve_df, cfg.out_dir / ASR_CURVES_FILE)}
    return StageResult(table=table, summary=summary, curves=curve_df, paths=paths,
                       extraction=pd.DataFrame(extraction))


def run_classification_stage(cfg: ProbeStageConfig) -> StageResult:
    """Cross-validate the classification probe for every (dataset, feature source); write the tables.

    Writes ``classification.parquet`` (one row per seed and fold) and
    ``classification_summary.csv`` (mean ± std) under :attr:`ProbeStageConfig.out_dir`.
    """
    import pandas as pd

    from .classification import cross_validate, summarize_folds

    pcfg: ClassificationConfig = cfg.probe_cfg
    rows, extraction, predictions = [], [], []
    with torch_threads(pcfg.threads):
        for ds in cfg.datasets:
            items, mdir = load_dataset_items(ds, cfg.data_root, manifest=cfg.manifest)
            for source in resolve_features(cfg, items, mdir):
                fs = _features(cfg, source, items, mdir)
                extraction.append(_extraction_row(fs, ds))
                rows += cross_validate(fs, items, pcfg, codec=cfg.codec, dataset=ds, seeds=cfg.seeds,
                                       device=cfg.device, progress=cfg.progress, predictions=predictions)
    table = pd.DataFrame([r.to_dict() for r in rows])
    summary = pd.DataFrame(summarize_folds(rows, predictions))
    paths = {"folds": write_table(table, cfg.out_dir / CLS_FILE),
             "items": write_table(pd.DataFrame(predictions), cfg.out_dir / CLS_ITEMS_FILE),
             "summary": write_table(summary, cfg.out_dir / CLS_SUMMARY_FILE)}
    return StageResult(table=table, summary=summary, paths=paths, extraction=pd.DataFrame(extraction))
