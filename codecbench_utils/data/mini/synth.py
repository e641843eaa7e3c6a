"""Signal synthesis for the mini corpus: instrument notes, chords, sound events, espeak-ng speech."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence

import numpy as np

from ...audio import resample
from ...errors import InvalidAudioError, UnknownNameError

logger = logging.getLogger(__name__)

#: The classes the synthesizers know (the plan draws its labels from these).
INSTRUMENTS: tuple[str, ...] = ("brass", "flute", "guitar", "mallet", "organ", "string")
CHORDS: tuple[str, ...] = ("major", "minor")
SOUND_CLASSES: tuple[str, ...] = ("bell", "dog_bark", "engine", "knock", "rain", "siren")

# ---------------------------------------------------------------- signal helpers
def _rng(item_id: str) -> np.random.Generator:
    """A generator seeded from the item id only, so an item never depends on the others."""
    digest = hashlib.sha256(f"codecbench-mini:{item_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def _envelope(n: int, sr: int, attack_s: float, release_s: float) -> np.ndarray:
    """Linear attack and release ramps around a flat sustain."""
    env = np.ones(n)
    a = min(max(int(attack_s * sr), 1), n)
    r = min(max(int(release_s * sr), 1), n - a) if n > a else 0
    env[:a] = np.linspace(0.0, 1.0, a, endpoint=False)
    if r > 0:
        env[n - r :] *= np.linspace(1.0, 0.0, r)
    return env


def _phase(
    f0: float,
    n: int,
    sr: int,
    *,
    vibrato_hz: float = 0.0,
    vibrato_depth: float = 0.0,
    vibrato_delay_s: float = 0.0,
) -> np.ndarray:
    """Running phase (radians) of a tone at ``f0`` with an optional delayed vibrato."""
    t = np.arange(n) / sr
    f = np.full(n, f0)
    if vibrato_depth > 0:
        ramp = np.clip((t - vibrato_delay_s) / 0.2, 0.0, 1.0)
        f = f * (1.0 + vibrato_depth * ramp * np.sin(2 * np.pi * vibrato_hz * t))
    return 2 * np.pi * np.cumsum(f) / sr


def _additive(
    phase: np.ndarray, f0: float, sr: int, ratios: Sequence[float], amps: Sequence[float]
) -> np.ndarray:
    """Sum of sines at ``ratios`` x phase, dropping partials above 0.45 sr (no aliasing)."""
    out = np.zeros(phase.shape[0])
    for ratio, amp in zip(ratios, amps, strict=True):
        if ratio * f0 < 0.45 * sr:
            out += amp * np.sin(ratio * phase)
    return out


def _bandpass(x: np.ndarray, sr: int, lo_hz: float, hi_hz: float, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    hi_hz = min(hi_hz, 0.45 * sr)
    sos = butter(order, [lo_hz, hi_hz], btype="bandpass", fs=sr, output="sos")
    return sosfilt(sos, x)


def _lowpass(x: np.ndarray, sr: int, cutoff_hz: float, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    sos = butter(order, min(cutoff_hz, 0.45 * sr), btype="lowpass", fs=sr, output="sos")
    return sosfilt(sos, x)


def _highpass(x: np.ndarray, sr: int, cutoff_hz: float, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    sos = butter(order, cutoff_hz, btype="highpass", fs=sr, output="sos")
    return sosfilt(sos, x)


def _resonance(x: np.ndarray, sr: int, freq_hz: float, bandwidth_hz: float) -> np.ndarray:
    """Two-pole resonator (a formant or a body mode)."""
    from scipy.signal import lfilter

    r = math.exp(-math.pi * bandwidth_hz / sr)
    theta = 2 * math.pi * freq_hz / sr
    return lfilter([1.0 - r], [1.0, -2.0 * r * math.cos(theta), r * r], x)


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f power) noise by spectral shaping of white noise, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _finish(wav: np.ndarray, peak_dbfs: float, item_id: str) -> np.ndarray:
    """Remove DC, check finite and non-silent, scale the peak to ``peak_dbfs`` (< 0)."""
    wav = np.asarray(wav, dtype=np.float64)
    wav = wav - wav.mean()
    if not np.all(np.isfinite(wav)):
        raise InvalidAudioError(f"mini: generated audio for '{item_id}' is not finite", item_id=item_id)
    peak = float(np.max(np.abs(wav)))
    if peak < 1e-6:
        raise InvalidAudioError(f"mini: generated audio for '{item_id}' is silent", item_id=item_id)
    return (wav * (10.0 ** (min(peak_dbfs, -0.1) / 20.0) / peak)).astype(np.float32)


# ---------------------------------------------------------------- music
def synth_note(family: str, midi: float, duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One note of an instrument-like timbre (float64, unnormalized).

    Parameters
    ----------
    family : {"brass", "flute", "guitar", "mallet", "organ", "string"}
        ``brass``: FM with a brightening attack; ``flute``: near-sine with breath
        noise and vibrato; ``guitar``: Karplus-Strong plucked string; ``mallet``:
        inharmonic, fast-decaying partials (marimba ratios 1, 3.9, 9.2);
        ``organ``: drawbar harmonics, flat envelope; ``string``: bowed sawtooth,
        slow attack, vibrato.
    midi : float
        Pitch as a MIDI note number (69 = A4 = 440 Hz).
    duration_s : float
        Length in seconds, release included.
    sr : int
        Sample rate in Hz.
    rng : np.random.Generator
        Source of the small random variations (noise, detuning).

    Returns
    -------
    np.ndarray, shape (round(duration_s * sr),), float64

    Examples
    --------
    >>> x = synth_note("organ", 60, 0.5, 16000, np.random.default_rng(0))
    >>> x.shape
    (8000,)
    """
    n = int(round(duration_s * sr))
    f0 = _midi_hz(midi) * (1.0 + rng.uniform(-0.002, 0.002))
    t = np.arange(n) / sr
    if family == "string":
        ph = _phase(f0, n, sr, vibrato_hz=5.5, vibrato_depth=0.006, vibrato_delay_s=0.15)
        k = np.arange(1, 41)
        y = _additive(ph, f0, sr, k, 1.0 / k)
        y = y + 0.6 * _resonance(y, sr, 2500.0, 800.0)  # a bright body resonance
        return y * _envelope(n, sr, 0.15, 0.15)
    if family == "brass":
        ph = _phase(f0, n, sr)
        index = 0.5 + 4.5 * np.clip(t / 0.08, 0.0, 1.0) * np.exp(-t / 1.5)
        return np.sin(ph + index * np.sin(ph)) * _envelope(n, sr, 0.04, 0.1)
    if family == "flute":
        ph = _phase(f0, n, sr, vibrato_hz=5.0, vibrato_depth=0.004, vibrato_delay_s=0.2)
        y = _additive(ph, f0, sr, (1, 2, 3), (1.0, 0.2, 0.06))
        breath = _bandpass(rng.standard_normal(n), sr, 0.8 * f0, 6.0 * f0)
        y = y + 0.3 * breath / (_rms(breath) + 1e-12) * _rms(y)
        return y * _envelope(n, sr, 0.09, 0.12)
    if family == "organ":
        ph = _phase(f0, n, sr)
        y = _additive(ph, f0, sr, (0.5, 1, 2, 3, 4, 6, 8), (0.7, 1.0, 0.8, 0.5, 0.6, 0.3, 0.4))
        return y * _envelope(n, sr, 0.005, 0.02)
    if family == "mallet":
        y = np.zeros(n)
        for ratio, amp, tau in ((1.0, 1.0, 0.45), (3.93, 0.6, 0.12), (9.2, 0.35, 0.04)):
            if ratio * f0 < 0.45 * sr:
                y += amp * np.exp(-t / tau) * np.sin(2 * np.pi * ratio * f0 * t)
        click = np.zeros(n)
        m = min(n, int(0.003 * sr))
        click[:m] = rng.standard_normal(m) * np.linspace(1.0, 0.0, m)
        return (y + 0.3 * click) * _envelope(n, sr, 0.001, 0.02)
    if family == "guitar":
        from scipy.signal import lfilter

        delay = max(2, int(round(sr / f0 - 0.5)))  # the averaging filter adds half a sample
        excite = np.zeros(n)
        m = min(n, delay)
        burst = _lowpass(rng.uniform(-1.0, 1.0, m), sr, 0.3 * sr)
        excite[:m] = burst - burst.mean()  # the loop passes DC almost unattenuated
        g = 0.996
        a = np.zeros(delay + 2)
        a[0], a[delay], a[delay + 1] = 1.0, -0.5 * g, -0.5 * g
        return lfilter([1.0], a, excite) * _envelope(n, sr, 0.001, 0.03)
    raise UnknownNameError(f"mini: unknown instrument family '{family}'; known: {', '.join(INSTRUMENTS)}")


