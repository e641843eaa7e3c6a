"""Result tables: aggregation of per-item metric rows.

A failed metric is NaN in its row (with the reason in ``status``); aggregation
never fills it. It reports, per group and metric, the mean and standard deviation
over the items that have a value, a seeded 95 % bootstrap confidence interval of
the mean, the number of items scored and the number that failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .metrics.registry import METRICS, metric_is_valid

__all__ = ["aggregate", "bootstrap_ci", "failed_cells", "METRIC_COLUMNS"]

#: Metric columns of an acoustic result table (the metric registry's order).
METRIC_COLUMNS: tuple[str, ...] = METRICS


def bootstrap_ci(values: np.ndarray, *, n_boot: int = 1000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean (seeded, so reruns agree).

    Returns ``(nan, nan)`` for an empty sample and ``(x, x)`` for a single value.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    if x.size == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 256):  # blocks keep the index matrix small for big groups
        stop = min(start + 256, n_boot)
        idx = rng.integers(0, x.size, size=(stop - start, x.size))
        means[start:stop] = x[idx].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(lo), float(hi)


def failed_cells(df: Any, cols: Sequence[str]) -> Any:
    """Which cells are failures: missing values of metrics that were meant to be scored.

    A metric left out by design is not a failure: rows name those in ``not_scored`` (a speech
    metric on music in the ``standard`` profile, an ASR rate without a transcript). Rows written
    before that column say it in ``status`` (``"pesq_wb, stoi: not valid for category music"``);
    without either, the registry's validity rule decides.
    """

    missing = df[list(cols)].isna()
    if "not_scored" in df.columns:
        left_out = df["not_scored"].fillna("").astype(str).str.split(",")
    elif "status" in df.columns:
        left_out = df["status"].fillna("").astype(str).map(_left_out_in_status)
    else:
        if "category" not in df.columns:
            return missing
        profiles = _metric_profiles(df)
        for m in cols:
            if m in METRICS:
                missing[m] &= np.asarray([metric_is_valid(m, c if isinstance(c, str) else None,
                                                          p if p in ("paper", "standard") else "paper")
                                          for c, p in zip(df["category"], profiles)], dtype=bool)
        return missing
    for m in cols:
        missing[m] &= ~left_out.map(lambda names, m=m: m in names).to_numpy(dtype=bool)
    return missing


def _metric_profiles(df: Any) -> Any:
    """Each row's metric profile (``metric_profile``, or ``profile`` in files written before the rename)."""
    import pandas as pd

    for col in ("metric_profile", "profile"):
        if col in df.columns:
            return df[col]
    return pd.Series("paper", index=df.index)


def _left_out_in_status(status: str) -> list[str]:
    """Metrics a ``status`` names as not valid for the item's category (not failures)."""
    out: list[str] = []
    for part in status.split("; "):
        names, _, reason = part.partition(": ")
        if reason.startswith("not valid for category"):
            out += [n.strip() for n in names.split(",")]
    return out


def aggregate(
    df: Any,
    by: Sequence[str] = ("dataset", "category"),
    *,
    metrics: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Any:
    """Summarise per-item rows per group.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows from :func:`~codecbench_utils.metrics.compute.compute_metrics`.
    by : sequence of str
        Grouping columns; those absent from ``df`` (or all null) are ignored, and
        with none left the whole table is one group.
    metrics : sequence of str, optional
        Metric columns (default: every metric column present).
    n_boot, seed : int
        Bootstrap resamples and seed of the confidence interval.

    Returns
    -------
    pandas.DataFrame
        One row per group and metric: the group columns, ``metric, mean, std, ci_low,
        ci_high, n, n_failed`` (``n`` items with a value, ``n_failed`` items whose
        value is missing although it was meant to be scored: see :func:`failed_cells`),
        plus ``valid`` (standard profile: whether the metric is meaningful for the group's
        category).
    """
    import pandas as pd

    metrics = [m for m in (metrics or METRIC_COLUMNS) if m in df.columns]
    keys = [c for c in by if c in df.columns and df[c].notna().any()]
    groups = df.groupby(keys, dropna=False, sort=True) if keys else [((), df)]
    known = _metric_profiles(df).dropna()
    profile = known.iloc[0] if len(known) else None
    failed = failed_cells(df, metrics)
    out = []
    for gkey, g in groups:
        gkey = gkey if isinstance(gkey, tuple) else (gkey,)
        for m in metrics:
            if m in df.columns and not df[m].notna().any() and "status" in df.columns:
                # a metric nobody asked for is all-NaN with no reason in status: skip it
                if not g["status"].astype(str).str.contains(f"{m}:|all:", regex=True).any():
                    continue
            x = pd.to_numeric(g[m], errors="coerce").to_numpy(dtype=np.float64)
            ok = x[np.isfinite(x)]
            lo, hi = bootstrap_ci(ok, n_boot=n_boot, seed=seed)
            row = dict(zip(keys, gkey, strict=False))
            row.update(metric=m, mean=float(ok.mean()) if ok.size else np.nan,
                       std=float(ok.std(ddof=1)) if ok.size > 1 else np.nan,
                       ci_low=lo, ci_high=hi, n=int(ok.size), n_failed=int(failed.loc[g.index, m].sum()))
            if profile is not None:
                cat = row.get("category")
                row["valid"] = metric_is_valid(m, cat if isinstance(cat, str) else None, profile)
            out.append(row)
    return pd.DataFrame(out)
