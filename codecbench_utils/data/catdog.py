"""Audio Cats and Dogs: 277 short recordings of cats meowing and dogs barking (Kaggle).

164 cat and 113 dog clips (16 kHz mono WAV, 1-18 s) with the uploader's
train/test split. License: CC BY-SA 3.0 (Kaggle dataset page). Source:
https://www.kaggle.com/datasets/mmoreaux/audio-cats-and-dogs
(``kaggle datasets download mmoreaux/audio-cats-and-dogs`` then unzip).

Native layout::

    audio-cats-and-dogs/
    ├── cats_dogs/
    │   ├── cat_1.wav  ...  cat_167.wav
    │   └── dog_barking_0.wav  ...  dog_barking_112.wav
    ├── train_test_split.csv
    └── utils.py

``train_test_split.csv`` (pandas index column, one column per split and class,
columns padded with empty cells)::

    ,test_cat,test_dog,train_cat,train_dog
    0,cat_22.wav,dog_barking_97.wav,cat_99.wav,dog_barking_33.wav

Some copies instead sort the clips into ``<train|test>/<cat|dog>/`` folders; the
recipe reads those too (split and label from the folder names).

Manifest: ``id = catdog/<relative path>``, ``label`` = ``cat`` or ``dog`` (from
the split column, else the folder or the file-name prefix), ``split`` = ``train``
or ``test``. Folds: 5 folds stratified by label (no speaker metadata: not
group-disjoint).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from ..audio import PathLike
from .common import BadData, audio_items, finish, rel_id, resolve_root, scan_audio, select_splits
from .folds import assign_folds
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "prepare_catdog"]

logger = logging.getLogger(__name__)

NAME = "catdog"
CATEGORY = "sound"
SUBSETS: tuple[str, ...] = ("train", "test")
LICENSE = "CC BY-SA 3.0"
DESCRIPTION = "cat meows vs dog barks (Kaggle audio-cats-and-dogs), train/test split"
SIZE = "277 clips, 16 kHz, 100 MB"
SOURCE = "https://www.kaggle.com/datasets/mmoreaux/audio-cats-and-dogs"
LABELS: tuple[str, ...] = ("cat", "dog")
N_FOLDS = 5
#: Folder names that denote a class.
_LABEL_DIRS = {"cat": "cat", "cats": "cat", "dog": "dog", "dogs": "dog"}


def _label_from_name(name: str) -> str | None:
    """``cat_12.wav`` -> cat, ``dog_barking_3.wav`` -> dog."""
    head = name.split("_", 1)[0].lower()
    return _LABEL_DIRS.get(head)


def _read_split_csv(path: Path) -> dict[str, tuple[str, str]]:
    """``{file name: (split, label)}`` from train_test_split.csv."""
    out: dict[str, tuple[str, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            for col, val in row.items():
                if not col or not val or "_" not in col:
                    continue
                split, label = col.strip().split("_", 1)
                if split in SUBSETS and label in LABELS:
                    out[val.strip()] = (split, label)
    return out


def prepare_catdog(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the Cats-and-Dogs manifest.

    Parameters
    ----------
    root : str or PathLike
        Folder the Kaggle zip was unpacked into.
    subset : {"train", "test"}, optional
        One split; ``None`` loads both.
    out : str or PathLike, optional
        Manifest to write.
    strict : bool
        Raise on bad data instead of counting and skipping it.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id, with ``label``, ``split`` and ``fold``.

    Raises
    ------
    DatasetLayoutError
        No ``cats_dogs/`` folder, or (strict) bad data.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE,
                        markers=("train_test_split.csv", "cats_dogs/*.wav", "cats_dogs/*/*/*.wav"),
                        top_folders=("audio-cats-and-dogs",))
    audio_dir = base / "cats_dogs"
    if not audio_dir.is_dir():
        audio_dir = base
    bad = BadData(NAME)
    files = scan_audio(audio_dir, extensions=(".wav",))
    split_csv = base / "train_test_split.csv"
    table = _read_split_csv(split_csv) if split_csv.is_file() else {}
    rows: list[tuple[Path, str, str]] = []  # (path, split, label)
    flat = [p for p in files if p.parent == audio_dir]
    if table:
        by_name = {p.name: p for p in flat}
        for name, (split, label) in sorted(table.items()):
            if _label_from_name(name) not in (None, label):
                bad.add("invalid", f"{split_csv.name}: {name}", f"listed as {label}")
                continue
            rows.append((by_name.get(name, audio_dir / name), split, label))
        for p in flat:
            if p.name not in table:
                bad.add("unlabelled", p)
    else:
        for p in files:
            parts = [q.lower() for q in p.relative_to(audio_dir).parts[:-1]]
            split = next((q for q in parts if q in SUBSETS), None)
            label = next((_LABEL_DIRS[q] for q in parts if q in _LABEL_DIRS), None) or _label_from_name(p.name)
            if split is None or label is None:
                bad.add("unlabelled", p, "no train/test folder or cat/dog name")
                continue
            rows.append((p, split, label))
    splits = select_splits(subset, known=SUBSETS, present={s for _, s, _ in rows}, dataset=NAME, root=base,
                           source=SOURCE)
    specs = [{"path": p, "id": rel_id(NAME, p, audio_dir), "split": s, "label": lab}
             for p, s, lab in rows if s in splits]
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    if len(items) >= N_FOLDS:
        items = assign_folds(items, N_FOLDS, seed=0)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
