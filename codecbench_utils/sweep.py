"""Sweeps: many codecs x stages x dataset shards, locally or across GPUs and nodes with Ray.

Each (codec, stage, dataset, shard) is one task with its own resource request.
Shards are contiguous item ranges of a dataset's manifest. Tasks call the same
drivers as a local run and write to the same places, keyed the same way, so:

- a killed sweep resumes: resynthesis skips finished items, a metrics shard
  whose file is complete is not recomputed;
- a retried task (Ray re-runs it when its worker dies) never duplicates rows:
  resynthesis records are per item id, a metrics shard is one atomic file;
- the merged results equal a serial run's (``<runs>/<codec>/acoustic/<dataset>.parquet``).

Stages depend on each other per (codec, dataset, shard): acoustic after
resynthesis; the probes (not sharded: one task per codec) after every
resynthesis shard of that codec.

Every task runs a stage module (:mod:`codecbench_utils.stages`) with the parameters of the
run preset (``params/presets``), the same as ``codecbench run``; the sweep overrides only what
sharding needs (the manifest, the acoustic output file) and what its flags name.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .errors import (
    ConfigError,
    MetricError,
    MissingArtefactError,
    UnknownNameError,
    first_line,
    renamed_keyword,
)
from .layout import RunsLayout
from .stages import ROUND_TRIP_STAGES, STAGES, get_stage

__all__ = [
    "SHARDED_STAGES",
    "SweepTask",
    "TaskResult",
    "SweepConfig",
    "plan_sweep",
    "run_task",
    "run_sweep",
    "merge_acoustic",
    "shard_range",
    "acoustic_file",
    "manifest_path",
    "describe_results",
]

logger = logging.getLogger(__name__)

SWEEP_STAGES: tuple[str, ...] = STAGES  # the stages of `codecbench run`, in pipeline order
SHARDED_STAGES: frozenset[str] = frozenset({"resynthesis", "acoustic"})
#: environment variable for fault-injection tests: a marker path; the first resynthesis task that
#: sees it missing creates it and kills its own process once half its shard is recorded.
KILL_ONCE_ENV = "CODECBENCH_SWEEP_KILL_ONCE"


@dataclass(frozen=True)
class SweepConfig:
    """Everything a task needs besides its own coordinates (picklable, absolute paths).

    Stage parameters come from the run ``preset``; ``metric_profile``, ``probe_preset``,
    ``metrics`` and ``probe_steps`` override it when set.
    """

    runs: Path
    preset: str = "demo"
    metric_profile: str | None = None
    probe_preset: str | None = None
    metrics: tuple[str, ...] | None = None
    device: str = "cpu"
    workers: int = 0
    probe_steps: int = 0

    @property
    def layout(self) -> RunsLayout:
        return RunsLayout(self.runs)

    def parameters(self, task: SweepTask) -> dict[str, Any]:
        """The stage's parameters for this task: the preset's, then the sweep's overrides."""
        from .runner import stage_parameters

        over: dict[str, Any] = {}
        if task.stage == "acoustic":
            over = {"metric_profile": self.metric_profile, "metrics": ",".join(self.metrics or ()) or None,
                    "device": self.device}  # workers: set on the config itself (0 in a notebook means every core)
        elif task.stage in ("asr", "classification"):
            over = {"preset": self.probe_preset, "device": self.device, "steps": self.probe_steps or None}
            if task.stage == "classification":
                over.pop("steps")
        elif task.stage == "resynthesis":
            over = {"device": self.device}
        over = {k: v for k, v in over.items() if v is not None}
        return stage_parameters(task.stage, codec=task.codec, preset=self.preset, runs=self.runs,
                                dataset=task.dataset, overrides=over)


@dataclass(frozen=True)
class SweepTask:
    codec: str
    stage: str
    dataset: str
    shard: int = 0
    n_shards: int = 1

    @property
    def name(self) -> str:
        part = f"[{self.shard + 1}/{self.n_shards}]" if self.n_shards > 1 else ""
        return f"{self.codec}/{self.stage}/{self.dataset}{part}"


