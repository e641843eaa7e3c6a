"""MELD: Multimodal EmotionLines Dataset (Poria et al., 2019).

13,708 utterances from the TV series *Friends* in 1,433 dialogues, each with one
of 7 emotions (Table 2: MELD 7) and a sentiment. The released utterances are
mp4 video clips; their audio track is read with PyAV (no conversion step).
CodecBench's probe uses the ``test`` split (2,610 utterances; 2,608 in the
paper's fold file).

License: GPL-3.0. Source: https://affective-meld.github.io/
(``MELD.Raw.tar.gz`` from http://web.eecs.umich.edu/~mihalcea/downloads/MELD.Raw.tar.gz;
it holds the CSVs and one inner ``train/dev/test.tar.gz`` per split).

Native layout (inner archives unpacked in place; a CSV may also sit inside its split
folder, e.g. ``train/train_sent_emo.csv``)::

    MELD.Raw/
      train_sent_emo.csv  dev_sent_emo.csv  test_sent_emo.csv
      train_splits/                   (or train/train_splits/)
        dia0_utt0.mp4
      dev_splits_complete/            (or dev/dev_splits_complete/)
        dia0_utt0.mp4
      output_repeated_splits_test/    (or test/output_repeated_splits_test/)
        dia0_utt0.mp4

Sample line of ``test_sent_emo.csv`` (header
``Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime``)::

    1,"Why do all you’re coffee mugs have numbers on the bottom?",Mark,surprise,positive,0,0,3,19,"00:14:38,127","00:14:40,378"

Items: ``label`` the emotion (anger, disgust, fear, joy, neutral, sadness,
surprise), ``text`` the utterance, ``speaker`` the character, ``split``
train/dev/test, ``extra`` ``sentiment`` and ``dialogue_id``. Folds 1..5 are
stratified by emotion and **dialogue-disjoint** (speakers cannot be: six main
characters speak most lines). The paper's ``meld.csv`` (test split; keys
``dia<D>_utt<U>.wav``) imports with ``fold_file=`` and ``subset="test"``.
Ids: ``meld/<split>/dia<D>_utt<U>``.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from ..audio import PathLike
from .common import BadData, audio_items, finish, layout_error, resolve_root, scan_audio, select_splits
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
    "prepare_meld",
]

logger = logging.getLogger(__name__)

NAME = "meld"
CATEGORY = "speech"
SUBSETS: tuple[str, ...] = ("train", "dev", "test")
LICENSE = "GPL-3.0"
SOURCE = "https://affective-meld.github.io/"
DESCRIPTION = "Friends TV utterances (mp4), 7 emotions; test split for the emotion probe"
SIZE = "train 9,989 / dev 1,109 / test 2,610 utterances"

EMOTIONS: tuple[str, ...] = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
#: Split -> folder names the clips are found in (relative to the corpus root).
_CLIP_DIRS: dict[str, tuple[str, ...]] = {
    "train": ("train_splits", "train/train_splits"),
    "dev": ("dev_splits_complete", "dev/dev_splits_complete", "dev_splits"),
    "test": ("output_repeated_splits_test", "test/output_repeated_splits_test", "test_splits"),
}


def _read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a MELD CSV; UTF-8 first, cp1252 as the fallback some copies need."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _csv_path(base: Path, split: str) -> Path | None:
    """``<split>_sent_emo.csv`` at the corpus root or inside its split folder, or None."""
    name = f"{split}_sent_emo.csv"
    return next((p for p in (base / name, base / split / name) if p.is_file()), None)


def _clip_dir(base: Path, split: str) -> Path | None:
    """The folder holding a split's mp4 clips, or None."""
    return next((base / d for d in _CLIP_DIRS[split] if (base / d).is_dir()), None)


def prepare_meld(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    fold_file: PathLike | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the MELD manifest from ``<split>_sent_emo.csv`` and the mp4 clips.

    Parameters
    ----------
    root : str or PathLike
        ``MELD.Raw/`` or the folder holding it.
    subset : {"train", "dev", "test"}, optional
        ``None`` loads every split whose CSV is present.
    out : str or PathLike, optional
        Manifest to write (atomically).
    strict : bool
        Raise instead of skipping bad data.
    fold_file : str or PathLike, optional
        Published folds (the paper's ``meld.csv``, test split) instead of dialogue-disjoint ones.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem

    Raises
    ------
    DatasetLayoutError
        No ``<split>_sent_emo.csv``, a split's clip folder missing, or bad data under ``strict``.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=("*_sent_emo.csv", *(f"{s}/{s}_sent_emo.csv" for s in SUBSETS)),
                        top_folders=("MELD.Raw",))
    csvs = {s: _csv_path(base, s) for s in SUBSETS}
    present = [s for s in SUBSETS if csvs[s] is not None]
    splits = select_splits(subset, known=SUBSETS, present=present, dataset=NAME, root=base, source=SOURCE)
    bad = BadData(NAME)
    if subset is None:  # clips without their CSV: say so rather than drop the split quietly
        for split in SUBSETS:
            clips = _clip_dir(base, split)
            if csvs[split] is None and clips is not None:
                bad.add("split", clips, f"no {split}_sent_emo.csv at {base} or {base / split}")
    specs = []
    for split in splits:
        clips = _clip_dir(base, split)
        if clips is None:
            raise layout_error(NAME, base / _CLIP_DIRS[split][0], f"{split} clip folder (unpack {split}.tar.gz)",
                               SOURCE)
        listed = set()
        for i, row in enumerate(_read_csv(csvs[split]), 2):
            emotion = (row.get("Emotion") or "").strip().lower()
            dia, utt = (row.get("Dialogue_ID") or "").strip(), (row.get("Utterance_ID") or "").strip()
            if emotion not in EMOTIONS or not dia.isdigit() or not utt.isdigit():
                bad.add("invalid", f"{split}_sent_emo.csv line {i}", f"emotion '{emotion}', dia '{dia}', utt '{utt}'")
                continue
            stem = f"dia{dia}_utt{utt}"
            listed.add(stem)
            specs.append(
                dict(path=clips / f"{stem}.mp4", id=f"{NAME}/{split}/{stem}", split=split, label=emotion,
                     text=(row.get("Utterance") or "").strip(), speaker=(row.get("Speaker") or "").strip() or None,
                     extra={"sentiment": (row.get("Sentiment") or "").strip(), "dialogue_id": int(dia)})
            )
        for path in scan_audio(clips, extensions=(".mp4",), recursive=False):
            if path.stem not in listed:
                bad.add("unlabelled", path)
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    items = add_folds(items, group_key=lambda it: (it.split, it.extra["dialogue_id"]), fold_file=fold_file,
                      strict=strict)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
