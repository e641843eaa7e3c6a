"""Tests for the torchaudio-compatible resampler against a direct NumPy evaluation of its formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError
from codecbench_utils.metrics.resample import resample_torchaudio, resample_torchaudio_tensor

#: float64 path vs the float64 NumPy sum: same formula, different summation order.
RTOL64, ATOL64 = 1e-10, 1e-12
#: float32 path (what torchaudio does): the time grid i/orig - j/new is built in float32, so for
#: large reduced rates (441/160) the sinc argument is off by ~1e-5; measured max error 7.8e-6.
ATOL32 = 2e-5

RATES = [8000, 16000, 24000, 44100, 48000]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _reference_resample(x: np.ndarray, orig_sr: int, new_sr: int, lowpass_filter_width=6, rolloff=0.99):
    """y[j] = sum_i x[i] K(i/orig - j/new): the windowed-sinc formula, evaluated directly in float64."""
    g = math.gcd(orig_sr, new_sr)
    orig, new = orig_sr // g, new_sr // g
    base = min(orig, new) * rolloff
    n_out = math.ceil(new * x.shape[-1] / orig)
    i = np.arange(x.shape[-1])[None, :]
    j = np.arange(n_out)[:, None]
    t = base * (i / orig - j / new)
    inside = np.abs(t) < lowpass_filter_width
    win = np.cos(np.pi * t / lowpass_filter_width / 2) ** 2
    k = np.where(inside, np.sinc(t) * win * base / orig, 0.0)
    return x @ k.T


@pytest.mark.parametrize("orig_sr", RATES)
@pytest.mark.parametrize("new_sr", [16000, 44100])
def test_matches_formula_float64(rng, orig_sr, new_sr):
    x = rng.standard_normal((2, 1201))
    y = resample_torchaudio(x, orig_sr, new_sr, precision="float64")
    if orig_sr == new_sr:
        assert y is x
        return
    expected = _reference_resample(x, orig_sr, new_sr)
    assert y.shape == expected.shape == (2, math.ceil(new_sr * 1201 / orig_sr))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, expected, rtol=RTOL64, atol=ATOL64)


@pytest.mark.parametrize("orig_sr", [8000, 24000, 44100, 48000])
def test_matches_formula_float32(rng, orig_sr):
    x = rng.uniform(-1, 1, 2000)
    y = resample_torchaudio(x, orig_sr, 16000)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _reference_resample(x.astype(np.float32).astype(np.float64), orig_sr, 16000),
                               rtol=0, atol=ATOL32)


def test_tensor_api_keeps_dtype_and_batches(rng):
    import torch

    x = torch.from_numpy(rng.standard_normal((3, 2, 500)).astype(np.float32))
    y = resample_torchaudio_tensor(x, 48000, 16000)
    assert y.dtype == torch.float32 and y.shape == (3, 2, 167)
    # each row resampled alone gives the same numbers
    np.testing.assert_allclose(y[1, 0].numpy(), resample_torchaudio_tensor(x[1, 0], 48000, 16000).numpy(),
                               rtol=0, atol=1e-6)  # float32 conv1d blocking differs with batch size
    assert resample_torchaudio_tensor(x, 16000, 16000) is x


def test_kernel_shape_and_length_rule():
    # 44.1k -> 16k reduces to 441 -> 160; width = ceil(6 * 441 / (160 * 0.99)) = 17
    from codecbench_utils.metrics.resample import _kernel

    kernel, width = _kernel(441, 160, 6, 0.99, "float32", "cpu")
    assert width == 17 and tuple(kernel.shape) == (160, 1, 2 * 17 + 441)
    # output length is ceil(new * n / orig)
    assert resample_torchaudio(np.ones(100), 44100, 16000).shape == (37,)
    assert resample_torchaudio(np.ones(7), 16000, 48000).shape == (21,)


def test_pinned_values():
    # Pinned from this implementation (torch 2.13.0 CPU, float64), cross-checked by the formula test above.
    x = np.sin(2 * np.pi * 1000 * np.arange(240) / 24000) * np.hanning(240)
    y = resample_torchaudio(x, 24000, 16000, precision="float64")
    np.testing.assert_allclose(y[[10, 52, 101]], PINNED, rtol=1e-8)


PINNED = np.array([-0.0271330157, 0.7305253581, 0.7695201895])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.ones(10), 0, 16000), "orig_sr must be a positive integer"),
        ((np.ones(10), 16000, 22050.5), "new_sr must be a positive integer"),
        ((np.zeros(0), 8000, 16000), "empty"),
        ((np.ones(4, dtype=complex), 8000, 16000), "real audio"),
    ],
)
def test_rejects(args, match):
    with pytest.raises(InvalidAudioError, match=match):
        resample_torchaudio(*args)
