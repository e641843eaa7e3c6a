"""Profiles prepare pairs the way the paper's reference code / our standard does."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.audio import resample as soxr_resample
from codecbench_utils.errors import UnknownNameError
from codecbench_utils.metrics import profiles
from codecbench_utils.metrics.registry import PAPER_METRICS
from codecbench_utils.metrics.resample import resample_torchaudio

EXACT = dict(rtol=0, atol=0)


def test_paper_pair_resamples_like_reference_and_truncates(signal, rng):
    ref = signal(rng, 24000, 1.0)
    est = signal(rng, 24000, 1.1)
    p = profiles.prepare_pair(ref, 24000, est, 24000, profile="paper", metrics=profiles.METRICS)
    r16 = resample_torchaudio(ref.astype(np.float32), 24000, 16000)
    e16 = resample_torchaudio(est.astype(np.float32), 24000, 16000)
    n = min(r16.size, e16.size)
    np.testing.assert_allclose(p.ref, r16[:n], **EXACT)
    np.testing.assert_allclose(p.est, e16[:n], **EXACT)
    assert p.ref.dtype == np.float32 and p.sr == 16000 and p.delay_samples == 0
    assert p.pesq_nb[2] == 16000  # the reference runs PESQ-NB at fs=16000
    vr, ve, vsr, mode = p.visqol
    assert (vsr, mode) == (48000, "audio") and vr.size == ve.size >= 48000
    sr_, se_, _ = p.sim  # SIM sees the whole files, not the truncated pair
    assert se_.size == e16.size and sr_.size == r16.size


def test_paper_keeps_float64_at_16k_and_pads_visqol(signal, rng):
    x = signal(rng, 16000, 0.6).astype(np.float64)
    p = profiles.prepare_pair(x, 16000, x[:-100], 16000, profile="paper", metrics=("mse", "visqol"))
    assert p.ref.dtype == np.float64 and p.ref.size == x.size - 100
    assert p.visqol[0].size == 48000  # padded to 1 s at 48 kHz, as the reference does
    assert p.pesq_nb is None and p.sim is None


def test_standard_compensates_delay(signal, rng):
    x = signal(rng, 16000, 1.0)
    delay = 37
    est = np.concatenate([np.zeros(delay, np.float32), x])[: x.size]
    p = profiles.prepare_pair(x, 16000, est, 16000, profile="standard", metrics=("mse", "pesq_nb"),
                              category="speech")
    assert p.delay_samples == delay
    np.testing.assert_allclose(p.est, p.ref[: p.est.size], atol=1e-6)
    nb_r, nb_e, nb_sr = p.pesq_nb
    assert nb_sr == 8000 and nb_r.size == nb_e.size
    np.testing.assert_allclose(nb_r, soxr_resample(p.ref.astype(np.float32), 16000, 8000), rtol=1e-6, atol=1e-6)


def test_standard_visqol_mode_follows_category(signal, rng):
    x = signal(rng, 16000, 1.0)
    speech = profiles.prepare_pair(x, 16000, x, 16000, profile="standard", metrics=("visqol",), category="speech")
    music = profiles.prepare_pair(x, 16000, x, 16000, profile="standard", metrics=("visqol",), category="music")
    assert speech.visqol[2:] == (16000, "speech") and music.visqol[2:] == (48000, "audio")


def test_specs_and_validity():
    paper, std = profiles.metric_specs("paper"), profiles.metric_specs("standard")
    assert set(paper) == set(profiles.METRICS)
    assert paper["si_sdr"].fn == "si_sdr_paper" and std["si_sdr"].fn == "si_sdr"
    assert {m for m, s in paper.items() if s.kind == "pool" and m in PAPER_METRICS} == {"pesq_nb", "pesq_wb", "sdr",
                                                                                        "visqol"}
    assert not profiles.metric_is_valid("pesq_wb", "music", "standard")
    assert profiles.metric_is_valid("pesq_wb", "music", "paper")
    assert "speech only" in profiles.validity_note("stoi")
    with pytest.raises(UnknownNameError, match="paper"):
        profiles.get_profile("nope")


def test_paper_profile_uses_the_reference_stoi_port_and_standard_uses_pystoi():
    paper = profiles.metric_specs("paper")
    standard = profiles.metric_specs("standard")
    assert (paper["stoi"].fn, paper["stoi"].batched) == ("stoi_paper", "batched_stoi_paper")
    # fast_stoi: pystoi semantics in vectorized NumPy (checked against pystoi in test_stoi.py)
    assert (standard["stoi"].fn, standard["stoi"].batched) == ("fast_stoi", "batched_stoi")
    assert paper["si_sdr"].fn == "si_sdr_paper" and standard["si_sdr"].fn == "si_sdr"
    assert callable(paper["stoi"].function()) and callable(paper["stoi"].batched_function())


def _fractional_copy(x: np.ndarray, delay: float) -> np.ndarray:
    """``x`` delayed by a non-integer number of samples (band-limited FFT shift, independent of our filter)."""
    n = x.size
    nfft = 1 << (n + 4096).bit_length()
    f = np.fft.rfftfreq(nfft)
    return np.fft.irfft(np.fft.rfft(x, nfft) * np.exp(-2j * np.pi * f * delay), nfft)[:n]


def _speech() -> np.ndarray:
    from pathlib import Path

    import soundfile as sf

    real = Path(__file__).resolve().parents[2].parent / "shared" / "real_audio" / "speech" / "lyra_sample1.flac"
    if real.is_file():
        return sf.read(real)[0]
    from scipy.signal import lfilter

    rng = np.random.default_rng(5)  # band-limited noise bursts stand in for speech
    x = lfilter([1.0], [1.0, -0.9], rng.standard_normal(48000)) * (np.sin(np.arange(48000) / 900) > 0)
    return 0.3 * x / np.abs(x).max()


@pytest.mark.parametrize("delay", [10.5, 37.25, 3.8, -6.7])
@pytest.mark.parametrize("polarity", [1, -1])
def test_standard_removes_sub_sample_delays(delay, polarity):
    from codecbench_utils.metrics.si_sdr import si_sdr

    x = _speech()
    est = polarity * _fractional_copy(x, delay)
    p = profiles.prepare_pair(x, 16000, est, 16000, profile="standard", metrics=("si_sdr",), category="speech")
    assert p.delay_samples == pytest.approx(delay, abs=0.02)
    value = si_sdr(p.ref, polarity * p.est, 16000)
    whole = profiles.prepare_pair(x, 16000, np.round(polarity * _fractional_copy(x, round(delay)), 12), 16000,
                                  profile="standard", metrics=("si_sdr",), category="speech")
    assert whole.delay_samples == round(delay)  # whole-sample copies are left exact (no interpolation)
    assert value > 40.0  # integer alignment alone caps it near 15-23 dB on these delays


def test_fractional_delay_of_unrelated_signals_is_not_applied(rng):
    from codecbench_utils.metrics.si_sdr import si_sdr

    x, y = rng.standard_normal(16000), rng.standard_normal(16000)
    p = profiles.prepare_pair(x, 16000, y, 16000, profile="standard", metrics=("si_sdr",), category="speech")
    assert p.delay_samples == 0 and "not compensated" in p.notes["delay"] and p.ref.size == 16000
    assert si_sdr(p.ref, p.est, 16000) < 0
