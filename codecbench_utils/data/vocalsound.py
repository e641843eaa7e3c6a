"""VocalSound: 21,024 crowdsourced laughs, sighs, coughs, throat clearings, sneezes and sniffs.

Recorded by 3,365 speakers (Gong, Yu & Glass, ICASSP 2022), with speaker
gender, age, country, native language and health condition. The official
speaker-disjoint split is train 15,531 / validation 1,855 / test 3,591 items
(20,977 listed; 47 files of the zip are broken and not listed). CodecBench uses
the 3,591-item **test** split for the vocal-sound probe (6 classes).

License: CC BY-SA 4.0. Source: https://github.com/YuanGongND/vocalsound
(``vs_release_16k.zip``, 1.7 GB, or ``vs_release_44k.zip``, 4.5 GB).

Native layout (the zip has no top folder; ``vs_release_16k/`` is accepted too)::

    vs_release_16k/
    ├── readme.txt  LICENSE
    ├── class_labels_indices_vs.csv
    ├── audio_16k/                    # audio_44k/ or data_44k/ in the 44.1 kHz zip
    │   ├── f0003_0_cough.wav         # <f|m><speaker>_<take>_<sound>.wav
    │   └── ...
    ├── datafiles/
    │   ├── tr.json  val.json  te.json  all.json
    │   └── subtest/te_age1.json ...
    └── meta/
        └── tr_meta.csv  val_meta.csv  te_meta.csv

One sample line each::

    class_labels_indices_vs.csv   index,mid,display_name / 0,/m/01j3sz,"Laughter"
    datafiles/te.json             {"data": [{"wav": "/.../audio_16k/f0003_0_cough.wav", "labels": "/m/01b_21"}, ...]}
    meta/te_meta.csv (no header)  f0003,female,25,United States,English,no

Split membership comes from ``datafiles/{tr,val,te}.json`` (item level); when
those are absent, from the speaker lists in ``meta/{tr,val,te}_meta.csv``.
``label`` is the AudioSet display name (``Laughter, Sigh, Cough, Throat
clearing, Sneeze, Sniff``), ``speaker`` the file-name prefix (``f0003``).

Folds: 5-fold, stratified by label and **speaker-disjoint**
(:func:`~codecbench_utils.data.folds.assign_folds`, seed 0), over the items
loaded. If the root holds the paper's fold file ``meta/vocalsound.csv``
(columns ``spk_id,wav,labels,WavPath,label,fold``; the paper's release keeps
the clips in ``wav/``), its folds are used instead; those are not
speaker-disjoint.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from dataclasses import replace
from pathlib import Path

from ..audio import PathLike
from ..errors import DatasetLayoutError
from .common import BadData, audio_items, finish, resolve_root, scan_audio, select_splits
from .folds import assign_folds
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "LABELS",
           "prepare_vocalsound"]

logger = logging.getLogger(__name__)

NAME = "vocalsound"
CATEGORY = "sound"
SUBSETS: tuple[str, ...] = ("train", "validation", "test")
LICENSE = "CC BY-SA 4.0"
DESCRIPTION = "human vocal sounds, 6 classes, 3,365 speakers; paper subset = official test split"
SIZE = "20,977 listed clips (test 3,591), 16 kHz, 1.7 GB"
SOURCE = "https://github.com/YuanGongND/vocalsound"
#: File-name token -> (AudioSet mid, display name), in class_labels_indices_vs.csv order.
LABELS: dict[str, tuple[str, str]] = {
    "laughter": ("/m/01j3sz", "Laughter"),
    "sigh": ("/m/07plz5l", "Sigh"),
    "cough": ("/m/01b_21", "Cough"),
    "throatclearing": ("/m/0dl9sf8", "Throat clearing"),
    "sneeze": ("/m/01hsr_", "Sneeze"),
    "sniff": ("/m/07ppn3j", "Sniff"),
}
#: Native split prefix -> manifest split name.
SPLIT_FILES: dict[str, str] = {"tr": "train", "val": "validation", "te": "test"}
#: Audio folders, in order of preference.
AUDIO_DIRS: tuple[str, ...] = ("audio_16k", "audio_44k", "data_44k", "wav")
META_COLUMNS: tuple[str, ...] = ("gender", "age", "country", "native_language", "health")
N_FOLDS = 5
_NAME_RE = re.compile(r"^(?P<spk>[fm]\d+)_(?P<take>\d+)_(?P<sound>[a-z]+)$")


def _read_json_split(path: Path) -> list[str]:
    """File names listed in a datafiles/*.json (``{"data": [{"wav": ...}]}``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data["data"] if isinstance(data, dict) else data
    return [Path(str(r["wav"]).replace("\\", "/")).name for r in rows]


def _read_meta(path: Path) -> dict[str, dict[str, str]]:
    """Speaker rows of a headerless meta/*_meta.csv."""
    out = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            if not row or not row[0].strip() or row[0].strip() == "spk_id":
                continue
            out[row[0].strip()] = dict(zip(META_COLUMNS, (c.strip() for c in row[1:]), strict=False))
    return out


def _read_paper_folds(path: Path) -> dict[str, int]:
    """``{file name: fold}`` from the paper's meta/vocalsound.csv (key column WavPath or wav)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for r in rows:
        key = r.get("WavPath") or r.get("wav") or ""
        out[Path(key.replace("\\", "/")).name] = int(r["fold"])
    return out


def prepare_vocalsound(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    fold_file: PathLike | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the VocalSound manifest.

    Parameters
    ----------
    root : str or PathLike
        Folder the zip was unpacked into (or ``vs_release_16k/``).
    subset : {"train", "validation", "test"}, optional
        One official split (``test`` is the paper's 3,591 items); ``None`` loads
        every split present.
    out : str or PathLike, optional
        Manifest to write.
    strict : bool
        Raise on bad data instead of counting and skipping it.
    fold_file : str or PathLike, optional
        A published fold file (CSV with a ``fold`` column and ``WavPath`` or
        ``wav`` naming the clip). Defaults to ``meta/vocalsound.csv`` when present.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id; ``label``, ``speaker``, ``split`` and ``fold`` set.

    Raises
    ------
    DatasetLayoutError
        No audio folder or split list, or (strict) bad data.
    UnknownNameError
        Unknown ``subset``.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=AUDIO_DIRS,
                        top_folders=("vs_release_16k", "vs_release_44k", "data"))
    audio_dir = next(base / d for d in AUDIO_DIRS if (base / d).is_dir())
    bad = BadData(NAME)
    # split -> set of file names; speaker -> metadata
    members: dict[str, set[str]] = {}
    speakers: dict[str, dict[str, str]] = {}
    spk_split: dict[str, str] = {}
    for prefix, split in SPLIT_FILES.items():
        meta = base / "meta" / f"{prefix}_meta.csv"
        if meta.is_file():
            rows = _read_meta(meta)
            speakers.update(rows)
            spk_split.update({s: split for s in rows})
        js = base / "datafiles" / f"{prefix}.json"
        if js.is_file():
            members[split] = set(_read_json_split(js))
    files = {p.name: p for p in scan_audio(audio_dir, extensions=(".wav",), recursive=False)}
    paper_file = Path(fold_file) if fold_file is not None else base / "meta" / "vocalsound.csv"
    paper_folds = _read_paper_folds(paper_file) if paper_file.is_file() else None
    if fold_file is not None and paper_folds is None:
        raise DatasetLayoutError(f"{NAME}: fold file not found: '{fold_file}'")
    if not members and spk_split:
        for name in files:
            m = _NAME_RE.match(Path(name).stem)
            if m and m["spk"] in spk_split:
                members.setdefault(spk_split[m["spk"]], set()).add(name)
    if not members and paper_folds is not None:
        # the paper's release: its 3,591 clips are the official test split
        members["test"] = set(paper_folds)
    if not members:
        raise DatasetLayoutError(
            f"{NAME}: no split list under '{base}' (expected datafiles/te.json or meta/te_meta.csv); "
            f"get the corpus from {SOURCE}"
        )
    splits = select_splits(subset, known=SUBSETS, present=members, dataset=NAME, root=base, source=SOURCE)
    listed = set().union(*members.values())
    for name, path in files.items():
        if name not in listed:
            bad.add("unlabelled", path)
    specs = []
    for split in splits:
        for name in sorted(members[split]):
            m = _NAME_RE.match(Path(name).stem)
            if m is None or m["sound"] not in LABELS:
                bad.add("invalid", name, f"expected <f|m><id>_<take>_<{'|'.join(LABELS)}>.wav")
                continue
            mid, label = LABELS[m["sound"]]
            extra = {"mid": mid, "take": int(m["take"]), **speakers.get(m["spk"], {})}
            specs.append({"path": audio_dir / name, "id": f"{NAME}/{Path(name).stem}", "split": split,
                          "label": label, "speaker": m["spk"], "extra": extra})
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    if paper_folds is not None:
        items = [replace(it, fold=paper_folds.get(Path(it.path).name)) for it in items]
        n_none = sum(it.fold is None for it in items)
        if n_none:
            logger.warning("%s: %d items are not in the fold file '%s'", NAME, n_none, paper_file)
    elif len({it.speaker for it in items}) >= N_FOLDS:
        items = assign_folds(items, N_FOLDS, group_key="speaker", seed=0)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
