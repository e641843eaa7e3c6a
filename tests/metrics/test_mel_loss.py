"""Tests for mel_loss against the paper reference's torch computation, rewritten here."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError
from codecbench_utils.metrics.mel_loss import batched_mel_loss, mel_loss

#: Ours (NumPy rfft, float64) vs the reference's torch.stft path run in float64.
RTOL = 1e-9
#: Ours vs the reference's own float32 arithmetic (what the paper's numbers came from).
RTOL_FLOAT32 = 1e-4
#: Batched torch kernel vs per-item NumPy, both float64.
RTOL_BATCHED = 1e-10
#: precision="float32" (the paper profile's) vs "float64" on speech-like and codec-like audio.
RTOL_FLOAT32_VS_64 = 1e-5
RATES = [8000, 16000, 24000, 44100, 48000]


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def _reference_mel_loss(ref, est, sr, dtype=None):
    """reconstruct_evaluation/mel_loss.py::evaluate_mel_loss's inner loop for one pair (torch)."""
    import librosa
    import torch

    dtype = dtype or torch.float64
    r = torch.from_numpy(np.asarray(ref, np.float64)).to(dtype)[None]
    e = torch.from_numpy(np.asarray(est, np.float64)).to(dtype)[None]
    loss = 0.0
    for n_mel, wlen in zip([150, 80], [2048, 512]):
        window = torch.sqrt(torch.hann_window(wlen, periodic=True, dtype=dtype))
        kw = dict(n_fft=wlen, hop_length=wlen // 4, window=window, return_complex=True, center=True)
        r_mag = torch.stft(r, **kw).abs()
        e_mag = torch.stft(e, **kw).abs()
        basis = torch.from_numpy(librosa.filters.mel(sr=sr, n_fft=wlen, n_mels=n_mel, fmin=0.0, fmax=sr / 2)).to(dtype)
        r_mel = torch.matmul(r_mag.transpose(1, 2), basis.T).transpose(1, 2)
        e_mel = torch.matmul(e_mag.transpose(1, 2), basis.T).transpose(1, 2)
        l1 = torch.nn.L1Loss()
        loss += l1(r_mel.clamp(1e-5).pow(2.0).log10(), e_mel.clamp(1e-5).pow(2.0).log10())
        loss += l1(r_mel, e_mel)
    return float(loss)


def _pair(rng, shape, n, dtype):
    ref = (0.3 * rng.standard_normal(shape + (n,))).astype(dtype)
    est = (ref + 0.05 * rng.standard_normal(ref.shape)).astype(dtype)
    return ref, est


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (2,)])
def test_matches_reference(rng, sr, dtype, shape):
    n = sr // 5 + 11
    ref, est = _pair(rng, shape, n, dtype)
    out = mel_loss(ref, est, sr)
    assert out.shape == shape and out.dtype == np.float64
    expected = [_reference_mel_loss(a, b, sr) for a, b in zip(ref.reshape(-1, n), est.reshape(-1, n))]
    np.testing.assert_allclose(out, np.reshape(expected, shape), rtol=RTOL)


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_close_to_reference_float32(rng, precision):
    import torch

    ref, est = _pair(rng, (), 16000, np.float64)
    np.testing.assert_allclose(
        mel_loss(ref, est, 16000, precision=precision), _reference_mel_loss(ref, est, 16000, torch.float32),
        rtol=RTOL_FLOAT32,
    )


@pytest.mark.parametrize("seconds", [0.3, 2.0])
def test_float32_agrees_with_float64_on_speech(rng, signal, codec_like, seconds):
    import torch

    ref = signal(rng, 16000, seconds).astype(np.float64)
    for name, est in codec_like(rng, ref).items():
        est = est.astype(np.float32)
        exact = mel_loss(ref, est, 16000)
        fast = mel_loss(ref, est, 16000, precision="float32")
        np.testing.assert_allclose(fast, exact, rtol=RTOL_FLOAT32_VS_64, err_msg=name)
        reference = _reference_mel_loss(ref.astype(np.float32), est, 16000, torch.float32)
        np.testing.assert_allclose(fast, reference, rtol=RTOL_FLOAT32, err_msg=name)
    # a stacked batch gives each row's own value
    ests = np.stack(list(codec_like(rng, ref).values()))
    refs = np.broadcast_to(ref, ests.shape)
    np.testing.assert_allclose(mel_loss(refs, ests, 16000, precision="float32"),
                               [mel_loss(ref, e, 16000, precision="float32") for e in ests], rtol=1e-6)


def test_precision_is_checked(rng):
    x = 0.1 * rng.standard_normal(4000)
    with pytest.raises(ValueError, match="precision must be"):
        mel_loss(x, x, 16000, precision="float16")
    with pytest.raises(ValueError, match="precision must be"):
        batched_mel_loss([x], [x], 16000, precision="half")


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_batched_agrees(rng, precision):
    refs = [0.2 * rng.standard_normal(n) for n in (1025, 7000, 16000, 4099)]
    ests = [r + s * rng.standard_normal(len(r)) for r, s in zip(refs, (0.01, 0.1, 0.3, 1.0))]
    out = batched_mel_loss(refs, ests, 16000, precision=precision)
    assert out.shape == (4,)
    rtol = RTOL_BATCHED if precision == "float64" else RTOL_FLOAT32
    expected = [mel_loss(r, e, 16000, precision=precision) for r, e in zip(refs, ests)]
    np.testing.assert_allclose(out, expected, rtol=rtol)


def test_edge_cases(rng):
    x = 0.1 * rng.standard_normal(4000)
    assert mel_loss(x, x, 16000) == 0.0
    assert mel_loss(x, x, 16000, precision="float32") == 0.0
    # silence is defined: both sides clamp to 1e-5, so the loss is 0
    assert mel_loss(np.zeros(4000), np.zeros(4000), 16000) == 0.0
    with pytest.raises(InvalidAudioError, match=r"lasts 0\.064 s .* mel_loss needs >= 0\.0641 s \(1025 samples\)"):
        mel_loss(np.ones(1024), np.ones(1024), 16000)
    with pytest.raises(InvalidAudioError, match="batch item 1: .*needs"):
        batched_mel_loss([x, x[:1000]], [x, x[:1000]], 16000)
    with pytest.raises(InvalidAudioError, match="same shape"):
        mel_loss(x, x[:-1], 16000)
    with pytest.raises(InvalidAudioError, match="NaN"):
        mel_loss(x, np.r_[x[:-1], np.nan], 16000)


def test_pinned_value():
    # librosa 0.11.0 mel filters, numpy 2.x, float64
    t = np.arange(16000) / 16000
    ref = 0.5 * np.sin(2 * np.pi * 440 * t)
    est = 0.5 * np.sin(2 * np.pi * 445 * t)
    np.testing.assert_allclose(mel_loss(ref, est, 16000), PINNED, rtol=1e-7)


PINNED = 0.9426167465


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize(("n_fft", "n_mels"), [(2048, 150), (512, 80)])
def test_mel_filters_equal_librosa(sr, n_fft, n_mels):
    import librosa

    from codecbench_utils.metrics.mel_loss import _mel_basis

    expected = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=0.0, fmax=sr / 2)
    np.testing.assert_array_equal(_mel_basis(sr, n_fft, n_mels), expected.astype(np.float64))
