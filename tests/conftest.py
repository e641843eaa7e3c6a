"""Shared fixtures: a seeded rng and small generated audio (never committed)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def make_signal(rng: np.random.Generator, sr: int, seconds: float = 1.0) -> np.ndarray:
    """A broadband, speech-like test signal: harmonic tones with onsets plus filtered noise."""
    n = int(sr * seconds)
    t = np.arange(n) / sr
    f0 = 120 + 40 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    tone = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = (np.sin(2 * np.pi * 2.5 * t) > 0).astype(float)
    noise = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")
    x = 0.3 * tone * env + 0.05 * noise
    return (0.8 * x / np.max(np.abs(x))).astype(np.float32)


@pytest.fixture
def signal():
    return make_signal


def codec_like_estimates(rng: np.random.Generator, ref: np.ndarray) -> dict[str, np.ndarray]:
    """What codecs hand back for ``ref`` (16 kHz): noisy, low-passed (nothing left above 4 kHz), quieter, clipped."""
    import scipy.signal

    low = scipy.signal.resample_poly(scipy.signal.resample_poly(ref, 1, 2), 2, 1)[: len(ref)]
    b, a = scipy.signal.butter(8, 0.4)
    return {
        "noisy": ref + 0.02 * rng.standard_normal(len(ref)),
        "lowpass_8k": low,
        "butterworth": scipy.signal.lfilter(b, a, ref),
        "quiet": 0.05 * ref,
        "clipped": np.clip(1.5 * ref, -0.5, 0.5),
    }


@pytest.fixture
def codec_like():
    return codec_like_estimates
