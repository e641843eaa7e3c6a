"""The acoustic-metrics driver: pairs of files in, one row per item out.

Pair finding is :mod:`.pairs`, provenance and reuse keys :mod:`.provenance`, result files
:mod:`.result_files`; this module schedules the work and assembles the rows.

Pairs come from two folders matched by relative path, or from a manifest plus a
resynthesis folder (``<dir>/<id>.flac``, whose ``index.jsonl`` marks the items that
failed resynthesis). Each file is read and resampled once per profile
(:func:`~codecbench_utils.metrics.profiles.prepare_pair`); items stream through in
batches, so memory is bounded by the batch and the pool queue, not the corpus.

Per batch: PESQ, ViSQOL and SDR go to a pool of worker processes first, then the
batched torch kernels (mel, MSE, SC, SI-SDR, STOI) and the speaker model run in
this process while the workers are busy. A failure of one metric on one item is
a NaN plus a ``status`` entry naming the metric and the reason; it never stops
the run, never becomes a number, never shifts a row.

Rows are written atomically to ``.csv`` or ``.parquet`` (and checkpointed while
running), and a rerun skips the items already there under the same profile, metric
set, speaker model and file fingerprints.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import remove_stale_temps
from ..audio import PathLike, load_audio
from ..errors import InvalidAudioError, MetricError, UnknownNameError
from .asr_error import DEFAULT_RECOGNIZER
from .pairs import AUDIO_EXTENSIONS, PairSource, find_pairs
from .profiles import PreparedPair, get_profile, prepare_pair
from .provenance import codec_columns, item_key, metric_versions
from .registry import METRICS, default_metrics, get_metric, metric_is_valid, metric_specs
from .result_files import read_results, write_results

__all__ = [
    "AUDIO_EXTENSIONS",
    "row_columns",
    "PairSource",
    "compute_metrics",
    "find_pairs",
    "metric_versions",
    "read_results",
    "write_results",
    "parse_metrics",
]

logger = logging.getLogger(__name__)

#: Columns after the metrics: what the row is about and how it was made.
_PROVENANCE = ("codec", "codec_fingerprint", "dataset", "category", "metric_profile", "sim_model", "asr_model",
               "delay_samples", "delay_confidence", "not_scored", "key", "metric_versions")
#: The default of each run option (rows scored with the defaults keep the keys they had before options existed).
_OPTION_DEFAULTS = {"recognizer": DEFAULT_RECOGNIZER}
#: What ``status`` says of a metric left out because it is not valid for the item's category.
NOT_VALID = "not valid for category"
#: Seconds between checkpoint writes of a running job ...
CHECKPOINT_SECONDS = 30.0
#: ... or newly finished items, whichever comes first (a kill loses at most about a batch)
CHECKPOINT_ITEMS = 8


def row_columns(profile: str, metrics: Sequence[str] = ()) -> tuple[str, ...]:
    """Columns of a result table: ``item``, the profile's metrics (plus any other selected), ``status``,
    then provenance; one list, in registry order, whatever was selected."""
    shown = set(default_metrics(profile)) | set(metrics)
    return ("item", *(m for m in METRICS if m in shown), "status", *_PROVENANCE)


def not_scored_reason(metric: str, src: PairSource, profile: str) -> str | None:
    """Why ``metric`` is left out for this item by design (not a failure), or None when it applies."""
    if not metric_is_valid(metric, src.category, profile):
        return f"{NOT_VALID} {src.category}"
    spec = get_metric(metric)
    if "text" in spec.needs:
        if not (src.text or "").strip():
            return "no transcript"
        language = (src.language or "en").lower()
        if spec.languages is not None and language.split("-")[0] not in spec.languages:
            return f"language {language!r} not covered (recognizer covers {', '.join(spec.languages)})"
    return None


def parse_metrics(metrics: str | Sequence[str] | None, profile: str = "paper") -> tuple[str, ...]:
    """Normalise a metric selection (``"a,b"``, a list, or ``None`` for the profile's defaults) in table order."""
    if metrics is None:
        return default_metrics(get_profile(profile).name)
    names = [m.strip() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    unknown = sorted(set(names) - set(METRICS))
    if unknown:
        raise UnknownNameError(f"unknown metric(s) {unknown}; choose from {list(METRICS)}")
    return tuple(m for m in METRICS if m in names)


def _needs_text(metrics: Sequence[str]) -> bool:
    return any("text" in get_metric(m).needs for m in metrics)


# ---------------------------------------------------------------- per-item state
class _Row:
    """Values and failure reasons of one item while its metrics come in."""

    __slots__ = ("src", "values", "errors", "pending", "delay", "key", "not_scored", "delay_confidence", "notes")

    def __init__(self, src: PairSource, key: str) -> None:
        self.src = src
        self.values: dict[str, float] = {}
        self.errors: dict[str, str] = {}
        self.pending = 0
        self.delay: float | None = None
        self.key = key
        #: metric -> why it is left out by design (not valid for the category, no transcript, ...)
        self.not_scored: dict[str, str] = {}
        self.delay_confidence = float("nan")
        self.notes: dict[str, str] = {}  # e.g. why the delay was not compensated (not a failure)

    def fail_all(self, metrics: Sequence[str], reason: str) -> None:
        for m in metrics:
            self.errors[m] = reason

    def set(self, metric: str, value: Any) -> None:
        if isinstance(value, BaseException):
            self.errors[metric] = _reason(value)
            return
        v = float(value)
        if not np.isfinite(v):
            self.errors[metric] = f"{metric} returned {v}"
        else:
            self.values[metric] = v

    def to_dict(self, metrics: Sequence[str], meta: dict[str, Any]) -> dict[str, Any]:
        d: dict[str, Any] = {"item": self.src.item}
        for m in metrics:
            d[m] = self.values.get(m, np.nan)
        scorable = [m for m in metrics if m not in self.not_scored]
        failed = [m for m in scorable if m in self.errors]
        if not failed:
            d["status"] = "ok"
        elif len(failed) == len(scorable) and len({self.errors[m] for m in failed}) == 1:
            d["status"] = f"all: {self.errors[failed[0]]}"
        else:
            d["status"] = "; ".join(f"{m}: {self.errors[m]}" for m in failed)
        by_reason: dict[str, list[str]] = {}
        for m, why in self.not_scored.items():
            by_reason.setdefault(why, []).append(m)
        for why, ms in by_reason.items():  # not a failure: "ok" stays the first word when nothing failed
            d["status"] += f"; {', '.join(ms)}: {why}"
        for what, note in self.notes.items():
            d["status"] += f"; {what}: {note}"
        d.update(dataset=self.src.dataset, category=self.src.category, delay_samples=self.delay,
                 delay_confidence=self.delay_confidence, not_scored=",".join(self.not_scored), key=self.key,
                 **meta)
        return d


def _reason(exc: BaseException) -> str:
    msg = str(exc) or type(exc).__name__
    metric = getattr(exc, "metric", None)
    if metric and msg.startswith(f"{metric}: "):
        msg = msg[len(metric) + 2:]
    return msg.replace("\n", " ")


def _load_pair(src: PairSource, profile: str, metrics: Sequence[str]) -> PreparedPair:
    if src.pre_status:
        raise InvalidAudioError(src.pre_status)
    if src.est_path is None or not src.est_path.is_file():
        raise InvalidAudioError(f"no estimate file for item '{src.item}'"
                                + (f" (expected '{src.est_path}')" if src.est_path else ""))
    ref, ref_sr = load_audio(src.ref_path)
    est, est_sr = load_audio(src.est_path)
    return prepare_pair(ref, ref_sr, est, est_sr, profile=profile, metrics=metrics, category=src.category)


# ---------------------------------------------------------------- driver
def compute_metrics(
    ref: PathLike | None,
    est: PathLike,
    *,
    profile: str,
    metrics: str | Sequence[str] | None = None,
    out: PathLike | None = None,
    workers: int | None = None,
    device: str = "cpu",
    progress: bool = True,
    sim_model: Any = "resemblyzer",
    manifest: PathLike | None = None,
    batch_size: int = 16,
    limit: int | None = None,
    resume: bool = True,
    strict: bool = False,
    codec: str | None = None,
    asr_model: str = DEFAULT_RECOGNIZER,
) -> Any:
    """Score every (reference, estimate) pair with the metrics of a profile.

    Parameters
    ----------
    ref : path or None
        Folder of reference audio (ignored when ``manifest`` is given).
    est : path
        Folder of estimates: same relative paths as ``ref``, or ``<id>.flac`` per
        manifest item (a resynthesis folder).
    profile : {"paper", "standard"}
        See :mod:`codecbench_utils.metrics.profiles`.
    metrics : str or list of str, optional
        Subset of ``mel_loss, mse, pesq_nb, pesq_wb, sc, sdr, si_sdr, sim, stoi, visqol``
        (comma-separated string or list); all by default.
    out : path, optional
        ``.csv`` or ``.parquet`` to write (atomically, checkpointed every 30 s or 8 items).
    workers : int, optional
        Worker processes for PESQ/ViSQOL/SDR (default: CPU count; 0 = in this process).
    device : str
        Torch device of the batched kernels and the speaker model.
    sim_model : str or SpeakerEncoder
        ``"resemblyzer"`` (default) or ``"wavlm_ecapa:<checkpoint>"`` (the paper's model).
    manifest : path, optional
        Items, categories and reference paths from a manifest.
    batch_size : int
        Items per batch (bounds memory).
    limit : int, optional
        Only the first ``limit`` items.
    resume : bool
        Skip items already in ``out`` with the same key (profile, metrics, SIM
        model, file sizes and mtimes).
    strict : bool
        Folder mode: refuse two files of one item (``x.flac`` and ``x.wav``) instead of
        scoring the first and warning about the rest.
    asr_model : str
        Recognizer of the ASR error rates: ``pocketsphinx`` (offline, in the wheel) or
        ``whisper:<folder or Hugging Face repo id in the cache>``; recorded per row in ``asr_model``.
    codec : str, optional
        The codec id behind the estimates: every row then carries ``codec`` and its
        ``codec_fingerprint`` (spec, backend versions, weight checksums). Empty for two
        plain folders.

    Returns
    -------
    pandas.DataFrame
        One row per item: ``item``, the metric columns (NaN where not computed
        or failed), ``status`` (``ok`` or ``metric: reason; ...``), then ``codec,
        codec_fingerprint, dataset, category, metric_profile, sim_model, delay_samples, ...,
        key, metric_versions`` (:func:`row_columns`).
        ``df.attrs["seconds"]`` holds the time spent per metric (worker time for
        pooled metrics).
    """
    import pandas as pd
    from tqdm import tqdm

    from .pool import MetricPool

    prof = get_profile(profile)
    metrics = parse_metrics(metrics, prof.name)
    specs = metric_specs(prof.name)
    if out is not None:
        remove_stale_temps(Path(out).parent, recursive=False)
    sources = find_pairs(ref if ref is not None else est, est, manifest=manifest, strict=strict)
    if limit:
        sources = sources[:limit]
    sim_spec = sim_model if isinstance(sim_model, str) else getattr(sim_model, "name", "custom")
    with_text = _needs_text(metrics)
    # what the functions with run options get (registry ``options``); each non-default value keys the rows
    run_options = {"recognizer": asr_model}
    used = {o for m in metrics for o in get_metric(m).options}
    keyed = {o: v for o, v in run_options.items() if o in used and v != _OPTION_DEFAULTS[o]}
    keys = {s.item: item_key(s, prof.name, metrics, sim_spec, with_text=with_text, options=keyed) for s in sources}

    previous = None
    done_items: set[str] = set()
    if out is not None and resume and Path(out).is_file():
        previous = read_results(out)
        if "key" in previous.columns:
            keep = previous["item"].map(keys) == previous["key"]
            previous = previous[keep]
            done_items = set(previous["item"])
    todo = [s for s in sources if s.item not in done_items]
    logger.info("metrics (%s): %d items, %d already done, %d to score -> %s", prof.name, len(sources),
                len(done_items), len(todo), out)

    model = None
    if "sim" in metrics and todo:
        from .sim import load_sim_model

        model = load_sim_model(sim_model, device=device)
        if prof.name == "paper" and not model.name.startswith("wavlm_ecapa"):
            logger.warning("SIM with %s is not comparable with the paper's numbers (WavLM-Large+ECAPA-TDNN); "
                           "pass sim_model='wavlm_ecapa:<wavlm_large_finetune.pth>'", model.name)
    asr_name = None
    if "recognizer" in used:
        from .asr_error import recognizer_name

        asr_name = recognizer_name(asr_model)  # a missing Whisper checkpoint stops here, before any work
    meta = {**codec_columns(codec), "metric_profile": prof.name, "sim_model": model.name if model is not None else
            (sim_spec if "sim" in metrics else None), "asr_model": asr_name, "metric_versions": metric_versions(metrics)}

    if workers is None:
        workers = os.cpu_count() or 1
    # The batched torch kernels pay off on a GPU. On the CPU their per-item NumPy functions are
    # faster (mel loss 0.95 s vs 4.3 s for 16 items, measured), and with workers they run beside
    # PESQ on every core instead of competing with the pool from the driver process.
    on_gpu = str(device).startswith("cuda")
    pool_metrics = [m for m in metrics if specs[m].kind == "pool"
                    or (specs[m].kind == "batched" and not on_gpu and workers > 0)]
    batch_metrics = [m for m in metrics if specs[m].kind == "batched" and m not in pool_metrics]
    # what one worker call computes: a column, or a group of columns computed together (DNSMOS, ASR)
    units: dict[str, list[str]] = {}
    for m in pool_metrics:
        units.setdefault(specs[m].unit, []).append(m)
    unit_needs_text = {unit: _needs_text(cols) for unit, cols in units.items()}
    seconds = dict.fromkeys([*(m for m in metrics if m not in pool_metrics), *units], 0.0)
    seconds["load"] = 0.0
    rows: dict[str, _Row] = {}
    finished: list[dict[str, Any]] = []
    last_write, n_written = time.monotonic(), 0
    columns = list(row_columns(prof.name, metrics))

    def finish(row: _Row) -> None:
        finished.append(row.to_dict(metrics, meta))
        rows.pop(row.src.item, None)
        bar.update()

    def drain(results: list) -> None:
        for (item, unit), value, secs in results:
            row = rows[item]
            for m in units[unit]:
                if m in row.not_scored:
                    continue
                if isinstance(value, dict):
                    row.set(m, value[m] if m in value else MetricError(f"{unit} returned no {m}", metric=m))
                else:
                    row.set(m, value)
            seconds[unit] += secs
            row.pending -= 1
            if row.pending == 0:
                finish(row)

    def checkpoint(final: bool = False) -> Any:
        frames = [pd.DataFrame(finished)] if finished else []
        if previous is not None and len(previous):
            frames.insert(0, previous)
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        order = {s.item: i for i, s in enumerate(sources)}
        df = df.sort_values("item", key=lambda c: c.map(order).fillna(len(order))).reset_index(drop=True)
        df = df.reindex(columns=columns) if len(df) else df
        if out is not None and (final or len(df)):
            write_results(df, out)
        return df

    # one chunk = one item's pool tasks: pickle memoizes the shared ref/est arrays within a message,
    # so each pair crosses the pipe once instead of once per metric
    chunk = max(1, len(units))
    inflight = max(4 * max(workers, 1), (2 * batch_size * max(len(units), 1)) // chunk)
    preload = sorted({f"codecbench_utils.metrics.{specs[m].module}" for m in pool_metrics})
    with MetricPool(workers if pool_metrics else 0, chunksize=chunk, max_inflight=inflight,
                    preload=preload) as pool, \
            tqdm(total=len(todo), desc=f"metrics {prof.name}", unit="item", disable=not progress) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            pairs: dict[str, PreparedPair] = {}
            t0 = time.perf_counter()
            for src in batch:
                row = rows[src.item] = _Row(src, keys[src.item])
                for m in metrics:
                    why = not_scored_reason(m, src, prof.name)
                    if why is not None:
                        row.not_scored[m] = why
                scorable = [m for m in metrics if m not in row.not_scored]
                try:
                    pair = _load_pair(src, prof.name, scorable)
                except Exception as exc:  # per-item boundary: unreadable/missing/NaN audio
                    row.fail_all(scorable, _reason(exc))
                    continue
                row.delay, row.delay_confidence, row.notes = pair.delay_samples, pair.delay_confidence, pair.notes
                pairs[src.item] = pair
            seconds["load"] += time.perf_counter() - t0

            # 1) per-item metrics to the workers
            tasks = []
            for item, pair in pairs.items():
                row = rows[item]
                for unit, cols in units.items():
                    if all(m in row.not_scored for m in cols):
                        continue
                    spec = specs[cols[0]]
                    r, e, sr, kw = pair.inputs(spec.input)
                    kw = {**kw, **dict(spec.kwargs)}
                    if spec.group:  # a group computes only the columns asked for (no reference pass if none)
                        kw["columns"] = tuple(m for m in cols if m not in row.not_scored)
                    if unit_needs_text[unit]:
                        kw["text"] = row.src.text
                    kw.update({o: run_options[o] for o in spec.options})
                    tasks.append(((item, unit), spec.function(), r, e, sr, kw))
                    row.pending += 1
            pool.submit(tasks)

            # 2) batched kernels and the speaker model here, while the workers run
            items = list(pairs)
            for m in batch_metrics:
                t0 = time.perf_counter()
                valid = [i for i in items if m not in rows[i].not_scored]
                _run_batched(specs[m], [pairs[i] for i in valid], valid, rows, device)
                seconds[m] += time.perf_counter() - t0
            if model is not None:
                from .sim import sim as sim_fn

                t0 = time.perf_counter()
                for i in (i for i in items if "sim" not in rows[i].not_scored):
                    r, e, sr, _ = pairs[i].inputs(specs["sim"].input)
                    try:
                        rows[i].set("sim", sim_fn(r, e, sr, model=model))
                    except Exception as exc:  # per-item boundary
                        rows[i].set("sim", exc)
                seconds["sim"] += time.perf_counter() - t0
            del pairs
            for src in batch:
                row = rows.get(src.item)
                if row is not None and row.pending == 0:
                    finish(row)
            drain(pool.collect())
            if out is not None and (time.monotonic() - last_write > CHECKPOINT_SECONDS
                                    or len(finished) - n_written >= CHECKPOINT_ITEMS):
                checkpoint()
                last_write, n_written = time.monotonic(), len(finished)
        drain(pool.collect(wait=True))

    df = checkpoint(final=True)
    df.attrs["seconds"] = seconds
    n_failed = int((df["status"] != "ok").sum()) if len(df) else 0
    logger.info("metrics (%s): %d rows (%d newly scored, %d skipped), %d with a failed metric", prof.name,
                len(df), len(todo), len(done_items), n_failed)
    return df


def _run_batched(spec: Any, pairs: list[PreparedPair], items: list[str], rows: dict[str, _Row],
                 device: str) -> None:
    """One batched kernel call; if it raises (one bad item), fall back to the per-item function."""
    if not pairs:
        return
    # the variant the registry names, as in the pool (a batched kernel takes no per-item arguments)
    inputs = [p.inputs(spec.input) for p in pairs]
    kw = dict(spec.kwargs)
    refs = [r for r, _, _, _ in inputs]
    ests = [e for _, e, _, _ in inputs]
    try:
        values = np.asarray(spec.batched_function()(refs, ests, inputs[0][2], device=device, **kw), dtype=float)
        if values.shape != (len(pairs),):
            raise InvalidAudioError(f"{spec.column}: batched kernel returned shape {values.shape}")
    except Exception as exc:
        logger.debug("%s: batched kernel failed (%s); scoring item by item", spec.column, exc)
        fn = spec.function()
        for item, (r, e, sr, extra) in zip(items, inputs, strict=True):
            try:
                rows[item].set(spec.column, fn(r, e, sr, **extra, **kw))
            except Exception as item_exc:  # per-item boundary
                rows[item].set(spec.column, item_exc)
        return
    for item, v in zip(items, values, strict=True):
        rows[item].set(spec.column, v)