def synth_chord(
    quality: str, root_midi: int, timbre: str, duration_s: float, sr: int, rng: np.random.Generator
) -> np.ndarray:
    """A root-position triad (root, third, fifth), optionally with the octave doubled.

    ``quality`` is ``"major"`` (third = 4 semitones) or ``"minor"`` (3); ``timbre``
    is ``"organ"``, ``"string"`` (see :func:`synth_note`) or ``"piano"`` (harmonic
    partials with decays shortening up the series).

    Examples
    --------
    >>> synth_chord("minor", 57, "piano", 0.25, 8000, np.random.default_rng(0)).shape
    (2000,)
    """
    if quality not in CHORDS:
        raise UnknownNameError(f"mini: unknown chord quality '{quality}'; known: {', '.join(CHORDS)}")
    third = 4 if quality == "major" else 3
    notes = [root_midi, root_midi + third, root_midi + 7]
    if rng.uniform() < 0.5:
        notes.append(root_midi + 12)
    n = int(round(duration_s * sr))
    t = np.arange(n) / sr
    out = np.zeros(n)
    for midi in notes:
        if timbre == "piano":
            f0 = _midi_hz(midi) * (1.0 + rng.uniform(-0.001, 0.001))
            y = np.zeros(n)
            decay, step = np.exp(-1.2 * t), np.exp(-0.6 * t)  # partial k decays as exp(-(1.2 + 0.6 k) t)
            for k in range(1, 13):
                decay = decay * step
                if k * f0 < 0.45 * sr:
                    y += k**-1.2 * decay * np.sin(2 * np.pi * k * f0 * t)
            out += y * _envelope(n, sr, 0.003, 0.05)
        else:
            out += synth_note(timbre, midi, duration_s, sr, rng)
    return out


