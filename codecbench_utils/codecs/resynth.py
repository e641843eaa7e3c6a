"""The resynthesis driver: manifest in, one aligned audio file per item out.

``DIR/<item id>.flac`` at the codec's output rate, same duration as the input,
and ``DIR/index.jsonl`` with one record per item (status, reason, bitrate,
encode/decode seconds, cache key). Records are appended as items finish, so a
killed run loses at most the item in flight; a rerun skips every item whose
record says ``ok`` under the same key (codec fingerprint + input content hash)
and whose file is still there. Audio is written atomically.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..atomic import atomic_path, is_disk_full, remove_stale_temps
from ..audio import PathLike, check_audio, load_audio, save_audio
from ..data.manifest import ManifestItem, read_manifest, resolve_path, validate_manifest
from ..errors import CodecRuntimeError, ConfigError, DiskFullError, InvalidAudioError
from .base import Codec, CodecSpec, Resynthesis
from .fingerprint import codec_fingerprint
from .registry import get_spec, load_codec

__all__ = ["ResynthRecord", "ResynthSummary", "resynthesize", "read_index", "output_path", "INDEX_NAME"]

logger = logging.getLogger(__name__)

INDEX_NAME = "index.jsonl"


@dataclass
class ResynthRecord:
    """One line of ``index.jsonl``."""

    id: str
    status: str  # "ok" | "failed"
    reason: str | None = None
    path: str | None = None  # relative to the output folder
    codec: str = ""
    key: str = ""
    sample_rate: int | None = None
    duration: float | None = None
    bitrate_kbps: float | None = None
    encode_s: float | None = None
    decode_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResynthRecord:
        return cls(**{k: d.get(k) for k in cls.__dataclass_fields__})


@dataclass
class ResynthSummary:
    """Counts of one run plus the records of every item in the manifest order."""

    codec: str
    out_dir: Path
    n_done: int = 0
    n_skipped: int = 0
    n_failed: int = 0
    records: list[ResynthRecord] = field(default_factory=list)
    #: why nothing was resynthesized (an encode-only tokenizer), else None
    skipped_reason: str | None = None

    def describe(self) -> str:
        if self.skipped_reason:
            return f"{self.codec}: skipped: {self.skipped_reason}"
        ok = [r for r in self.records if r.status == "ok"]
        rates = [r.bitrate_kbps for r in ok if r.bitrate_kbps is not None]
        rate = f", mean bitrate {np.mean(rates):.2f} kbps" if rates else ""
        lines = [f"{self.codec}: {self.n_done} resynthesized, {self.n_skipped} skipped (already done), "
                 f"{self.n_failed} failed{rate} -> {self.out_dir}"]
        for r in self.records:
            if r.status != "ok":
                lines.append(f"  failed {r.id}: {r.reason}")
        return "\n".join(lines)


def encode_only_reason(spec: CodecSpec) -> str:
    """Why an encode-only tokenizer has no resynthesis (and so no acoustic scores)."""
    return (f"'{spec.id}' is an encode-only tokenizer (round_trip: false): it has no decoder, so there is "
            "nothing to resynthesize or score acoustically; the probes (notebooks 03/04) use its codes and embeddings")


def _file_hash(path: Path) -> str:
    h = hashlib.sha1()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def output_path(out_dir: PathLike, item_id: str) -> Path:
    """``<out>/<id>.flac``; ids containing ``/`` become subfolders."""
    return Path(out_dir) / f"{item_id}.flac"


def read_index(out_dir: PathLike) -> dict[str, ResynthRecord]:
    """Latest record per item id from ``index.jsonl`` (a torn last line is ignored)."""
    path = Path(out_dir) / INDEX_NAME
    records: dict[str, ResynthRecord] = {}
    if not path.is_file():
        return records
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = ResynthRecord.from_dict(json.loads(line))
            except (json.JSONDecodeError, TypeError):
                logger.warning("ignoring a torn line in %s", path)
                continue
            records[rec.id] = rec
    return records


@contextlib.contextmanager
def _index_lock(out_dir: Path):
    """Exclusive lock on the output folder's index, so shards of one codec can run concurrently."""
    with (out_dir / ".index.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _append(fd: int, rec: ResynthRecord, out_dir: Path) -> None:
    """Append one record with a single write; a failed write (full disk) is cut back off, so no torn line stays."""
    data = (json.dumps(rec.to_dict()) + "\n").encode("utf-8")
    with _index_lock(out_dir):
        size = os.fstat(fd).st_size
        try:
            if os.write(fd, data) != len(data):
                raise OSError(errno.ENOSPC, "short write to the index", str(out_dir / INDEX_NAME))
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)
            raise


