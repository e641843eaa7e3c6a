"""ESC-50: 2,000 five-second environmental recordings in 50 classes (Piczak, 2015).

40 clips per class, 44.1 kHz mono WAV, pre-arranged into 5 folds so that
fragments of one Freesound recording never straddle two folds. CodecBench uses
all 2,000 clips for the sound-event linear probe with the official folds.

License: CC BY-NC 3.0 (the ESC-10 subset is CC BY). Source:
https://github.com/karolpiczak/ESC-50 (``archive/master.zip`` unpacks to ``ESC-50-master/``).

Native layout::

    ESC-50-master/
    ├── audio/
    │   ├── 1-100032-A-0.wav        # <fold>-<freesound clip id>-<take>-<target>.wav
    │   └── ...                     # 2000 files
    └── meta/
        └── esc50.csv

``meta/esc50.csv`` (header + one row per clip)::

    filename,fold,target,category,esc10,src_file,take
    1-100032-A-0.wav,1,0,dog,True,100032,A

Manifest: ``id = esc50/<file stem>``, ``label = category`` (the corpus's own
class name), ``fold`` = the official fold (1-5) and ``split = "fold<k>"``;
``extra`` keeps ``target``, ``esc10``, ``src_file`` and ``take``. Subsets:
``fold1`` … ``fold5`` (one official fold) and ``esc10`` (the 400-clip ESC-10
subset, all folds).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from ..audio import PathLike
from .common import BadData, audio_items, finish, require_dir, require_file, resolve_root, scan_audio
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "prepare_esc50"]

logger = logging.getLogger(__name__)

NAME = "esc50"
CATEGORY = "sound"
FOLDS: tuple[str, ...] = ("fold1", "fold2", "fold3", "fold4", "fold5")
SUBSETS: tuple[str, ...] = (*FOLDS, "esc10")
LICENSE = "CC BY-NC 3.0 (ESC-10: CC BY)"
DESCRIPTION = "environmental sounds, 50 classes x 40 clips, 5 s, official 5 folds"
SIZE = "2,000 clips, 2.8 h, 600 MB"
SOURCE = "https://github.com/karolpiczak/ESC-50"
#: Columns of meta/esc50.csv.
COLUMNS: tuple[str, ...] = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
N_CLASSES = 50


def prepare_esc50(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the ESC-50 manifest from ``meta/esc50.csv`` and ``audio/``.

    Parameters
    ----------
    root : str or PathLike
        Folder the archive was unpacked into, or ``ESC-50-master`` itself.
    subset : {"fold1", ..., "fold5", "esc10"}, optional
        One official fold, or the ESC-10 subset; ``None`` loads all 2,000 clips.
    out : str or PathLike, optional
        Manifest to write (JSONL, atomically).
    strict : bool
        Raise instead of skipping bad rows, missing or unreadable audio, or audio
        without a metadata row.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id.

    Raises
    ------
    DatasetLayoutError
        ``meta/esc50.csv`` or ``audio/`` is missing, or (strict) bad data.
    UnknownNameError
        Unknown ``subset``.
    """
    from ..errors import UnknownNameError

    if subset is not None and subset not in SUBSETS:
        raise UnknownNameError(f"{NAME}: unknown subset '{subset}'; known: {', '.join(SUBSETS)}")
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=("meta/esc50.csv",),
                        top_folders=("ESC-50-master", "ESC-50"))
    meta = require_file(base / "meta" / "esc50.csv", dataset=NAME, source=SOURCE)
    audio_dir = require_dir(base / "audio", dataset=NAME, source=SOURCE, what="audio folder")
    bad = BadData(NAME)
    specs = []
    listed: set[str] = set()
    with meta.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing_cols = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing_cols:
            from ..errors import DatasetLayoutError

            raise DatasetLayoutError(f"{NAME}: '{meta}' lacks columns {missing_cols}; expected {list(COLUMNS)}")
        for line, row in enumerate(reader, 2):
            try:
                fold = int(row["fold"])
                target = int(row["target"])
                esc10 = row["esc10"].strip().lower() == "true"
                if not 1 <= fold <= 5 or not 0 <= target < N_CLASSES or not row["category"]:
                    raise ValueError(f"fold {row['fold']}, target {row['target']}")
            except (TypeError, ValueError) as exc:
                bad.add("invalid", f"{meta.name} line {line}", str(exc))
                continue
            listed.add(row["filename"])
            if subset == "esc10" and not esc10:
                continue
            if subset in FOLDS and f"fold{fold}" != subset:
                continue
            path = audio_dir / row["filename"]
            specs.append({
                "path": path,
                "id": f"{NAME}/{Path(row['filename']).stem}",
                "split": f"fold{fold}",
                "label": row["category"],
                "fold": fold,
                "extra": {"target": target, "esc10": esc10, "src_file": row["src_file"], "take": row["take"]},
            })
    for p in scan_audio(audio_dir, recursive=False):
        if p.name not in listed:
            bad.add("unlabelled", p)
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
