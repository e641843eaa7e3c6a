"""``codecbench probe``: train and score a probe on any manifest, outside the runs layout.

The same functions the notebooks call (feature extraction into a cache, ``train_asr_probe``,
``cross_validate``), with per-item result rows in one output folder::

    DIR/asr.parquet              one row per evaluated utterance, feature source and seed
    DIR/asr_summary.csv          per feature source: WER/CER with 95% intervals, seed spread, floor
    DIR/asr_comparisons.csv      each feature source against the first, paired over utterances
    DIR/classification.parquet   one row per test item, feature source and seed (true, predicted)
    DIR/classification_summary.csv
    DIR/runs/                    checkpoints, curves and hypotheses of every run (resumable)
    DIR/cache/                   the feature cache (unless ``cache_dir`` names another)

Every row carries ``config``: the full effective configuration as JSON, and ``preset``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..audio import PathLike
from ..data.manifest import read_manifest
from ..errors import ManifestError
from .cache import extract_features
from .config import load_probe_profile, torch_threads
from .features import make_extractor, parse_feature_source
from .results import asr_item_rows, compare_asr, summarize_asr, write_table

__all__ = ["ProbeRun", "probe_manifest"]

logger = logging.getLogger(__name__)


@dataclass
class ProbeRun:
    """What :func:`probe_manifest` wrote."""

    items: Any  # per-item rows
    summary: Any
    comparisons: Any = None
    paths: dict[str, Path] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [self.summary.to_string(index=False)] if len(self.summary) else ["(no results)"]
        if self.comparisons is not None and len(self.comparisons):
            lines += ["", "paired comparisons (A - B, 95% interval over utterances):",
                      self.comparisons.to_string(index=False)]
        lines += ["", *(f"{k}: {v}" for k, v in self.paths.items())]
        return "\n".join(lines)


def _codec_of(source: str) -> str:
    """A name for the ``codec`` column: the codec id, ``original``, or the resynthesis folder's codec."""
    src = parse_feature_source(source)
    if src.kind in ("codec", "tokens"):
        return str(src.codec_id)
    if src.kind in ("whisper", "ssl") or src.audio == "original":  # pretrained models read the original audio
        return "original"
    p = Path(src.audio)
    return p.parent.name if p.name == "resynth" else p.name


def _asr_job(job: tuple, progress: bool = False) -> dict[str, Any]:
    """One ASR run (a lane): read the cached features, train, score; the result row."""
    import torch

    from .asr import train_asr_probe

    source, manifest_dir, items, ds, seed, run_dir, codec, cache, device, cfg = job
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    fs = extract_features(make_extractor(source, manifest_dir=manifest_dir, device=device), items, cache,
                          progress=False)
    return train_asr_probe(fs, items, cfg, run_dir, codec=codec, dataset=ds, seed=seed, device=device,
                           progress=progress).to_dict()


def _probeable(items: Sequence[Any], probe: str, cfg: Any) -> list[str]:
    from .asr import resolve_splits

    out, skipped = [], []
    for ds in sorted({it.dataset for it in items}):
        mine = [it for it in items if it.dataset == ds]
        if probe == "asr":
            texts = [it for it in mine if (it.text or "").strip()]
            ok = bool(texts) and resolve_splits([it.split for it in texts], cfg)[0] in {it.split for it in texts}
        else:
            ok = any(it.label not in (None, "") for it in mine)
        (out if ok else skipped).append(ds)
    if skipped:
        logger.warning("%s probe: left out datasets it cannot use (%s): %s", probe,
                       "no transcripts or no train split" if probe == "asr" else "no labels", ", ".join(skipped))
    return out


