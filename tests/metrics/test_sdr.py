"""Tests for the fast BSS Eval v3 SDR against mir_eval.separation.bss_eval_sources."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal

from codecbench_utils.errors import InvalidAudioError
from codecbench_utils.metrics.sdr import batched_sdr, sdr

#: Same maths as mir_eval (FFT correlations, a checked Levinson or LU solve), other FFT sizes:
#: measured <= 1e-13 dB; the project-wide dB tolerance is 0.01.
ATOL_DB = 0.01
#: torch kernel vs NumPy per-item path, both float64.
ATOL_BATCHED_DB = 1e-6
RATES = [8000, 16000, 24000, 44100, 48000]


@pytest.fixture
def rng():
    return np.random.default_rng(21)


def _reference_sdr(ref, est, sr):
    """mir_eval's bss_eval_sources on 1-D inputs, as the paper's reference calls it."""
    from mir_eval.separation import bss_eval_sources

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in mir_eval 0.8, same maths
        return float(bss_eval_sources(np.asarray(ref, np.float64), np.asarray(est, np.float64))[0][0])


def _pair(rng, n, kind):
    """Varied test pairs: white / speech-like (AR) refs, gains, EQ, delays and noise."""
    w = rng.standard_normal(n)
    if kind == "white":
        ref = w
        est = 0.8 * ref + 0.1 * rng.standard_normal(n)
    elif kind == "ar":
        ref = scipy.signal.lfilter([1], [1, -1.8, 0.9], w)
        est = scipy.signal.lfilter([0.5, 0.3], [1], ref) + 0.05 * ref.std() * rng.standard_normal(n)
    elif kind == "delay":
        ref = scipy.signal.lfilter([1], [1, -0.9], w)
        est = 0.7 * np.r_[np.zeros(30), ref[:-30]] + 0.3 * rng.standard_normal(n)
    else:  # "noisy": mostly noise, SDR well below 0
        ref = w
        est = 0.1 * ref + rng.standard_normal(n)
    return ref, est


@pytest.mark.parametrize("kind", ["white", "ar", "delay", "noisy"])
@pytest.mark.parametrize("n", [512, 2001])
def test_matches_mir_eval(rng, kind, n):
    ref, est = _pair(rng, n, kind)
    np.testing.assert_allclose(sdr(ref, est, 16000), _reference_sdr(ref, est, 16000), atol=ATOL_DB)


@pytest.mark.parametrize("cutoff", [0.5, 0.1])
@pytest.mark.parametrize("noise", [1e-4, 0.3])
def test_band_limited_refs_match_mir_eval(rng, cutoff, noise):
    # ill-conditioned Gram matrices: the Levinson solve must either hold or hand over to LU
    ref = scipy.signal.lfilter(*scipy.signal.butter(8, cutoff), rng.standard_normal(6000))
    est = scipy.signal.lfilter([0.6, 0.2, -0.1], [1], ref) + noise * ref.std() * rng.standard_normal(6000)
    np.testing.assert_allclose(sdr(ref, est, 16000), _reference_sdr(ref, est, 16000), atol=ATOL_DB)


def test_singular_gram_falls_back_to_lu(monkeypatch, rng):
    import codecbench_utils.metrics.sdr as sdr_mod

    ref, est = _pair(rng, 3000, "ar")
    expected = _reference_sdr(ref, est, 16000)

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular principal minor")

    monkeypatch.setattr(sdr_mod.scipy.linalg, "solve_toeplitz", broken)
    np.testing.assert_allclose(sdr(ref, est, 16000), expected, atol=ATOL_DB)
    monkeypatch.setattr(sdr_mod.scipy.linalg, "solve_toeplitz", lambda *a, **k: np.full(512, 1e3))
    np.testing.assert_allclose(sdr(ref, est, 16000), expected, atol=ATOL_DB)  # a wrong answer is caught


def test_closed_form_energies_equal_the_explicit_projection(monkeypatch, rng):
    import codecbench_utils.metrics.sdr as sdr_mod

    ref = scipy.signal.lfilter(*scipy.signal.butter(8, 0.1), rng.standard_normal(6000))
    pairs = [_pair(rng, 3000, k) for k in ("white", "ar", "delay", "noisy")]
    pairs += [(ref, scipy.signal.lfilter([0.6, 0.2], [1], ref) + s * ref.std() * rng.standard_normal(6000))
              for s in (0.3, 1e-2, 1e-5)]  # ill-conditioned Gram; the last at ~85 dB: explicit anyway
    fast = [float(sdr(r, e, 16000)) for r, e in pairs]
    monkeypatch.setattr(sdr_mod, "CLOSED_FORM_RTOL", -1.0)  # never trusted: always filter explicitly
    explicit = [float(sdr(r, e, 16000)) for r, e in pairs]
    np.testing.assert_allclose(fast, explicit, atol=1e-9)
    np.testing.assert_allclose(fast, [_reference_sdr(r, e, 16000) for r, e in pairs], atol=ATOL_DB)


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rates_dtypes_and_leading_dims(rng, sr, dtype):
    n = 600  # the sample rate does not enter BSS Eval; it is only validated
    pairs = [_pair(rng, n, k) for k in ("white", "ar")]
    ref = np.stack([p[0] for p in pairs]).astype(dtype)
    est = np.stack([p[1] for p in pairs]).astype(dtype)
    out = sdr(ref, est, sr)
    assert out.shape == (2,) and out.dtype == np.float64
    np.testing.assert_allclose(out, [_reference_sdr(a, b, sr) for a, b in zip(ref, est)], atol=ATOL_DB)


def test_batched_torch_kernel_agrees(rng):
    pairs = [_pair(rng, n, k) for n, k in ((700, "white"), (4000, "ar"), (2500, "delay"), (5000, "noisy"))]
    refs, ests = [p[0] for p in pairs], [p[1] for p in pairs]
    expected = [sdr(r, e, 16000) for r, e in pairs]
    np.testing.assert_allclose(batched_sdr(refs, ests, 16000), expected, atol=ATOL_BATCHED_DB)
    np.testing.assert_allclose(batched_sdr(refs, ests, 16000, _force_torch=True), expected, atol=ATOL_BATCHED_DB)


@pytest.mark.gpu
def test_batched_cuda(rng):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    pairs = [_pair(rng, n, "ar") for n in (3000, 8000)]
    refs, ests = [p[0] for p in pairs], [p[1] for p in pairs]
    np.testing.assert_allclose(
        batched_sdr(refs, ests, 16000, device="cuda"), [sdr(r, e, 16000) for r, e in pairs], atol=ATOL_BATCHED_DB
    )


def test_filtering_is_not_penalized(rng):
    ref, _ = _pair(rng, 4000, "white")
    ref[-10:] = 0  # so that truncating the filtered signal to 4000 samples loses nothing
    est = scipy.signal.lfilter([0.5, -0.2, 0.1], [1], ref)  # an FIR shorter than 512 taps: all "target"
    assert sdr(ref, est, 16000) > 100


def test_edge_cases(rng):
    x = rng.standard_normal(1000)
    assert sdr(x, x, 16000) > 200  # exact copy: numerically huge (mir_eval gives ~3e2 too)
    with pytest.raises(InvalidAudioError, match="ref is silent"):
        sdr(np.zeros(1000), x, 16000)
    with pytest.raises(InvalidAudioError, match="est is silent"):
        sdr(x, np.zeros(1000), 16000)
    with pytest.raises(InvalidAudioError, match="batch item 1: est is silent"):
        batched_sdr([x, x], [x, np.zeros(1000)], 16000)
    with pytest.raises(InvalidAudioError, match=r"sdr needs >= 0\.032 s \(512 samples\)"):
        sdr(x[:511], x[:511], 16000)
    with pytest.raises(InvalidAudioError, match="same shape"):
        sdr(x, x[:-1], 16000)
    with pytest.raises(InvalidAudioError, match="NaN"):
        sdr(x, np.r_[x[:-1], np.nan], 16000)


def test_pinned_value():
    # mir_eval 0.8.2 bss_eval_sources gives the same to 1e-12 dB (scipy 1.17, numpy 2.x)
    t = np.arange(8000) / 16000
    ref = np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1234 * t)
    est = ref + 0.1 * np.sin(2 * np.pi * 3000 * t)
    np.testing.assert_allclose(sdr(ref, est, 16000), PINNED, atol=1e-6)


PINNED = 21.1109754
