"""Aggregation: mean/std/bootstrap CI over valid values, failures counted, never filled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from codecbench_utils.results import aggregate, bootstrap_ci


def test_aggregate_counts_failures():
    df = pd.DataFrame({
        "item": list("abcde"), "dataset": ["d1"] * 3 + ["d2"] * 2, "category": ["speech"] * 3 + ["music"] * 2,
        "pesq_wb": [1.0, 2.0, np.nan, 3.0, np.nan], "mse": [0.1, 0.2, 0.3, 0.4, 0.5],
        "status": ["ok", "ok", "pesq_wb: no utterance", "ok", "pesq_wb: silent"], "profile": "standard",
    })
    agg = aggregate(df, n_boot=200).set_index(["dataset", "metric"])
    assert agg.loc[("d1", "pesq_wb"), "n"] == 2 and agg.loc[("d1", "pesq_wb"), "n_failed"] == 1
    assert agg.loc[("d1", "pesq_wb"), "mean"] == 1.5
    np.testing.assert_allclose(agg.loc[("d1", "pesq_wb"), "std"], np.std([1.0, 2.0], ddof=1))
    assert agg.loc[("d2", "pesq_wb"), "n_failed"] == 1 and agg.loc[("d2", "pesq_wb"), "n"] == 1
    assert not agg.loc[("d2", "pesq_wb"), "valid"] and agg.loc[("d1", "pesq_wb"), "valid"]
    assert ("d1", "sim") not in agg.index  # not computed at all -> no row
    lo, hi = agg.loc[("d1", "mse"), ["ci_low", "ci_high"]]
    assert lo <= 0.2 <= hi


def test_bootstrap_is_seeded():
    x = np.arange(20.0)
    assert bootstrap_ci(x, seed=3) == bootstrap_ci(x, seed=3)
    lo, hi = bootstrap_ci(x, n_boot=2000)
    assert lo < x.mean() < hi
    assert np.isnan(bootstrap_ci(np.array([np.nan]))[0])


def test_aggregate_without_groups():
    df = pd.DataFrame({"item": ["a", "b"], "mse": [1.0, 3.0], "status": ["ok", "ok"]})
    agg = aggregate(df, n_boot=50)
    assert list(agg["metric"]) == ["mse"] and agg["mean"].iloc[0] == 2.0
