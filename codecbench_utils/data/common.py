"""Shared helpers for the dataset recipes (``data/<name>.py``).

A recipe reads a corpus's native layout and builds a manifest. The steps every
recipe shares live here:

- :func:`resolve_root` finds the corpus under ``--root``, which may be the folder
  the archive was unpacked into or the archive's own top folder;
- :func:`scan_audio` lists audio files (hidden and AppleDouble ``._*`` files skipped);
- :func:`select_splits` checks ``--subset`` against the splits a recipe knows and finds;
- :class:`BadData` counts problems (missing audio, unreadable audio, metadata rows
  without audio, audio without metadata, bad metadata) and reports them in *one*
  :class:`BadDataWarning`, or raises when ``strict``;
- :func:`audio_item` / :func:`audio_items` build :class:`ManifestItem` records whose
  ``sample_rate``, ``duration`` and ``channels`` are read from the file;
- :func:`finish` reports the bad data, sorts by id, validates and writes atomically;

Nothing here does I/O at import.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..audio import PathLike, audio_info
from ..errors import DatasetLayoutError, InvalidAudioError, UnknownNameError
from .manifest import ManifestItem, validate_manifest, write_manifest

__all__ = [
    "AUDIO_EXTENSIONS",
    "BAD_KINDS",
    "BadData",
    "BadDataWarning",
    "audio_item",
    "audio_items",
    "finish",
    "layout_error",
    "read_text_lines",
    "rel_id",
    "require_dir",
    "require_file",
    "resolve_root",
    "scan_audio",
    "select_splits",
]

logger = logging.getLogger(__name__)

#: Extensions :func:`scan_audio` treats as audio by default.
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".mp4", ".aiff", ".aif", ".au")

#: Kinds of bad data, in report order, with the phrase used in the warning.
BAD_KINDS: dict[str, str] = {
    "missing": "metadata rows whose audio file is missing",
    "unreadable": "unreadable or empty audio files",
    "unlabelled": "audio files without a metadata row",
    "invalid": "metadata rows that cannot be parsed or carry an unknown label",
    "split": "splits whose audio is there but whose metadata was not found (the whole split is left out)",
}

#: Kinds that mean the layout disagrees with the metadata (strict raises DatasetLayoutError).
_LAYOUT_KINDS = ("missing", "unlabelled", "invalid", "split")

#: How many example paths a warning or error quotes per kind.
_N_EXAMPLES = 5


class BadDataWarning(UserWarning):
    """Some files or metadata rows of a corpus were skipped (counts in the message)."""


# ---------------------------------------------------------------- errors and roots
def layout_error(dataset: str, path: PathLike, what: str, source: str) -> DatasetLayoutError:
    """A :class:`DatasetLayoutError` naming the dataset, the path expected and where the corpus comes from."""
    return DatasetLayoutError(f"{dataset}: {what} not found at '{path}'; get the corpus from {source}")


def require_file(path: PathLike, *, dataset: str, source: str, what: str = "annotation file") -> Path:
    """Return ``path`` if it is a file, else raise :func:`layout_error`."""
    path = Path(path)
    if not path.is_file():
        raise layout_error(dataset, path, what, source)
    return path


def require_dir(path: PathLike, *, dataset: str, source: str, what: str = "folder") -> Path:
    """Return ``path`` if it is a directory, else raise :func:`layout_error`."""
    path = Path(path)
    if not path.is_dir():
        raise layout_error(dataset, path, what, source)
    return path


def _has_any(folder: Path, markers: Sequence[str]) -> bool:
    """True if any marker (a relative path or glob pattern) exists under ``folder``."""
    for m in markers:
        if any(ch in m for ch in "*?["):
            if next(iter(folder.glob(m)), None) is not None:
                return True
        elif (folder / m).exists():
            return True
    return False


def resolve_root(
    root: PathLike,
    *,
    dataset: str,
    source: str,
    markers: Sequence[str],
    top_folders: Sequence[str] = (),
) -> Path:
    """Find the corpus folder under ``root``.

    Parameters
    ----------
    root : str or PathLike
        What the user passed as ``--root``: the folder the archive was unpacked
        into, or the archive's own top folder.
    dataset : str
        Dataset name, for the error message.
    source : str
        Where the corpus comes from (URL), for the error message.
    markers : sequence of str
        Relative paths or glob patterns; the corpus folder is the first candidate
        under which any of them exists.
    top_folders : sequence of str
        The archive's top folder name(s), e.g. ``("LibriSpeech",)``. Candidates are
        ``root``, then ``root/<top>`` for each name, then ``root/<only subfolder>``
        when ``root`` holds exactly one visible folder.

    Returns
    -------
    pathlib.Path
        The candidate folder holding the markers.

    Raises
    ------
    DatasetLayoutError
        ``root`` does not exist or no candidate holds any marker.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise layout_error(dataset, root, "root folder", source)
    candidates = [root] + [root / t for t in top_folders]
    subdirs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__MACOSX"))]
    if len(subdirs) == 1:
        candidates.append(subdirs[0])
        candidates += [subdirs[0] / t for t in top_folders]
    for cand in candidates:
        if cand.is_dir() and _has_any(cand, markers):
            return cand
    tried = ", ".join(f"'{c}'" for c in dict.fromkeys(candidates))
    raise DatasetLayoutError(
        f"{dataset}: none of {list(markers)} found under {tried}; pass --root as the folder the "
        f"official download was unpacked into (get it from {source})"
    )


