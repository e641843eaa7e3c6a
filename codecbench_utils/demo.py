"""``make demo``: the pipeline end to end on the built-in mini corpus.

Builds the synthetic corpus, resynthesizes it through ``identity`` and a few
classical codecs, and prints a summary. Everything lands under ``runs/``
(``runs/mini/`` for the corpus, ``runs/<codec>/`` per codec); a rerun skips
finished work.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DEMO_CODECS", "run_demo", "main"]

logger = logging.getLogger(__name__)

#: the codecs the demo runs: the anchor plus classical codecs across the bitrate range
DEMO_CODECS: tuple[str, ...] = ("identity", "opus_6k", "opus_24k", "mp3_64k", "aac_32k", "g722_64k",
                                "codec2_3200")


def run_demo(runs: str | Path = "runs", *, codecs: Sequence[str] = DEMO_CODECS, progress: bool = True) -> list:
    """Prepare the mini corpus and resynthesize it through ``codecs``; return the summaries."""
    from .codecs.registry import list_codecs
    from .codecs.resynth import resynthesize
    from .data.registry import prepare_dataset

    runs = Path(runs)
    manifest = runs / "mini" / "manifest.jsonl"
    t0 = time.perf_counter()
    items = prepare_dataset("mini", runs / "mini", out=manifest)
    logger.info("mini corpus: %d items (%.1f s of audio) in %.1f s", len(items),
                sum(it.duration for it in items), time.perf_counter() - t0)
    available = {row["id"]: row for row in list_codecs()}
    summaries = []
    for codec in codecs:
        row = available.get(codec)
        if row is None or not row["available"]:
            reason = "unknown codec" if row is None else row["reason"]
            logger.warning("skipping codec %s: %s", codec, reason)
            continue
        summaries.append(resynthesize(codec, manifest, runs / codec / "resynth", progress=progress))
    return summaries


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs", help="root folder for the corpus and the runs")
    parser.add_argument("--codecs", default=",".join(DEMO_CODECS))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from tqdm.contrib.logging import logging_redirect_tqdm

    t0 = time.perf_counter()
    with logging_redirect_tqdm():
        summaries = run_demo(args.out, codecs=[c for c in args.codecs.split(",") if c])
    print("\n== CodecBench demo ==")
    for s in summaries:
        print(s.describe())
    print(f"done in {time.perf_counter() - t0:.0f} s; outputs under {Path(args.out).resolve()}")
    return 0 if all(s.n_failed == 0 for s in summaries) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
