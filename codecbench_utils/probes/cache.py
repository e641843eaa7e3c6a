"""Embedding cache: features extracted once per (source fingerprint, item), reused everywhere.

Layout of one cache namespace (one feature source fingerprint)::

    <root>/<fingerprint>/
        meta.json          {"fingerprint", "source", "dim", "frame_rate", "dtype": "float16"}
        shard-00000.f16    raw float16 rows, C order, shape (rows, dim)
        shard-00001.f16
        index.jsonl        one record per item: {"id", "key", "status", "shard", "row", "frames"}

Writes are atomic and resumable: finished items are buffered, the buffer is
written as a new shard under a temporary name and renamed, and only then are
its index records appended (and fsynced). A killed run loses at most the
unflushed buffer; a shard with no index record is ignored. The latest record
of an id wins, so an item whose input changed (another ``key``) is simply
re-extracted and re-indexed. Shards are read back with ``np.memmap``, so
epochs, folds and probes share one copy in the page cache.

One writer per namespace at a time (readers are unrestricted).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..atomic import atomic_path, remove_stale_temps
from ..audio import PathLike
from ..data.manifest import ManifestItem
from .features import FeatureExtractor

__all__ = ["EmbeddingCache", "FeatureSet", "extract_features", "FLOAT16_MAX"]

logger = logging.getLogger(__name__)

FLOAT16_MAX = float(np.finfo(np.float16).max)
_SHARD_RE = re.compile(r"shard-(\d{5})\.f16$")


class EmbeddingCache:
    """Float16 memory-mapped feature store of one feature-source fingerprint.

    Parameters
    ----------
    root : path
        Cache root; the namespace lives in ``root / fingerprint``.
    fingerprint : str
        The feature source's fingerprint (:attr:`FeatureExtractor.fingerprint`).
    shard_mb : float
        Flush the write buffer into a new shard when it reaches this size.
    """

    def __init__(self, root: PathLike, fingerprint: str, *, shard_mb: float = 64.0) -> None:
        self.dir = Path(root) / fingerprint
        self.fingerprint = fingerprint
        self.shard_bytes = int(shard_mb * 2**20)
        self.meta: dict[str, Any] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self._buffer: list[tuple[str, str, np.ndarray]] = []
        self._buffer_bytes = 0
        self._maps: dict[int, np.memmap] = {}
        remove_stale_temps(self.dir, recursive=False)
        self._load()

    # ------------------------------------------------------------ reading
    def _load(self) -> None:
        meta = self.dir / "meta.json"
        if meta.is_file():
            self.meta = json.loads(meta.read_text())
        index = self.dir / "index.jsonl"
        if index.is_file():
            with index.open(encoding="utf-8") as fh:
                for line in fh:
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        logger.warning("ignoring a torn line in %s", index)
                        continue
                    self.records[rec["id"]] = rec

    @property
    def dim(self) -> int | None:
        return self.meta.get("dim")

    def has(self, item_id: str, key: str | None = None) -> bool:
        """True when ``item_id`` is stored (and, if given, under the same input ``key``)."""
        if any(i == item_id for i, _, _ in self._buffer):
            return key is None or any(i == item_id and k == key for i, k, _ in self._buffer)
        rec = self.records.get(item_id)
        if rec is None or rec.get("status") != "ok":
            return False
        return key is None or rec.get("key") == key

    def _shard_map(self, shard: int) -> np.memmap:
        if shard not in self._maps:
            path = self.dir / f"shard-{shard:05d}.f16"
            dim = int(self.meta["dim"])
            n_rows = path.stat().st_size // (2 * dim)
            self._maps[shard] = np.memmap(path, dtype=np.float16, mode="r", shape=(n_rows, dim))
        return self._maps[shard]

    def get(self, item_id: str) -> np.ndarray:
        """Stored features of one item, shape ``(frames, dim)``, float16 (a read-only memmap view).

        Raises
        ------
        KeyError
            The item is not stored.
        """
        for i, _, arr in self._buffer:
            if i == item_id:
                return arr
        rec = self.records.get(item_id)
        if rec is None or rec.get("status") != "ok":
            raise KeyError(f"item '{item_id}' is not in the cache {self.dir}")
        m = self._shard_map(int(rec["shard"]))
        return m[int(rec["row"]) : int(rec["row"]) + int(rec["frames"])]

    # ------------------------------------------------------------ writing
    def _ensure_meta(self, dim: int, extra: dict[str, Any]) -> None:
        if self.meta:
            if int(self.meta["dim"]) != dim:
                raise ValueError(f"cache {self.dir}: stored dim {self.meta['dim']}, new features have {dim}")
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self.meta = {"fingerprint": self.fingerprint, "dim": int(dim), "dtype": "float16", **extra}
        with atomic_path(self.dir / "meta.json") as tmp:
            tmp.write_text(json.dumps(self.meta, indent=1, sort_keys=True))

    def put(self, item_id: str, key: str, feats: np.ndarray, **meta: Any) -> None:
        """Buffer the features of one item; written on :meth:`flush` (or when the buffer is full).

        Values beyond the float16 range are clipped (with a warning).
        """
        feats = np.asarray(feats)
        if feats.ndim != 2 or feats.shape[0] == 0:
            raise ValueError(f"item '{item_id}': expected non-empty (frames, dim) features, got {feats.shape}")
        self._ensure_meta(int(feats.shape[1]), meta)
        peak = float(np.max(np.abs(feats)))
        if peak > FLOAT16_MAX:
            logger.warning("item '%s': features reach %.3g, clipped to the float16 range", item_id, peak)
            feats = np.clip(feats, -FLOAT16_MAX, FLOAT16_MAX)
        arr = np.ascontiguousarray(feats, dtype=np.float16)
        self._buffer = [b for b in self._buffer if b[0] != item_id]
        self._buffer.append((item_id, key, arr))
        self._buffer_bytes += arr.nbytes
        if self._buffer_bytes >= self.shard_bytes:
            self.flush()

    def put_failed(self, item_id: str, key: str, reason: str) -> None:
        """Record a failed item (for diagnosis; it is retried on the next run)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._append([{"id": item_id, "key": key, "status": "failed", "reason": reason}])

    def _next_shard(self) -> int:
        nums = [int(m.group(1)) for p in self.dir.glob("shard-*.f16") if (m := _SHARD_RE.search(p.name))]
        return max(nums) + 1 if nums else 0

    def _append(self, recs: list[dict[str, Any]]) -> None:
        path = self.dir / "index.jsonl"
        torn = False
        if path.is_file() and path.stat().st_size:
            with path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                torn = fh.read(1) != b"\n"
        with path.open("a", encoding="utf-8") as fh:
            if torn:  # a killed run left half a line: end it so the new records parse
                fh.write("\n")
            for rec in recs:
                fh.write(json.dumps(rec) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        for rec in recs:
            self.records[rec["id"]] = rec

    def flush(self) -> None:
        """Write the buffered items as one new shard, then index them."""
        if not self._buffer:
            return
        shard = self._next_shard()
        final = self.dir / f"shard-{shard:05d}.f16"
        recs = []
        row = 0
        with atomic_path(final) as tmp, tmp.open("wb") as fh:
            for item_id, key, arr in self._buffer:
                fh.write(arr.tobytes())
                recs.append({"id": item_id, "key": key, "status": "ok", "shard": shard, "row": row,
                             "frames": int(arr.shape[0])})
                row += int(arr.shape[0])
            fh.flush()
            os.fsync(fh.fileno())
        self._append(recs)
        self._buffer, self._buffer_bytes = [], 0


@dataclass
class FeatureSet:
    """Features of a list of items from one source, backed by an :class:`EmbeddingCache`.

    ``ids`` are the items whose features exist (manifest order); ``failed``
    maps the others to the reason.
    """

    source: str
    fingerprint: str
    frame_rate: float
    dim: int
    cache: EmbeddingCache
    ids: list[str]
    failed: dict[str, str] = field(default_factory=dict)
    n_extracted: int = 0
    n_cached: int = 0
    extract_s: float = 0.0

    def get(self, item_id: str) -> np.ndarray:
        """Features of one item, ``(frames, dim)`` float16 (memmap view)."""
        return self.cache.get(item_id)

    def __len__(self) -> int:
        return len(self.ids)


def extract_features(extractor: FeatureExtractor, items: Iterable[ManifestItem], cache_root: PathLike, *,
                     progress: bool = True, shard_mb: float = 64.0) -> FeatureSet:
    """Extract (or reuse) the features of every item into the cache.

    Parameters
    ----------
    extractor : FeatureExtractor
        From :func:`~codecbench_utils.probes.features.make_extractor`.
    items : iterable of ManifestItem
    cache_root : path
        Cache root; features go to ``cache_root / extractor.fingerprint``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    FeatureSet
        The stored features; items that failed are listed in ``failed`` with the
        reason and left out of ``ids`` (never filled with a number).

    Notes
    -----
    An item is re-extracted when its input changed (another ``item_key``);
    failed items are retried on every call.
    """
    items = list(items)
    cache = EmbeddingCache(cache_root, extractor.fingerprint, shard_mb=shard_mb)
    fs = FeatureSet(source=extractor.source.name, fingerprint=extractor.fingerprint,
                    frame_rate=extractor.frame_rate, dim=0, cache=cache, ids=[])
    t0 = time.perf_counter()
    for item in tqdm(items, desc=f"features {extractor.source.name}", unit="item", total=len(items),
                     disable=not progress):
        key = ""
        try:
            key = extractor.item_key(item)
            if cache.has(item.id, key):
                fs.n_cached += 1
                fs.ids.append(item.id)
                continue
            feats = extractor(item)
            cache.put(item.id, key, feats, source=extractor.source.name, frame_rate=extractor.frame_rate)
        except Exception as exc:  # the per-item boundary: record, count, go on
            reason = str(exc) or type(exc).__name__
            fs.failed[item.id] = reason
            logger.debug("features of item %s failed: %s", item.id, reason)
            cache.put_failed(item.id, key, reason)
            continue
        fs.n_extracted += 1
        fs.ids.append(item.id)
    cache.flush()
    fs.extract_s = time.perf_counter() - t0
    fs.dim = int(cache.dim or extractor.dim or 0)
    logger.info("features %s: %d extracted, %d cached, %d failed in %.1f s", fs.source, fs.n_extracted,
                fs.n_cached, len(fs.failed), fs.extract_s)
    if fs.failed:
        logger.warning("%d item(s) have no '%s' features; first: %s", len(fs.failed), fs.source,
                       next(iter(fs.failed.items())))
    return fs
