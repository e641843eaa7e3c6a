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
(default ``general``), ``label`` = the parent folder's name when
``label_from_parent`` (files directly under ``root`` then have no label),
``split`` = the first path component when ``split_from_top`` (otherwise
``"all"``). Two files differing only by extension (``a.wav``, ``a.flac``) would
share an id and are reported as invalid.

License: whatever the files carry. The paper's self-collected set is published
as ``RayYuki/CodecBench_collected_data`` on the Hugging Face hub.
"""

from __future__ import annotations

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
    specs, seen = [], {}
    for p in files:
        rel = p.relative_to(base)
        ident = rel_id(name, p, base)
        if ident in seen:
            bad.add("invalid", p, f"same id as {seen[ident].name}")
            continue
        seen[ident] = p
        split = rel.parts[0] if split_from_top and len(rel.parts) > 1 else "all"
        label = p.parent.name if label_from_parent and p.parent != base else None
        specs.append({"path": p, "id": ident, "split": split, "label": label})
    items = audio_items(specs, dataset=name, category=category, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
