"""Classical codecs (PyAV/FFmpeg and Codec2): alignment, length, bitrate, edge cases.

Alignment is checked against references independent of how the codec removes
its delay: the cross-correlation peak of a broadband signal (waveform codecs),
the phase of steady sinusoids (AMR-NB, whose 80 Hz input high-pass filter
shifts the phase of low harmonics and so biases a broadband cross-correlation),
and the energy envelope of gated vowels (Codec2, which synthesizes its output
phase, so no waveform reference exists).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.signal as ss

from codecbench_utils.audio import estimate_delay
from codecbench_utils.codecs.base import CodecSpec
from codecbench_utils.codecs.classical import CODEC2_DELAY_SAMPLES, Codec2Codec, PyAVCodec
from codecbench_utils.codecs.registry import get_spec, load_codec
from codecbench_utils.errors import CodecRuntimeError, InvalidAudioError, MissingDependencyError

OPUS_IDS = ["opus_6k", "opus_12k", "opus_24k"]
WAVEFORM_IDS = [*OPUS_IDS, "mp3_32k", "mp3_64k", "aac_32k", "aac_64k", "g722_64k"]
PYAV_IDS = [*WAVEFORM_IDS, "amrnb_12k2"]
CODEC2_IDS = ["codec2_700c", "codec2_1200", "codec2_3200"]
ALL_IDS = [*PYAV_IDS, *CODEC2_IDS]

#: MP3, AAC and G.722 reproduce the waveform: the delay must vanish (±1 sample for rounding of
#: the correlation peak).
DELAY_TOL_SAMPLES = 1
#: Opus at these rates runs SILK (alone or in hybrid mode), whose decoder resamples with an IIR
#: upsampler; its delay does not match the 312-sample pre-skip exactly: measured -3..+2 samples
#: at 48 kHz (CELT-only at 96 kbps: 0). ±3 at 48 kHz is ±1 sample at 16 kHz, the metrics' rate.
OPUS_DELAY_TOL_SAMPLES = 3
#: AMR-NB: delay from the phase of steady tones (0.6-2.9 kHz, above the 80 Hz high-pass's
#: phase lead); measured max deviation 0.41 samples.
AMR_TONE_TOL_SAMPLES = 1.0
#: Codec2: lag of the 40 ms energy envelope of 12 s of gated vowels. Synthesized phase and
#: interpolated energies smear onsets, so the envelope only pins the delay to a few ms: over
#: five seeds the residual was -8..+9 (3200), +17..+28 (1200), -5..+26 (700C) samples. Half
#: a 10 ms sub-frame (40 samples) still fails a delay that is off by one sub-frame (80).
CODEC2_ENVELOPE_TOL_SAMPLES = 40
#: Real stream bitrate vs nominal over 4 s: Opus and AAC are VBR/ABR, MP3/G.722 add the
#: frames that cover the encoder delay, AMR-NB stores a TOC byte per frame (12.8 vs 12.2),
#: Codec2 700C stores 28 bits in 4 bytes (0.8 vs 0.7).
BITRATE_RTOL = 0.25

#: Encoder delay FFmpeg reports as the first packet's -pts (FFmpeg in PyAV 18.1 wheels):
#: Opus pre-skip, LAME encoder delay + mp3 decoder delay (576 + 529), AAC priming, the
#: libopencore-amr wrapper's value, G.722 QMF delay.
EXPECTED_PTS_DELAY = {
    "opus_6k": 312,
    "mp3_32k": 1105,
    "aac_32k": 1024,
    "amrnb_12k2": 50,
    "g722_64k": 22,
}


def _codec(codec_id: str):
    spec = get_spec(codec_id)
    cls = Codec2Codec if spec.backend == "codec2" else PyAVCodec
    reason = cls.available(spec)
    if reason is not None:
        pytest.skip(reason)
    return load_codec(spec)


def _vowels(rng: np.random.Generator, sr: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Gated synthetic vowels: a 100-200 Hz pulse train through three formant resonators,
    in bursts of 150-300 ms with sharp onsets, 80-200 ms apart. Returns (signal, gate)."""
    n = int(sr * seconds)
    t = np.arange(n) / sr
    f0 = 150 + 50 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 2 * np.pi))
    cycles = np.cumsum(f0) / sr
    pulses = (np.diff(np.floor(cycles), prepend=0.0) > 0).astype(float)
    source = ss.lfilter([1.0], [1.0, -0.95], pulses)
    x = np.zeros(n)
    for freq, bw in ((700, 80), (1200, 100), (2600, 150)):
        r = np.exp(-np.pi * bw / sr)
        x += ss.lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * freq / sr), r * r], source)
    gate = np.zeros(n)
    i = int(0.05 * sr)
    while i < n:
        length = int(rng.uniform(0.15, 0.3) * sr)
        gate[i : i + length] = 1.0
        i += length + int(rng.uniform(0.08, 0.2) * sr)
    x *= gate
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32), gate


