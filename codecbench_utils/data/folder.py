"""``folder``: any directory of audio files (e.g. the paper's self-collected set).

Every audio file under ``root`` (recursively; hidden files, ``__MACOSX`` and
AppleDouble ``._*`` files skipped) becomes one item. Nothing else is needed.

Layout (anything; for example)::

    my_audio/
    ├── podcasts/ep01.mp3
    ├── street/rain.wav
    └── README.txt                       # non-audio files are ignored

Manifest: ``id = folder/<relative path without extension>`` (the dataset name
can be changed with ``name``), ``category`` from the ``category`` option
(default ``general``) or, with ``category_from_dirs``, from the top-level
sub-folder a file sits in (``speech/``, ``music/``, ``sound/``, ``general/``;
files elsewhere keep ``category`` and are counted in a warning), ``label`` =
the parent folder's name when ``label_from_parent`` (files directly under
``root`` then have no label), ``split`` = the first path component when
``split_from_top`` (otherwise ``"all"``). Two files differing only by extension
(``a.wav``, ``a.flac``) would share an id and are reported as invalid.

An optional labels CSV (``labels=``; columns ``file`` plus any of ``label``,
``text``, ``speaker``, ``split``, ``category``, ``language``; ``file`` relative to ``root``, with
or without its extension) fills those fields and wins over the options above.
Rows naming no file are reported as missing; files without a row are kept with
what the options give and counted in a warning.

License: whatever the files carry. The paper's self-collected set is published
as ``RayYuki/CodecBench_collected_data`` on the Hugging Face hub.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from ..audio import PathLike
from ..errors import DatasetLayoutError, UnknownNameError
from .common import AUDIO_EXTENSIONS, BadData, audio_items, finish, rel_id, scan_audio
from .manifest import CATEGORIES, ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "prepare_folder"]

logger = logging.getLogger(__name__)

NAME = "folder"
CATEGORY = "general"
SUBSETS: tuple[str, ...] = ()
LICENSE = "that of the files"
DESCRIPTION = "any directory of audio, recursive; ids = relative paths; optional labels from parent folders"
SIZE = "-"
SOURCE = "a local folder of audio files"


def prepare_folder(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    category: str = CATEGORY,
    name: str = NAME,
    label_from_parent: bool = False,
    split_from_top: bool = False,
    category_from_dirs: bool = False,
    labels: PathLike | None = None,
    extensions: tuple[str, ...] = AUDIO_EXTENSIONS,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build a manifest from every audio file under ``root``.

    Parameters
    ----------
    root : str or PathLike
        The folder to scan recursively.
    subset : str, optional
        With ``split_from_top``: keep only files under ``root/<subset>/``;
        otherwise a sub-folder of ``root`` to scan instead of ``root``.
    out : str or PathLike, optional
        Manifest to write.
    strict : bool
        Raise on unreadable audio instead of skipping it.
    category : {"speech", "music", "sound", "general"}
        Category of every item.
    name : str
        Dataset name written in ``dataset`` and used as the id prefix.
    label_from_parent : bool
        Set ``label`` to the name of each file's parent folder.
    split_from_top : bool
        Set ``split`` to each file's first path component under ``root``.
    category_from_dirs : bool
        Take each file's category from its top-level folder (``speech/``, ``music/``, ...).
    labels : str or PathLike, optional
        CSV with columns ``file`` and any of ``label, text, speaker, split, category, language``
        (``file`` relative to ``root``; a relative CSV path is taken from ``root`` first).
    extensions : tuple of str
        Audio extensions to pick up.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id.

    Raises
    ------
    DatasetLayoutError
        ``root`` (or ``root/<subset>``) is not a folder or holds no audio.
    UnknownNameError
        ``category`` is not one of the four categories.
    """
    if category not in CATEGORIES:
        raise UnknownNameError(f"{NAME}: category '{category}' is not one of {CATEGORIES}")
    base = Path(root).expanduser()
    if not base.is_dir():
        raise DatasetLayoutError(f"{name}: root folder not found at '{base}'")
    scan_root = base
    if subset is not None:
        scan_root = base / subset
        if not scan_root.is_dir():
            raise DatasetLayoutError(f"{name}: subset folder not found at '{scan_root}'")
    files = scan_audio(scan_root, extensions=extensions)
    if not files:
        raise DatasetLayoutError(f"{name}: no audio file ({', '.join(extensions)}) under '{scan_root}'")
    bad = BadData(name)
    rows = _read_labels(base, labels, bad) if labels is not None else None
    specs, seen = [], {}
    n_uncategorised = n_unlisted = 0
    for p in files:
        rel = p.relative_to(base)
        ident = rel_id(name, p, base)
        if ident in seen:
            bad.add("invalid", p, f"same id as {seen[ident].name}")
            continue
        seen[ident] = p
        spec: dict = {"path": p, "id": ident, "category": category,
                      "split": rel.parts[0] if split_from_top and len(rel.parts) > 1 else "all",
                      "label": p.parent.name if label_from_parent and p.parent != base else None}
        if category_from_dirs:
            top = rel.parts[0].lower() if len(rel.parts) > 1 else ""
            if top in CATEGORIES:
                spec["category"] = top
            else:
                n_uncategorised += 1
        if rows is not None:
            row = rows.pop(rel.as_posix(), None) or rows.pop(rel.with_suffix("").as_posix(), None)
            if row is None:
                n_unlisted += 1
            else:
                spec.update({k: v for k, v in row.items() if v and k != "language"})
                if row.get("language"):  # the ASR error rates cover the recognizer's languages only
                    spec["extra"] = {"language": row["language"]}
        if spec["category"] not in CATEGORIES:
            bad.add("invalid", p, f"category '{spec['category']}' is not one of {CATEGORIES}")
            continue
        specs.append(spec)
    for key in rows or {}:
        bad.add("missing", base / key, f"listed in {labels} but not found")
    if n_uncategorised:
        logger.warning("%s: %d file(s) are not under a speech/, music/, sound/ or general/ folder; "
                       "they get category '%s'", name, n_uncategorised, category)
    if n_unlisted:
        logger.warning("%s: %d file(s) have no row in %s; they keep the labels the options give", name,
                       n_unlisted, labels)
    by_category: dict[str, list[dict]] = {}
    for spec in specs:
        by_category.setdefault(spec.pop("category"), []).append(spec)
    items = [it for cat, group in by_category.items()
             for it in audio_items(group, dataset=name, category=cat, bad=bad, progress=progress)]
    return finish(sorted(items, key=lambda it: it.id), out, bad=bad, strict=strict, source=SOURCE)


_LABEL_COLUMNS = ("label", "text", "speaker", "split", "category", "language")


def _read_labels(base: Path, labels: PathLike, bad: BadData) -> dict[str, dict[str, str]]:
    """Rows of the labels CSV by file path (as written, ``/`` separators)."""
    path = Path(labels).expanduser()
    if not path.is_absolute() and not path.is_file() and (base / path).is_file():
        path = base / path
    if not path.is_file():
        raise DatasetLayoutError(f"folder: labels file not found at '{labels}'")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        if "file" not in fields:
            raise DatasetLayoutError(f"folder: '{path}' has no 'file' column (columns: {fields}); expected "
                                     f"file plus any of {', '.join(_LABEL_COLUMNS)}")
        out: dict[str, dict[str, str]] = {}
        for i, raw in enumerate(reader, 2):
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            key = row.get("file", "").replace("\\", "/").lstrip("./")
            if not key:
                bad.add("invalid", f"{path.name} line {i}", "empty 'file'")
                continue
            out[key] = {k: row.get(k, "") for k in _LABEL_COLUMNS}
    return out
