"""GTZAN: music genre collection (Tzanetakis & Cook, 2002).

1,000 excerpts of 30 s, 100 per genre, 22,050 Hz mono (Table 2: GTZAN 10).

License: none stated; distributed for research use ("for academic purposes").
Source: http://marsyas.info/downloads/datasets.html (``genres.tar.gz``, ``.au`` files);
the Kaggle copy (https://www.kaggle.com/datasets/andradaolteanu/gtzan-dataset-music-genre-classification)
holds the same excerpts as ``.wav`` under ``Data/genres_original/``, where
``jazz.00054.wav`` is unreadable (the paper's fold file has 999 rows without it).

Native layout::

    genres/                          (Kaggle: Data/genres_original/)
      blues/
        blues.00000.au               (Kaggle: blues.00000.wav)
        ...
      classical/ country/ disco/ hiphop/ jazz/ metal/ pop/ reggae/ rock/

There is no annotation file: the genre folder is the label.

Items: ``label`` the genre, ``split`` ``all`` (no official split; the
"fault-filtered" split of Sturm is not part of the release), ``fold`` 1..5
stratified by genre. The metadata has no artist, so folds cannot be
artist-disjoint (GTZAN repeats artists and even excerpts across files; see Sturm
2013); the paper's ``gtzan.csv`` can be imported with ``fold_file=``.
Ids: ``gtzan/<genre>/<file stem>``.
"""

from __future__ import annotations

import logging

from ..audio import PathLike
from .common import BadData, audio_items, finish, resolve_root, scan_audio, select_splits
from .folds import add_folds
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "SOURCE", "DESCRIPTION", "SIZE", "GENRES", "prepare_gtzan"]

logger = logging.getLogger(__name__)

NAME = "gtzan"
CATEGORY = "music"
SUBSETS: tuple[str, ...] = ("all",)
LICENSE = "research use (no license stated)"
SOURCE = "http://marsyas.info/downloads/datasets.html"
DESCRIPTION = "music genre excerpts, 10 genres x 100 x 30 s (genre probe)"
SIZE = "1,000 clips / 8.3 h"

GENRES: tuple[str, ...] = (
    "blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock",
)
_TOPS = ("genres", "genres_original", "Data/genres_original", "gtzan/genres", "GTZAN/genres")


def prepare_gtzan(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    fold_file: PathLike | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the GTZAN manifest from the genre folders.

    Parameters
    ----------
    root : str or PathLike
        ``genres/`` itself, the folder holding it, or the Kaggle download folder.
    subset : {"all"}, optional
    out : str or PathLike, optional
        Manifest to write (atomically).
    strict : bool
        Raise instead of skipping bad data.
    fold_file : str or PathLike, optional
        Published folds (the paper's ``gtzan.csv``: ``audio_path,label,fold``).
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem

    Raises
    ------
    DatasetLayoutError
        No genre folder found, or bad data under ``strict``.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=GENRES, top_folders=_TOPS)
    select_splits(subset, known=SUBSETS, present=SUBSETS, dataset=NAME, root=base, source=SOURCE)
    bad = BadData(NAME)
    specs = []
    for genre in GENRES:
        folder = base / genre
        if not folder.is_dir():
            logger.warning("%s: genre folder '%s' is missing", NAME, folder)
            continue
        for path in scan_audio(folder, extensions=(".au", ".wav"), recursive=False):
            if path.name.split(".")[0] != genre:
                bad.add("invalid", path, f"file in '{genre}/' not named {genre}.NNNNN")
                continue
            specs.append(dict(path=path, id=f"{NAME}/{genre}/{path.stem}", split="all", label=genre))
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    items = add_folds(items, group_key=None, fold_file=fold_file, strict=strict)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
