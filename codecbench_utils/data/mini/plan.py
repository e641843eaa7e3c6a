"""The mini corpus's contents: its parts, classes, speakers, sizes, and one spec per item to generate."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ...errors import ConfigError, UnknownNameError
from .synth import (
    CHORDS,
    INSTRUMENTS,
    SOUND_CLASSES,
    _finish,
    _pink,
    _rms,
    _rng,
    _speak,
    _speaker_name,
    synth_chord,
    synth_note,
    synth_sound,
)
from .words import _LANG_SENTENCES, normalize_text, sentence

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

_INSTRUMENT_PER_CLASS = 10
_PITCH_RANGE = (48, 72)  # MIDI, C3..C5, the same for every family: timbre, not register, separates them

_CHORD_PER_CLASS = 12
#: Few roots and timbres, so each (quality, root, timbre) recurs and a linear probe can generalize
#: even on the small size (log-mel logistic regression, 5 folds: 0.78 small, 1.0 medium).
_CHORD_ROOTS = (60, 62, 65, 67)  # C4 D4 F4 G4
_CHORD_TIMBRES = ("organ", "piano")

_SOUND_PER_CLASS = 10

MIX_KINDS: tuple[str, ...] = ("speech_music", "two_talkers_noise")
_MIX_PER_CLASS = 5

_N_FOLDS = 5

# Sentence-bank offsets so that the parts never share a sentence.
_EMOTION_SENTENCE_OFFSET = 1_000_000
_MIX_SENTENCE_OFFSET = 2_000_000

Size = Literal["small", "medium", "large"] | int


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
        raise ConfigError(f"mini: size must be one of {list(SIZES)} or a positive integer, got {size!r}")
    if isinstance(size, int):
        if size < 1:
            raise ConfigError(f"mini: size must be one of {list(SIZES)} or a positive integer, got {size}")
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