# ---------------------------------------------------------------- sound events
def synth_sound(label: str, duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One synthetic sound event (float64, unnormalized).

    Parameters
    ----------
    label : {"bell", "dog_bark", "engine", "knock", "rain", "siren"}
        ``bell``: inharmonic partials (church-bell ratios) with long decays;
        ``dog_bark``: 2-3 short harmonic bursts with a falling pitch through two
        formants; ``engine``: a 25-45 Hz pulse train, low-passed, with firing
        modulation; ``knock``: 3-5 damped low resonances; ``rain``: high-passed
        noise with many small drops; ``siren``: a tone sweeping 650-1350 Hz.
    duration_s : float
        Length in seconds.
    sr : int
        Sample rate in Hz.
    rng : np.random.Generator
        Source of the event's variations.

    Returns
    -------
    np.ndarray, shape (round(duration_s * sr),), float64

    Examples
    --------
    >>> synth_sound("siren", 0.5, 16000, np.random.default_rng(0)).shape
    (8000,)
    """
    n = int(round(duration_s * sr))
    t = np.arange(n) / sr
    if label == "bell":
        base = rng.uniform(350.0, 800.0)
        y = np.zeros(n)
        for ratio, amp, tau in (
            (0.5, 0.6, 2.0),
            (1.0, 1.0, 1.2),
            (1.19, 0.7, 0.9),
            (1.5, 0.5, 0.7),
            (2.0, 0.8, 0.5),
            (2.51, 0.4, 0.35),
            (3.01, 0.3, 0.25),
        ):
            if ratio * base < 0.45 * sr:
                y += amp * np.exp(-t / tau) * np.sin(2 * np.pi * ratio * base * t + rng.uniform(0, 2 * np.pi))
        return y * _envelope(n, sr, 0.002, 0.05)
    if label == "dog_bark":
        y = np.zeros(n)
        n_barks = int(rng.integers(2, 4))
        start = rng.uniform(0.02, 0.1)
        for _ in range(n_barks):
            length = rng.uniform(0.12, 0.2)
            i0, m = int(start * sr), int(length * sr)
            if i0 >= n:
                break
            m = min(m, n - i0)
            tb = np.arange(m) / sr
            f = rng.uniform(380.0, 600.0) * (1.0 - 0.35 * tb / length)
            ph = 2 * np.pi * np.cumsum(f) / sr
            src = sum(np.sin(k * ph) / k for k in range(1, 16)) + 0.4 * rng.standard_normal(m)
            env = np.minimum(tb / 0.01, 1.0) * np.exp(-tb / (0.35 * length))
            burst = _resonance(src, sr, 1100.0, 300.0) + 0.7 * _resonance(src, sr, 2600.0, 500.0)
            y[i0 : i0 + m] += burst * env
            start += length + rng.uniform(0.08, 0.25)
        return y
    if label == "engine":
        f0 = rng.uniform(25.0, 45.0)
        ph = 2 * np.pi * f0 * t * (1.0 + 0.02 * np.sin(2 * np.pi * 0.7 * t))
        pulses = sum(np.cos(k * ph) for k in range(1, 30) if k * f0 < 0.45 * sr)
        rumble = _lowpass(rng.standard_normal(n), sr, 300.0)
        y = _lowpass(pulses, sr, 500.0) + 2.0 * rumble / (_rms(rumble) + 1e-12) * 0.2
        y *= 1.0 + 0.3 * np.sin(2 * np.pi * f0 / 2 * t)
        return y * _envelope(n, sr, 0.15, 0.15)
    if label == "knock":
        y = np.zeros(n)
        start = rng.uniform(0.02, 0.1)
        for _ in range(int(rng.integers(3, 6))):
            i0 = int(start * sr)
            if i0 >= n:
                break
            imp = np.zeros(n - i0)
            imp[0] = 1.0
            m = min(len(imp), int(0.002 * sr))
            imp[:m] += 0.3 * rng.standard_normal(m)
            hit = _resonance(imp, sr, rng.uniform(150.0, 220.0), 25.0) + 0.6 * _resonance(
                imp, sr, rng.uniform(400.0, 500.0), 60.0
            )
            y[i0:] += hit
            start += rng.uniform(0.12, 0.25)
        return y
    if label == "rain":
        hiss = _highpass(rng.standard_normal(n), sr, 1500.0)
        hiss *= 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t + rng.uniform(0, 2 * np.pi))
        drops = np.zeros(n)
        n_drops = int(rng.integers(40, 80) * duration_s)
        idx = rng.integers(0, n, n_drops)
        drops[idx] = rng.uniform(0.5, 1.5, n_drops) * rng.choice([-1.0, 1.0], n_drops)
        drops = _resonance(drops, sr, rng.uniform(3000.0, 5000.0), 600.0)
        y = 0.5 * hiss / (_rms(hiss) + 1e-12) + drops / (_rms(drops) + 1e-12)
        return y * _envelope(n, sr, 0.1, 0.1)
    if label == "siren":
        rate = rng.uniform(0.6, 1.5)
        f = 1000.0 + 350.0 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
        ph = 2 * np.pi * np.cumsum(f) / sr
        y = np.sin(ph) + 0.3 * np.sin(2 * ph) + 0.15 * np.sin(3 * ph)
        return y * _envelope(n, sr, 0.05, 0.05)
    raise UnknownNameError(f"mini: unknown sound class '{label}'; known: {', '.join(SOUND_CLASSES)}")


# ---------------------------------------------------------------- speech
def _speak(text: str, voice: str, sr: int, *, rate: int, pitch: int, pitch_range: int) -> np.ndarray:
    """espeak-ng speech at ``sr`` (resampled from espeak's native rate with soxr)."""
    from ..tts import get_espeak

    engine = get_espeak()
    wav = engine.synthesize(text, voice=voice, rate=rate, pitch=pitch, pitch_range=pitch_range)
    return resample(wav, engine.sample_rate, sr).astype(np.float64)


def _speaker_name(voice: str) -> str:
    return voice.replace("+", "_")
