"""A bounded pool of worker processes for per-item metrics (PESQ, ViSQOL, SDR).

Tasks carry their arrays (a 7 s pair at 16 kHz is under 1 MB to pickle, against
~0.1 s of PESQ work), are sent in small chunks, and at most ``max_inflight``
chunks are queued at any time, so memory stays bounded however long the corpus.
Each task returns ``(key, value or exception, seconds)``; a failing task never
stops or shifts the others. Workers come from a fork server or are spawned (never
forked from the parent, which may hold torch threads) and run single-threaded
BLAS/torch so N workers use N cores.

``workers=0`` runs every task in the calling process (same results, for tests and
debugging).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

__all__ = ["MetricPool", "Task", "run_task"]

#: ``(key, function, ref, est, sr, kwargs)``; the function must be importable by name and return
#: a number or a ``{column: number}`` dict.
Task = tuple[Hashable, Callable[..., Any], Any, Any, int, dict]

_THREAD_LIMITS: object = None  # kept alive in each worker: the limits last while it is referenced
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


#: glibc ``mallopt`` parameters: M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def _keep_freed_memory() -> bool:
    """Let glibc reuse freed heap memory instead of returning it to the kernel after each array.

    The metrics allocate and free the same ~1-3 MB NumPy temporaries for every item. By default
    glibc serves those with fresh ``mmap`` pages and unmaps them on free, so every item pays
    page faults again: measured, STOI's kernel took 13 ms per 5 s item that way and 5 ms with
    freed memory kept (a worker's heap then stays at its high-water mark, tens of MB). A no-op
    (False) where the C library is not glibc.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(param, value) == 1 for param, value in (
        (_M_MMAP_THRESHOLD, 256 << 20), (_M_TRIM_THRESHOLD, 512 << 20), (_M_TOP_PAD, 64 << 20)))


def _init_worker(preload: tuple[str, ...] = ()) -> None:
    """Keep each worker on one core (numpy/torch would otherwise spawn a thread per core).

    ``preload`` names modules to import now (the metric modules and their SciPy parts, ~1 s),
    while the driver is still reading the first batch, rather than inside the first task.
    """
    _keep_freed_memory()
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    import sys

    if "torch" in sys.modules:  # pragma: no cover - only when the parent script imported torch
        sys.modules["torch"].set_num_threads(1)
    # spawn re-imports the parent's main module before this runs, so numpy/scipy/torch may
    # already have started their BLAS/OpenMP pools: cap those too (2 workers x 2 threads on 2
    # cores made SDR and mel loss 3-4x slower per item, measured)
    from threadpoolctl import threadpool_limits

    global _THREAD_LIMITS
    _THREAD_LIMITS = threadpool_limits(1)
    import importlib

    for name in preload:
        importlib.import_module(name)


def _context(preload: tuple[str, ...]) -> Any:
    """``forkserver`` where the platform has it, else ``spawn``; never plain ``fork``.

    Both start workers from a clean interpreter, never from a parent that may hold torch or
    BLAS threads. The fork server is started once per parent process, imports NumPy, SciPy
    and the metric modules once, then forks each worker in milliseconds: a second pool in
    the same process (the next codec in a notebook or a sweep) skips ~0.5 s of start-up.
    """
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["codecbench_utils.metrics.pool", *preload])  # used when it first starts
    return ctx


def _started() -> None:
    """A no-op task: submitting one per worker starts them all at once."""


def _pack_error(exc: BaseException) -> tuple[str, str, str, str | None]:
    return ("__error__", type(exc).__name__, str(exc) or type(exc).__name__, getattr(exc, "metric", None))


def _unpack(value: Any) -> Any:
    """Turn a packed error back into a typed CodecBench exception."""
    if isinstance(value, tuple) and len(value) == 4 and value[0] == "__error__":
        from .. import errors

        _, cls_name, msg, metric = value
        cls = getattr(errors, cls_name, None)
        if isinstance(cls, type) and issubclass(cls, errors.CodecBenchError):
            return cls(msg, metric=metric)
        return errors.MetricError(f"{cls_name}: {msg}", metric=metric)
    return value


