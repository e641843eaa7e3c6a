"""NSynth: annotated musical notes (Engel et al., 2017).

Four-second, 16 kHz monophonic notes from 1,006 instruments. CodecBench uses the
``test`` split (4,096 notes), whose instrument families are the 10 labels of
Table 2 (``synth_lead`` occurs only in train/valid).

License: CC BY 4.0. Source: https://magenta.tensorflow.org/datasets/nsynth
(``nsynth-{train,valid,test}.jsonwav.tar.gz``).

Native layout::

    nsynth-test/
      examples.json
      audio/
        bass_electronic_018-022-100.wav
        ...

Sample entry of ``examples.json`` (a dict keyed by ``note_str``)::

    "bass_electronic_018-022-100": {"note": 1, "note_str": "bass_electronic_018-022-100",
      "instrument": 759, "instrument_str": "bass_electronic_018", "pitch": 22, "velocity": 100,
      "sample_rate": 16000, "qualities": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "qualities_str": [],
      "instrument_family": 0, "instrument_family_str": "bass", "instrument_source": 1,
      "instrument_source_str": "electronic"}

Items: ``label`` = ``instrument_family_str``, ``split`` the part, ``extra`` holds
``instrument``, ``instrument_source``, ``pitch``, ``velocity``. Folds 1..5 are
stratified by family and **instrument-disjoint** (grouped by ``instrument_str``;
the paper's ``nsynth.csv`` folds, which are not, can be imported with
``fold_file=``). Ids: ``nsynth/<split>/<note_str>``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..audio import PathLike
from ..errors import DatasetLayoutError
from .common import BadData, audio_items, finish, layout_error, resolve_root, scan_audio, select_splits
from .folds import add_folds
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "SOURCE", "DESCRIPTION", "SIZE", "prepare_nsynth"]

logger = logging.getLogger(__name__)

NAME = "nsynth"
CATEGORY = "music"
SUBSETS: tuple[str, ...] = ("train", "valid", "test")
LICENSE = "CC BY 4.0"
SOURCE = "https://magenta.tensorflow.org/datasets/nsynth"
DESCRIPTION = "single musical notes; test split, 10 instrument families (instrument probe)"
SIZE = "test 4,096 notes / 4.6 h (train 289,205, valid 12,678)"


def _split_dirs(base: Path) -> dict[str, Path]:
    """Split name -> folder, for ``nsynth-<split>/`` folders or a single split folder passed as root."""
    found = {s: base / f"nsynth-{s}" for s in SUBSETS if (base / f"nsynth-{s}" / "examples.json").is_file()}
    if not found and (base / "examples.json").is_file():
        name = base.name.removeprefix("nsynth-")
        if name in SUBSETS:
            found[name] = base
    return found


def prepare_nsynth(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    fold_file: PathLike | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the NSynth manifest from ``nsynth-<split>/examples.json`` and ``audio/``.

    Parameters
    ----------
    root : str or PathLike
        A folder holding ``nsynth-<split>/`` folders, or one ``nsynth-<split>/`` itself.
    subset : {"train", "valid", "test"}, optional
        ``None`` loads every split present.
    out : str or PathLike, optional
        Manifest to write (atomically).
    strict : bool
        Raise instead of skipping bad data.
    fold_file : str or PathLike, optional
        Published folds (the paper's ``nsynth.csv``) instead of instrument-disjoint ones.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem

    Raises
    ------
    DatasetLayoutError
        No split folder, an unreadable ``examples.json``, or bad data under ``strict``.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=("nsynth-*/examples.json", "examples.json"))
    dirs = _split_dirs(base)
    if not dirs and (base / "examples.json").is_file():
        raise DatasetLayoutError(
            f"{NAME}: '{base}' holds examples.json but is not named nsynth-<split>; "
            f"pass the folder holding nsynth-{{train,valid,test}}/ (get it from {SOURCE})"
        )
    splits = select_splits(subset, known=SUBSETS, present=dirs, dataset=NAME, root=base, source=SOURCE)
    bad = BadData(NAME)
    specs = []
    for split in splits:
        folder = dirs[split]
        meta_path = folder / "examples.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise layout_error(NAME, meta_path, f"readable examples.json ({exc})", SOURCE) from exc
        listed = set()
        for key, row in meta.items():
            try:
                note = str(row.get("note_str", key))
                family = str(row["instrument_family_str"])
                extra = {
                    "instrument": str(row["instrument_str"]),
                    "instrument_source": str(row.get("instrument_source_str", "")),
                    "pitch": int(row["pitch"]),
                    "velocity": int(row["velocity"]),
                }
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                bad.add("invalid", f"{meta_path}#{key}", f"missing or bad field {exc}")
                continue
            listed.add(note)
            specs.append(dict(path=folder / "audio" / f"{note}.wav", id=f"{NAME}/{split}/{note}", split=split,
                              label=family, extra=extra))
        if (folder / "audio").is_dir():
            for path in scan_audio(folder / "audio", extensions=(".wav",), recursive=False):
                if path.stem not in listed:
                    bad.add("unlabelled", path)
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    items = add_folds(items, group_key="instrument", fold_file=fold_file, strict=strict)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