@dataclass
class TaskResult:
    task: SweepTask
    ok: bool
    seconds: float
    detail: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["task"] = self.task.name
        return d


def shard_range(n_items: int, shard: int, n_shards: int) -> tuple[int, int]:
    """Contiguous ``[start, stop)`` of shard ``shard`` out of ``n_shards`` (sizes differ by at most 1)."""
    if not 0 <= shard < n_shards:
        raise ConfigError(f"shard {shard} out of range for {n_shards} shards")
    base, extra = divmod(n_items, n_shards)
    start = shard * base + min(shard, extra)
    return start, start + base + (1 if shard < extra else 0)


def manifest_path(cfg: SweepConfig, dataset: str) -> Path:
    """A dataset's prepared manifest: ``<runs>/<dataset>/manifest.jsonl``."""
    return cfg.layout.manifest(dataset)


def _shard_items(cfg: SweepConfig, task: SweepTask) -> list:
    """The shard's items, with absolute paths so they can be written anywhere."""
    from dataclasses import replace

    from .data.manifest import read_manifest, resolve_path

    path = manifest_path(cfg, task.dataset)
    items = read_manifest(path)
    start, stop = shard_range(len(items), task.shard, task.n_shards)
    return [replace(it, path=str(resolve_path(it, path.parent).resolve())) for it in items[start:stop]]


def _acoustic_shard_file(cfg: SweepConfig, task: SweepTask) -> Path:
    return cfg.layout.acoustic_shard_file(task.codec, task.dataset, task.shard, task.n_shards)


def acoustic_file(runs: Path, codec: str, dataset: str) -> Path:
    """Where a codec's per-item metric rows for a dataset live (sweep and serial run alike)."""
    return RunsLayout(runs).acoustic_file(codec, dataset)


