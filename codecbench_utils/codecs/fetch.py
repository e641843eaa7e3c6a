"""Explicit weight downloads: what ``codecbench codecs fetch ID`` runs, and only it.

A codec declares what it needs through ``Codec.fetch_plan(spec)``: either pinned
files (URL + sha256, e.g. Lyra's three TFLite models from one git commit) or a
pinned Hugging Face ``repo``@``revision``. Nothing here runs at import, test or
stage time: stages only read what a fetch (or the user) put on disk.

Pinned files are streamed into a temporary file beside their destination, checked
against their sha256 and only then renamed into place, so an interrupted or
corrupted download never leaves a file that looks complete. The default cache is
``$XDG_CACHE_HOME/codecbench`` (``~/.cache/codecbench``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_path
from ..errors import CodecBenchError, first_line

__all__ = ["PinnedFile", "FetchPlan", "FetchError", "cache_root", "sha256_file", "missing_files",
           "download_file", "run_plan"]

#: seconds without progress before a download is given up
DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK = 1 << 16


class FetchError(CodecBenchError, OSError):
    """A download failed (offline, HTTP error, checksum mismatch); nothing was left half-written."""


@dataclass(frozen=True)
class PinnedFile:
    """One file to download: where from, and the sha256 (and size) it must have."""

    name: str
    url: str
    sha256: str
    size: int | None = None


@dataclass(frozen=True)
class FetchPlan:
    """What one codec needs downloaded: pinned files into ``target``, or a Hub snapshot."""

    codec_id: str
    target: Path | None = None
    files: tuple[PinnedFile, ...] = ()
    hub_repo: str | None = None
    hub_revision: str | None = None
    #: only these files of the snapshot (glob patterns), when the repo holds more than the codec needs
    hub_files: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        """One line per download, for ``--dry-run``."""
        lines = []
        for f in self.files:
            size = f"{f.size:,} bytes" if f.size is not None else "size unknown"
            lines.append(f"{self.codec_id}: {f.url} -> {self.target / f.name} (sha256 {f.sha256}, {size})")
        if self.hub_repo:
            rev = self.hub_revision or "main"
            note = "" if _is_commit(rev) else " (a branch, not a pinned commit)"
            only = f" ({', '.join(self.hub_files)} only)" if self.hub_files else ""
            lines.append(f"{self.codec_id}: Hugging Face {self.hub_repo}@{rev}{note}{only} -> the Hugging Face cache "
                         "(size unknown until fetched)")
        return lines


def _is_commit(rev: str) -> bool:
    return len(rev) == 40 and all(c in "0123456789abcdef" for c in rev.lower())


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/codecbench``, else ``~/.cache/codecbench``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "codecbench"


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _problem(folder: Path, f: PinnedFile, *, verify: bool) -> str | None:
    """Why ``folder`` lacks a good copy of ``f``: ``"missing"`` (or the wrong size), ``"sha256 mismatch"``, or None."""
    path = folder / f.name
    if not path.is_file() or (f.size is not None and path.stat().st_size != f.size):
        return "missing"
    if verify and sha256_file(path) != f.sha256:
        return "sha256 mismatch"
    return None


def missing_files(folder: Path, files: tuple[PinnedFile, ...], *, verify: bool = True) -> list[str]:
    """Names of ``files`` absent from ``folder`` or (with ``verify``) not matching their sha256."""
    out = []
    for f in files:
        problem = _problem(folder, f, verify=verify)
        if problem:
            out.append(f.name if problem == "missing" else f"{f.name} ({problem})")
    return out


def download_file(f: PinnedFile, folder: Path, *, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Download one pinned file into ``folder`` atomically; raise FetchError on any failure."""
    import urllib.error
    import urllib.request

    dst = Path(folder) / f.name
    h = hashlib.sha256()
    try:
        with atomic_path(dst) as tmp:
            try:
                with urllib.request.urlopen(f.url, timeout=timeout) as resp, tmp.open("wb") as out:
                    for chunk in iter(lambda: resp.read(_CHUNK), b""):
                        h.update(chunk)
                        out.write(chunk)
            except urllib.error.HTTPError as exc:
                raise FetchError(f"cannot download {f.url}: HTTP {exc.code} {exc.reason}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                raise FetchError(f"cannot download {f.url}: {reason} (offline? the file can also be copied "
                                 f"by hand into {folder})") from exc
            if h.hexdigest() != f.sha256:
                raise FetchError(f"{f.url}: sha256 {h.hexdigest()} does not match the pinned {f.sha256}; "
                                 "nothing was written")
    except OSError as exc:
        if isinstance(exc, FetchError):
            raise
        raise FetchError(f"cannot write {dst}: {exc.strerror or exc}") from exc
    return dst


def _hub_snapshot(repo: str, revision: str | None, files: tuple[str, ...] = ()) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - installed with transformers
        raise FetchError("package 'huggingface_hub' is not installed; pip install huggingface_hub") from exc
    try:
        return Path(snapshot_download(repo, revision=revision or "main", allow_patterns=list(files) or None))
    except Exception as exc:  # the hub client's own errors: offline, unknown repo/revision, gated repo
        raise FetchError(f"cannot fetch Hugging Face {repo}@{revision or 'main'}: {first_line(exc)}") from exc


def run_plan(plan: FetchPlan, *, log: Callable[[str], None] = print) -> None:
    """Carry out one plan: skip files already present with the right checksum, download the rest."""
    if plan.files:
        assert plan.target is not None
        for f in plan.files:
            if _problem(plan.target, f, verify=True) is None:
                log(f"{plan.codec_id}: {f.name} already present and verified in {plan.target}")
                continue
            path = download_file(f, plan.target)
            log(f"{plan.codec_id}: {f.name} -> {path} (sha256 verified)")
    if plan.hub_repo:
        path = _hub_snapshot(plan.hub_repo, plan.hub_revision, plan.hub_files)
        log(f"{plan.codec_id}: {plan.hub_repo} -> {path} (commit {path.name})")
