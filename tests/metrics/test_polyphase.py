"""The NumPy polyphase resampler against scipy.signal.resample_poly (its reference)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from codecbench_utils.metrics.polyphase import resample_poly


@pytest.mark.parametrize("n", [1, 2, 77, 4097, 30011])
@pytest.mark.parametrize("up, down", [(10000, 16000), (10000, 44100), (10000, 48000), (10000, 8000),
                                      (16000, 10000), (16000, 44100), (3, 2), (1, 3)])
def test_matches_scipy(n, up, down):
    x = np.random.default_rng(n).standard_normal(n)
    expected = scipy.signal.resample_poly(x, up, down)
    got = resample_poly(x, up, down)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [1, 300, 20011])
@pytest.mark.parametrize("up, down", [(10000, 16000), (10000, 44100), (10000, 8000), (3, 2)])
@pytest.mark.parametrize("taps", [41, 580, 581])
def test_explicit_filter_matches_scipy(n, up, down, taps):
    rng = np.random.default_rng(taps + n)
    x = rng.standard_normal(n)
    window = np.hanning(taps) * np.sinc(np.linspace(-8, 8, taps))  # odd and even lengths
    expected = scipy.signal.resample_poly(x, up, down, window=window)
    got = resample_poly(x, up, down, window=window)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_leading_dims_equal_ratio_and_errors():
    x = np.random.default_rng(0).standard_normal((2, 3, 500)).astype(np.float32)
    np.testing.assert_allclose(resample_poly(x, 5, 8), scipy.signal.resample_poly(x.astype(np.float64), 5, 8,
                                                                                   axis=-1), atol=1e-12)
    np.testing.assert_array_equal(resample_poly(x, 7, 7), x)
    with pytest.raises(ValueError, match="positive"):
        resample_poly(x, 0, 8)
    with pytest.raises(ValueError, match="window must be 1-D"):
        resample_poly(x, 5, 8, window=np.ones((2, 3)))
