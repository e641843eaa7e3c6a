"""Tests for mse against the plain NumPy formula."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError
from codecbench_utils.metrics.mse import batched_mse, mse

#: Same formula in float64, different summation order.
RTOL = 1e-12
RATES = [8000, 16000, 24000, 44100, 48000]


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _reference_mse(ref, est, sr):
    return float(np.mean((np.asarray(ref, np.float64) - np.asarray(est, np.float64)) ** 2))


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (2, 3)])
def test_matches_reference(rng, sr, dtype, shape):
    n = sr // 10
    ref = rng.uniform(-1, 1, shape + (n,)).astype(dtype)
    est = (ref + 0.1 * rng.standard_normal(ref.shape)).astype(dtype)
    out = mse(ref, est, sr)
    assert out.shape == shape and out.dtype == np.float64
    expected = np.vectorize(lambda i: _reference_mse(ref.reshape(-1, n)[i], est.reshape(-1, n)[i], sr))(
        np.arange(int(np.prod(shape)))
    ).reshape(shape)
    np.testing.assert_allclose(out, expected, rtol=RTOL)


@pytest.mark.parametrize("sr", [8000, 44100])
def test_batched_agrees(rng, sr):
    refs = [rng.uniform(-1, 1, n) for n in (10, 4000, 777)]
    ests = [r + 0.2 * rng.standard_normal(len(r)) for r in refs]
    out = batched_mse(refs, ests, sr)
    assert out.shape == (3,)
    np.testing.assert_allclose(out, [mse(r, e, sr) for r, e in zip(refs, ests)], rtol=RTOL)
    assert batched_mse([], [], sr).shape == (0,)


def test_edge_cases(rng):
    x = rng.standard_normal(100)
    assert mse(x, x, 16000) == 0.0
    assert mse(np.zeros(100), np.zeros(100), 16000) == 0.0  # silence is fine: the error is defined
    with pytest.raises(InvalidAudioError, match="same shape"):
        mse(x, x[:-1], 16000)
    with pytest.raises(InvalidAudioError, match="NaN"):
        mse(x, np.r_[x[:-1], np.nan], 16000)
    with pytest.raises(InvalidAudioError, match="empty"):
        mse(np.zeros(0), np.zeros(0), 16000)
    with pytest.raises(InvalidAudioError, match="batch item 0: .*same shape"):
        batched_mse([x], [x[:-1]], 16000)


def test_pinned_value():
    # numpy 2.x; exact arithmetic on a deterministic pair
    t = np.arange(16000) / 16000
    ref = 0.5 * np.sin(2 * np.pi * 440 * t)
    est = 0.4 * np.sin(2 * np.pi * 440 * t)
    np.testing.assert_allclose(mse(ref, est, 16000), 0.005, rtol=1e-12)
