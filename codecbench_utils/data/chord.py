"""Musical Instrument Chord Classification (Audio): major vs minor chords.

859 recordings of piano and guitar chords, 502 major and 357 minor, 44.1 kHz wav
(Table 2: Chord 2).

License: as stated on the Kaggle page (the uploader scraped the chords from
online chord libraries); no redistribution here, no ``download`` function.
Source: https://www.kaggle.com/datasets/deepcontractor/musical-instrument-chord-classification

Native layout::

    Audio_Files/
      Major/
        Major_0.wav
        ...
      Minor/
        Minor_0.wav
        ...

There is no annotation file: the folder is the label (``Major`` / ``Minor``, the
corpus's own names, as in the paper's ``chord_recognition.csv``:
``audio_path,label,fold`` / ``Minor_261.wav,Minor,4``).

Items: ``split`` ``all``, ``fold`` 1..5 stratified by label. The release does not
say which instrument played each chord, so folds cannot be instrument-disjoint.
Ids: ``chord/<label>/<file stem>``.
"""

from __future__ import annotations

import logging

from ..audio import PathLike
from .common import BadData, audio_items, finish, resolve_root, scan_audio, select_splits
from .folds import add_folds
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "SOURCE", "DESCRIPTION", "SIZE", "LABELS", "prepare_chord"]

logger = logging.getLogger(__name__)

NAME = "chord"
CATEGORY = "music"
SUBSETS: tuple[str, ...] = ("all",)
LICENSE = "see Kaggle page (not redistributed)"
SOURCE = "https://www.kaggle.com/datasets/deepcontractor/musical-instrument-chord-classification"
DESCRIPTION = "piano and guitar chords, major vs minor (chord probe)"
SIZE = "859 clips (502 major, 357 minor)"

LABELS: tuple[str, ...] = ("Major", "Minor")


def prepare_chord(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    fold_file: PathLike | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the chord manifest from ``Audio_Files/{Major,Minor}/``.

    Parameters
    ----------
    root : str or PathLike
        ``Audio_Files/`` itself or the folder holding it.
    subset : {"all"}, optional
    out : str or PathLike, optional
        Manifest to write (atomically).
    strict : bool
        Raise instead of skipping bad data.
    fold_file : str or PathLike, optional
        Published folds (the paper's ``chord_recognition.csv``).
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem

    Raises
    ------
    DatasetLayoutError
        Neither ``Major/`` nor ``Minor/`` found, or bad data under ``strict``.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=LABELS, top_folders=("Audio_Files",))
    select_splits(subset, known=SUBSETS, present=SUBSETS, dataset=NAME, root=base, source=SOURCE)
    bad = BadData(NAME)
    specs = []
    for label in LABELS:
        folder = base / label
        if not folder.is_dir():
            logger.warning("%s: label folder '%s' is missing", NAME, folder)
            continue
        for path in scan_audio(folder, extensions=(".wav",), recursive=False):
            specs.append(dict(path=path, id=f"{NAME}/{label}/{path.stem}", split="all", label=label))
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    items = add_folds(items, group_key=None, fold_file=fold_file, strict=strict)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
