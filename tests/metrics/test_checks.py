"""Tests for the shared metric input checks and the batch padding helper."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError
from codecbench_utils.metrics._checks import _check_batch, _check_pair, _pad_batch


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_check_pair_returns_float64(rng):
    ref = rng.standard_normal(1600).astype(np.float32)
    r, e = _check_pair(ref, ref.copy(), 16000, metric="mse")
    assert r.dtype == np.float64 and e.dtype == np.float64
    np.testing.assert_array_equal(r, ref.astype(np.float64))


@pytest.mark.parametrize(
    ("ref", "est", "match"),
    [
        (np.zeros(0), np.zeros(0), "ref is empty"),
        (np.ones(100), np.ones(99), "same shape"),
        (np.array(1.0), np.array(1.0), "scalar"),
        (np.r_[np.ones(10), np.nan], np.ones(11), "ref has 1 NaN/inf"),
        (np.ones(11), np.r_[np.ones(10), np.inf], "est has 1 NaN/inf"),
        (np.ones(10, dtype=complex), np.ones(10, dtype=complex), "real float"),
    ],
)
def test_check_pair_rejects(ref, est, match):
    with pytest.raises(InvalidAudioError, match=match):
        _check_pair(ref, est, 16000, metric="mse")


def test_check_pair_too_short_message():
    with pytest.raises(InvalidAudioError, match=r"ref lasts 0\.12 s .* PESQ needs >= 0\.25 s") as info:
        _check_pair(np.ones(1920), np.ones(1920), 16000, metric="PESQ", min_seconds=0.25, item_id="a/b")
    assert info.value.metric == "PESQ" and info.value.item_id == "a/b"


@pytest.mark.parametrize("sr", [0, -16000, 16000.0, True])
def test_check_pair_bad_sr(sr):
    with pytest.raises(InvalidAudioError, match="sr must be a positive integer"):
        _check_pair(np.ones(10), np.ones(10), sr, metric="mse")


def test_check_batch_names_item():
    with pytest.raises(InvalidAudioError, match="batch item 1: .*NaN") as info:
        _check_batch([np.ones(5), np.r_[np.ones(4), np.nan]], [np.ones(5), np.ones(5)], 8000, metric="sc")
    assert info.value.item_id == "1"
    with pytest.raises(InvalidAudioError, match="2 refs but 1 ests"):
        _check_batch([np.ones(5)] * 2, [np.ones(5)], 8000, metric="sc")
    with pytest.raises(InvalidAudioError, match="expected 1-D"):
        _check_batch([np.ones((2, 5))], [np.ones((2, 5))], 8000, metric="sc")


def test_pad_batch(rng):
    import torch

    arrays = [rng.standard_normal(n) for n in (3, 7, 5)]
    batch, lengths, mask = _pad_batch(arrays)
    assert batch.shape == (3, 7) and batch.dtype == torch.float64
    assert lengths.tolist() == [3, 7, 5]
    assert mask.sum(1).tolist() == [3, 7, 5]
    for i, a in enumerate(arrays):
        np.testing.assert_array_equal(batch[i, : len(a)].numpy(), a)
        assert not batch[i, len(a) :].any()
