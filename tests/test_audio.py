from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils import audio
from codecbench_utils.errors import InvalidAudioError


def test_load_wav_flac_ogg_roundtrip(tmp_path, rng):
    x = (0.5 * rng.standard_normal(8000)).clip(-1, 1).astype(np.float32)
    for ext, tol in ((".wav", 1e-4), (".flac", 1e-4)):
        p = tmp_path / f"a{ext}"
        sf.write(p, x, 8000, subtype="PCM_16")
        y, sr = audio.load_audio(p)
        assert sr == 8000 and y.dtype == np.float32 and y.shape == x.shape
        np.testing.assert_allclose(y, x, atol=tol)
    p = tmp_path / "a.ogg"
    sf.write(p, x, 8000, format="OGG", subtype="VORBIS")
    y, sr = audio.load_audio(p)
    assert sr == 8000 and abs(y.shape[0] - x.shape[0]) < 1000


def test_stereo_is_averaged_not_concatenated(tmp_path):
    left = np.full(1000, 0.2, np.float32)
    right = np.full(1000, -0.4, np.float32)
    p = tmp_path / "s.wav"
    sf.write(p, np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    y, _ = audio.load_audio(p)
    assert y.shape == (1000,)
    np.testing.assert_allclose(y, -0.1, atol=1e-6)
    y2, _ = audio.load_audio(p, mono=False)
    assert y2.shape == (1000, 2)


def test_mp3_and_m4a_through_pyav(tmp_path, rng):
    import av

    sr = 44100
    t = np.arange(sr) / sr
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    for ext, codec in ((".mp3", "libmp3lame"), (".m4a", "aac")):
        p = tmp_path / f"a{ext}"
        with av.open(str(p), "w") as c:
            s = c.add_stream(codec, rate=sr)
            s.layout = "mono"
            frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
            frame.sample_rate = sr
            for pkt in s.encode(frame):
                c.mux(pkt)
            for pkt in s.encode(None):
                c.mux(pkt)
        y, ysr = audio.load_audio(p)
        assert ysr == sr
        assert abs(y.shape[0] - sr) < 4096
        assert 0.1 < np.abs(y).max() < 0.5


@pytest.mark.parametrize("orig,target", [(44100, 16000), (16000, 48000), (22050, 24000), (8000, 8000)])
def test_resample_preserves_tone(orig, target):
    t = np.arange(orig) / orig
    x = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    y = audio.resample(x, orig, target)
    assert abs(y.shape[0] - target) <= 1
    ty = np.arange(y.shape[0]) / target
    ref = np.sin(2 * np.pi * 1000 * ty)
    mid = slice(target // 10, -target // 10)
    np.testing.assert_allclose(y[mid], ref[mid], atol=2e-3)


def test_load_with_target_rate(tmp_path, rng):
    p = tmp_path / "x.wav"
    sf.write(p, rng.standard_normal(22050).astype(np.float32) * 0.1, 22050, subtype="FLOAT")
    y, sr = audio.load_audio(p, sr=16000)
    assert sr == 16000 and y.shape == (16000,)


@pytest.mark.parametrize("content", [b"", b"not audio at all" * 10])
def test_corrupt_and_empty_files_raise(tmp_path, content):
    for ext in (".wav", ".mp3"):
        p = tmp_path / f"bad{ext}"
        p.write_bytes(content)
        with pytest.raises(InvalidAudioError, match="bad"):
            audio.load_audio(p)


def test_zero_length_wav_raises(tmp_path):
    p = tmp_path / "empty.wav"
    sf.write(p, np.zeros(0, np.float32), 16000)
    with pytest.raises(InvalidAudioError, match="0 samples"):
        audio.load_audio(p)


def test_missing_file_raises(tmp_path):
    with pytest.raises(InvalidAudioError, match="not found"):
        audio.load_audio(tmp_path / "nope.wav")


def test_check_audio_rejects_nan_and_stereo():
    with pytest.raises(InvalidAudioError, match="NaN"):
        audio.check_audio(np.array([0.0, np.nan], np.float32))
    with pytest.raises(InvalidAudioError, match="mono"):
        audio.check_audio(np.zeros((10, 2), np.float32))
    with pytest.raises(InvalidAudioError, match="empty"):
        audio.check_audio(np.zeros(0, np.float32))


@pytest.mark.parametrize("delay", [0, 1, 37, 480, -25])
def test_estimate_delay_and_shift(rng, delay):
    x = rng.standard_normal(4000)
    y = np.roll(x, delay) if delay >= 0 else np.roll(x, delay)
    if delay > 0:
        y[:delay] = 0
    elif delay < 0:
        y[delay:] = 0
    assert audio.estimate_delay(x, y) == delay
    if delay >= 0:
        aligned = audio.shift(y, delay)
        np.testing.assert_allclose(aligned[: 4000 - delay], x[: 4000 - delay])


def test_align_truncates_or_compensates(rng):
    x = rng.standard_normal(1000)
    y = np.concatenate([np.zeros(10), x])
    r, e = audio.align(x, y)
    assert r.shape == e.shape == (1000,)
    r, e = audio.align(x, y, compensate_delay=True)
    np.testing.assert_allclose(r, e)


def test_save_audio_is_atomic_and_clips(tmp_path):
    p = tmp_path / "sub" / "o.flac"
    audio.save_audio(p, np.array([0.0, 1.5, -2.0, 0.25], np.float32), 16000)
    y, sr = audio.load_audio(p)
    assert sr == 16000
    assert y.max() <= 1.0 and y.min() >= -1.0
    assert not list(p.parent.glob(".tmp-*"))


def test_published_files_are_readable_by_others(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        p = audio.save_audio(tmp_path / "o.wav", np.zeros(10, np.float32), 8000)
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644  # mkstemp alone would leave 0o600


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path):
    from codecbench_utils.atomic import atomic_path

    p = tmp_path / "index.jsonl"
    p.write_text("old\n")
    with pytest.raises(RuntimeError, match="killed"), atomic_path(p) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert p.read_text() == "old\n" and sorted(x.name for x in tmp_path.iterdir()) == ["index.jsonl"]
    with atomic_path(p) as tmp:
        assert tmp.parent == p.parent and tmp.suffix == ".jsonl" and tmp.name.startswith(".tmp-")
        tmp.write_text("new\n")
    assert p.read_text() == "new\n" and not tmp.exists()


# ---------------------------------------------------------------- robust delay (standard profile)
def _delay_signals() -> dict[str, np.ndarray]:
    from pathlib import Path

    import soundfile as sf

    sr = 16000
    t = np.arange(3 * sr) / sr
    out = {"harmonic": 0.3 * sum(np.sin(2 * np.pi * 160 * k * t) / k for k in range(1, 8)),
           "chord": 0.2 * sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0))}
    real = Path(__file__).resolve().parents[1].parent / "shared" / "real_audio" / "speech" / "lyra_sample1.flac"
    if real.is_file():
        out["speech"] = sf.read(real)[0]
    else:
        from conftest import make_signal

        out["speech"] = make_signal(np.random.default_rng(0), sr, 3.0).astype(np.float64)
    return out