def _compact_index(out_dir: Path, new: dict[str, ResynthRecord], order: list[str]) -> None:
    """Rewrite index.jsonl with one line per item (atomic rename).

    Re-reads the index under the lock and overlays this run's records, so records
    that a concurrent shard appended meanwhile are kept.
    """
    with _index_lock(out_dir):
        records = read_index(out_dir)
        records.update(new)
        ids = [i for i in order if i in records] + sorted(set(records) - set(order))
        with atomic_path(out_dir / INDEX_NAME) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for i in ids:
                fh.write(json.dumps(records[i].to_dict()) + "\n")


class _FD:
    """A raw file descriptor that ``contextlib.closing`` can close."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def close(self) -> None:
        os.close(self.fd)


def _load_item(codec: Codec, item: ManifestItem, src: Path) -> np.ndarray:
    wav, _ = load_audio(src, sr=codec.sample_rate)
    return check_audio(wav, what=f"item '{item.id}'", item_id=item.id)


def _run_codec(codec: Codec, item: ManifestItem, wav: np.ndarray) -> Resynthesis:
    try:
        return codec.resynthesize(wav)
    except (InvalidAudioError, CodecRuntimeError):
        raise
    except Exception as exc:  # a backend's own error type: rewrap so the reason names the codec
        raise CodecRuntimeError(f"codec '{codec.id}' failed on item '{item.id}': "
                                f"{type(exc).__name__}: {exc}", codec_id=codec.id, item_id=item.id) from exc


def _finish_item(codec: Codec, item: ManifestItem, wav: np.ndarray, res: Resynthesis,
                 dst: Path) -> ResynthRecord:
    out = np.asarray(res.wav, dtype=np.float32)
    want = codec.output_length(wav.shape[0])
    if out.shape != (want,):
        raise CodecRuntimeError(f"codec '{codec.id}' returned {out.shape[0]} samples for item "
                                f"'{item.id}', expected {want}", codec_id=codec.id, item_id=item.id)
    if res.sample_rate != codec.output_sample_rate:
        raise CodecRuntimeError(f"codec '{codec.id}' returned {res.sample_rate} Hz for item '{item.id}', "
                                f"declared {codec.output_sample_rate} Hz", codec_id=codec.id, item_id=item.id)
    if not np.all(np.isfinite(out)):
        raise CodecRuntimeError(f"codec '{codec.id}' produced NaN/inf on item '{item.id}'",
                                codec_id=codec.id, item_id=item.id)
    save_audio(dst, out, res.sample_rate)
    return ResynthRecord(id=item.id, status="ok", sample_rate=res.sample_rate,
                         duration=out.shape[0] / res.sample_rate, bitrate_kbps=res.bitrate_kbps,
                         encode_s=res.encode_s, decode_s=res.decode_s)


def _batch_results(codec: Codec, wavs: list[np.ndarray]) -> list[Resynthesis] | None:
    """Run a batch through the codec's own ``resynthesize_batch``; None means go item by item.

    The base class's default only loops over items: going through it would gain nothing and,
    when one item fails, make the fallback redo the whole batch.
    """
    if len(wavs) < 2 or type(codec).resynthesize_batch is Codec.resynthesize_batch:
        return None
    try:
        return list(codec.resynthesize_batch(wavs))
    except Exception as exc:  # fall back to items so one bad item cannot sink its batch-mates
        logger.debug("batch of %d failed (%s); retrying item by item", len(wavs), exc)
        return None


def resynthesize(
    codec: str | CodecSpec | Codec,
    manifest: PathLike | list[ManifestItem],
    out_dir: PathLike,
    *,
    device: str = "cpu",
    limit: int | None = None,
    batch_size: int | None = None,
    manifest_dir: PathLike | None = None,
    progress: bool = True,
    on_item: Callable[[ResynthRecord], None] | None = None,
) -> ResynthSummary:
    """Resynthesize every item of a manifest through a codec.

    Parameters
    ----------
    codec : str, CodecSpec or Codec
        Codec id from ``codecbench codecs list``, a spec, or a loaded codec.
    manifest : path or list of ManifestItem
        The items; relative paths hang off the manifest's folder (or ``manifest_dir``).
    out_dir : path
        Where ``<id>.flac`` files and ``index.jsonl`` go.
    limit : int, optional
        Only the first ``limit`` items.
    batch_size : int, optional
        Items per codec call for codecs with ``resynthesize_batch`` (neural
        codecs on a GPU, Lyra's parallel CPU interpreters); others go item by
        item whatever the value. ``None``: the codec's ``default_batch_size``.
    on_item : callable, optional
        Called with each item's record once it is in the index (done or failed; not for
        items skipped as already done): a hook for progress reporting and fault injection.

    Returns
    -------
    ResynthSummary
        Counts (done, skipped, failed) and one record per item.

    Notes
    -----
    A failing item (unreadable audio, codec crash, NaN output) is recorded as
    ``failed`` with its reason and the run goes on; finished items are never
    rewritten. Failed items are retried on the next run.
    """
    if isinstance(manifest, (str, os.PathLike)):
        manifest_dir = Path(manifest).parent if manifest_dir is None else manifest_dir
        items = read_manifest(manifest)
    else:
        items = validate_manifest(manifest)  # ids that would alias one output file are refused here too
    if limit is not None:
        items = items[:limit]
    if batch_size is not None and batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    spec = codec.spec if isinstance(codec, Codec) else get_spec(codec) if isinstance(codec, str) else codec
    if not spec.round_trip:
        reason = encode_only_reason(spec)
        logger.warning("resynthesis %s: skipped: %s", spec.id, reason)
        return ResynthSummary(codec=spec.id, out_dir=Path(out_dir), skipped_reason=reason)
    model = codec if isinstance(codec, Codec) else load_codec(spec, device=device)
    batch_size = batch_size or model.default_batch_size
    key_prefix = codec_fingerprint(model.spec)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)
    records = read_index(out)
    summary = ResynthSummary(codec=model.id, out_dir=out)
    logger.info("resynthesis %s: %d items -> %s", model.id, len(items), out)
    t_start = time.perf_counter()
    pending: list[tuple[ManifestItem, Path, Path, str]] = []
    finished: dict[str, ResynthRecord] = {}

    def record(rec: ResynthRecord, key: str) -> None:
        rec.codec, rec.key = model.id, key
        try:
            _append(index_fd, rec, out)
        except OSError as exc:
            if is_disk_full(exc, out):
                raise disk_full(exc) from exc
            raise
        records[rec.id] = rec
        finished[rec.id] = rec
        if rec.status == "ok":
            summary.n_done += 1
        else:
            summary.n_failed += 1
        if on_item is not None:
            on_item(rec)

    def disk_full(exc: BaseException) -> DiskFullError:
        return DiskFullError(f"disk full while writing to {out} ({exc}); stopped after {summary.n_done} new "
                             "item(s), finished items are kept: free some space and rerun to resume",
                             codec_id=model.id)

    def failed(item: ManifestItem, exc: BaseException) -> ResynthRecord:
        if is_disk_full(exc, out):  # not the item's fault: stop the run instead of failing every item
            raise disk_full(exc) from exc
        reason = str(exc) if str(exc) else type(exc).__name__
        logger.debug("item %s failed: %s", item.id, reason)
        return ResynthRecord(id=item.id, status="failed", reason=reason)

    def flush() -> None:
        loaded: list[tuple[ManifestItem, Path, str, np.ndarray]] = []
        for item, src, dst, key in pending:
            try:
                loaded.append((item, dst, key, _load_item(model, item, src)))
            except Exception as exc:  # the per-item boundary: record, count, go on
                record(failed(item, exc), key)
        results = _batch_results(model, [w for *_, w in loaded])
        for i, (item, dst, key, wav) in enumerate(loaded):
            try:
                res = results[i] if results is not None else _run_codec(model, item, wav)
                rec = _finish_item(model, item, wav, res, dst)
                rec.path = dst.relative_to(out).as_posix()
            except Exception as exc:  # the per-item boundary: record, count, go on
                rec = failed(item, exc)
            record(rec, key)
            bar.update(1)
        pending.clear()

    index_fd = os.open(out / INDEX_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    with contextlib.closing(_FD(index_fd)), tqdm(
        total=len(items), desc=f"resynth {model.id}", unit="item", disable=not progress
    ) as bar:
        for item in items:
            src = resolve_path(item, manifest_dir)
            dst = output_path(out, item.id)
            try:
                key = f"{key_prefix}-{_file_hash(src)}"
            except OSError as exc:
                record(ResynthRecord(id=item.id, status="failed",
                                     reason=f"cannot read '{src}': {exc.strerror or exc}"), "")
                bar.update(1)
                continue
            prev = records.get(item.id)
            if prev is not None and prev.status == "ok" and prev.key == key and dst.is_file():
                summary.n_skipped += 1
                bar.update(1)
                continue
            pending.append((item, src, dst, key))
            if len(pending) >= batch_size:
                flush()
        flush()
    try:
        _compact_index(out, finished, [it.id for it in items])
    except OSError as exc:  # the appended index is complete; only its compaction is lost
        if is_disk_full(exc, out):
            raise disk_full(exc) from exc
        raise
    records = read_index(out)
    summary.records = [records[it.id] for it in items if it.id in records]
    logger.info("resynthesis %s: %d done, %d skipped, %d failed in %.1f s", model.id, summary.n_done,
                summary.n_skipped, summary.n_failed, time.perf_counter() - t_start)
    if summary.n_failed:
        logger.warning("%d item(s) failed; see %s", summary.n_failed, out / INDEX_NAME)
    return summary