def select_splits(
    subset: str | None,
    *,
    known: Sequence[str],
    present: Iterable[str],
    dataset: str,
    root: PathLike,
    source: str,
) -> list[str]:
    """Splits to load: ``[subset]`` when given, else every known split present (in ``known`` order).

    Raises
    ------
    UnknownNameError
        ``subset`` is not one of ``known``.
    DatasetLayoutError
        ``subset`` is known but absent under ``root``, or no known split is present.
    """
    present_set = set(present)
    if subset is not None:
        if subset not in known:
            raise UnknownNameError(f"{dataset}: unknown subset '{subset}'; known: {', '.join(known)}")
        if subset not in present_set:
            raise layout_error(dataset, root, f"subset '{subset}'", source)
        return [subset]
    found = [s for s in known if s in present_set]
    if not found:
        raise DatasetLayoutError(
            f"{dataset}: no split of {list(known)} found under '{root}'; get the corpus from {source}"
        )
    return found


def scan_audio(
    folder: PathLike,
    *,
    extensions: Sequence[str] = AUDIO_EXTENSIONS,
    recursive: bool = True,
) -> list[Path]:
    """Audio files under ``folder``, sorted; hidden files and macOS ``._*`` / ``__MACOSX`` skipped."""
    folder = Path(folder)
    exts = {e.lower() for e in extensions}
    it = folder.rglob("*") if recursive else folder.iterdir()
    out = []
    for p in it:
        rel = p.relative_to(folder).parts
        if any(part.startswith(".") or part == "__MACOSX" for part in rel):
            continue
        if p.suffix.lower() in exts and p.is_file():
            out.append(p)
    return sorted(out)


def read_text_lines(path: PathLike) -> list[str]:
    """Non-empty, right-stripped lines of a UTF-8 text file (a BOM is dropped)."""
    with Path(path).open(encoding="utf-8-sig") as fh:
        return [ln.rstrip("\r\n") for ln in fh if ln.strip()]


def rel_id(dataset: str, path: PathLike, base: PathLike) -> str:
    """Item id ``<dataset>/<path relative to base, without extension>`` (``/`` separators)."""
    rel = Path(path).relative_to(base).with_suffix("")
    return "/".join((dataset, *rel.parts))


# ---------------------------------------------------------------- bad data
@dataclass
class BadData:
    """Counts problems met while preparing one corpus; :meth:`report` warns once or raises.

    Each kind (see :data:`BAD_KINDS`) keeps a list of ``(where, why)`` pairs.
    """

    dataset: str
    problems: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: {k: [] for k in BAD_KINDS})

    def add(self, kind: str, where: PathLike, why: str = "") -> None:
        """Record one problem of ``kind`` at ``where`` (a path or metadata row)."""
        if kind not in BAD_KINDS:
            raise ValueError(f"bad-data kind must be one of {list(BAD_KINDS)}, got '{kind}'")
        self.problems[kind].append((str(where), why))
        logger.debug("%s: %s %s %s", self.dataset, kind, where, why)

    def counts(self) -> dict[str, int]:
        """Number of problems per kind (every kind present, zeros included)."""
        return {k: len(v) for k, v in self.problems.items()}

    @property
    def total(self) -> int:
        return sum(self.counts().values())

    def summary(self) -> str:
        """One message: the count per kind and a few examples of each."""
        parts = []
        for kind, rows in self.problems.items():
            if not rows:
                continue
            ex = "; ".join(f"{w} ({y})" if y else w for w, y in rows[:_N_EXAMPLES])
            more = f"; ... {len(rows) - _N_EXAMPLES} more" if len(rows) > _N_EXAMPLES else ""
            parts.append(f"{len(rows)} {BAD_KINDS[kind]}: {ex}{more}")
        return f"{self.dataset}: " + " | ".join(parts)

    def report(self, *, strict: bool = False, stacklevel: int = 3) -> None:
        """Warn once (:class:`BadDataWarning`) with the counts, or raise when ``strict``.

        Raises
        ------
        DatasetLayoutError
            ``strict`` and a file is missing, unmatched or a metadata row is invalid.
        InvalidAudioError
            ``strict`` and the only problems are unreadable audio files.
        """
        if not self.total:
            return
        msg = self.summary()
        if strict:
            if any(self.problems[k] for k in _LAYOUT_KINDS):
                raise DatasetLayoutError(msg + " (strict mode: fix the corpus or drop --strict)")
            raise InvalidAudioError(msg + " (strict mode: fix the corpus or drop --strict)")
        warnings.warn(msg + "; these were left out of the manifest", BadDataWarning, stacklevel=stacklevel)


