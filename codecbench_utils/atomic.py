"""Atomic file publication shared by every writer (audio, manifests, result tables, caches)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "publish", "write_frame"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Rename a finished temp file onto ``path`` (atomic within a folder).

    ``tempfile.mkstemp`` creates files readable by their owner only; the published
    file gets the usual ``0o666 & ~umask`` so other users of a shared runs folder
    (and a Ray cluster's workers) can read it.
    """
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)
    return Path(path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary file beside ``path`` (same suffix) for the caller to write.

    When the block finishes it is published onto ``path``; when the block raises (or the
    process is interrupted) it is removed, so ``path`` is either the old file or the
    complete new one, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_frame(df: Any, path: str | os.PathLike[str]) -> Path:
    """Write a pandas DataFrame atomically as ``.csv`` or ``.parquet`` (by extension), no index.

    Raises ``ValueError`` for any other extension.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"table file must end in .csv or .parquet, got '{path}'")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
    return path
