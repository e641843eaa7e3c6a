"""Probe result files: Parquet tables (and CSV learning curves) that the figures stage reads.

Layout under the runs root (``runs/`` by default; notebook 05 reads every
``<runs>/*/probes/*.parquet``, so only per-run rows are Parquet and the
aggregates are CSV, never counted twice)::

    <runs>/<codec>/probes/asr.parquet                     one row per (feature, dataset, seed)
    <runs>/<codec>/probes/asr_summary.csv                 WER mean ± std over seeds
    <runs>/<codec>/probes/asr_curves.csv                  learning curves of those runs
    <runs>/<codec>/probes/classification.parquet          one row per (feature, dataset, seed, fold)
    <runs>/<codec>/probes/classification_summary.csv      accuracy mean ± std per (feature, dataset)

Columns: ``asr``: codec, feature, source, profile, dataset, seed, step, wer, cer,
n_items, selected, ...; ``asr_curves``: codec, feature, dataset, seed, step,
train_loss, dev_loss, dev_wer, lr; ``classification``: codec, feature, profile,
dataset, seed, fold, accuracy, n_classes, n_train, n_test, ...;
``classification_summary``: codec, feature, profile, dataset, accuracy (mean),
accuracy_std, accuracy_pm, ... ``feature`` is ``codec_embedding``,
``logmel_original`` or ``logmel_resynth``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..atomic import write_frame
from ..audio import PathLike

__all__ = ["probe_results_dir", "write_table", "read_probe_results", "summarize_asr", "ASR_FILE",
           "ASR_SUMMARY_FILE", "ASR_CURVES_FILE", "CLS_FILE", "CLS_SUMMARY_FILE"]

ASR_FILE = "asr.parquet"
ASR_SUMMARY_FILE = "asr_summary.csv"
ASR_CURVES_FILE = "asr_curves.csv"
CLS_FILE = "classification.parquet"
CLS_SUMMARY_FILE = "classification_summary.csv"


def probe_results_dir(root: PathLike, codec: str) -> Path:
    """``<root>/<codec>/probes``."""
    return Path(root) / codec / "probes"


def write_table(rows: Sequence[dict[str, Any]] | Any, path: PathLike) -> Path:
    """Write rows (dicts or a DataFrame) atomically as Parquet or CSV (by extension)."""
    import pandas as pd

    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    return write_frame(df, path)


def read_probe_results(root: PathLike, name: str = ASR_FILE) -> Any:
    """Concatenate ``<root>/*/probes/<name>`` of every codec into one DataFrame (empty if none)."""
    import pandas as pd

    paths = sorted(Path(root).glob(f"*/probes/{name}"))
    frames = [pd.read_csv(p) if p.suffix == ".csv" else pd.read_parquet(p) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summarize_asr(rows: Sequence[dict[str, Any]] | Any) -> Any:
    """WER/CER mean ± std over seeds per (codec, feature, profile, dataset) (population std)."""
    import pandas as pd

    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if df.empty:
        return df
    keys = ["codec", "feature", "source", "profile", "dataset"]
    g = df.groupby(keys, sort=False)
    out = g.agg(wer=("wer", "mean"), wer_std=("wer", lambda s: float(s.std(ddof=0))), cer=("cer", "mean"),
                cer_std=("cer", lambda s: float(s.std(ddof=0))), n_seeds=("seed", "nunique"),
                n_items=("n_items", "first")).reset_index()
    out["wer_pm"] = [f"{100 * m:.1f} ± {100 * s:.1f}" for m, s in zip(out["wer"], out["wer_std"])]
    return out