# ---------------------------------------------------------------- items
def audio_item(
    path: PathLike,
    *,
    id: str,
    dataset: str,
    category: str,
    bad: BadData | None = None,
    split: str | None = None,
    label: str | None = None,
    text: str | None = None,
    speaker: str | None = None,
    fold: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ManifestItem | None:
    """A :class:`ManifestItem` whose duration, sample rate and channels come from the file.

    ``path`` is stored absolute. A missing file is recorded as ``missing`` and an
    unreadable or empty one as ``unreadable`` in ``bad`` (then ``None`` is
    returned); without ``bad`` the :class:`InvalidAudioError` propagates.
    """
    p = Path(path)
    try:
        if not p.is_file():
            if bad is None:
                raise InvalidAudioError(f"audio file not found: '{p}'", item_id=id)
            bad.add("missing", p)
            return None
        duration, sr, channels = audio_info(p)
        if duration <= 0:
            raise InvalidAudioError(f"'{p}' holds 0 samples", item_id=id)
    except InvalidAudioError as exc:
        if bad is None:
            raise
        bad.add("unreadable", p, str(exc).rsplit(": ", 1)[-1][:120])
        return None
    return ManifestItem(
        id=id,
        dataset=dataset,
        category=category,
        path=os.path.abspath(p),
        duration=round(float(duration), 6),
        sample_rate=int(sr),
        split=split,
        label=label,
        text=text,
        speaker=speaker,
        fold=fold,
        channels=int(channels),
        extra=dict(extra or {}),
    )


def audio_items(
    specs: Sequence[Mapping[str, Any]],
    *,
    dataset: str,
    category: str,
    bad: BadData,
    progress: bool = True,
    num_workers: int | None = None,
) -> list[ManifestItem]:
    """Build items from ``specs`` (each holds ``path``, ``id`` and optional fields) with a thread pool.

    Reading headers is I/O bound, so threads overlap file-system latency. Items
    that fail are recorded in ``bad`` and left out.
    """
    from tqdm import tqdm

    def one(spec: Mapping[str, Any]) -> ManifestItem | None:
        return audio_item(dataset=dataset, category=category, bad=bad, **spec)

    workers = num_workers or min(8, (os.cpu_count() or 1) + 2)
    out: list[ManifestItem] = []
    bar = tqdm(total=len(specs), desc=f"prepare {dataset}", unit="item", disable=not progress)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for it in pool.map(one, specs):
            bar.update(1)
            if it is not None:
                out.append(it)
    bar.close()
    return out


def finish(
    items: Iterable[ManifestItem],
    out: PathLike | None,
    *,
    bad: BadData,
    strict: bool = False,
    source: str = "",
) -> list[ManifestItem]:
    """Report bad data, sort by id, validate, and write ``out`` atomically when given.

    Raises
    ------
    DatasetLayoutError / InvalidAudioError
        ``strict`` and ``bad`` holds problems (see :meth:`BadData.report`), or no
        valid item is left.
    ManifestError
        Duplicate ids or an invalid record.
    """
    bad.report(strict=strict, stacklevel=4)
    items = sorted(items, key=lambda it: it.id)
    if not items:
        where = f"; get the corpus from {source}" if source else ""
        raise DatasetLayoutError(f"{bad.dataset}: no valid audio item found{where}")
    items = validate_manifest(items)
    if out is not None:
        write_manifest(items, out)
    logger.info("%s: %d items (%d skipped)", bad.dataset, len(items), bad.total)
    return items
