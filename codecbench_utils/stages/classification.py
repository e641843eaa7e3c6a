"""Stage 04, the classification probe: cross-validated linear probes on frozen features
(notebook ``04_classification_probe``).

Writes ``classification.parquet`` (one row per seed and fold), ``classification_items.csv``
(one row per test item and seed) and ``classification_summary.csv`` (accuracy with its 95%
interval, chance, spreads) under ``<runs>/<codec>/probes``.
"""

from __future__ import annotations

from typing import Any

from ..probes.config import ClassificationConfig
from ..probes.results import CLS_FILE, CLS_ITEMS_FILE, CLS_SUMMARY_FILE, write_table
from ._probe import (
    PATH_PARAMS,
    RENAMED,
    ProbeStageConfig,
    StageResult,
    feature_sets,
    notebook_overrides,
    probe_stage_config,
    torch_threads,
)

__all__ = ["config", "run", "notebook_overrides", "PATH_PARAMS", "RENAMED"]


def config(**params: Any) -> ProbeStageConfig:
    """Check notebook 04's parameters (see :func:`._probe.probe_stage_config`)."""
    return probe_stage_config("classification", **params)


def run(cfg: ProbeStageConfig) -> StageResult:
    """Cross-validate the classification probe for every (dataset, feature source); write the tables."""
    import pandas as pd

    from ..probes.classification import cross_validate, summarize_folds

    pcfg: ClassificationConfig = cfg.probe_cfg
    rows, extraction, predictions = [], [], []
    with torch_threads(pcfg.threads):
        for ds, items, fs in feature_sets(cfg, extraction):
            rows += cross_validate(fs, items, pcfg, codec=cfg.codec, dataset=ds, seeds=cfg.seeds,
                                   device=cfg.device, progress=cfg.progress, predictions=predictions)
    table = pd.DataFrame([r.to_dict() for r in rows])
    summary = pd.DataFrame(summarize_folds(rows, predictions))
    paths = {"folds": write_table(table, cfg.out_dir / CLS_FILE),
             "items": write_table(pd.DataFrame(predictions), cfg.out_dir / CLS_ITEMS_FILE),
             "summary": write_table(summary, cfg.out_dir / CLS_SUMMARY_FILE)}
    return StageResult(table=table, summary=summary, paths=paths, extraction=pd.DataFrame(extraction))