def _late(x: np.ndarray, d: int) -> np.ndarray:
    return np.concatenate([np.zeros(d), x[: len(x) - d]]) if d >= 0 else np.concatenate([x[-d:], np.zeros(-d)])


@pytest.mark.parametrize("kind", ["speech", "harmonic", "chord"])
@pytest.mark.parametrize("delay", [0, 1, 10, 37, 100, 1000, -37])
def test_find_delay_exact_and_inverted_copies(kind, delay):
    x = _delay_signals()[kind]
    for sign in (1, -1):
        found = audio.find_delay(x, sign * _late(x, delay), max_delay_samples=8000)
        assert (found.samples, found.polarity, found.refused) == (delay, sign, False), found
        assert found.confidence == pytest.approx(sign, abs=1e-6)


@pytest.mark.parametrize("kind", ["speech", "harmonic", "chord"])
def test_find_delay_refuses_rather_than_cut_a_stretched_copy(kind):
    import soxr

    x = _delay_signals()[kind]
    stretched = soxr.resample(x, 16000, int(16000 * 1.005))[: len(x)]  # 0.5% slower
    found = audio.find_delay(x, stretched, max_delay_samples=8000)
    assert found.samples == 0 or abs(found.samples) <= 2, found  # never thousands of samples
    if found.samples == 0 and found.refused:
        assert "not shifted" in found.reason


def test_find_delay_under_noise_and_on_silence():
    rng = np.random.default_rng(1)
    x = _delay_signals()["speech"]
    noisy = _late(x, 37) + np.std(x) * rng.standard_normal(len(x))  # 0 dB
    assert audio.find_delay(x, noisy, max_delay_samples=8000).samples == 37
    periodic = _delay_signals()["harmonic"]  # a stationary tone in 0 dB noise: many lags fit, none is taken
    found = audio.find_delay(periodic, _late(periodic, 37) + np.std(periodic) * rng.standard_normal(len(periodic)),
                             max_delay_samples=8000)
    assert found.samples in (0, 37) and (found.samples == 37 or "ambiguous" in found.reason)
    silent = audio.find_delay(np.zeros(1000), x[:1000], max_delay_samples=100)
    assert silent.refused and silent.samples == 0 and "silent" in silent.reason


def test_standard_profile_records_delay_confidence_and_refusals(tmp_path):
    import soundfile as sf
    import soxr

    from codecbench_utils.metrics.compute import compute_metrics

    x = _delay_signals()["speech"].astype(np.float32)
    for d in ("ref", "est"):
        (tmp_path / d).mkdir()
    for name, est in (("inverted_late", -_late(x, 37)), ("stretched", soxr.resample(x, 16000, 16080)[: len(x)])):
        sf.write(tmp_path / "ref" / f"{name}.wav", x, 16000, subtype="FLOAT")
        sf.write(tmp_path / "est" / f"{name}.wav", est.astype(np.float32), 16000, subtype="FLOAT")
    df = compute_metrics(tmp_path / "ref", tmp_path / "est", profile="standard", metrics="si_sdr,mse", workers=0,
                         progress=False).set_index("item")
    inv = df.loc["inverted_late"]
    assert inv["delay_samples"] == 37 and inv["delay_confidence"] == pytest.approx(1.0) and inv["si_sdr"] > 100
    st = df.loc["stretched"]
    assert st["delay_samples"] == 0 and st["status"].startswith("ok; delay: not compensated")
