"""Probe throughput: feature extraction (items/s) and probe training (steps/s), CPU and GPU.

Usage: ``python benchmarks/bench_probes.py [--items 64] [--seconds 3] [--device cpu,cuda]``

Generates a seeded corpus of speech-like tone sequences in a temporary folder, then measures
log-mel extraction into the cache, a cache read pass (memmap), the ASR probe's training steps
with the demo (BiLSTM 2x128) and paper (BiLSTM 2x1024) sizes, and classification-probe epochs.
Prints one line per measurement; nothing is asserted (speed targets live here, not in tests).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _corpus(root: Path, n: int, seconds: float, sr: int = 16000):
    import soundfile as sf

    from codecbench_utils.data.manifest import ManifestItem

    rng = np.random.default_rng(0)
    items = []
    for k in range(n):
        m = int(sr * seconds * rng.uniform(0.7, 1.3))
        t = np.arange(m) / sr
        f = 200 + 600 * (np.floor(t * 8) % 5)
        wav = (0.3 * np.sin(2 * np.pi * np.cumsum(f) / sr) + 0.01 * rng.standard_normal(m)).astype(np.float32)
        split = ("train", "train", "train", "dev", "test")[k % 5]
        sf.write(root / f"u{k:04d}.wav", wav, sr)
        text = " ".join("abcde"[int(x) % 5] * 3 for x in rng.integers(0, 5, size=max(1, int(seconds * 2))))
        items.append(ManifestItem(id=f"u{k:04d}", dataset="bench", category="speech", path=f"u{k:04d}.wav",
                                  duration=m / sr, sample_rate=sr, split=split, text=text,
                                  label=str(k % 4), fold=k % 5 + 1))
    return items


def main(argv: list[str] | None = None) -> int:
    import torch

    from codecbench_utils.probes.asr import train_asr_probe
    from codecbench_utils.probes.cache import EmbeddingCache, extract_features
    from codecbench_utils.probes.classification import cross_validate
    from codecbench_utils.probes.config import load_probe_profile
    from codecbench_utils.probes.features import make_extractor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--device", default="cpu,cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"cuda: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        items = _corpus(root, args.items, args.seconds)
        ex = make_extractor("logmel:original", manifest_dir=root)
        extract_features(ex, items[:1], root / "warm", progress=False)  # import + first-call costs
        fs = extract_features(ex, items, root / "cache", progress=False)
        print(f"extract  logmel:original  {fs.n_extracted / fs.extract_s:8.1f} items/s  "
              f"({fs.n_extracted} items of ~{args.seconds:g} s)")
        t0 = time.perf_counter()
        cache = EmbeddingCache(root / "cache", fs.fingerprint)
        frames = sum(int(np.asarray(cache.get(i), dtype=np.float32).shape[0]) for i in fs.ids)
        dt = time.perf_counter() - t0
        print(f"read     cache (memmap)    {len(fs.ids) / dt:8.1f} items/s  ({frames / dt:.0f} frames/s)")
        for device in args.device.split(","):
            for profile, hidden in (("demo", 128), ("paper", 1024)):
                cfg = load_probe_profile(profile, "asr", train_split="train", eval_split="test", select_split="dev",
                                         eval_every=10**9, ckpt_every=10**9, hidden_size=hidden,
                                         max_eval_items=4, max_select_items=4, normalize=True)
                t0 = time.perf_counter()
                res = train_asr_probe(fs, items, cfg, root / f"asr-{device}-{profile}", steps=args.steps,
                                      device=device, progress=False)
                print(f"asr      {profile:5s} {device:4s} 2x{hidden:<4d} {res.steps_per_s:8.2f} steps/s  "
                      f"(batch {cfg.batch_size}, {args.steps} steps, total {time.perf_counter() - t0:.1f} s)")
            if device == "cpu":  # the small preset's LSTM on 1 thread vs all threads, and two 1-thread lanes
                cfg = load_probe_profile("small", "asr", train_split="train", eval_split="test", select_split="dev",
                                         eval_every=10**9, ckpt_every=10**9, max_eval_items=4, max_select_items=4)
                base = torch.get_num_threads()
                for n in sorted({1, base}):
                    torch.set_num_threads(n)
                    res = train_asr_probe(fs, items, cfg, root / f"asr-small-t{n}", steps=args.steps,
                                          device=device, progress=False)
                    print(f"asr      small cpu  {n} thread(s) {res.steps_per_s:8.2f} steps/s  "
                          f"(2x{cfg.hidden_size}, batch {cfg.batch_size})")
                torch.set_num_threads(base)
                if base > 1:
                    from codecbench_utils.data.manifest import write_manifest

                    write_manifest(items, root / "m.jsonl")
                    lanes = _two_lanes(root, args.steps)
                    print(f"asr      small cpu  2 lanes x 1 thread {lanes:8.2f} steps/s in all (two probes at once)")
            cfg = load_probe_profile("demo", "classification")
            t0 = time.perf_counter()
            rows = cross_validate(fs, items, cfg, device=device, progress=False)
            dt = time.perf_counter() - t0
            print(f"classify linear/mean {device:4s} {len(rows) * cfg.epochs / dt:8.1f} epochs/s  "
                  f"({len(rows)} folds x {cfg.epochs} epochs in {dt:.1f} s)")
    return 0


def _lane(args: tuple) -> float:
    import torch

    root, steps, lane = args
    torch.set_num_threads(1)
    from codecbench_utils.data.manifest import read_manifest
    from codecbench_utils.probes.asr import train_asr_probe
    from codecbench_utils.probes.cache import extract_features
    from codecbench_utils.probes.config import load_probe_profile
    from codecbench_utils.probes.features import make_extractor

    items = read_manifest(root / "m.jsonl")  # the features are in the cache already: this only reads them
    fs = extract_features(make_extractor("logmel:original", manifest_dir=root), items, root / "cache", progress=False)
    cfg = load_probe_profile("small", "asr", train_split="train", eval_split="test", select_split="dev",
                             eval_every=10**9, ckpt_every=10**9, max_eval_items=4, max_select_items=4)
    return train_asr_probe(fs, items, cfg, root / f"lane{lane}", steps=steps, device="cpu",
                           progress=False).steps_per_s


def _two_lanes(root: Path, steps: int) -> float:
    """Two 1-thread probes in two processes at once (what the demo's lanes do): summed steps/s."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        return float(sum(pool.map(_lane, [(root, steps, 0), (root, steps, 1)])))


if __name__ == "__main__":
    raise SystemExit(main())