def probe_manifest(kind: Literal["asr", "classify"], manifest: PathLike, features: str | Sequence[str], out: PathLike,
                   *, preset: str = "small", overrides: dict[str, Any] | None = None, seeds: Sequence[int] = (0,),
                   device: str = "auto", cache_dir: PathLike | None = None, datasets: Sequence[str] = (),
                   lanes: int | None = None, progress: bool = True) -> ProbeRun:
    """Probe the datasets of ``manifest`` with each feature source; write per-item rows and summaries.

    Without ``datasets``, every dataset the probe can use (ASR: transcripts and a train split;
    classification: labels); the others are named in a warning. ASR runs (feature source x
    seed) go in ``lanes`` parallel processes, by default one per core when the preset trains
    on one thread (small LSTMs are latency-bound: two 1-thread lanes beat one 2-thread run).
    """
    import pandas as pd

    manifest = Path(manifest)
    items = read_manifest(manifest)
    sources = [f.strip() for f in (features.split(",") if isinstance(features, str) else features) if f.strip()]
    if not sources:
        raise ManifestError("name at least one feature source (--features logmel:original,...)")
    probe = "asr" if kind == "asr" else "classification"
    cfg = load_probe_profile(preset, probe, **(overrides or {}))
    out = Path(out)
    cache = Path(cache_dir) if cache_dir is not None else out / "cache"
    datasets = list(datasets) if datasets else _probeable(items, probe, cfg)
    if not datasets:
        raise ManifestError(f"no dataset of '{manifest}' can be probed by the {probe} probe (it needs "
                            + ("transcripts and a train split)" if probe == "asr" else "labels)"))
    config = json.dumps(cfg.to_dict(), sort_keys=True)
    rows: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    jobs: list[tuple] = []  # ASR runs, started once every feature is in the cache
    with torch_threads(cfg.threads):
        for ds in datasets:
            ds_items = [it for it in items if it.dataset == ds]
            for source in sources:
                fs = extract_features(make_extractor(source, manifest_dir=manifest.parent, device=device), ds_items,
                                      cache, progress=progress)
                codec = _codec_of(source)
                label = parse_feature_source(source).label
                if probe == "asr":
                    jobs += [(source, manifest.parent, ds_items, ds, seed, out / "runs" / "asr" / ds /
                              f"{codec}-{label}" / f"seed{seed}", codec, cache, device, cfg) for seed in seeds]
                else:
                    from .classification import cross_validate

                    runs += [r.to_dict() for r in cross_validate(fs, ds_items, cfg, codec=codec, dataset=ds,
                                                                 seeds=seeds, device=device, progress=progress,
                                                                 predictions=rows)]
    if jobs:
        n_lanes = lanes if lanes is not None else (min(os.cpu_count() or 1, len(jobs)) if cfg.threads == 1 else 1)
        logger.info("ASR probe: %d run(s) in %d lane(s)", len(jobs), n_lanes)
        if n_lanes > 1 and str(device) in ("cpu", "auto"):
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(n_lanes, mp_context=mp.get_context("spawn")) as pool:
                runs += list(pool.map(_asr_job, jobs))
        else:
            with torch_threads(cfg.threads):
                runs += [_asr_job(job, progress=progress) for job in jobs]
        for run in runs:
            rows += asr_item_rows(run)
    for r in rows:
        r.update(preset=preset, config=config)
    table = pd.DataFrame(rows)
    paths: dict[str, Path] = {}
    comparisons = None
    if probe == "asr":
        summary = summarize_asr(pd.DataFrame(runs), table)
        cmp_rows = [{"dataset": ds, **compare_asr(table, s, sources[0], rate=rate, dataset=ds)}
                    for ds in datasets for s in sources[1:] for rate in ("cer", "wer")]
        comparisons = pd.DataFrame(cmp_rows)
        paths["items"] = write_table(table, out / "asr.parquet")
        paths["summary"] = write_table(summary, out / "asr_summary.csv")
        if len(comparisons):
            paths["comparisons"] = write_table(comparisons, out / "asr_comparisons.csv")
    else:
        from .classification import summarize_folds

        summary = pd.DataFrame(summarize_folds(runs, rows))
        paths["items"] = write_table(table, out / "classification.parquet")
        paths["summary"] = write_table(summary, out / "classification_summary.csv")
    return ProbeRun(items=table, summary=summary, comparisons=comparisons, paths=paths)
