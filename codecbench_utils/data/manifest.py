"""The manifest: one JSON object per line, one audio item per object.

Fields (DESIGN.md): ``id, dataset, category, path, duration, sample_rate, split,
label, text, speaker`` plus optional ``fold``, ``channels`` and free ``extra``
fields. ``path`` is absolute or relative to the manifest file's folder.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from ..atomic import atomic_path
from ..errors import ManifestError

__all__ = [
    "CATEGORIES",
    "REQUIRED_FIELDS",
    "Category",
    "ManifestItem",
    "read_manifest",
    "write_manifest",
    "validate_manifest",
    "resolve_path",
    "id_problem",
    "output_key",
]

Category = Literal["speech", "music", "sound", "general"]
CATEGORIES: tuple[str, ...] = ("speech", "music", "sound", "general")
REQUIRED_FIELDS: tuple[str, ...] = ("id", "dataset", "category", "path", "duration", "sample_rate")


@dataclass(frozen=True)
class ManifestItem:
    """One audio item. ``label``/``text``/``speaker`` are ``None`` where a corpus has none."""

    id: str
    dataset: str
    category: str
    path: str
    duration: float
    sample_rate: int
    split: str | None = None
    label: str | None = None
    text: str | None = None
    speaker: str | None = None
    fold: int | None = None
    channels: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Flat dict; ``extra`` fields are merged in, ``None`` optional fields dropped."""
        d = asdict(self)
        extra = d.pop("extra")
        out = {k: v for k, v in d.items() if v is not None or k in _CORE}
        out.update(extra)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, line: int | None = None) -> ManifestItem:
        """Build and validate an item; unknown keys go to ``extra``."""
        where = f"manifest line {line}: " if line is not None else ""
        missing = [k for k in REQUIRED_FIELDS if d.get(k) in (None, "")]
        if missing:
            ident = d.get("id", "<no id>")
            raise ManifestError(
                f"{where}item '{ident}' lacks required field(s) {missing}; "
                f"every row needs {list(REQUIRED_FIELDS)}",
                item_id=d.get("id"),
            )
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in d.items() if k in known}
        extra = {k: v for k, v in d.items() if k not in known}
        try:
            kwargs["duration"] = float(kwargs["duration"])
            kwargs["sample_rate"] = int(kwargs["sample_rate"])
            if kwargs.get("fold") is not None:
                kwargs["fold"] = int(kwargs["fold"])
            if kwargs.get("channels") is not None:
                kwargs["channels"] = int(kwargs["channels"])
        except (TypeError, ValueError) as exc:
            raise ManifestError(f"{where}item '{d['id']}': {exc}", item_id=d["id"]) from exc
        for k in ("id", "dataset", "category", "path"):
            kwargs[k] = str(kwargs[k])
        item = cls(**kwargs, extra=extra)
        _validate_item(item, where, check_id=False)  # ids are checked with their neighbours (validate_manifest)
        return item


_CORE = {"id", "dataset", "category", "path", "duration", "sample_rate", "split", "label", "text", "speaker"}


def _validate_item(item: ManifestItem, where: str = "", *, check_id: bool = True) -> None:
    if item.category not in CATEGORIES:
        raise ManifestError(
            f"{where}item '{item.id}': category '{item.category}' is not one of {CATEGORIES}",
            item_id=item.id,
        )
    if item.sample_rate <= 0:
        raise ManifestError(f"{where}item '{item.id}': sample_rate {item.sample_rate} <= 0", item_id=item.id)
    if item.duration < 0:
        raise ManifestError(f"{where}item '{item.id}': duration {item.duration} < 0", item_id=item.id)
    problem = id_problem(item.id) if check_id else None
    if problem:
        raise ManifestError(f"{where}item id '{item.id}' {problem}; ids are relative paths like 'speaker/utt1' "
                            "(they name the item's output files)", item_id=item.id)


def id_problem(item_id: str) -> str | None:
    """Why ``item_id`` cannot name an output file (``None`` when it can).

    Ids become paths (``<out>/<id>.flac``), so only one spelling of each path is allowed:
    ``a/./b``, ``a//b`` and ``a/b/`` would all write ``a/b.flac``.
    """
    if not item_id or item_id != item_id.strip():
        return "is empty or starts/ends with whitespace"
    if "\\" in item_id or "\x00" in item_id:
        return "contains a backslash or a NUL character"
    if item_id.startswith("/"):
        return "is an absolute path"
    if item_id.endswith("/"):
        return "ends in '/'"
    if any(part in ("", ".", "..") for part in item_id.split("/")):
        return "has an empty, '.' or '..' path segment"
    return None


def output_key(item_id: str) -> str:
    """The output path an id maps to, as a case-insensitive file system sees it."""
    return posixpath.normpath("/" + item_id).lstrip("/").casefold()


def validate_manifest(items: Iterable[ManifestItem], *, lines: list[int] | None = None) -> list[ManifestItem]:
    """Check every item, and that no two ids name the same output file; return the items as a list.

    ``lines`` (the file line of each item) makes the messages point at the manifest's lines.
    """
    out = list(items)
    seen: dict[str, str] = {}
    for i, it in enumerate(out):
        where = f"manifest line {lines[i]}: " if lines is not None else ""
        key = output_key(it.id)
        if key in seen:
            first = seen[key]
            what = f"duplicate item id '{it.id}'" if first == it.id else (
                f"item ids '{first}' and '{it.id}' name the same output file ('{key}.flac' after path "
                "normalisation, or on a case-insensitive file system)")
            raise ManifestError(f"{where}{what}; every item needs its own id", item_id=it.id)
        seen[key] = it.id
        _validate_item(it, where)
    return out


def resolve_path(item: ManifestItem, manifest_dir: str | os.PathLike[str] | None) -> Path:
    """Absolute path of an item's audio (relative paths hang off the manifest's folder)."""
    p = Path(item.path)
    if p.is_absolute() or manifest_dir is None:
        return p
    return Path(manifest_dir) / p


def read_manifest(path: str | os.PathLike[str]) -> list[ManifestItem]:
    """Read a JSONL manifest; raises ManifestError naming the bad line."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest not found: '{path}'")
    items, lines = [], []
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ManifestError(f"'{path}' line {i}: not valid JSON ({exc})") from exc
            if not isinstance(d, dict):
                raise ManifestError(f"'{path}' line {i}: expected a JSON object, got {type(d).__name__}")
            items.append(ManifestItem.from_dict(d, line=i))
            lines.append(i)
    return validate_manifest(items, lines=lines)


def write_manifest(items: Iterable[ManifestItem], path: str | os.PathLike[str]) -> Path:
    """Write items as JSONL atomically; the same items give a byte-identical file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    items = validate_manifest(items)
    text = "".join(json.dumps(it.to_dict(), ensure_ascii=False, sort_keys=False) + "\n" for it in items)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
