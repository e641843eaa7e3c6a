"""Clotho-AQA: audio question answering on 1,991 Clotho clips (Lipping et al., EUSIPCO 2022).

15-30 s Freesound clips (44.1 kHz WAV); six questions per clip, each answered
by three annotators (35,838 question-answer rows). The unit here is the clip:
its questions and answers go to ``extra``.

License: see ``LICENSE.txt`` in the release (Clotho audio: Freesound licences,
mostly CC BY / CC0; annotations CC BY 4.0). Source: https://zenodo.org/record/6473207

Native layout::

    clotho_aqa/
    ├── audio_files/
    │   ├── 00294 harbour ambient.wav
    │   └── ...
    ├── clotho_aqa_train.csv  clotho_aqa_val.csv  clotho_aqa_test.csv
    ├── clotho_aqa_metadata.csv
    └── LICENSE.txt

``clotho_aqa_<split>.csv`` (one row per answer)::

    file_name,QuestionText,answer,confidence
    00294 harbour ambient.wav,Are there waves?,yes,yes

Manifest: ``id = clotho_aqa/<file stem>``, ``split`` = ``train``/``val``/``test``
(the CSV that lists the clip), ``extra.qa`` = ``[{question, answers}]`` in CSV
order. A clip listed in two CSVs keeps the first split (train, val, test) and
is counted as invalid in the other.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from ..audio import PathLike
from .common import BadData, audio_items, finish, resolve_root, scan_audio, select_splits
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "prepare_clotho_aqa"]

logger = logging.getLogger(__name__)

NAME = "clotho_aqa"
CATEGORY = "general"
SUBSETS: tuple[str, ...] = ("train", "val", "test")
LICENSE = "annotations CC BY 4.0; audio Freesound licences (see LICENSE.txt)"
DESCRIPTION = "audio question answering on Clotho clips; 6 questions x 3 answers per clip"
SIZE = "1,991 clips, 15-30 s, 44.1 kHz, 3.7 GB"
SOURCE = "https://zenodo.org/record/6473207"
_QUESTION_COLUMNS = ("QuestionText", "question", "Question")


def prepare_clotho_aqa(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the Clotho-AQA manifest (one item per clip).

    Parameters
    ----------
    root : str or PathLike
        Folder holding ``audio_files/`` and the split CSVs.
    subset : {"train", "val", "test"}, optional
        One split; ``None`` loads every split CSV present.
    out : str or PathLike, optional
        Manifest to write.
    strict : bool
        Raise on bad data instead of counting and skipping it.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id.

    Raises
    ------
    DatasetLayoutError
        No split CSV or audio folder, or (strict) bad data.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=tuple(f"clotho_aqa_{s}.csv" for s in SUBSETS),
                        top_folders=("clotho_aqa", "ClothoAQA", "Clotho-AQA"))
    audio_dir = base / "audio_files"
    if not audio_dir.is_dir():
        sub = [p for p in base.iterdir() if p.is_dir() and p.name.lower().startswith("audio")]
        audio_dir = sub[0] if len(sub) == 1 else audio_dir
    present = [s for s in SUBSETS if (base / f"clotho_aqa_{s}.csv").is_file()]
    splits = select_splits(subset, known=SUBSETS, present=present, dataset=NAME, root=base, source=SOURCE)
    bad = BadData(NAME)
    clip_split: dict[str, str] = {}
    qa: dict[str, dict[str, list[str]]] = {}
    for split in present:
        path = base / f"clotho_aqa_{split}.csv"
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            qcol = next((c for c in _QUESTION_COLUMNS if c in (reader.fieldnames or [])), None)
            for line, row in enumerate(reader, 2):
                name = (row.get("file_name") or "").strip()
                if not name or qcol is None:
                    bad.add("invalid", f"{path.name} line {line}", "no file_name/QuestionText")
                    continue
                first = clip_split.setdefault(name, split)
                if first != split:
                    bad.add("invalid", f"{path.name} line {line}", f"{name} already in {first}")
                    continue
                qa.setdefault(name, {}).setdefault(row[qcol].strip(), []).append((row.get("answer") or "").strip())
    on_disk = {p.name: p for p in scan_audio(audio_dir, extensions=(".wav", ".flac"))} if audio_dir.is_dir() else {}
    if not on_disk:
        from ..errors import DatasetLayoutError

        raise DatasetLayoutError(f"{NAME}: no audio under '{audio_dir}'; get audio_files.zip from {SOURCE}")
    for name, p in on_disk.items():
        if name not in clip_split:
            bad.add("unlabelled", p)
    specs = []
    for name, split in clip_split.items():
        if split not in splits:
            continue
        extra = {"qa": [{"question": q, "answers": a} for q, a in qa[name].items()]}
        specs.append({"path": on_disk.get(name, audio_dir / name), "id": f"{NAME}/{Path(name).stem}",
                      "split": split, "extra": extra})
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
