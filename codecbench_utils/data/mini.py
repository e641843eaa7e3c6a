"""``mini``: the built-in synthetic corpus that exercises every CodecBench stage offline.

Everything is generated locally, deterministically, from seeds derived from
each item's id: no download, no third-party recording. License: CC0-1.0 for the
generated audio; the speech comes from the espeak-ng synthesizer (GPL-3.0, its
output is not covered), loaded from the ``espeakng-loader`` wheel
(``pip install espeakng-loader``) or a system ``libespeak-ng``
(``apt install espeak-ng``). Only the speech parts need it.

Parts (``SUBSETS``), one manifest ``dataset`` each, so a probe can select them:

========== =============== ======== ===== ======================================== ==================
subset     dataset         category Hz    content                                  annotations
========== =============== ======== ===== ======================================== ==================
speech     mini_speech     speech   16000 8 English espeak voices read sentences   text, speaker,
                                          built from word lists (ASR stand-in)     split
emotion    mini_emotion    speech   22050 6 voices (en, de, fr, es) x 4 prosody    label, text,
                                          styles: neutral, happy, sad, angry       speaker, fold
instrument mini_instrument music    44100 one note of 6 synthetic timbres, MIDI    label, pitch, fold
                                          48-72 (an NSynth stand-in)
chord      mini_chord      music    48000 major / minor triads on 4 roots          label, root, fold
sound      mini_sound      sound    32000 6 synthetic event classes                label, fold
mix        mini_mix        general  24000 two talkers + pink noise; speech + music label, fold
========== =============== ======== ===== ======================================== ==================

Layout generated under ``root`` (speech ids per speaker, the others per label)::

    root/
    ├── speech/en-us_m1/en-us_m1_0000.flac      # <speaker>_<utterance index>
    ├── emotion/angry/de_m1_000.wav             # <label>/<speaker>_<index>
    ├── instrument/brass/brass_0000.flac        # <label>/<label>_<index>
    ├── chord/major/major_0000.wav
    ├── sound/dog_bark/dog_bark_0000.flac
    └── mix/speech_music/speech_music_0000.wav

A manifest row (``path`` is relative to the manifest's folder when the audio
lies below it, else absolute)::

    {"id": "mini/speech/en-us_m1/en-us_m1_0000", "dataset": "mini_speech", "category": "speech",
     "path": "speech/en-us_m1/en-us_m1_0000.flac", "duration": 2.488563, "sample_rate": 16000,
     "split": "train", "label": null, "text": "our busy pilot cleaned the farmer near the river",
     "speaker": "en-us_m1", "channels": 1, "voice": "en-us+m1"}

Splits and folds: ``mini_speech`` utterance ``k`` of a speaker goes to ``train``
for ``k % 6 < 4``, ``dev`` for 4 and ``test`` for 5; every speaker appears in
every split (the ASR split is *not* speaker-disjoint), sentences never repeat.
The classification sets get ``fold = k % 5 + 1`` where ``k`` is the item's index
within its label (stratified by label, folds 1-5 as everywhere in CodecBench,
``split = "fold<k>"``); emotion folds are not speaker-disjoint.

Sizes: ``size="small"`` (default) gives 394 items, about 14 minutes of audio,
generated in about 8 s of CPU; ``"medium"`` is 5x and ``"large"`` 20x, or pass an
integer scale. A larger size is a superset: an item keeps its id, audio and
annotations across sizes. A rerun reuses the audio files already under ``root``
(they are written atomically) and writes a byte-identical manifest.

Every class is meant to be separable from log-mel statistics (timbre, pitch,
spectral envelope, level and tempo differ by design), so the probes have
something to learn even on the small size.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..audio import PathLike, resample, save_audio
from ..errors import InvalidAudioError, UnknownNameError
from .common import BadData, audio_item, finish
from .manifest import ManifestItem

__all__ = [
    "NAME",
    "CATEGORY",
    "SUBSETS",
    "LICENSE",
    "DESCRIPTION",
    "SIZE",
    "SIZES",
    "DATASETS",
    "SAMPLE_RATES",
    "ASR_SPEAKERS",
    "EMOTION_SPEAKERS",
    "STYLES",
    "INSTRUMENTS",
    "CHORDS",
    "SOUND_CLASSES",
    "MIX_KINDS",
    "prepare_mini",
    "sentence",
    "normalize_text",
    "synth_note",
    "synth_chord",
    "synth_sound",
]

logger = logging.getLogger(__name__)

NAME = "mini"
CATEGORY = "general"  # items carry their own category
SUBSETS: tuple[str, ...] = ("speech", "emotion", "instrument", "chord", "sound", "mix")
LICENSE = "CC0-1.0 (generated locally; speech by espeak-ng)"
DESCRIPTION = (
    "built-in synthetic corpus: espeak-ng speech (ASR, prosody styles), synthetic instrument notes, "
    "triads, sound events and mixtures"
)
SIZE = "small: 394 items, ~14 min (medium x5, large x20)"

#: Scale factor per named size (items per class/speaker grow linearly).
SIZES: dict[str, int] = {"small": 1, "medium": 5, "large": 20}

#: Manifest ``dataset`` and ``category`` per subset.
DATASETS: dict[str, tuple[str, str]] = {
    "speech": ("mini_speech", "speech"),
    "emotion": ("mini_emotion", "speech"),
    "instrument": ("mini_instrument", "music"),
    "chord": ("mini_chord", "music"),
    "sound": ("mini_sound", "sound"),
    "mix": ("mini_mix", "general"),
}

#: Native sample rate and file type per subset: all different, so every stage resamples.
SAMPLE_RATES: dict[str, int] = {
    "speech": 16000,
    "emotion": 22050,
    "instrument": 44100,
    "chord": 48000,
    "sound": 32000,
    "mix": 24000,
}
_EXTENSIONS: dict[str, str] = {
    "speech": ".flac",
    "emotion": ".wav",
    "instrument": ".flac",
    "chord": ".wav",
    "sound": ".flac",
    "mix": ".wav",
}

#: ASR speakers: (espeak voice, pitch 0-100, words per minute). Accents and variants differ.
ASR_SPEAKERS: tuple[tuple[str, int, int], ...] = (
    ("en-us+m1", 45, 170),
    ("en-us+f1", 55, 165),
    ("en+m3", 40, 160),
    ("en+f3", 60, 175),
    ("en-gb-scotland+m2", 48, 155),
    ("en-029+f2", 58, 170),
    ("en-us-nyc+m4", 42, 185),
    ("en-gb-x-rp+f4", 52, 160),
)
_ASR_PER_SPEAKER = 24  # utterances per speaker at scale 1 (16 train, 4 dev, 4 test): enough test
# utterances for the demo's paired ASR intervals to separate a strong codec from a weak one

#: Emotion-set speakers: (espeak voice, language of its sentences).
EMOTION_SPEAKERS: tuple[tuple[str, str], ...] = (
    ("en-us+m3", "en"),
    ("en+f2", "en"),
    ("de+m1", "de"),
    ("fr+f3", "fr"),
    ("es+m2", "es"),
    ("en-us+f4", "en"),
)
_EMOTION_PER_SPEAKER = 2  # utterances per speaker and style at scale 1

#: Prosody styles standing in for emotions: espeak rate (wpm), pitch, pitch range,
#: then the peak level (dBFS) and a tanh drive (>0 adds the harsh harmonics of a tense voice).
STYLES: dict[str, tuple[int, int, int, float, float]] = {
    "neutral": (160, 45, 45, -8.0, 0.0),
    "happy": (215, 80, 90, -3.0, 0.0),
    "sad": (115, 25, 10, -16.0, 0.0),
    "angry": (195, 55, 99, -1.0, 4.0),
}

INSTRUMENTS: tuple[str, ...] = ("brass", "flute", "guitar", "mallet", "organ", "string")
_INSTRUMENT_PER_CLASS = 10
_PITCH_RANGE = (48, 72)  # MIDI, C3..C5, the same for every family: timbre, not register, separates them

CHORDS: tuple[str, ...] = ("major", "minor")
_CHORD_PER_CLASS = 12
#: Few roots and timbres, so each (quality, root, timbre) recurs and a linear probe can generalize
#: even on the small size (log-mel logistic regression, 5 folds: 0.78 small, 1.0 medium).
_CHORD_ROOTS = (60, 62, 65, 67)  # C4 D4 F4 G4
_CHORD_TIMBRES = ("organ", "piano")

SOUND_CLASSES: tuple[str, ...] = ("bell", "dog_bark", "engine", "knock", "rain", "siren")
_SOUND_PER_CLASS = 10

MIX_KINDS: tuple[str, ...] = ("speech_music", "two_talkers_noise")
_MIX_PER_CLASS = 5

_N_FOLDS = 5

# Sentence bank: "<det> <adj> <noun> <verb> <det> <noun> <place>", drawn from a
# permutation of all combinations, so sentence(i) is distinct for every i < ~10^7.
_DETS = ("the", "a", "my", "our", "that", "every")
_ADJS = (
    "quiet",
    "old",
    "young",
    "happy",
    "tired",
    "clever",
    "little",
    "brave",
    "lazy",
    "busy",
    "gentle",
    "angry",
    "small",
    "green",
    "silver",
    "hungry",
)
_NOUNS = (
    "farmer",
    "teacher",
    "doctor",
    "dog",
    "cat",
    "sailor",
    "child",
    "baker",
    "pilot",
    "singer",
    "horse",
    "rabbit",
    "kettle",
    "garden",
    "window",
    "letter",
    "basket",
    "engine",
    "candle",
    "ladder",
    "bottle",
    "jacket",
    "pencil",
    "carpet",
)
_VERBS = (
    "found",
    "painted",
    "carried",
    "watched",
    "opened",
    "cleaned",
    "dropped",
    "lifted",
    "followed",
    "didn't see",
    "can't find",
    "won't move",
    "bought",
    "fixed",
    "pushed",
    "noticed",
)
_PLACES = (
    "near the river",
    "in the morning",
    "behind the house",
    "after dinner",
    "on the hill",
    "at the station",
    "under the bridge",
    "before the storm",
    "in the kitchen",
    "by the sea",
    "every sunday",
    "at midnight",
)
_SENTENCE_RADIX = (len(_DETS), len(_ADJS), len(_NOUNS), len(_VERBS), len(_DETS), len(_NOUNS), len(_PLACES))
_SENTENCE_TOTAL = math.prod(_SENTENCE_RADIX)

#: Sentences of the emotion set per language, without diacritics.
_LANG_SENTENCES: dict[str, tuple[str, ...]] = {
    "de": (
        "der hund spielt im garten",
        "ich trinke gern kaffee am morgen",
        "das wetter ist heute gut",
        "wir fahren morgen in die stadt",
        "die kinder lesen ein buch",
        "mein bruder kocht das essen",
        "der zug kommt um acht uhr",
        "sie singt ein altes lied",
        "das fenster ist offen",
        "wir gehen zusammen spazieren",
        "die katze schlaeft auf dem sofa",
        "er arbeitet in einer bank",
    ),
    "fr": (
        "le chat dort sur le canape",
        "nous allons au marche demain",
        "il fait beau aujourd'hui",
        "elle lit un livre dans le jardin",
        "le train arrive a huit heures",
        "mon frere prepare le diner",
        "les enfants jouent dans le parc",
        "je bois un cafe le matin",
        "la porte est ouverte",
        "ils chantent une vieille chanson",
        "le soleil brille sur la mer",
        "tu travailles a la banque",
    ),
    "es": (
        "el perro juega en el jardin",
        "vamos al mercado manana",
        "hoy hace buen tiempo",
        "ella lee un libro en casa",
        "el tren llega a las ocho",
        "mi hermano prepara la cena",
        "los ninos juegan en el parque",
        "bebo un cafe por la manana",
        "la ventana esta abierta",
        "cantan una cancion antigua",
        "el sol brilla sobre el mar",
        "trabajas en el banco",
    ),
}

# Sentence-bank offsets so that the parts never share a sentence.
_EMOTION_SENTENCE_OFFSET = 1_000_000
_MIX_SENTENCE_OFFSET = 2_000_000

Size = Literal["small", "medium", "large"] | int


# ---------------------------------------------------------------- text
def normalize_text(text: str) -> str:
    """Lowercase letters a-z, apostrophe and single spaces (the ASR probe's character set).

    Examples
    --------
    >>> normalize_text("The  Dog's  BALL, again!")
    "the dog's ball again"
    """
    kept = "".join(c if ("a" <= c <= "z" or c == "'") else " " for c in text.lower())
    return " ".join(kept.split())


def sentence(index: int) -> str:
    """The ``index``-th sentence of the English bank (distinct for every index below ~10^7).

    Indices go through an affine permutation of all word combinations, so
    neighbouring indices give unrelated sentences.

    Examples
    --------
    >>> sentence(0) != sentence(1)
    True
    >>> sentence(3) == normalize_text(sentence(3))
    True
    """
    if index < 0:
        raise ValueError(f"sentence index must be >= 0, got {index}")
    k = (index * _SENTENCE_STRIDE + 12345) % _SENTENCE_TOTAL
    digits = []
    for r in _SENTENCE_RADIX:
        k, d = divmod(k, r)
        digits.append(d)
    det1, adj, noun1, verb, det2, noun2, place = digits
    first = "an" if _DETS[det1] == "a" and _ADJS[adj][0] in "aeiou" else _DETS[det1]
    second = "an" if _DETS[det2] == "a" and _NOUNS[noun2][0] in "aeiou" else _DETS[det2]
    words = [first, _ADJS[adj], _NOUNS[noun1], _VERBS[verb], second, _NOUNS[noun2], _PLACES[place]]
    return normalize_text(" ".join(words))


def _coprime_stride(total: int, start: int = 7_919_993) -> int:
    """A multiplier coprime with ``total`` (so ``i -> i * stride mod total`` is a permutation)."""
    s = start
    while math.gcd(s, total) != 1:
        s += 1
    return s


_SENTENCE_STRIDE = _coprime_stride(_SENTENCE_TOTAL)


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
    from .tts import get_espeak

    engine = get_espeak()
    wav = engine.synthesize(text, voice=voice, rate=rate, pitch=pitch, pitch_range=pitch_range)
    return resample(wav, engine.sample_rate, sr).astype(np.float64)


def _speaker_name(voice: str) -> str:
    return voice.replace("+", "_")


# ---------------------------------------------------------------- the plan
@dataclass(frozen=True)
class _Spec:
    """One item to generate: where, how (``make`` returns the waveform) and its annotations."""

    subset: str
    rel: str  # path under root, with extension
    make: Callable[[], np.ndarray]
    label: str | None = None
    text: str | None = None
    speaker: str | None = None
    split: str | None = None
    fold: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _fold(k: int) -> int:
    return k % _N_FOLDS + 1


def _plan_speech(scale: int) -> list[_Spec]:
    sr, ext = SAMPLE_RATES["speech"], _EXTENSIONS["speech"]
    specs = []
    for s, (voice, pitch, wpm) in enumerate(ASR_SPEAKERS):
        spk = _speaker_name(voice)
        for k in range(_ASR_PER_SPEAKER * scale):
            rel = f"speech/{spk}/{spk}_{k:04d}{ext}"
            text = sentence(s + len(ASR_SPEAKERS) * k)
            split = ("train", "train", "train", "train", "dev", "test")[k % 6]

            def make(rel=rel, text=text, voice=voice, pitch=pitch, wpm=wpm) -> np.ndarray:
                rng = _rng(rel)
                wav = _speak(
                    text,
                    voice,
                    sr,
                    rate=int(wpm * rng.uniform(0.92, 1.08)),
                    pitch=int(np.clip(pitch + rng.integers(-5, 6), 0, 99)),
                    pitch_range=50,
                )
                return _finish(wav, rng.uniform(-6.0, -1.0), rel)

            specs.append(
                _Spec("speech", rel, make, text=text, speaker=spk, split=split, extra={"voice": voice})
            )
    return specs


def _plan_emotion(scale: int) -> list[_Spec]:
    sr, ext = SAMPLE_RATES["emotion"], _EXTENSIONS["emotion"]
    specs = []
    for style, (wpm, pitch, prange, peak_db, drive) in STYLES.items():
        for s, (voice, lang) in enumerate(EMOTION_SPEAKERS):
            spk = _speaker_name(voice)
            for j in range(_EMOTION_PER_SPEAKER * scale):
                rel = f"emotion/{style}/{spk}_{j:03d}{ext}"
                if lang == "en":
                    text = sentence(_EMOTION_SENTENCE_OFFSET + len(EMOTION_SPEAKERS) * j + s)
                else:
                    bank = _LANG_SENTENCES[lang]
                    text = normalize_text(bank[(j + 5 * s + 3 * list(STYLES).index(style)) % len(bank)])

                def make(
                    rel=rel,
                    text=text,
                    voice=voice,
                    wpm=wpm,
                    pitch=pitch,
                    prange=prange,
                    peak_db=peak_db,
                    drive=drive,
                ) -> np.ndarray:
                    rng = _rng(rel)
                    wav = _speak(
                        text,
                        voice,
                        sr,
                        rate=int(wpm * rng.uniform(0.95, 1.05)),
                        pitch=int(np.clip(pitch + rng.integers(-3, 4), 0, 99)),
                        pitch_range=prange,
                    )
                    if drive > 0:
                        wav = np.tanh(drive * wav / (np.max(np.abs(wav)) + 1e-12))
                    return _finish(wav, peak_db + rng.uniform(-1.0, 0.0), rel)

                # rank within the label, utterance-major: independent of the size
                fold = _fold(s + len(EMOTION_SPEAKERS) * j)
                specs.append(
                    _Spec(
                        "emotion",
                        rel,
                        make,
                        label=style,
                        text=text,
                        speaker=spk,
                        fold=fold,
                        split=f"fold{fold}",
                        extra={"voice": voice, "language": lang},
                    )
                )
    return specs


def _plan_instrument(scale: int) -> list[_Spec]:
    sr, ext = SAMPLE_RATES["instrument"], _EXTENSIONS["instrument"]
    lo, hi = _PITCH_RANGE
    specs = []
    for f, family in enumerate(INSTRUMENTS):
        for k in range(_INSTRUMENT_PER_CLASS * scale):
            rel = f"instrument/{family}/{family}_{k:04d}{ext}"
            pitch = lo + (7 * k + 3 * f) % (hi - lo + 1)

            def make(rel=rel, family=family, pitch=pitch) -> np.ndarray:
                rng = _rng(rel)
                velocity = rng.uniform(0.5, 1.0)
                wav = synth_note(family, pitch, 1.0, sr, rng)
                return _finish(wav, -1.0 - 8.0 * (1.0 - velocity), rel)

            fold = _fold(k)
            specs.append(
                _Spec(
                    "instrument",
                    rel,
                    make,
                    label=family,
                    fold=fold,
                    split=f"fold{fold}",
                    extra={"pitch": pitch},
                )
            )
    return specs


def _plan_chord(scale: int) -> list[_Spec]:
    sr, ext = SAMPLE_RATES["chord"], _EXTENSIONS["chord"]
    specs = []
    for quality in CHORDS:
        for k in range(_CHORD_PER_CLASS * scale):
            rel = f"chord/{quality}/{quality}_{k:04d}{ext}"
            root = _CHORD_ROOTS[k % len(_CHORD_ROOTS)]
            timbre = _CHORD_TIMBRES[(k // len(_CHORD_ROOTS)) % len(_CHORD_TIMBRES)]

            def make(rel=rel, quality=quality, root=root, timbre=timbre) -> np.ndarray:
                rng = _rng(rel)
                wav = synth_chord(quality, root, timbre, 1.5, sr, rng)
                return _finish(wav, rng.uniform(-6.0, -1.0), rel)

            fold = _fold(k)
            specs.append(
                _Spec(
                    "chord",
                    rel,
                    make,
                    label=quality,
                    fold=fold,
                    split=f"fold{fold}",
                    extra={"root": root, "timbre": timbre},
                )
            )
    return specs


def _plan_sound(scale: int) -> list[_Spec]:
    sr, ext = SAMPLE_RATES["sound"], _EXTENSIONS["sound"]
    specs = []
    for label in SOUND_CLASSES:
        for k in range(_SOUND_PER_CLASS * scale):
            rel = f"sound/{label}/{label}_{k:04d}{ext}"

            def make(rel=rel, label=label) -> np.ndarray:
                rng = _rng(rel)
                duration = float(np.round(rng.uniform(1.0, 2.0), 2))
                wav = synth_sound(label, duration, sr, rng)
                return _finish(wav, rng.uniform(-6.0, -1.0), rel)

            fold = _fold(k)
            specs.append(_Spec("sound", rel, make, label=label, fold=fold, split=f"fold{fold}"))
    return specs


def _plan_mix(scale: int) -> list[_Spec]:
    sr, ext = SAMPLE_RATES["mix"], _EXTENSIONS["mix"]
    n_spk = len(ASR_SPEAKERS)
    specs = []
    for c, kind in enumerate(MIX_KINDS):
        for k in range(_MIX_PER_CLASS * scale):
            rel = f"mix/{kind}/{kind}_{k:04d}{ext}"
            base = _MIX_SENTENCE_OFFSET + 2 * (len(MIX_KINDS) * k + c)
            a = (3 * k + c) % n_spk
            b = (a + 1 + k % (n_spk - 1)) % n_spk
            if kind == "two_talkers_noise":
                talkers = [ASR_SPEAKERS[a], ASR_SPEAKERS[b]]
                texts = [sentence(base), sentence(base + 1)]
            else:
                talkers = [ASR_SPEAKERS[a]]
                texts = [sentence(base)]
            speakers = [_speaker_name(v) for v, _, _ in talkers]

            def make(rel=rel, kind=kind, talkers=talkers, texts=texts) -> np.ndarray:
                rng = _rng(rel)
                voices = [
                    _speak(txt, v, sr, rate=wpm, pitch=p, pitch_range=50)
                    for (v, p, wpm), txt in zip(talkers, texts, strict=True)
                ]
                if kind == "two_talkers_noise":
                    offset = int(rng.uniform(0.3, 0.8) * sr)
                    n = max(len(voices[0]), offset + len(voices[1]))
                    y = np.zeros(n)
                    y[: len(voices[0])] += voices[0] / _rms(voices[0])
                    gain = 10.0 ** (rng.uniform(-3.0, 3.0) / 20.0)
                    y[offset : offset + len(voices[1])] += gain * voices[1] / _rms(voices[1])
                    noise = _pink(n, rng) * _rms(y) * 10.0 ** (-rng.uniform(10.0, 20.0) / 20.0)
                    y = y + noise
                else:
                    speech = voices[0] / _rms(voices[0])
                    n = len(speech) + int(0.4 * sr)
                    family = INSTRUMENTS[int(rng.integers(len(INSTRUMENTS)))]
                    music = np.zeros(n)
                    pos, step = 0, int(rng.uniform(0.3, 0.5) * sr)
                    while pos < n:
                        midi = int(rng.choice([55, 57, 59, 60, 62, 64, 65, 67, 69, 72]))
                        note = synth_note(family, midi, 1.5 * step / sr, sr, rng)[: n - pos]
                        music[pos : pos + len(note)] += note
                        pos += step
                    music *= 10.0 ** (-rng.uniform(5.0, 10.0) / 20.0) / (_rms(music) + 1e-12)
                    y = music
                    lead = int(0.2 * sr)
                    y[lead : lead + len(speech)] += speech
                return _finish(y, rng.uniform(-3.0, -1.0), rel)

            fold = _fold(k)
            extra: dict[str, Any] = {"speakers": speakers, "texts": texts}
            specs.append(
                _Spec(
                    "mix",
                    rel,
                    make,
                    label=kind,
                    fold=fold,
                    split=f"fold{fold}",
                    text=texts[0] if kind == "speech_music" else None,
                    speaker=speakers[0] if kind == "speech_music" else None,
                    extra=extra,
                )
            )
    return specs


_PLANNERS: dict[str, Callable[[int], list[_Spec]]] = {
    "speech": _plan_speech,
    "emotion": _plan_emotion,
    "instrument": _plan_instrument,
    "chord": _plan_chord,
    "sound": _plan_sound,
    "mix": _plan_mix,
}


def _scale(size: Size) -> int:
    """Scale factor of a named size or a positive integer."""
    if isinstance(size, bool):
        raise ValueError(f"mini: size must be one of {list(SIZES)} or a positive integer, got {size!r}")
    if isinstance(size, int):
        if size < 1:
            raise ValueError(f"mini: size must be one of {list(SIZES)} or a positive integer, got {size}")
        return size
    if isinstance(size, str) and size.isdigit():
        return _scale(int(size))
    if size not in SIZES:
        raise UnknownNameError(
            f"mini: unknown size '{size}'; known: {', '.join(SIZES)} or a positive integer"
        )
    return SIZES[size]


def _subsets(subset: str | Sequence[str] | None) -> list[str]:
    """Selected parts in ``SUBSETS`` order; ``None``/``"all"`` means all, a string may list several."""
    if subset is None or subset == "all":
        return list(SUBSETS)
    names = subset.split(",") if isinstance(subset, str) else list(subset)
    names = [s.strip() for s in names if s.strip()]
    unknown = [s for s in names if s not in SUBSETS]
    if unknown or not names:
        raise UnknownNameError(
            f"mini: unknown subset {unknown or subset!r}; known: {', '.join(SUBSETS)} or 'all'"
        )
    return [s for s in SUBSETS if s in names]


def _manifest_path(path: Path, out_dir: Path | None) -> str:
    """Relative (POSIX) to the manifest's folder when ``path`` lies below it, else absolute."""
    if out_dir is not None:
        try:
            return path.relative_to(out_dir).as_posix()
        except ValueError:
            pass
    return str(path)


# ---------------------------------------------------------------- entry point
def prepare_mini(
    root: PathLike,
    *,
    subset: str | Sequence[str] | None = None,
    out: PathLike | None = None,
    size: Size = "small",
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Generate the synthetic corpus under ``root`` (reusing files already there) and build its manifest.

    Parameters
    ----------
    root : str or PathLike
        Folder to generate into (created if missing).
    subset : str or sequence of str, optional
        One or several of ``SUBSETS`` (``"speech,chord"`` also works); ``None``
        or ``"all"`` generates every part.
    out : str or PathLike, optional
        Manifest to write (JSONL, atomically). Paths are stored relative to its
        folder when the audio lies below it, else absolute.
    size : {"small", "medium", "large"} or int
        Scale: small (default, ~14 min of audio, 394 items), medium (x5), large
        (x20), or an integer factor. Larger sizes are supersets of smaller ones.
    strict : bool
        Accepted for the common recipe interface; generated audio has no bad data.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id; ``sample_rate``, ``duration`` and ``channels`` read back from the files.

    Raises
    ------
    UnknownNameError
        Unknown ``subset`` or ``size``.
    MissingDependencyError
        The speech, emotion or mix part is requested and espeak-ng cannot be
        loaded (``pip install espeakng-loader`` or ``apt install espeak-ng``).

    Notes
    -----
    Each item's audio depends only on its id (seeds come from the id, and each
    espeak-ng utterance runs in a fresh forked process), so the files, and a
    manifest written by this function, are the same on every run, for every
    size and every subset selection that includes the item.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     items = prepare_mini(d, subset="chord", progress=False)
    >>> len(items), items[0].dataset, items[0].label, items[0].sample_rate
    (24, 'mini_chord', 'major', 48000)
    """
    from tqdm.auto import tqdm

    root = Path(root).expanduser().resolve()
    parts = _subsets(subset)
    scale = _scale(size)
    specs = [spec for part in parts for spec in _PLANNERS[part](scale)]
    out_dir = Path(out).expanduser().resolve().parent if out is not None else None
    logger.info("mini: %d items in %s (size %s) under %s", len(specs), ",".join(parts), size, root)
    bad = BadData(NAME)
    items = []
    made = reused = 0
    bar = tqdm(specs, desc="prepare mini", unit="item", total=len(specs), disable=not progress)
    for spec in bar:
        path = root / spec.rel
        if path.is_file():
            reused += 1
        else:
            save_audio(path, spec.make(), SAMPLE_RATES[spec.subset])
            made += 1
        dataset, category = DATASETS[spec.subset]
        item = audio_item(
            path,
            id=f"{NAME}/{Path(spec.rel).with_suffix('').as_posix()}",
            dataset=dataset,
            category=category,
            split=spec.split,
            label=spec.label,
            text=spec.text,
            speaker=spec.speaker,
            fold=spec.fold,
            extra=spec.extra,
        )
        if item is not None:
            items.append(replace(item, path=_manifest_path(path, out_dir)))
    logger.info("mini: generated %d files, reused %d", made, reused)
    return finish(items, out, bad=bad, strict=strict)
