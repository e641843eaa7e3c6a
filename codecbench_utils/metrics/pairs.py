"""Which files to score against which: two folders matched by relative path, or a manifest plus a
resynthesis folder (``<dir>/<id>.flac``, whose ``index.jsonl`` marks the items that failed
resynthesis)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..audio import PathLike
from ..errors import ManifestError

__all__ = ["AUDIO_EXTENSIONS", "PairSource", "find_pairs"]

logger = logging.getLogger(__name__)

#: Files considered audio when matching folders.
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus")


@dataclass(frozen=True)
class PairSource:
    """One item to score: where its reference and estimate live, and any status known up front."""

    item: str
    ref_path: Path
    est_path: Path | None
    dataset: str | None = None
    category: str | None = None
    pre_status: str | None = None  # e.g. "resynthesis failed: ..." -> every metric NaN
    text: str | None = None  # the transcript (ASR error rates)
    language: str | None = None  # the manifest's ``language`` field; None: assumed English



def _audio_files(root: Path, *, strict: bool = False) -> dict[str, Path]:
    """Audio files under ``root`` by relative path without extension.

    Two files that differ only by extension (``x.flac`` and ``x.wav``) are one item: the
    first in name order is used and the others are reported (a warning with counts, or a
    ManifestError with ``strict``), never dropped without a word.
    """
    out: dict[str, Path] = {}
    dropped: list[tuple[str, Path]] = []
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file() and not p.name.startswith("."):
            key = p.relative_to(root).with_suffix("").as_posix()
            if key in out:
                dropped.append((key, p))
            else:
                out[key] = p
    if dropped:
        shown = ", ".join(f"{p.relative_to(root)} (kept {out[key].name})" for key, p in dropped[:5])
        more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
        msg = (f"{root}: {len(dropped)} audio file(s) share their name with another file of another extension "
               f"and were not scored: {shown}{more}")
        if strict:
            raise ManifestError(msg + "; rename them so every item has one file")
        logger.warning("%s", msg)
    return out


def find_pairs(ref: PathLike, est: PathLike, *, manifest: PathLike | None = None,
               strict: bool = False) -> list[PairSource]:
    """Match references and estimates.

    Without ``manifest``: every audio file under ``ref`` is an item (id = relative
    path without extension) and its estimate is the file with the same relative
    path (any audio extension) under ``est``. With ``manifest``: items and
    reference paths come from the manifest, estimates are ``<est>/<id>.flac``, and
    ``<est>/index.jsonl`` (if present) marks items whose resynthesis failed.
    An item without an estimate file is kept, with a status.
    """
    est = Path(est)
    if manifest is not None:
        from ..data.manifest import read_manifest, resolve_path

        manifest = Path(manifest)
        items = read_manifest(manifest)
        index: dict[str, Any] = {}
        if (est / "index.jsonl").is_file():
            from ..codecs.resynth import read_index

            index = read_index(est)
        out = []
        for it in items:
            rec = index.get(it.id)
            pre = None
            if rec is not None and rec.status != "ok":
                pre = f"resynthesis failed: {rec.reason or 'no reason recorded'}"
            out.append(PairSource(it.id, resolve_path(it, manifest.parent), est / f"{it.id}.flac",
                                  it.dataset, it.category, pre, it.text, it.extra.get("language")))
        return out
    ref = Path(ref)
    if not ref.is_dir():
        raise ManifestError(f"reference folder not found: '{ref}' (pass --manifest to read items from a manifest)")
    refs = _audio_files(ref, strict=strict)
    ests = _audio_files(est, strict=strict) if est.is_dir() else {}
    return [PairSource(item, path, ests.get(item)) for item, path in refs.items()]
