"""Token statistics against plain NumPy/Counter formulas written here."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from codecbench_utils.codecs.stats import (
    codebook_entropy,
    codebook_perplexity,
    codebook_utilization,
    parameter_count,
    profile_codec,
    token_counts,
    token_stats,
)
from codecbench_utils.errors import InvalidAudioError

#: same float64 formula evaluated two ways: only summation order differs
RTOL = 1e-12


def _reference_entropy(row: np.ndarray) -> float:
    n = len(row)
    return -sum((c / n) * math.log2(c / n) for c in Counter(row.tolist()).values())


def _reference_utilization(row: np.ndarray, size: int) -> float:
    return len(set(row.tolist())) / size


@pytest.mark.parametrize("size", [2, 16, 1024])
def test_against_reference(rng, size):
    codes = rng.integers(0, size, size=(4, 300))
    codes[1] = rng.integers(0, max(1, size // 4), size=300)  # a skewed codebook
    codes[2] = 0  # a collapsed codebook
    np.testing.assert_allclose(codebook_entropy(codes, size), [_reference_entropy(r) for r in codes], rtol=RTOL)
    np.testing.assert_allclose(codebook_utilization(codes, size),
                               [_reference_utilization(r, size) for r in codes], rtol=RTOL)
    np.testing.assert_allclose(codebook_perplexity(codes, size),
                               [2 ** _reference_entropy(r) for r in codes], rtol=RTOL)
    assert codebook_entropy(codes, size)[2] == 0.0
    assert codebook_perplexity(codes, size)[2] == 1.0


def test_bounds_uniform():
    size = 8
    codes = np.tile(np.arange(size), (2, 5))
    np.testing.assert_allclose(codebook_entropy(codes, size), [3.0, 3.0], rtol=RTOL)
    np.testing.assert_allclose(codebook_perplexity(codes, size), [8.0, 8.0], rtol=RTOL)
    np.testing.assert_allclose(codebook_utilization(codes, size), [1.0, 1.0], rtol=RTOL)


def test_counts_accumulate_over_items(rng):
    a = rng.integers(0, 32, size=(3, 50))
    b = rng.integers(0, 32, size=(3, 70))
    summed = token_counts(a, 32) + token_counts(b, 32)
    np.testing.assert_array_equal(summed, token_counts([a, b], 32))
    np.testing.assert_allclose(codebook_entropy(summed, 32, counts=True),
                               codebook_entropy(np.concatenate([a, b], axis=1), 32), rtol=RTOL)
    stats = token_stats([a, b], 32)
    assert stats["n_tokens"] == [120, 120, 120]
    assert stats["mean_entropy_bits"] == pytest.approx(np.mean(stats["entropy_bits"]))


def test_per_codebook_sizes():
    codes = np.array([[0, 7, 7, 3], [0, 1, 1, 1]])
    np.testing.assert_allclose(codebook_utilization(codes, [8, 2]), [3 / 8, 1.0], rtol=RTOL)
    assert token_counts(codes, [8, 2]).shape == (2, 8)


def test_errors():
    with pytest.raises(InvalidAudioError, match="expected"):
        token_counts(np.array([[0, 9]]), 8)
    with pytest.raises(InvalidAudioError, match="integers"):
        token_counts(np.array([[0.5]]), 8)
    with pytest.raises(InvalidAudioError, match="2 codebook sizes for 1"):
        token_counts(np.array([[0]]), [2, 2])
    assert np.isnan(codebook_entropy(np.zeros((1, 0), dtype=int), 4)[0])


def test_profile_codec_identity(rng):
    from codecbench_utils.codecs.registry import load_codec

    torch = pytest.importorskip("torch")
    codec = load_codec("identity")
    res = profile_codec(codec, [rng.standard_normal(1600).astype(np.float32)] * 2)
    assert res["params"] is None and res["peak_mem_mb"] is None
    assert res["audio_s"] == pytest.approx(0.2)
    assert res["encode_rtf"] >= 0 and res["decode_rtf"] >= 0
    assert parameter_count(torch.nn.Linear(3, 2)) == 8