def _kill_once_if_asked(n_done: int, n_items: int) -> None:
    marker = os.environ.get(KILL_ONCE_ENV)
    if marker and n_done >= max(1, n_items // 2) and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        logger.warning("fault injection: killing worker %d mid-shard", os.getpid())
        os._exit(137)


def _shard_manifest(items: list, folder: Path) -> Path:
    """A shard's items as a manifest of their own (absolute paths) in ``folder``."""
    from .data.manifest import write_manifest

    return write_manifest(items, folder / "manifest.jsonl")


def _run_resynthesis(task: SweepTask, cfg: SweepConfig) -> dict[str, int]:
    import tempfile

    stage = get_stage("resynthesis")
    params = cfg.parameters(task)
    items = _shard_items(cfg, task)
    recorded = 0

    def after_item(_rec: object) -> None:
        nonlocal recorded
        recorded += 1
        _kill_once_if_asked(recorded, len(items))

    folder = cfg.layout.codec_dir(task.codec)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shard-", dir=folder) as tmp:
        params["manifest"] = str(_shard_manifest(items, Path(tmp)))
        s = stage.run(stage.config(**params), progress=False, on_item=after_item)
    return {"done": s.n_done, "skipped": s.n_skipped, "failed": s.n_failed}


def _run_acoustic(task: SweepTask, cfg: SweepConfig) -> dict[str, int]:
    import tempfile

    stage = get_stage("acoustic")
    params = cfg.parameters(task)
    out = _acoustic_shard_file(cfg, task)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shard-", dir=out.parent) as tmp:
        params.update(manifest=str(_shard_manifest(_shard_items(cfg, task), Path(tmp))), out=str(out))
        # metric workers: none by default (0 in the stage means every core); tasks are the parallelism
        scfg = replace(stage.config(**params), workers=cfg.workers)
        df = stage.run(scfg, progress=False)
    failed = int((df["status"] != "ok").sum()) if "status" in df.columns else 0
    return {"items": len(df), "failed": failed}


def _run_probe(task: SweepTask, cfg: SweepConfig) -> dict[str, int]:
    stage = get_stage(task.stage)
    params = cfg.parameters(task)
    params["manifest"] = str(manifest_path(cfg, task.dataset))
    result = stage.run(stage.config(**params, progress=False))
    rows = getattr(result, "table", None)
    return {"rows": len(rows) if rows is not None else 0}


_STAGE_FNS: dict[str, Callable[[SweepTask, SweepConfig], dict[str, int]]] = {
    "resynthesis": _run_resynthesis,
    "acoustic": _run_acoustic,
    "asr": _run_probe,
    "classification": _run_probe,
}


def run_task(task: SweepTask, cfg: SweepConfig, *_upstream: Any) -> TaskResult:
    """Run one task; an error becomes a failed TaskResult (the sweep goes on)."""
    t0 = time.perf_counter()
    try:
        counts = _STAGE_FNS[task.stage](task, cfg)
    except Exception as exc:  # the per-task boundary: record and go on
        logger.warning("task %s failed: %s", task.name, exc)
        return TaskResult(task, False, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
    return TaskResult(task, True, time.perf_counter() - t0, counts=counts)


def plan_sweep(codecs: Sequence[str], datasets: Sequence[str], *, stages: Sequence[str] = SWEEP_STAGES,
               n_shards: int = 1) -> list[SweepTask]:
    """Every task of a sweep, upstream stages first."""
    from .codecs.registry import get_spec

    encode_only = {c for c in codecs if not get_spec(c).round_trip}
    unknown = [s for s in stages if s not in SWEEP_STAGES]
    if unknown:
        raise UnknownNameError(f"unknown stage(s) {unknown}; known: {', '.join(SWEEP_STAGES)}")
    if n_shards < 1:
        raise ConfigError(f"n_shards must be >= 1, got {n_shards}")
    tasks = []
    for stage in SWEEP_STAGES:
        if stage not in stages:
            continue
        for codec in codecs:
            if codec in encode_only and stage in ROUND_TRIP_STAGES:
                logger.warning("sweep: no %s for %s: encode-only tokenizer (round_trip: false)", stage, codec)
                continue
            for ds in datasets:
                shards = n_shards if stage in SHARDED_STAGES else 1
                tasks.extend(SweepTask(codec, stage, ds, k, shards) for k in range(shards))
    return tasks


def _upstream_of(task: SweepTask, tasks: Sequence[SweepTask]) -> list[SweepTask]:
    if task.stage == "acoustic":
        return [t for t in tasks if t.stage == "resynthesis" and t.codec == task.codec and t.dataset == task.dataset
                and t.shard == task.shard and t.n_shards == task.n_shards]
    if task.stage in ("asr", "classification"):
        return [t for t in tasks if t.stage == "resynthesis" and t.codec == task.codec and t.dataset == task.dataset]
    return []


def merge_acoustic(cfg: SweepConfig, codec: str, dataset: str, n_shards: int) -> Path | None:
    """Concatenate a codec's metric shards for a dataset, in manifest order, into one file."""
    import pandas as pd

    from .metrics.compute import read_results, write_results

    files = [_acoustic_shard_file(cfg, SweepTask(codec, "acoustic", dataset, k, n_shards)) for k in range(n_shards)]
    missing = [f for f in files if not f.is_file()]
    if missing:
        logger.warning("not merging %s/%s: %d shard file(s) missing", codec, dataset, len(missing))
        return None
    df = pd.concat([read_results(f) for f in files], ignore_index=True)
    dup = df["item"].duplicated()
    if dup.any():  # cannot happen with atomic shard files; refuse rather than double count
        raise MetricError(f"{codec}/{dataset}: {int(dup.sum())} duplicated item rows across shards")
    return write_results(df, acoustic_file(cfg.runs, codec, dataset))


def run_sweep(codecs: Sequence[str], datasets: Sequence[str], *, runs: str | Path = "runs",
              stages: Sequence[str] = SWEEP_STAGES, n_shards: int = 1,
              engine: Literal["local", "ray"] = "local", address: str | None = None,
              cpus_per_task: float = 1.0, gpus_per_task: float = 0.0, max_retries: int = 3,
              preset: str = "demo", metric_profile: str | None = None, probe_preset: str | None = None,
              metrics: Sequence[str] | None = None, device: str = "cpu", probe_steps: int = 0,
              progress: bool = True, **old: Any) -> list[TaskResult]:
    """Plan and run a sweep; returns one result per task (in plan order).

    Each stage gets the run ``preset``'s parameters; ``metric_profile`` and ``probe_preset``
    override the preset's (``profile=``, the old name of ``probe_preset``, is accepted for one
    release).

    ``engine="ray"`` submits each task with ``num_cpus=cpus_per_task`` and
    ``num_gpus=gpus_per_task``; Ray retries a task whose worker dies up to
    ``max_retries`` times. ``address="auto"`` joins a running cluster; ``None``
    starts a local one.
    """
    from tqdm import tqdm

    probe_preset = renamed_keyword(old, "profile", "probe_preset", probe_preset, None, "run_sweep")
    # metric workers: 0 (in the task's process); parallelism comes from the tasks themselves
    cfg = SweepConfig(RunsLayout(runs).root, preset, metric_profile, probe_preset,
                      tuple(metrics) if metrics else None, device, 0, probe_steps)
    tasks = plan_sweep(codecs, datasets, stages=stages, n_shards=n_shards)
    for ds in datasets:
        if not manifest_path(cfg, ds).is_file():
            raise MissingArtefactError(f"dataset '{ds}': no manifest at {manifest_path(cfg, ds)}; prepare it with "
                                    f"`codecbench data prepare {ds} --root ... --out {manifest_path(cfg, ds)}`")
    logger.info("sweep: %d tasks (%s engine)", len(tasks), engine)
    bar = tqdm(total=len(tasks), desc="sweep", unit="task", disable=not progress)
    if engine == "local":
        results = []
        for t in tasks:
            bar.set_postfix_str(t.name)
            results.append(run_task(t, cfg))
            bar.update(1)
    elif engine == "ray":
        results = _run_ray(tasks, cfg, address=address, cpus=cpus_per_task, gpus=gpus_per_task,
                           max_retries=max_retries, bar=bar)
    else:
        raise UnknownNameError(f"unknown engine '{engine}'; known: local, ray")
    bar.close()
    if "acoustic" in stages:
        for codec in codecs:
            for ds in datasets:
                merge_acoustic(cfg, codec, ds, n_shards)
    n_ok = sum(r.ok for r in results)
    logger.info("sweep: %d of %d tasks finished, %d failed", n_ok, len(results), len(results) - n_ok)
    return results


def _run_ray(tasks: list[SweepTask], cfg: SweepConfig, *, address: str | None, cpus: float, gpus: float,
             max_retries: int, bar: Any) -> list[TaskResult]:
    from .errors import require

    ray = require("ray", "'codecbench[ray]' (or: make ray)", purpose="sweeps with --engine ray")
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True,
                 configure_logging=False)
    remote = ray.remote(run_task)
    refs: dict[SweepTask, Any] = {}
    for t in tasks:
        ups = [refs[u] for u in _upstream_of(t, tasks) if u in refs]
        refs[t] = remote.options(num_cpus=cpus, num_gpus=gpus, max_retries=max_retries,
                                 name=t.name).remote(t, cfg, *ups)
    by_ref = {ref: t for t, ref in refs.items()}
    done: dict[SweepTask, TaskResult] = {}
    pending = list(refs.values())
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        t = by_ref[ready[0]]
        try:
            done[t] = ray.get(ready[0])
        except Exception as exc:  # retries exhausted (worker kept dying) or Ray itself failed
            done[t] = TaskResult(t, False, 0.0, f"{type(exc).__name__}: {first_line(exc)}")
        bar.set_postfix_str(t.name)
        bar.update(1)
    if started_here:
        ray.shutdown()
    return [done[t] for t in tasks]


def describe_results(results: Sequence[TaskResult]) -> str:
    """The end-of-sweep summary: what finished, what failed and why."""
    lines = [f"{sum(r.ok for r in results)} of {len(results)} tasks finished"]
    for r in results:
        state = "ok    " if r.ok else "FAILED"
        info = ", ".join(f"{k} {v}" for k, v in r.counts.items()) if r.ok else r.detail
        lines.append(f"  {state} {r.task.name} ({r.seconds:.1f} s) {info}")
    return "\n".join(lines)
