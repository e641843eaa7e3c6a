"""``mini``: the built-in synthetic corpus that exercises every CodecBench stage offline.

Everything is generated locally, deterministically, from seeds derived from
each item's id: no download, no third-party recording. License: CC0-1.0 for the
generated audio; the speech comes from the espeak-ng synthesizer (GPL-3.0, its
output is not covered), loaded from the ``espeakng-loader`` wheel
(``pip install espeakng-loader``) or a system ``libespeak-ng``
(``apt install espeak-ng``). Only the speech parts need it.

Modules: ``plan`` (parts, classes, sizes, one spec per item), ``words`` (the sentence bank),
``synth`` (notes, chords, events, espeak-ng speech), ``recipe`` (``prepare_mini``).

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

from .plan import (
    ASR_SPEAKERS,
    CATEGORY,
    DATASETS,
    DESCRIPTION,
    EMOTION_SPEAKERS,
    LICENSE,
    MIX_KINDS,
    NAME,
    SAMPLE_RATES,
    SIZE,
    SIZES,
    STYLES,
    SUBSETS,
)
from .recipe import prepare_mini
from .synth import CHORDS, INSTRUMENTS, SOUND_CLASSES, synth_chord, synth_note, synth_sound
from .words import normalize_text, sentence

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
