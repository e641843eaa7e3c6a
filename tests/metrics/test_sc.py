"""Tests for spectral convergence against librosa.stft, as the paper's reference calls it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError
from codecbench_utils.metrics.sc import batched_sc, sc

#: float64 FFTs on both sides (librosa upcasts nothing for float64 input); summation order differs.
RTOL = 1e-9
#: batched torch.stft vs NumPy rfft, both float64.
RTOL_BATCHED = 1e-9
RATES = [8000, 16000, 24000, 44100, 48000]


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def _reference_sc(ref, est, sr):
    """reconstruct_evaluation/spectral_convergence.py's formula with librosa.stft defaults."""
    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa warns when n_fft > len(y)
        s_ref = np.abs(librosa.stft(np.asarray(ref, np.float64)))
        s_est = np.abs(librosa.stft(np.asarray(est, np.float64)))
    return np.sqrt(np.sum((s_ref - s_est) ** 2)) / np.sqrt(np.sum(s_ref**2))


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (2,)])
def test_matches_librosa(rng, sr, dtype, shape):
    n = sr // 4 + 37
    ref = rng.uniform(-1, 1, shape + (n,)).astype(dtype)
    est = (ref + 0.3 * rng.standard_normal(ref.shape)).astype(dtype)
    out = sc(ref, est, sr)
    assert out.shape == shape and out.dtype == np.float64
    expected = np.array([_reference_sc(a, b, sr) for a, b in zip(ref.reshape(-1, n), est.reshape(-1, n))])
    np.testing.assert_allclose(out, expected.reshape(shape), rtol=RTOL)


@pytest.mark.parametrize("n", [1, 100, 512, 2047, 2048, 2049])
def test_short_signals_match_librosa(rng, n):
    ref = rng.standard_normal(n)
    est = ref + rng.standard_normal(n)
    np.testing.assert_allclose(sc(ref, est, 16000), _reference_sc(ref, est, 16000), rtol=RTOL)


def test_batched_agrees(rng):
    refs = [rng.standard_normal(n) for n in (300, 16000, 5121, 2048)]
    ests = [r + rng.standard_normal(len(r)) * s for r, s in zip(refs, (0.1, 0.5, 1.0, 2.0))]
    out = batched_sc(refs, ests, 16000)
    assert out.shape == (4,)
    np.testing.assert_allclose(out, [sc(r, e, 16000) for r, e in zip(refs, ests)], rtol=RTOL_BATCHED)


def test_edge_cases(rng):
    x = rng.standard_normal(4000)
    assert sc(x, x, 16000) == 0.0
    np.testing.assert_allclose(sc(x, np.zeros_like(x), 16000), 1.0)
    with pytest.raises(InvalidAudioError, match="ref is silent"):
        sc(np.zeros(4000), x, 16000)
    with pytest.raises(InvalidAudioError, match="batch item 0: ref is silent"):
        batched_sc([np.zeros(4000)], [x], 16000)
    with pytest.raises(InvalidAudioError, match="same shape"):
        sc(x, x[:-1], 16000)
    with pytest.raises(InvalidAudioError, match="NaN"):
        sc(np.r_[x[:-1], np.nan], x, 16000)
    with pytest.raises(InvalidAudioError, match="empty"):
        sc(np.zeros(0), np.zeros(0), 16000)


def test_pinned_value(rng):
    # librosa 0.11.0 / numpy 2.x, float64
    t = np.arange(16000) / 16000
    ref = np.sin(2 * np.pi * 440 * t) * np.hanning(16000)
    est = np.sin(2 * np.pi * 445 * t) * np.hanning(16000)
    np.testing.assert_allclose(sc(ref, est, 16000), PINNED, rtol=1e-7)


PINNED = 0.5431083230
