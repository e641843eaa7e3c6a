"""Probe result files: Parquet tables (and CSV learning curves) that the figures stage reads.

Layout under the runs root (``runs/`` by default; notebook 05 reads every
``<runs>/*/probes/*.parquet``, so only per-run rows are Parquet and the
aggregates are CSV, never counted twice)::

    <runs>/<codec>/probes/asr.parquet                     one row per (feature, dataset, seed)
    <runs>/<codec>/probes/asr_items.csv                   one row per evaluated utterance and seed
    <runs>/<codec>/probes/asr_summary.csv                 WER/CER with 95% intervals, seed spread
    <runs>/<codec>/probes/asr_curves.csv                  learning curves of those runs
    <runs>/<codec>/probes/classification.parquet          one row per (feature, dataset, seed, fold)
    <runs>/<codec>/probes/classification_items.csv        one row per test item and seed (true, predicted)
    <runs>/<codec>/probes/classification_summary.csv      accuracy with 95% interval, chance, spreads

Columns: ``asr``: codec, feature, source, preset, dataset, seed, step, wer, cer,
n_items, selected, ...; ``asr_curves``: codec, feature, dataset, seed, step,
train_loss, dev_loss, dev_wer, lr; ``classification``: codec, feature, preset,
dataset, seed, fold, accuracy, n_classes, n_train, n_test, ...;
``classification_summary``: codec, feature, preset, dataset, accuracy (mean),
accuracy_std, accuracy_pm, ... ``feature`` is ``codec_embedding``,
``logmel_original`` or ``logmel_resynth``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..atomic import write_frame
from ..audio import PathLike
from ..errors import ConfigError

__all__ = ["write_table", "read_probe_results", "summarize_asr", "asr_item_rows",
           "compare_asr", "reading", "UNDERPOWERED_WIDTH", "ASR_FILE", "ASR_ITEMS_FILE", "ASR_SUMMARY_FILE", "ASR_CURVES_FILE", "CLS_FILE",
           "CLS_ITEMS_FILE", "CLS_SUMMARY_FILE"]

ASR_FILE = "asr.parquet"
ASR_ITEMS_FILE = "asr_items.csv"
CLS_ITEMS_FILE = "classification_items.csv"
ASR_SUMMARY_FILE = "asr_summary.csv"
ASR_CURVES_FILE = "asr_curves.csv"
CLS_FILE = "classification.parquet"
CLS_SUMMARY_FILE = "classification_summary.csv"


def write_table(rows: Sequence[dict[str, Any]] | Any, path: PathLike) -> Path:
    """Write rows (dicts or a DataFrame) atomically as Parquet or CSV (by extension)."""
    import pandas as pd

    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    return write_frame(df, path)


def read_probe_results(root: PathLike, name: str = ASR_FILE) -> Any:
    """Concatenate ``<root>/*/probes/<name>`` of every codec into one DataFrame (empty if none)."""
    import pandas as pd

    from ..layout import RunsLayout

    paths = RunsLayout(root).probe_files(name)
    frames = [pd.read_csv(p) if p.suffix == ".csv" else pd.read_parquet(p) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def asr_item_rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-utterance rows of one ASR run (a row of ``asr.parquet``), from its hypotheses file."""
    import json

    rows = []
    with open(run["hypotheses_path"], encoding="utf-8") as fh:
        for line in fh:
            h = json.loads(line)
            rows.append({"codec": run["codec"], "feature": run["feature"], "source": run["source"],
                         "dataset": run["dataset"], "seed": run["seed"], "item": h["id"], "reference": h["ref"],
                         "hypothesis": h["hyp"], "word_errors": h["word_errors"], "n_words": h["n_words"],
                         "char_errors": h["char_errors"], "n_chars": h["n_chars"],
                         "wer": h["word_errors"] / max(h["n_words"], 1), "cer": h["char_errors"] / max(h["n_chars"], 1)})
    return rows


def summarize_asr(rows: Sequence[dict[str, Any]] | Any, items: Any = None) -> Any:
    """WER/CER per (codec, feature, profile, dataset): mean over seeds, seed spread, 95% interval over items.

    ``wer_seed_std`` is the population std of the per-seed WERs (a rerun's spread); with
    ``items`` (:func:`asr_item_rows`), ``wer_lo``/``wer_hi`` and ``cer_lo``/``cer_hi`` are
    bootstrap intervals over utterances of the corpus rates (errors averaged over seeds).
    ``above_floor``: the CER interval lies below the trivial CTC floor (1.0);
    ``n_first_eval``: runs that kept their first evaluated checkpoint.
    """
    import pandas as pd

    from .uncertainty import CTC_FLOOR, rate_interval

    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if df.empty:
        return df
    keys = [k for k in ("codec", "feature", "source", "preset", "dataset") if k in df.columns]
    g = df.groupby(keys, sort=False)
    agg = {"wer": ("wer", "mean"), "wer_seed_std": ("wer", lambda s: float(s.std(ddof=0)))}
    if "cer" in df.columns:
        agg.update(cer=("cer", "mean"), cer_seed_std=("cer", lambda s: float(s.std(ddof=0))))
    if "seed" in df.columns:
        agg["n_seeds"] = ("seed", "nunique")
    if "n_items" in df.columns:
        agg["n_items"] = ("n_items", "first")
    out = g.agg(**agg).reset_index()
    if "selected_first_eval" in df.columns:
        out["n_first_eval"] = g["selected_first_eval"].sum().to_numpy().astype(int)
    out["floor"] = CTC_FLOOR
    for rate in ("wer", "cer"):
        out[f"{rate}_lo"] = out[f"{rate}_hi"] = float("nan")
    if items is not None and len(items) and "source" in out.columns:
        it = pd.DataFrame(items)
        for i, r in out.iterrows():
            mine = it[(it["codec"] == r["codec"]) & (it["source"] == r["source"]) & (it["dataset"] == r["dataset"])]
            per_item = mine.groupby("item")[["word_errors", "n_words", "char_errors", "n_chars"]].mean()
            out.loc[i, ["wer_lo", "wer_hi"]] = rate_interval(per_item["word_errors"], per_item["n_words"])[1:]
            out.loc[i, ["cer_lo", "cer_hi"]] = rate_interval(per_item["char_errors"], per_item["n_chars"])[1:]
    out["above_floor"] = [bool(hi < CTC_FLOOR) if hi == hi else None for hi in out["cer_hi"]]
    out["wer_pm"] = [f"{100 * m:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]" if lo == lo else f"{100 * m:.1f} ± {100 * s:.1f}"
                     for m, lo, hi, s in zip(out["wer"], out["wer_lo"], out["wer_hi"], out["wer_seed_std"])]
    return out


def compare_asr(items: Any, source_a: str, source_b: str, *, rate: str = "cer", dataset: str | None = None,
                codec_a: str | None = None, codec_b: str | None = None) -> dict[str, Any]:
    """Paired comparison of two ASR feature sources on the utterances both were scored on.

    Returns the rate of each, their difference (A - B) and its 95% paired bootstrap interval;
    ``differ`` is True when the interval excludes 0 (errors averaged over seeds per utterance).
    """
    import pandas as pd

    from .uncertainty import paired_rate_difference

    it = pd.DataFrame(items)
    if dataset is not None:
        it = it[it["dataset"] == dataset]
    err, n = ("word_errors", "n_words") if rate == "wer" else ("char_errors", "n_chars")

    def side(source: str, codec: str | None) -> Any:
        sub = it[it["source"] == source]
        if codec is not None:
            sub = sub[sub["codec"] == codec]
        return sub.groupby("item")[[err, n]].mean()

    a, b = side(source_a, codec_a), side(source_b, codec_b)
    common = a.index.intersection(b.index)
    if common.empty:
        raise ConfigError(f"no utterance scored with both '{source_a}' and '{source_b}'")
    a, b = a.loc[common], b.loc[common]
    diff, lo, hi = paired_rate_difference(a[err], b[err], a[n])
    return {"rate": rate, "a": source_a, "b": source_b, "n_items": int(len(common)),
            "rate_a": float(a[err].sum() / a[n].sum()), "rate_b": float(b[err].sum() / b[n].sum()),
            "difference": diff, "lo": lo, "hi": hi, "differ": bool(lo > 0 or hi < 0)}


#: A 95% interval wider than this (in accuracy or error-rate points, 0-1) is called under-powered:
#: two codecs that far apart could not be told apart on this test set.
UNDERPOWERED_WIDTH = 0.2


def _cell(row: Any, key: str) -> Any:
    v = row.get(key) if hasattr(row, "get") else None
    return None if v is None or (isinstance(v, float) and v != v) else v


def reading(row: Any, kind: str) -> str:
    """One probe summary row in words: what its interval allows one to say.

    ``kind`` is ``"classification"`` (accuracy against the majority-class chance) or ``"asr"``
    (error rates against the trivial CTC floor). The words name the first problem found: no
    interval, not above chance / at the floor, under-powered, or a probe that kept its first
    evaluated checkpoint (it may not have trained).
    """
    metric, lo_k, hi_k = ("accuracy", "accuracy_lo", "accuracy_hi") if kind == "classification" else (
        "wer", "wer_lo", "wer_hi")
    lo, hi = _cell(row, lo_k), _cell(row, hi_k)
    if lo is None or hi is None:
        return "no interval (per-item results missing): compare with care"
    if kind == "classification":
        chance = _cell(row, "chance")
        if chance is not None and lo <= chance:
            return (f"not above chance: the 95% interval [{lo:.2f}, {hi:.2f}] reaches the majority-class "
                    f"accuracy {chance:.2f}")
    else:
        cer_hi = _cell(row, "cer_hi")
        floor = _cell(row, "floor") or 1.0
        if cer_hi is not None and cer_hi >= floor:
            return "at the CTC floor: the probe did not learn to transcribe (CER interval reaches 1.0)"
    if hi - lo > UNDERPOWERED_WIDTH:
        return (f"under-powered: the 95% interval of the {metric} spans {hi - lo:.2f}; codecs closer than that "
                "cannot be told apart here")
    if (_cell(row, "n_first_eval") or 0) > 0:
        return (f"kept its first evaluated checkpoint in {int(row['n_first_eval'])} run(s): it may not have "
                "trained long enough")
    return "above chance, interval narrow enough to compare" if kind == "classification" else (
        "learned; interval narrow enough to compare")
