"""Atomic file publication shared by every writer (audio, manifests, result tables, caches)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["publish"]


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
