"""RAVDESS: Ryerson Audio-Visual Database of Emotional Speech and Song (Livingstone & Russo, 2018).

24 actors (12 female, 12 male) speak (1,440 files) and sing (1,012 files; no
song for actor 18) two statements in 8 emotions (Table 2: RAVDESS 8). Audio-only
releases are 48 kHz 16-bit wav.

License: CC BY-NC-SA 4.0. Source: https://zenodo.org/records/1188976
(``Audio_Speech_Actors_01-24.zip``, ``Audio_Song_Actors_01-24.zip``).

Native layout (each zip unpacks to ``Actor_XX`` folders; the Kaggle copy puts them
under ``audio_speech_actors_01-24/``)::

    Audio_Speech_Actors_01-24/
      Actor_01/
        03-01-01-01-01-01-01.wav
        ...
    Audio_Song_Actors_01-24/
      Actor_01/
        03-02-01-01-01-01-01.wav

There is no annotation file: the file name is the metadata, seven 2-digit codes
``modality-channel-emotion-intensity-statement-repetition-actor``:

- modality 01 audio-video, 02 video-only, 03 audio-only;
- vocal channel 01 speech, 02 song (the item's ``split``);
- emotion 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful,
  07 disgust, 08 surprised (the ``label``);
- intensity 01 normal, 02 strong (no strong neutral);
- statement 01 "Kids are talking by the door", 02 "Dogs are sitting by the door" (``text``);
- repetition 01/02; actor 01..24 (odd male, even female; ``speaker`` ``Actor_XX``).

Folds 1..5 are stratified by emotion and **actor-disjoint** (the paper instead drew
a random 64/16/20 train/validation/test split with seed 42 over all wav files).
Ids: ``ravdess/<split>/Actor_XX/<file stem>``.
"""

from __future__ import annotations

import logging

from ..audio import PathLike
from .common import BadData, audio_items, finish, resolve_root, scan_audio, select_splits
from .folds import add_folds
from .manifest import ManifestItem

__all__ = [
    "NAME",
    "CATEGORY",
    "SUBSETS",
    "LICENSE",
    "SOURCE",
    "DESCRIPTION",
    "SIZE",
    "EMOTIONS",
    "STATEMENTS",
    "prepare_ravdess",
]

logger = logging.getLogger(__name__)

NAME = "ravdess"
CATEGORY = "speech"
SUBSETS: tuple[str, ...] = ("speech", "song")
LICENSE = "CC BY-NC-SA 4.0"
SOURCE = "https://zenodo.org/records/1188976"
DESCRIPTION = "acted emotional speech and song, 24 actors, 8 emotions (emotion probe)"
SIZE = "1,440 speech + 1,012 song files"

#: Emotion code (3rd field) -> label.
EMOTIONS: dict[str, str] = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
#: Statement code (5th field) -> the sentence.
STATEMENTS: dict[str, str] = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
_CHANNELS = {"01": "speech", "02": "song"}
_INTENSITY = {"01": "normal", "02": "strong"}


def _parse(stem: str) -> dict[str, str] | None:
    """The seven codes of a RAVDESS file name, or None if it does not follow the scheme."""
    codes = stem.split("-")
    if len(codes) != 7 or not all(len(c) == 2 and c.isdigit() for c in codes):
        return None
    modality, channel, emotion, intensity, statement, repetition, actor = codes
    if channel not in _CHANNELS or emotion not in EMOTIONS or statement not in STATEMENTS:
        return None
    return {
        "modality": modality,
        "split": _CHANNELS[channel],
        "label": EMOTIONS[emotion],
        "intensity": _INTENSITY.get(intensity, intensity),
        "statement": statement,
        "repetition": repetition,
        "actor": actor,
    }


def prepare_ravdess(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    fold_file: PathLike | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the RAVDESS manifest from the audio-only wav files under ``root``.

    Parameters
    ----------
    root : str or PathLike
        A folder holding ``Actor_XX`` folders at any depth (one or both zips unpacked).
    subset : {"speech", "song"}, optional
        Vocal channel; ``None`` loads both where present.
    out : str or PathLike, optional
        Manifest to write (atomically).
    strict : bool
        Raise instead of skipping bad data.
    fold_file : str or PathLike, optional
        Published folds to use instead of the actor-disjoint ones.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem

    Raises
    ------
    DatasetLayoutError
        No ``Actor_XX`` folder, the requested channel absent, or bad data under ``strict``.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=("Actor_*", "*/Actor_*", "*/*/Actor_*"))
    bad = BadData(NAME)
    parsed = []
    for path in scan_audio(base, extensions=(".wav",)):
        info = _parse(path.stem)
        if info is None or info["modality"] != "03":
            bad.add("invalid", path, "name is not a RAVDESS audio-only code 03-..-..-..-..-..-..")
            continue
        parsed.append((path, info))
    present = {info["split"] for _, info in parsed}
    splits = select_splits(subset, known=SUBSETS, present=present, dataset=NAME, root=base, source=SOURCE)
    specs = []
    for path, info in parsed:
        if info["split"] not in splits:
            continue
        actor = f"Actor_{info['actor']}"
        specs.append(
            dict(path=path, id=f"{NAME}/{info['split']}/{actor}/{path.stem}", split=info["split"],
                 label=info["label"], text=STATEMENTS[info["statement"]], speaker=actor,
                 extra={"intensity": info["intensity"], "repetition": info["repetition"],
                        "gender": "male" if int(info["actor"]) % 2 else "female"})
        )
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    items = add_folds(items, group_key="speaker", fold_file=fold_file, strict=strict)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