def _tone_delay(codec, freqs: tuple[float, ...]) -> float:
    """Delay of ``codec`` from the phases of steady sinusoids: the integer-or-fractional lag
    (in [-300, 300], step 1/4) most consistent with every tone's phase lag (modulo its period)."""
    sr = codec.sample_rate
    n = 2 * sr
    t = np.arange(n) / sr
    lags, periods = [], []
    for f in freqs:
        x = (0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32)
        y = codec.resynthesize(x).wav
        mid = slice(sr // 2, n - sr // 4)  # steady state only
        basis = np.stack([np.sin(2 * np.pi * f * t[mid]), np.cos(2 * np.pi * f * t[mid])], axis=1)
        (a, b), *_ = np.linalg.lstsq(basis, y[mid].astype(np.float64), rcond=None)
        lags.append(-np.arctan2(b, a) / (2 * np.pi * f) * sr)
        periods.append(sr / f)
    lags_a, periods_a = np.array(lags), np.array(periods)
    cand = np.arange(-300, 300.001, 0.25)
    err = np.abs((cand[:, None] - lags_a[None] + periods_a / 2) % periods_a - periods_a / 2).max(axis=1)
    return float(cand[np.argmin(err)])


def _envelope_delay(x: np.ndarray, y: np.ndarray, sr: int) -> int:
    """Lag of ``y`` behind ``x`` from the cross-correlation of their energy envelopes
    (squared signal averaged over 40 ms), searched within ±75 ms."""
    w = int(0.04 * sr)
    kernel = np.ones(w) / w
    ex = np.convolve(x.astype(np.float64) ** 2, kernel, mode="same")
    ey = np.convolve(y.astype(np.float64) ** 2, kernel, mode="same")
    return estimate_delay(ex, ey, max_delay_samples=int(0.075 * sr))


# -- specs and availability ---------------------------------------------------------------------


@pytest.mark.parametrize("codec_id", ALL_IDS)
def test_spec_loads_and_is_available(codec_id):
    spec = get_spec(codec_id)
    assert spec.family == "classical" and spec.kbps and spec.description
    codec = _codec(codec_id)
    assert codec.sample_rate == spec.sample_rate


def test_missing_encoder_is_reported():
    spec = CodecSpec(id="nope", family="classical", backend="pyav", sample_rate=16000, kbps=8.0,
                     options={"encoder": "libdoesnotexist"})
    reason = PyAVCodec.available(spec)
    assert reason is not None and "libdoesnotexist" in reason and "not in this PyAV build" in reason
    with pytest.raises(MissingDependencyError, match="libdoesnotexist"):
        load_codec(spec)


def test_bad_pyav_settings_are_reported():
    spec = get_spec("opus_24k")
    typo = dataclasses.replace(spec, options={**spec.options, "encoder_options": {"vbrr": "on"}})
    assert "vbrr" in PyAVCodec.available(typo)
    with pytest.raises(CodecRuntimeError, match="vbrr"):
        load_codec(typo)
    bad_rate = dataclasses.replace(spec, sample_rate=44100)
    assert "44100" in PyAVCodec.available(bad_rate)


def test_bad_codec2_settings_are_reported():
    spec = get_spec("codec2_3200")
    assert "mode" in Codec2Codec.available(dataclasses.replace(spec, options={"mode": "9999"}))
    assert "8000" in Codec2Codec.available(dataclasses.replace(spec, sample_rate=16000))
    with pytest.raises(CodecRuntimeError, match="9999"):
        load_codec(dataclasses.replace(spec, options={"mode": "9999"}))


# -- alignment ----------------------------------------------------------------------------------


@pytest.mark.parametrize("codec_id", WAVEFORM_IDS)
def test_waveform_codecs_are_aligned(codec_id, rng, signal):
    codec = _codec(codec_id)
    sr = codec.sample_rate
    x = signal(rng, sr, seconds=2.0)
    res = codec.resynthesize(x)
    assert res.wav.shape == x.shape and res.wav.dtype == np.float32 and res.sample_rate == sr
    tol = OPUS_DELAY_TOL_SAMPLES if codec_id in OPUS_IDS else DELAY_TOL_SAMPLES
    delay = estimate_delay(x, res.wav, max_delay_samples=sr // 50)
    assert abs(delay) <= tol, f"{codec_id}: residual delay {delay} samples"
    # the same on gated vowels (sharp onsets, no 120 Hz fundamental)
    v, _ = _vowels(rng, sr, seconds=2.0)
    delay_v = estimate_delay(v, codec.resynthesize(v).wav, max_delay_samples=sr // 50)
    assert abs(delay_v) <= tol, f"{codec_id}: residual delay on vowels {delay_v} samples"


@pytest.mark.parametrize("codec_id", ["mp3_64k", "aac_32k", "g722_64k", "opus_24k"])
def test_waveform_codecs_tone_phase_delay_is_zero(codec_id):
    codec = _codec(codec_id)
    tol = OPUS_DELAY_TOL_SAMPLES if codec_id in OPUS_IDS else DELAY_TOL_SAMPLES
    assert abs(_tone_delay(codec, (611.0, 1000.0, 1361.0, 1733.0, 2411.0))) <= tol


def test_amrnb_is_aligned(rng, signal):
    codec = _codec("amrnb_12k2")
    x = signal(rng, 8000, seconds=1.0)
    assert codec.resynthesize(x).wav.shape == x.shape
    delay = _tone_delay(codec, (611.0, 1000.0, 1361.0, 1733.0, 2411.0, 2903.0))
    assert abs(delay) <= AMR_TONE_TOL_SAMPLES, f"amrnb residual delay {delay} samples"
    v, _ = _vowels(rng, 8000, seconds=2.0)
    assert abs(estimate_delay(v, codec.resynthesize(v).wav, max_delay_samples=160)) <= DELAY_TOL_SAMPLES


@pytest.mark.parametrize("codec_id", CODEC2_IDS)
def test_codec2_is_aligned_by_energy_envelope(codec_id, rng):
    codec = _codec(codec_id)
    x, _ = _vowels(rng, 8000, seconds=12.0)
    res = codec.resynthesize(x)
    assert res.wav.shape == x.shape
    delay = _envelope_delay(x, res.wav, 8000)
    assert abs(delay) <= CODEC2_ENVELOPE_TOL_SAMPLES, f"{codec_id}: residual envelope delay {delay} samples"
    # the check has power: the uncorrected decoder output lags by the documented delay
    state = codec._state()
    raw = np.concatenate([state.decode(f) for f in codec.encode(x).codes])[: x.shape[0]] / 32768.0
    mode = str(get_spec(codec_id).options["mode"])
    assert abs(_envelope_delay(x, raw, 8000) - CODEC2_DELAY_SAMPLES[mode]) <= CODEC2_ENVELOPE_TOL_SAMPLES


@pytest.mark.parametrize("codec_id", list(EXPECTED_PTS_DELAY))
def test_encoder_reported_delay(codec_id, rng, signal):
    codec = _codec(codec_id)
    enc = codec.encode(signal(rng, codec.sample_rate, seconds=0.2))
    assert enc.codes.delay_samples == EXPECTED_PTS_DELAY[codec_id]


# -- bitrate ------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec_id", ALL_IDS)
def test_bitrate_is_real_stream_size_near_nominal(codec_id, rng, signal):
    codec = _codec(codec_id)
    x = signal(rng, codec.sample_rate, seconds=4.0)
    enc = codec.encode(x)
    nominal = get_spec(codec_id).kbps
    assert enc.bitrate_kbps == pytest.approx(nominal, rel=BITRATE_RTOL)
    if codec_id in CODEC2_IDS:  # fixed-size frames: exact
        c2 = codec._state()
        n_frames = -(-x.shape[0] // c2.samples_per_frame())
        assert enc.n_bits == 8 * c2.bytes_per_frame() * n_frames
    else:  # the packets that cover the input, nothing else
        stream = enc.codes
        assert enc.n_bits == 8 * sum(len(b) for b, p in zip(stream.packets, stream.pts) if p < x.shape[0])


def test_g722_bitrate_is_exact(rng, signal):
    codec = _codec("g722_64k")
    x = signal(rng, 16000, seconds=2.0)
    enc = codec.encode(x)
    # 4 bits per input sample; packets of 320 samples start at -22, so ceil((n + 22) / 320) of them
    n_packets = -(-(x.shape[0] + 22) // 320)
    assert enc.n_bits == n_packets * 320 * 4


# -- edge cases, determinism --------------------------------------------------------------------


@pytest.mark.parametrize("codec_id", ALL_IDS)
def test_short_and_silent_inputs(codec_id, rng):
    codec = _codec(codec_id)
    for n in (1, 7, 159, 321):
        x = (0.3 * rng.standard_normal(n)).astype(np.float32)
        res = codec.resynthesize(x)
        assert res.wav.shape == (n,) and np.all(np.isfinite(res.wav))
        assert res.bitrate_kbps is not None and res.bitrate_kbps > 0
    silence = np.zeros(codec.sample_rate // 2, dtype=np.float32)
    out = codec.resynthesize(silence).wav
    assert out.shape == silence.shape
    assert np.max(np.abs(out)) < 1e-2


@pytest.mark.parametrize("codec_id", ["opus_6k", "g722_64k", "codec2_3200"])
def test_invalid_input_raises(codec_id):
    codec = _codec(codec_id)
    with pytest.raises(InvalidAudioError, match="empty"):
        codec.encode(np.zeros(0, dtype=np.float32))
    with pytest.raises(InvalidAudioError, match="NaN"):
        codec.encode(np.full(100, np.nan, dtype=np.float32))
    with pytest.raises(InvalidAudioError, match="mono"):
        codec.encode(np.zeros((100, 2), dtype=np.float32))


@pytest.mark.parametrize("codec_id", ALL_IDS)
def test_deterministic(codec_id, rng, signal):
    codec = _codec(codec_id)
    x = signal(rng, codec.sample_rate, seconds=0.5)
    a, b = codec.encode(x), codec.encode(x)
    packets = (lambda e: e.codes.packets) if codec_id in PYAV_IDS else (lambda e: e.codes)
    assert packets(a) == packets(b) and a.n_bits == b.n_bits
    np.testing.assert_array_equal(codec.decode(a), codec.decode(b))


@pytest.mark.parametrize(
    ("codec_id", "min_snr_db"),
    [("mp3_64k", 15.0), ("aac_64k", 15.0), ("g722_64k", 20.0), ("opus_24k", 10.0)],
)
def test_waveform_quality_sanity(codec_id, min_snr_db, rng, signal):
    """A broken alignment or a silent decoder would fail this (measured 17-31 dB)."""
    codec = _codec(codec_id)
    x = signal(rng, codec.sample_rate, seconds=2.0)
    y = codec.resynthesize(x).wav
    snr = 10 * np.log10(np.sum(x.astype(np.float64) ** 2) / np.sum((x - y).astype(np.float64) ** 2))
    assert snr >= min_snr_db


@pytest.mark.parametrize("codec_id", ["amrnb_12k2", *CODEC2_IDS])
def test_parametric_codecs_keep_the_level(codec_id, rng):
    codec = _codec(codec_id)
    x, _ = _vowels(rng, 8000, seconds=2.0)
    y = codec.resynthesize(x).wav
    ratio = float(np.sqrt(np.mean(y.astype(np.float64) ** 2) / np.mean(x.astype(np.float64) ** 2)))
    assert 0.3 < ratio < 3.0


@pytest.mark.parametrize("codec_id", ["aac_32k", "codec2_3200"])
def test_resynthesis_driver_writes_aligned_files(codec_id, tmp_path, rng, signal):
    """Through the driver: 16 kHz input is resampled to the codec's rate and comes back as long."""
    import soundfile as sf

    from codecbench_utils.codecs.resynth import read_index, resynthesize
    from codecbench_utils.data.manifest import ManifestItem

    x = signal(rng, 16000, seconds=0.7)
    sf.write(tmp_path / "a.wav", x, 16000, subtype="PCM_16")
    item = ManifestItem(id="a", dataset="t", category="speech", path="a.wav", duration=0.7, sample_rate=16000)
    summary = resynthesize(codec_id, [item], tmp_path / "out", manifest_dir=tmp_path, progress=False)
    assert summary.n_done == 1 and summary.n_failed == 0
    y, sr = sf.read(tmp_path / "out" / "a.flac")
    assert sr == get_spec(codec_id).sample_rate and y.shape[0] == round(0.7 * sr)
    rec = read_index(tmp_path / "out")["a"]
    assert rec.status == "ok" and rec.bitrate_kbps == pytest.approx(get_spec(codec_id).kbps, rel=0.35)
