"""Tests for si_sdr (standard) and si_sdr_paper (the reference's formula), each against NumPy written here."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError
from codecbench_utils.metrics.si_sdr import batched_si_sdr, batched_si_sdr_paper, si_sdr, si_sdr_paper

#: Our float64 code vs the same formula written differently here.
RTOL = 1e-9
RATES = [8000, 16000, 24000, 44100, 48000]


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def _reference_si_sdr(ref, est, sr):
    """Le Roux et al. 2019, eq. (1)-(2), via the projection of est on ref."""
    ref = np.asarray(ref, np.float64)
    est = np.asarray(est, np.float64)
    target = (est @ ref) / (ref @ ref) * ref
    return 10 * np.log10(np.dot(target, target) / np.dot(est - target, est - target))


def _reference_si_sdr_paper(ref, est, sr):
    """The reference's compute_sisdr as written there (float64 NumPy)."""
    ref = np.asarray(ref, np.float64)
    est = np.asarray(est, np.float64)
    ref = ref / (np.linalg.norm(ref) + 1e-10)
    est = est / (np.linalg.norm(est) + 1e-10)
    projection = np.dot(ref, est) * ref
    distortion = est - projection
    return 10 * np.log10(np.mean(ref**2) / (np.mean(distortion**2) + 1e-10))


CASES = [(si_sdr, _reference_si_sdr, batched_si_sdr), (si_sdr_paper, _reference_si_sdr_paper, batched_si_sdr_paper)]


@pytest.mark.parametrize(("fn", "reference", "batched"), CASES)
@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (2, 2)])
def test_matches_reference(rng, fn, reference, batched, sr, dtype, shape):
    n = sr // 8
    ref = rng.uniform(-1, 1, shape + (n,)).astype(dtype)
    est = (0.7 * ref + 0.1 * rng.standard_normal(ref.shape)).astype(dtype)
    out = fn(ref, est, sr)
    assert out.shape == shape and out.dtype == np.float64
    flat_r, flat_e = ref.reshape(-1, n), est.reshape(-1, n)
    expected = np.array([reference(a, b, sr) for a, b in zip(flat_r, flat_e)]).reshape(shape)
    np.testing.assert_allclose(out, expected, rtol=RTOL)


@pytest.mark.parametrize(("fn", "reference", "batched"), CASES)
def test_batched_agrees(rng, fn, reference, batched):
    refs = [rng.standard_normal(n) for n in (50, 3000, 1234)]
    ests = [0.3 * r + rng.standard_normal(len(r)) * s for r, s in zip(refs, (0.01, 0.5, 2.0))]
    out = batched(refs, ests, 16000)
    assert out.shape == (3,)
    np.testing.assert_allclose(out, [fn(r, e, 16000) for r, e in zip(refs, ests)], rtol=RTOL)


def test_paper_variant_properties(rng):
    n = 7 * 16000
    ref = rng.standard_normal(n)
    # identical signals hit the cap 10 log10(1e10 / N) (49.5 dB for 7 s at 16 kHz)
    np.testing.assert_allclose(si_sdr_paper(ref, ref, 16000), 10 * np.log10(1e10 / n), atol=1e-6)
    # never below -10 log10(1 + 1e-10 N) (~0 dB), sign- and gain-blind: -3 * ref is as good as ref
    noise = rng.standard_normal(n)
    assert si_sdr_paper(ref, noise, 16000) >= -10 * np.log10(1 + 1e-10 * n)
    np.testing.assert_allclose(si_sdr_paper(ref, -3 * ref, 16000), si_sdr_paper(ref, ref, 16000), rtol=1e-9)
    # ~ -10 log10(1 - rho^2) away from the cap
    est = ref + noise
    rho = np.corrcoef(ref, est)[0, 1]
    np.testing.assert_allclose(si_sdr_paper(ref, est, 16000), -10 * np.log10(1 - rho**2), atol=0.01)
    # standard SI-SDR: an exact copy is finite (eps in both energies, documented), so it stays in the means;
    # pure noise is very negative
    from codecbench_utils.metrics.si_sdr import SI_SDR_EPS

    copy = si_sdr(ref, ref, 16000)
    assert np.isfinite(copy) and copy == pytest.approx(10 * np.log10((ref @ ref + SI_SDR_EPS) / SI_SDR_EPS))
    assert batched_si_sdr([ref], [ref], 16000)[0] == pytest.approx(copy)
    assert si_sdr(ref, noise, 16000) < -20


def test_zero_mean_option(rng):
    ref = rng.standard_normal(1000)
    est = ref + 0.1 * rng.standard_normal(1000)
    a = si_sdr(ref + 5.0, est + 5.0, 16000, zero_mean=True)
    np.testing.assert_allclose(a, si_sdr(ref - ref.mean(), est - est.mean(), 16000), rtol=1e-12)
    np.testing.assert_allclose(batched_si_sdr([ref + 5.0], [est + 5.0], 16000, zero_mean=True), [a], rtol=1e-12)


@pytest.mark.parametrize("fn", [si_sdr, si_sdr_paper])
def test_edge_cases(rng, fn):
    x = rng.standard_normal(800)
    with pytest.raises(InvalidAudioError, match="ref is silent"):
        fn(np.zeros(800), x, 16000)
    with pytest.raises(InvalidAudioError, match="est is silent"):
        fn(x, np.zeros(800), 16000)
    with pytest.raises(InvalidAudioError, match="same shape"):
        fn(x, x[:-1], 16000)
    with pytest.raises(InvalidAudioError, match="NaN"):
        fn(x, np.r_[x[:-1], np.nan], 16000)
    with pytest.raises(InvalidAudioError, match="empty"):
        fn(np.zeros(0), np.zeros(0), 16000)


@pytest.mark.parametrize("batched", [batched_si_sdr, batched_si_sdr_paper])
def test_batched_edge_cases(rng, batched):
    x = rng.standard_normal(800)
    with pytest.raises(InvalidAudioError, match="batch item 1: est is silent"):
        batched([x, x], [x, np.zeros(800)], 16000)


def test_pinned_values():
    # numpy 2.x, float64; closed forms: rho^2 = 0.8 -> paper ~ 10 log10(5); standard: 10 log10(0.8/0.2)
    t = np.arange(16000) / 16000
    ref = np.sin(2 * np.pi * 440 * t)
    est = np.sqrt(0.8) * ref + np.sqrt(0.2) * np.cos(2 * np.pi * 440 * t)
    np.testing.assert_allclose(si_sdr(ref, est, 16000), 10 * np.log10(4), rtol=1e-9)
    np.testing.assert_allclose(si_sdr_paper(ref, est, 16000), 6.9896653, atol=1e-6)


def test_an_exact_copy_is_a_valid_row_in_the_standard_profile(tmp_path, rng):
    """The best item must not turn into a failure ('si_sdr returned inf') and drop out of the means."""
    import soundfile as sf

    from codecbench_utils.metrics.compute import compute_metrics

    x = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    for d in ("ref", "est"):
        (tmp_path / d).mkdir()
        sf.write(tmp_path / d / "a.wav", x, 16000, subtype="FLOAT")
    df = compute_metrics(tmp_path / "ref", tmp_path / "est", profile="standard", metrics="si_sdr,mse", workers=0,
                         progress=False)
    assert df["status"].tolist() == ["ok"] and np.isfinite(df["si_sdr"].iloc[0]) and df["si_sdr"].iloc[0] > 100
