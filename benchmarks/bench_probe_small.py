"""The `small` ASR preset end to end on a LibriSpeech-layout corpus: does it rank, and in what time?

Builds a corpus in LibriSpeech's native layout (``train-clean-100``, ``dev-clean``,
``test-clean``; ``<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` plus ``.trans.txt``)
from the mini corpus's espeak-ng speech (8 voices; ``--scale`` times 192 utterances), prepares
it with the ``librispeech`` recipe, resynthesizes it through ``--codec`` (default
codec2_3200) and runs ``codecbench probe asr --preset small`` with ``logmel:original`` and
``logmel:<resynthesis>``. Prints the CER of each with its 95% interval, the paired difference
and the wall time. Synthetic speech is easier than LibriSpeech's read audiobooks and its
utterances are shorter (about 2.7 s against 12 s), so read the time as a lower bound.

    python benchmarks/bench_probe_small.py --scale 2 [--seeds 0,1,2] [--out /tmp/bench_small]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_PARTS = {"train": "train-clean-100", "dev": "dev-clean", "test": "test-clean"}


def librispeech_layout(mini_root: Path, scale: int, dest: Path) -> int:
    """Write the mini corpus's speech in LibriSpeech's layout under ``dest/LibriSpeech``; return the count."""
    from codecbench_utils.data.manifest import resolve_path
    from codecbench_utils.data.mini import prepare_mini

    items = prepare_mini(mini_root, subset="speech", size=scale, progress=False)
    speakers = sorted({it.speaker for it in items})
    lines: dict[Path, list[str]] = {}
    for n, it in enumerate(items):
        spk, chapter = 100 + speakers.index(it.speaker), 1
        folder = dest / "LibriSpeech" / _PARTS[str(it.split)] / str(spk) / str(chapter)
        folder.mkdir(parents=True, exist_ok=True)
        utt = f"{spk}-{chapter}-{n:04d}"
        shutil.copyfile(resolve_path(it, mini_root), folder / f"{utt}.flac")
        lines.setdefault(folder / f"{spk}-{chapter}.trans.txt", []).append(f"{utt} {str(it.text).upper()}")
    for path, rows in lines.items():
        path.write_text("\n".join(rows) + "\n")
    return len(items)


def main(argv: list[str] | None = None) -> int:
    from codecbench_utils.codecs.resynth import resynthesize
    from codecbench_utils.data.registry import prepare_dataset
    from codecbench_utils.probes.config import preset_seeds
    from codecbench_utils.probes.standalone import probe_manifest

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=2, help="mini corpus scale: 192 speech utterances each")
    ap.add_argument("--codec", default="codec2_3200")
    ap.add_argument("--seeds", default=None, help="comma-separated (default: the small preset's)")
    ap.add_argument("--out", default=None, help="keep everything here (default: a temporary folder)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else list(preset_seeds("small"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.out) if args.out else Path(tmp)
        n = librispeech_layout(work / "mini", args.scale, work / "ls")
        manifest = work / "ls.jsonl"
        prepare_dataset("librispeech", work / "ls", out=manifest, progress=False)
        resynth = work / args.codec / "resynth"
        resynthesize(args.codec, manifest, resynth, progress=False)
        t0 = time.perf_counter()
        run = probe_manifest("asr", manifest, f"logmel:original,logmel:{resynth}", work / "probe", preset="small",
                             seeds=seeds, device="cpu", progress=False)
        wall = time.perf_counter() - t0
        s = run.summary.set_index("codec")
        print(f"{n} utterances in LibriSpeech layout; small preset, seeds {seeds}; probe wall time {wall:.0f} s")
        for codec, r in s.iterrows():
            print(f"  {codec:<12} CER {r['cer']:.3f} [{r['cer_lo']:.3f}, {r['cer_hi']:.3f}]  "
                  f"WER {r['wer']:.3f} [{r['wer_lo']:.3f}, {r['wer_hi']:.3f}]  seed std {r['cer_seed_std']:.3f}")
        for c in run.comparisons.itertuples():
            print(f"  paired {c.rate.upper()} {args.codec} - original: {c.difference:+.3f} [{c.lo:+.3f}, {c.hi:+.3f}]"
                  f" over {c.n_items} utterances -> {'differ' if c.differ else 'no difference shown'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
