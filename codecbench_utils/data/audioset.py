"""AudioSet: 10 s YouTube segments labelled with 527 sound classes (Gemmeke et al., 2017).

Google releases *segment lists only* (YouTube id, start, end, label mids); the
audio has to be fetched from YouTube by each user, and some videos are gone.
The recipe therefore reads the layout users end up with: the official segment
CSVs plus a folder (any depth) of clips named after the YouTube id and the
segment start.

License: labels CC BY 4.0 (Google); the audio belongs to the YouTube uploaders.
Source: https://research.google.com/audioset/download.html

Layout::

    audioset/
    ├── balanced_train_segments.csv  unbalanced_train_segments.csv  eval_segments.csv
    ├── class_labels_indices.csv
    └── audio/                                  # any folder name and depth
        ├── eval/--4gqARaEJE_0.000.flac          # <ytid>_<start s>[_<end s>]
        ├── Y--PJHxphWEs_30.000_40.000.wav       # leading Y (PANNs style) accepted
        └── -0RWZT-miFs_420000.wav               # start in ms accepted too

Sample lines::

    eval_segments.csv           # YTID, start_seconds, end_seconds, positive_labels
                                --4gqARaEJE, 0.000, 10.000, "/m/068hy,/m/07q6cd_,/m/0bt9lr,/m/0jbk"
    class_labels_indices.csv    index,mid,display_name / 0,/m/09x0r,"Speech"

A clip is matched to a CSV row by YouTube id (11 characters) and start time
(seconds, or milliseconds when the number is 1000 times a listed start); a clip
without a start matches when its id has one segment. ``split`` is the CSV's
name (``eval``, ``balanced_train``, ``unbalanced_train``); a split is present
when at least one of its segments has a clip. Rows of a present split without
a clip are counted as missing, clips matching no row as unlabelled.

Manifest: ``id = audioset/<relative clip path>``, ``label`` = the display names
joined by ``"; "`` (multi-label), ``extra`` = ``ytid``, ``start_s``, ``end_s``,
``mids``.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

from ..audio import PathLike
from .common import BadData, audio_items, finish, rel_id, resolve_root, scan_audio, select_splits
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "read_segments",
           "parse_clip_name", "prepare_audioset"]

logger = logging.getLogger(__name__)

NAME = "audioset"
CATEGORY = "general"
SUBSETS: tuple[str, ...] = ("eval", "balanced_train", "unbalanced_train")
LICENSE = "labels CC BY 4.0; audio: YouTube uploaders"
DESCRIPTION = ("YouTube 10 s segments, 527 classes; Google ships segment CSVs only: give the CSVs plus a "
               "folder of clips named <ytid>_<start>")
SIZE = "segment lists only, bring clips: eval 20,371 / balanced 22,160 / unbalanced 2.04 M x 10 s"
SOURCE = "https://research.google.com/audioset/download.html"
#: split -> segment CSV file name.
SEGMENT_FILES: dict[str, str] = {s: f"{s}_segments.csv" for s in SUBSETS}
_NAME_RE = re.compile(r"^(?P<ytid>[A-Za-z0-9_-]{11})(?:_(?P<start>\d+(?:\.\d+)?)(?:_(?P<end>\d+(?:\.\d+)?))?)?$")


def read_segments(path: PathLike) -> dict[str, list[tuple[float, float, list[str]]]]:
    """``{ytid: [(start_s, end_s, [mid, ...]), ...]}`` from an official segment CSV (``#`` lines skipped)."""
    out: dict[str, list[tuple[float, float, list[str]]]] = {}
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader((ln for ln in fh if not ln.startswith("#")), skipinitialspace=True)
        for row in rows:
            if len(row) < 4:
                continue
            out.setdefault(row[0], []).append((float(row[1]), float(row[2]), [m for m in row[3].split(",") if m]))
    return out


def parse_clip_name(stem: str) -> list[tuple[str, float | None, float | None]]:
    """Candidate ``(ytid, start, end)`` readings of a clip name (with and without a leading ``Y``)."""
    out = []
    for s in (stem, stem[1:] if stem.startswith("Y") else None):
        if s is None:
            continue
        m = _NAME_RE.match(s)
        if m:
            out.append((m["ytid"], float(m["start"]) if m["start"] else None, float(m["end"]) if m["end"] else None))
    return out


def _read_labels(path: Path) -> dict[str, str]:
    """``{mid: display_name}`` from class_labels_indices.csv."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {r["mid"]: r["display_name"] for r in csv.DictReader(fh)}


def _match(stem: str, index: dict[str, list[tuple[str, float, float, list[str]]]]):
    """The (split, start, end, mids) row a clip name refers to, or None."""
    for ytid, start, _end in parse_clip_name(stem):
        rows = index.get(ytid)
        if not rows:
            continue
        if start is None:
            if len(rows) == 1:
                return ytid, rows[0]
            continue
        for row in rows:
            if abs(row[1] - start) < 1e-3 or abs(row[1] * 1000 - start) < 1e-3:
                return ytid, row
    return None


def prepare_audioset(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    audio_dir: PathLike | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build an AudioSet manifest from the segment CSVs and a folder of downloaded clips.

    Parameters
    ----------
    root : str or PathLike
        Folder holding the segment CSVs (and, by default, the clips below it).
    subset : {"eval", "balanced_train", "unbalanced_train"}, optional
        One segment list; ``None`` loads every list that has clips.
    out : str or PathLike, optional
        Manifest to write.
    strict : bool
        Raise on bad data (rows without clips, clips without rows, unreadable audio).
    audio_dir : str or PathLike, optional
        Where the clips are, when not under ``root``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id.

    Raises
    ------
    DatasetLayoutError
        No segment CSV, no clip matching one, or (strict) bad data.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=tuple(SEGMENT_FILES.values()),
                        top_folders=("audioset", "AudioSet"))
    clips_root = Path(audio_dir) if audio_dir is not None else base
    labels_csv = base / "class_labels_indices.csv"
    names = _read_labels(labels_csv) if labels_csv.is_file() else {}
    index: dict[str, list[tuple[str, float, float, list[str]]]] = {}
    for split, fname in SEGMENT_FILES.items():
        if (base / fname).is_file():
            for ytid, rows in read_segments(base / fname).items():
                index.setdefault(ytid, []).extend((split, s, e, mids) for s, e, mids in rows)
    bad = BadData(NAME)
    matched: dict[str, list[tuple[Path, str, tuple]]] = {}
    for p in scan_audio(clips_root):
        hit = _match(p.stem, index)
        if hit is None:
            bad.add("unlabelled", p, "no segment row for this id/start")
            continue
        ytid, row = hit
        matched.setdefault(row[0], []).append((p, ytid, row))
    splits = select_splits(subset, known=SUBSETS, present=matched, dataset=NAME, root=clips_root, source=SOURCE)
    specs = []
    for split in splits:
        have = {(y, r[1]) for _, y, r in matched[split]}
        for ytid, rows in index.items():
            for r in rows:
                if r[0] == split and (ytid, r[1]) not in have:
                    bad.add("missing", f"{SEGMENT_FILES[split]}: {ytid} {r[1]:.3f}")
        for p, ytid, (_, start, end, mids) in matched[split]:
            label = "; ".join(names.get(m, m) for m in mids) or None
            specs.append({"path": p, "id": rel_id(NAME, p, clips_root), "split": split, "label": label,
                          "extra": {"ytid": ytid, "start_s": start, "end_s": end, "mids": mids}})
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
