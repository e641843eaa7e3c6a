"""``make demo``: the whole pipeline end to end on the built-in mini corpus.

Builds the synthetic corpus, then for ``identity`` and a few classical codecs
(and one configuration of every other neural codec family whose weights are present) executes
the stage notebooks with papermill (resynthesis, acoustic metrics, ASR probe,
classification probe) into ``runs/<codec>/``, then notebook 05, which writes the
tables and figures (into the project's ``figures/`` for ``make demo``) and an HTML report.
A rerun skips finished work.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .data.manifest import ManifestItem

__all__ = ["DEMO_CODECS", "available_codecs", "scoring_subset", "run_demo", "main"]

logger = logging.getLogger(__name__)

#: the anchor, classical codecs spanning 1-64 kbps, and a real neural codec (Lyra v2, CPU)
DEMO_CODECS: tuple[str, ...] = ("identity", "opus_6k", "mp3_32k", "codec2_3200", "lyra_v2_6k", "lyra_v2_3k2")


def fetch_missing_weights(codec_ids: Sequence[str]) -> list[str]:
    """Try once to download the pinned files of requested codecs whose weights are missing.

    Only codecs that declare pinned files (Lyra) are tried, each distinct download once.
    Returns the ids still without weights; a failed download (offline) is one warning line
    and the demo goes on without them.
    """
    from .codecs.fetch import FetchError, run_plan
    from .codecs.registry import codec_class, codec_specs

    specs = codec_specs()
    plans: dict[tuple, tuple[Any, list[str]]] = {}  # one download per distinct (folder, files)
    for codec_id in codec_ids:
        spec = specs.get(codec_id)
        if spec is None or codec_class(spec).available(spec) is None:
            continue
        plan = codec_class(spec).fetch_plan(spec)
        if plan is not None and plan.files:
            plans.setdefault((plan.target, plan.files), (plan, []))[1].append(codec_id)
    missing = []
    for plan, ids in plans.values():
        try:
            run_plan(plan, log=logger.info)
        except FetchError as exc:
            logger.warning("%s: weights not here and not fetched (%s); the demo goes on without %s",
                           ", ".join(ids), exc, "them" if len(ids) > 1 else "it")
            missing += ids
    return missing


def available_codecs(requested: Sequence[str], *, neural: bool = False) -> list[str]:
    """The requested codecs that can run here (plus, with ``neural``, one runnable configuration of each
    neural codec family not requested)."""
    from .codecs.registry import list_codecs

    rows = {r["id"]: r for r in list_codecs()}
    out = []
    for c in requested:
        if c not in rows:
            logger.warning("skipping unknown codec %s", c)
        elif not rows[c]["available"]:
            logger.warning("skipping codec %s: %s", c, rows[c]["reason"].split(";")[0])
        else:
            out.append(c)
    if neural:  # one configuration of each further family: the demo's time stays in minutes
        families = {rows[c]["family"] for c in out}
        for r in rows.values():
            if r["available"] and r["family"] not in ("classical", "anchor") and r["family"] not in families:
                out.append(r["id"])
                families.add(r["family"])
    return out


def scoring_subset(items: Sequence[ManifestItem], *, every: int = 5) -> list[ManifestItem]:
    """Every ``every``-th item of each dataset (all categories kept), for a quick acoustic stage."""
    counts: dict[str, int] = {}
    out = []
    for it in items:
        k = counts.get(it.dataset, 0)
        counts[it.dataset] = k + 1
        if k % every == 0:
            out.append(it)
    return out


def run_demo(runs: str | Path = "runs", *, codecs: Sequence[str] = DEMO_CODECS, neural: bool = True,
             lanes: int = 2, progress: bool = True, figures_dir: str | Path | None = None) -> dict:
    """Prepare the mini corpus, run every stage for each codec, then the figures; return what ran.

    Codecs run in ``lanes`` parallel lanes (each lane executes one codec's notebooks in
    order). Kernels get one BLAS/OpenMP thread each: the small probe LSTMs are
    latency-bound, so two single-threaded lanes finish sooner than one lane using both
    cores. The acoustic stage scores a fifth of each dataset (see ``scoring_subset``);
    ``codecbench run --preset demo`` scores the whole corpus. Tables and figures go to
    ``figures_dir`` (default ``<runs>/figures``).
    """
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from .data.manifest import resolve_path, write_manifest
    from .data.registry import prepare_dataset
    from .layout import RunsLayout
    from .runner import run_codec, run_figures

    layout = RunsLayout(runs)
    t0 = time.perf_counter()
    manifest = layout.manifest("mini")
    items = prepare_dataset("mini", manifest.parent, out=manifest)
    logger.info("mini corpus: %d items (%.0f s of audio) in %.0f s", len(items), sum(i.duration for i in items),
                time.perf_counter() - t0)
    subset = [replace(it, path=str(resolve_path(it, manifest.parent).resolve())) for it in scoring_subset(items)]
    subset_manifest = write_manifest(subset, manifest.parent / "scoring_subset.jsonl")
    overrides = {"acoustic": {"manifest": str(subset_manifest)}}
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    unfetched = fetch_missing_weights(codecs)
    chosen = available_codecs([c for c in codecs if c not in unfetched], neural=neural)

    def lane(codec: str) -> list:
        return run_codec(codec, preset="demo", runs=layout.root, overrides=overrides, progress=False,
                         stop_on_error=False)

    with ThreadPoolExecutor(max_workers=max(1, lanes)) as pool:
        stage_runs = [r for runs_ in pool.map(lane, chosen) for r in runs_]
    figures = run_figures(preset="demo", runs=layout.root, progress=progress,
                          overrides={"out_dir": str(Path(figures_dir or layout.figures_dir).resolve())})
    return {"items": len(items), "stages": stage_runs, "figures": figures}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs", help="root folder for the corpus and the runs")
    parser.add_argument("--figures", default=None, help="where tables and figures go (default: <out>/figures)")
    parser.add_argument("--codecs", default=",".join(DEMO_CODECS))
    parser.add_argument("--no-neural", action="store_true", help="skip neural codecs even if their weights are here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from tqdm.contrib.logging import logging_redirect_tqdm

    from .layout import RunsLayout

    t0 = time.perf_counter()
    with logging_redirect_tqdm():
        done = run_demo(args.out, codecs=[c for c in args.codecs.split(",") if c], neural=not args.no_neural,
                        figures_dir=args.figures)
    print("\n== CodecBench demo ==")
    for r in done["stages"]:
        print(f"  {r.codec:<14} {r.stage:<15} {r.state:<8} {r.seconds:6.0f} s  {r.notebook}")
    figures = Path(args.figures or RunsLayout(args.out).figures_dir).resolve()
    table = figures / "table3_overall.md"
    if table.is_file():
        print("\nTable 3 (all metrics, paper profile, mini corpus):\n" + table.read_text())
    print(f"figures and tables: {figures}")
    print(f"report:             {done['figures'].notebook.with_suffix('.html').resolve()}")
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return 0 if all(r.ok for r in done["stages"]) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