def run_task(task: Task) -> tuple[Hashable, Any, float]:
    """Run one task; an exception becomes a packed error (the per-item boundary of the pool)."""
    key, fn, ref, est, sr, kwargs = task
    t0 = time.perf_counter()
    try:
        value: Any = fn(ref, est, sr, **kwargs)
        # one column, or ``{column: value}`` from a function that computes a group of columns
        value = {k: float(v) for k, v in value.items()} if isinstance(value, dict) else float(value)
    except Exception as exc:  # per-item boundary: record and go on
        value = _pack_error(exc)
    return key, value, time.perf_counter() - t0


def _run_chunk(chunk: list[Task]) -> list[tuple[Hashable, Any, float]]:
    return [run_task(t) for t in chunk]


class MetricPool:
    """Process pool for per-pair metric tasks with bounded queueing.

    Parameters
    ----------
    workers : int
        Worker processes; 0 runs tasks inline in the caller.
    chunksize : int
        Tasks per message to a worker.
    max_inflight : int, optional
        Chunks queued or running at once (default ``4 * workers``).
    preload : sequence of str
        Modules each worker imports as it starts (the functions its tasks will call).

    Examples
    --------
    >>> import numpy as np
    >>> from codecbench_utils.metrics.pesq import pesq_wb
    >>> x = np.sin(np.arange(8000) / 5.0) * np.hanning(8000)
    >>> with MetricPool(0) as pool:
    ...     pool.submit([("a", pesq_wb, x, x, 16000, {})])
    ...     [(k, type(v).__name__) for k, v, _ in pool.collect(wait=True)]
    [('a', 'float')]
    """

    def __init__(self, workers: int, *, chunksize: int = 2, max_inflight: int | None = None,
                 preload: Iterable[str] = ()) -> None:
        self.workers = max(int(workers), 0)
        self.preload = tuple(preload)
        self.chunksize = max(int(chunksize), 1)
        self.max_inflight = max_inflight or max(4 * self.workers, 2)
        self._executor: Any = None
        self._pending: deque = deque()
        self._done: list[tuple[Hashable, Any, float]] = []

    def __enter__(self) -> MetricPool:
        if self.workers > 0:
            from concurrent.futures import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(self.workers, mp_context=_context(self.preload),
                                                 initializer=_init_worker, initargs=(self.preload,))
            # workers are otherwise spawned one per submit: start them all now, so their start-up
            # (interpreter, NumPy, SciPy, the preloads) overlaps the caller reading its first batch
            for _ in range(self.workers):
                self._executor.submit(_started)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (pending tasks are cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    @property
    def n_pending(self) -> int:
        """Chunks submitted and not yet collected."""
        return len(self._pending)

    def submit(self, tasks: Iterable[Task]) -> None:
        """Queue tasks; blocks while ``max_inflight`` chunks are already queued."""
        tasks = list(tasks)
        for start in range(0, len(tasks), self.chunksize):
            chunk = tasks[start : start + self.chunksize]
            if self._executor is None:
                self._done.extend(_run_chunk(chunk))
                continue
            while len(self._pending) >= self.max_inflight:
                self._harvest(block=True)
            self._pending.append(self._executor.submit(_run_chunk, chunk))

    def _harvest(self, *, block: bool) -> None:
        from concurrent.futures import FIRST_COMPLETED, wait

        if not self._pending:
            return
        if block:
            wait(list(self._pending), return_when=FIRST_COMPLETED)
        still = deque()
        for fut in self._pending:
            if fut.done():
                self._done.extend(fut.result())
            else:
                still.append(fut)
        self._pending = still

    def collect(self, *, wait: bool = False) -> list[tuple[Hashable, Any, float]]:
        """Results finished so far (all of them with ``wait=True``), errors as exceptions."""
        self._harvest(block=False)
        if wait:
            while self._pending:
                self._harvest(block=True)
        out, self._done = self._done, []
        return [(k, _unpack(v), s) for k, v, s in out]

    def map_tasks(self, tasks: Iterable[Task], *, progress: bool = False,
                  desc: str = "metrics") -> Iterator[tuple[Hashable, Any]]:
        """Run tasks with bounded queueing; yield ``(key, value-or-exception)`` as they finish."""
        from tqdm import tqdm

        tasks = list(tasks)
        with tqdm(total=len(tasks), desc=desc, unit="item", disable=not progress, leave=False) as bar:
            for start in range(0, len(tasks), self.chunksize):
                self.submit(tasks[start : start + self.chunksize])
                for k, v, _ in self.collect():
                    bar.update()
                    yield k, v
            for k, v, _ in self.collect(wait=True):
                bar.update()
                yield k, v
