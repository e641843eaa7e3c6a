"""Atomic file publication shared by every writer (audio, manifests, result tables, caches).

Temporary files are named ``.tmp-<pid>.<host>-*`` so that a later run can tell those of
dead writers (removed by :func:`remove_stale_temps`) from those of live ones (kept: shards
of a sweep write into the same folders). A failed write on a full disk is recognised by
:func:`is_disk_full`, so drivers can stop the run instead of blaming each item.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["atomic_path", "publish", "write_frame", "remove_stale_temps", "is_disk_full", "TEMP_PREFIX"]

logger = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"
#: a temp file of another host (or of an older release, untagged) is stale after this long
FOREIGN_TEMP_MAX_AGE_S = 3600.0
#: a failed write with less free space than this is taken as a full disk
LOW_SPACE_BYTES = 16 << 20
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
_TAGGED = re.compile(r"^\.tmp-(\d+)\.([0-9a-f]{8})-")


def _temp_prefix() -> str:
    return f"{TEMP_PREFIX}{os.getpid()}.{_HOST}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(folder: str | os.PathLike[str], *, recursive: bool = True) -> int:
    """Remove temp files that dead writers left in ``folder``; return how many.

    A file tagged with this host is stale when its process is gone; an untagged one, or
    one of another host, when it is older than ``FOREIGN_TEMP_MAX_AGE_S``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    now = time.time()
    removed = 0
    for path in (folder.rglob if recursive else folder.glob)(f"{TEMP_PREFIX}*"):
        m = _TAGGED.match(path.name)
        try:
            if m and m.group(2) == _HOST:
                stale = not _alive(int(m.group(1)))
            else:
                stale = now - path.stat().st_mtime > FOREIGN_TEMP_MAX_AGE_S
            if stale and path.is_file():
                path.unlink()
                removed += 1
        except OSError:  # raced with its writer or another cleaner
            continue
    if removed:
        logger.info("removed %d temp file(s) left by interrupted runs in %s", removed, folder)
    return removed


def is_disk_full(exc: BaseException, folder: str | os.PathLike[str]) -> bool:
    """Whether a failed write was the disk (or quota) being full.

    True for ``ENOSPC``/``EDQUOT`` anywhere in the exception's chain, and for any other
    failure (libsndfile says only "System error.") when ``folder``'s file system has less
    than ``LOW_SPACE_BYTES`` free.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen = seen.__cause__ or seen.__context__
    try:
        return shutil.disk_usage(folder).free < LOW_SPACE_BYTES
    except OSError:
        return False


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
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(), suffix=path.suffix, dir=path.parent)
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
        raise ConfigError(f"table file must end in .csv or .parquet, got '{path}'")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
    return path
