"""Stage 03, the ASR probe: a BiLSTM-CTC on frozen features, per dataset and source (notebook ``03_asr_probe``).

Writes ``asr.parquet`` (one row per run), ``asr_items.csv`` (one row per utterance and seed),
``asr_summary.csv`` (intervals, seed spread) and ``asr_curves.csv`` under ``<runs>/<codec>/probes``.
"""

from __future__ import annotations

from typing import Any

from ..probes.config import ASRConfig
from ..probes.features import parse_feature_source
from ..probes.results import (
    ASR_CURVES_FILE,
    ASR_FILE,
    ASR_ITEMS_FILE,
    ASR_SUMMARY_FILE,
    asr_item_rows,
    summarize_asr,
    write_table,
)
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

__all__ = ["config", "run", "notebook_overrides", "learning_curves", "PATH_PARAMS", "RENAMED"]


def config(**params: Any) -> ProbeStageConfig:
    """Check notebook 03's parameters (see :func:`._probe.probe_stage_config`)."""
    return probe_stage_config("asr", **params)


def _runs(cfg: ProbeStageConfig, pcfg: ASRConfig, rows: list, curves: list, extraction: list,
          item_rows: list) -> None:
    """Every (dataset, feature source, seed) run; appends to the lists given."""
    import pandas as pd

    from ..probes.asr import train_asr_probe

    for ds, items, fs in feature_sets(cfg, extraction):
        label = parse_feature_source(fs.source).label
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


def run(cfg: ProbeStageConfig) -> StageResult:
    """Train and score the ASR probe for every (dataset, feature source, seed); write the tables."""
    import pandas as pd

    pcfg: ASRConfig = cfg.probe_cfg
    rows, curves, extraction, item_rows = [], [], [], []
    with torch_threads(pcfg.threads):
        _runs(cfg, pcfg, rows, curves, extraction, item_rows)
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


def learning_curves(result: StageResult) -> Any:
    """The learning curves of every run, one panel per dataset."""
    from ..plots import plot_learning_curves

    return plot_learning_curves(result.curves)
