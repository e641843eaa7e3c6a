"""Bootstrap intervals, paired differences and chance lines of the probe numbers."""

from __future__ import annotations

import jiwer
import numpy as np
import pandas as pd
import pytest

from codecbench_utils.probes.results import compare_asr, summarize_asr
from codecbench_utils.probes.uncertainty import (
    edit_counts,
    majority_chance,
    mean_interval,
    paired_rate_difference,
    rate_interval,
)


def test_edit_counts_sum_to_jiwers_corpus_rates():
    refs = ["the cat sat on the mat", "hello world", "a b c d", "one"]
    hyps = ["the cat sat on mat", "", "a x c d e", "one"]
    c = edit_counts(refs, hyps)
    assert c["word_errors"].sum() / c["n_words"].sum() == pytest.approx(jiwer.wer(refs, hyps))
    assert c["char_errors"].sum() / c["n_chars"].sum() == pytest.approx(jiwer.cer(refs, hyps))
    assert c["word_errors"][1] == c["n_words"][1] == 2  # nothing emitted: every word deleted


def test_rate_interval_matches_a_plain_numpy_bootstrap_and_covers_the_truth():
    rng = np.random.default_rng(0)
    n = rng.integers(5, 20, 200)
    e = rng.binomial(n, 0.3)
    rate, lo, hi = rate_interval(e, n, n_boot=4000, seed=3)
    assert rate == pytest.approx(e.sum() / n.sum())
    idx = np.random.default_rng(3).integers(0, 200, size=(4000, 200))  # the same resamples, by hand
    boot = e[idx].sum(1) / n[idx].sum(1)
    assert (lo, hi) == pytest.approx(tuple(np.percentile(boot, [2.5, 97.5])))
    assert lo < 0.3 < hi and hi - lo < 0.06


def test_paired_difference_detects_a_real_gap_and_not_noise():
    rng = np.random.default_rng(1)
    n = rng.integers(5, 20, 150)
    a = rng.binomial(n, 0.25)
    b = np.minimum(n, a + rng.binomial(n, 0.10))  # B makes A's errors plus more
    diff, lo, hi = paired_rate_difference(b, a, n)
    assert diff > 0 and lo > 0  # B is worse, and the interval says so
    _, lo0, hi0 = paired_rate_difference(a, a, n)
    assert lo0 == hi0 == 0.0
    c = rng.binomial(n, 0.25)  # same error rate, independent errors: no difference claimed
    _, lo1, hi1 = paired_rate_difference(a, c, n)
    assert lo1 < 0 < hi1
    with pytest.raises(ValueError, match="same items"):
        paired_rate_difference(a, c[:-1], n)


def test_mean_interval_and_majority_chance():
    correct = np.r_[np.ones(80), np.zeros(20)]
    m, lo, hi = mean_interval(correct)
    assert m == 0.8 and lo < 0.8 < hi and 0.7 < lo and hi < 0.9
    assert majority_chance(["a", "a", "b", "c"]) == 0.5
    assert np.isnan(mean_interval([])[0])


def _items(source: str, rate: float, rng, codec: str = "c") -> list[dict]:
    rows = []
    lengths = np.random.default_rng(9).integers(10, 30, 80)  # the same references for every source
    for i in range(80):
        n = int(lengths[i])
        e = int(rng.binomial(n, rate))
        rows.append({"codec": codec, "feature": source, "source": source, "dataset": "d", "seed": 0,
                     "item": f"u{i}", "word_errors": e // 3, "n_words": n // 3 + 1, "char_errors": e,
                     "n_chars": n})
    return rows


def test_compare_asr_and_summary_intervals():
    rng = np.random.default_rng(2)
    items = pd.DataFrame(_items("logmel:original", 0.15, rng) + _items("logmel:runs/x/resynth", 0.45, rng))
    cmp = compare_asr(items, "logmel:runs/x/resynth", "logmel:original")
    assert cmp["n_items"] == 80 and cmp["differ"] and cmp["lo"] > 0 and cmp["difference"] == pytest.approx(
        cmp["rate_a"] - cmp["rate_b"])
    runs = pd.DataFrame([{"codec": "c", "feature": s, "source": s, "profile": "small", "dataset": "d", "seed": 0,
                          "wer": 0.5, "cer": 0.2, "n_items": 80, "selected_first_eval": False}
                         for s in ("logmel:original", "logmel:runs/x/resynth")])
    summary = summarize_asr(runs, items)
    assert summary["cer_lo"].notna().all() and (summary["cer_lo"] < summary["cer_hi"]).all()
    assert summary["above_floor"].all() and (summary["n_first_eval"] == 0).all()
    assert summary["wer_pm"].iloc[0].count("[") == 1
