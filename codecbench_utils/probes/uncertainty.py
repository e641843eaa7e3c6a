"""Uncertainty of probe numbers: bootstrap intervals over items, paired differences, chance lines.

A probe's WER or accuracy is an estimate from a finite test set; two feature sources (codec A
and codec B, or a codec and the original audio) are compared on the *same* items, so the
honest statement "A beats B" is a paired bootstrap interval of the difference that excludes 0.

- Error rates are corpus rates (``sum(errors) / sum(reference length)``, as jiwer computes
  WER/CER); the bootstrap resamples utterances, keeping each one's errors and length together.
- Accuracy is the mean of per-item 0/1 correctness; its interval resamples test items.
- Chance lines: the majority-class share for classification; for CTC ASR the trivial floor
  is a model that emits nothing (WER = CER = 1.0).

Percentile intervals from ``n_boot`` resamples with a fixed seed, so a table is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["N_BOOT", "LEVEL", "CTC_FLOOR", "edit_counts", "rate_interval", "paired_rate_difference",
           "mean_interval", "majority_chance"]

#: bootstrap resamples and interval level used everywhere a probe number is reported
N_BOOT = 2000
LEVEL = 0.95
#: WER and CER of a CTC model that emits nothing (all blanks): the trivial floor of the ASR probe
CTC_FLOOR = 1.0


def edit_counts(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-utterance word and character edit counts and reference lengths (what jiwer sums)."""
    import jiwer

    out = {k: np.zeros(len(refs), dtype=np.int64) for k in ("word_errors", "n_words", "char_errors", "n_chars")}
    for i, (r, h) in enumerate(zip(refs, hyps)):
        w = jiwer.process_words(r, h)
        c = jiwer.process_characters(r, h)
        out["word_errors"][i] = w.substitutions + w.deletions + w.insertions
        out["n_words"][i] = w.substitutions + w.deletions + w.hits
        out["char_errors"][i] = c.substitutions + c.deletions + c.insertions
        out["n_chars"][i] = c.substitutions + c.deletions + c.hits
    return out


def _indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _percentiles(samples: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.nanpercentile(samples, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def rate_interval(errors: Sequence[float], lengths: Sequence[float], *, n_boot: int = N_BOOT, seed: int = 0,
                  level: float = LEVEL) -> tuple[float, float, float]:
    """Corpus error rate and its bootstrap interval over utterances: ``(rate, lo, hi)``."""
    e, n = np.asarray(errors, dtype=np.float64), np.asarray(lengths, dtype=np.float64)
    if e.size == 0 or n.sum() == 0:
        return float("nan"), float("nan"), float("nan")
    idx = _indices(e.size, n_boot, seed)
    samples = e[idx].sum(1) / np.maximum(n[idx].sum(1), 1)
    return (float(e.sum() / n.sum()), *_percentiles(samples, level))


def paired_rate_difference(errors_a: Sequence[float], errors_b: Sequence[float], lengths: Sequence[float], *,
                           n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> tuple[float, float, float]:
    """Rate of A minus rate of B on the same utterances, with a paired bootstrap interval.

    ``lengths`` are the references' lengths (the same for A and B). An interval that
    excludes 0 says the two differ on this test set beyond resampling noise.
    """
    a, b = np.asarray(errors_a, dtype=np.float64), np.asarray(errors_b, dtype=np.float64)
    n = np.asarray(lengths, dtype=np.float64)
    if not (a.size == b.size == n.size) or a.size == 0:
        raise ValueError(f"paired comparison needs the same items: {a.size}, {b.size}, {n.size} values")
    idx = _indices(a.size, n_boot, seed)
    denom = np.maximum(n[idx].sum(1), 1)
    samples = (a[idx].sum(1) - b[idx].sum(1)) / denom
    return (float((a.sum() - b.sum()) / n.sum()), *_percentiles(samples, level))


def mean_interval(values: Sequence[float], *, n_boot: int = N_BOOT, seed: int = 0,
                  level: float = LEVEL) -> tuple[float, float, float]:
    """Mean (e.g. accuracy from 0/1 correctness) and its bootstrap interval over items."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    return (float(x.mean()), *_percentiles(x[_indices(x.size, n_boot, seed)].mean(1), level))


def majority_chance(labels: Sequence[object]) -> float:
    """Accuracy of always answering the most frequent label."""
    if len(labels) == 0:
        return float("nan")
    _, counts = np.unique(np.asarray([str(x) for x in labels]), return_counts=True)
    return float(counts.max() / counts.sum())
