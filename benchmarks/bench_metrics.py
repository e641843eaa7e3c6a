"""Benchmark: the metrics driver against a hand-written loop and the PESQ floor.

Generates N speech-like utterances (3-8 s, 16 kHz) and a degraded copy of each, then times
(a) a straightforward loop a user would write with pesq, pystoi, mir_eval and librosa;
(b) the PESQ C library alone (NB + WB, one process): the floor;
(c) ``compute_metrics(profile="paper")`` (what ``codecbench metrics`` runs) with 1 and 2
    worker processes, without ViSQOL and SIM.
Prints audio-seconds per second, ratios, each metric's share of time, and checks that
(c) gives identical values with 1 and 2 workers and the same PESQ as (a)/(b).

(b) and (c) run ``--repeat`` times, interleaved, and the ratios use each run's fastest
time (as ``timeit`` advises: on a shared machine the slower repeats measure other load,
which hits the floor and the driver alike); the median is printed beside it.

    python benchmarks/bench_metrics.py --n 100 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000
METRICS = "mel_loss,mse,pesq_nb,pesq_wb,sc,sdr,si_sdr,stoi"


def _utterance(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Voiced syllables (gliding f0, 3 formant-like resonances) separated by pauses, plus breath noise."""
    from scipy.signal import lfilter

    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = rng.uniform(90, 220) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    src = np.sign(np.sin(2 * np.pi * np.cumsum(f0) / SR)) * 0.5
    y = np.zeros(n)
    for fc, bw in ((rng.uniform(400, 800), 80), (rng.uniform(1000, 2000), 120), (rng.uniform(2300, 3200), 160)):
        r = np.exp(-np.pi * bw / SR)
        y += lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / SR), r * r], src)
    syll = (np.sin(2 * np.pi * rng.uniform(2.5, 4.5) * t + rng.uniform(0, 6)) > -0.2).astype(float)
    env = np.convolve(syll, np.hanning(400) / 200, mode="same")
    x = y * env + 0.003 * rng.standard_normal(n)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


def _degrade(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    from scipy.signal import butter, lfilter

    b, a = butter(6, rng.uniform(3000, 7000) / (SR / 2))
    y = lfilter(b, a, x) + rng.uniform(0.002, 0.02) * rng.standard_normal(x.size)
    return (0.9 * y).astype(np.float32)


def make_corpus(root: Path, n: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    (root / "ref").mkdir(parents=True)
    (root / "est").mkdir(parents=True)
    total = 0.0
    for i in range(n):
        secs = rng.uniform(3, 8)
        x = _utterance(rng, secs)
        sf.write(root / "ref" / f"u{i:04d}.wav", x, SR, subtype="PCM_16")
        sf.write(root / "est" / f"u{i:04d}.wav", _degrade(rng, x), SR, subtype="PCM_16")
        total += x.size / SR
    return total


def naive_loop(root: Path) -> tuple[float, dict]:
    """What a user writes: one file pair at a time, one package per metric."""
    import librosa
    from mir_eval.separation import bss_eval_sources
    from pesq import pesq
    from pystoi import stoi

    share = dict.fromkeys(["load", "pesq", "stoi", "sdr", "mel/sc/mse"], 0.0)
    vals: dict = {"pesq_nb": [], "pesq_wb": []}
    t_all = time.perf_counter()
    for ref_path in sorted((root / "ref").glob("*.wav")):
        t = time.perf_counter()
        ref, _ = sf.read(ref_path)
        est, _ = sf.read(root / "est" / ref_path.name)
        n = min(ref.size, est.size)
        ref, est = ref[:n], est[:n]
        share["load"] += time.perf_counter() - t
        t = time.perf_counter()
        vals["pesq_nb"].append(pesq(SR, ref, est, "nb"))
        vals["pesq_wb"].append(pesq(SR, ref, est, "wb"))
        share["pesq"] += time.perf_counter() - t
        t = time.perf_counter()
        stoi(ref, est, SR)
        share["stoi"] += time.perf_counter() - t
        t = time.perf_counter()
        bss_eval_sources(ref, est)
        share["sdr"] += time.perf_counter() - t
        t = time.perf_counter()
        for n_fft, n_mels in ((2048, 150), (512, 80)):
            m_r = librosa.feature.melspectrogram(y=ref, sr=SR, n_fft=n_fft, hop_length=n_fft // 4, n_mels=n_mels)
            m_e = librosa.feature.melspectrogram(y=est, sr=SR, n_fft=n_fft, hop_length=n_fft // 4, n_mels=n_mels)
            np.mean(np.abs(np.log10(np.maximum(m_r, 1e-5)) - np.log10(np.maximum(m_e, 1e-5))))
        s_r, s_e = np.abs(librosa.stft(ref)), np.abs(librosa.stft(est))
        np.linalg.norm(s_r - s_e) / np.linalg.norm(s_r)
        np.mean((ref - est) ** 2)
        share["mel/sc/mse"] += time.perf_counter() - t
    return time.perf_counter() - t_all, {"share": share, **vals}


def _pairs(root: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    pairs = []
    for ref_path in sorted((root / "ref").glob("*.wav")):
        ref, _ = sf.read(ref_path)
        est, _ = sf.read(root / "est" / ref_path.name)
        n = min(ref.size, est.size)
        pairs.append((ref[:n], est[:n]))
    return pairs


def _pesq_both(pairs: list) -> dict:
    from pesq import pesq

    return {"pesq_nb": [pesq(SR, r, e, "nb") for r, e in pairs], "pesq_wb": [pesq(SR, r, e, "wb") for r, e in pairs]}


def pesq_floor(root: Path) -> tuple[float, dict]:
    pairs = _pairs(root)
    t = time.perf_counter()
    vals = _pesq_both(pairs)
    return time.perf_counter() - t, vals


def pesq_parallel(root: Path, executor) -> tuple[float, dict]:
    """PESQ alone on every pair, split across the executor's processes: what the cores can do at best."""
    pairs = _pairs(root)
    procs = executor._max_workers
    t = time.perf_counter()
    parts = list(executor.map(_pesq_both, [pairs[i::procs] for i in range(procs)]))
    return time.perf_counter() - t, {"parts": parts}


def driver(root: Path, workers: int) -> tuple[float, object]:
    from codecbench_utils.metrics.compute import compute_metrics

    t = time.perf_counter()
    df = compute_metrics(root / "ref", root / "est", profile="paper", metrics=METRICS, workers=workers,
                         progress=False)
    return time.perf_counter() - t, df


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repeats of (b) and (c); best is used")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--standard", action="store_true",
                    help="also time the standard profile with DNSMOS (2 workers) and print each metric's share")
    args = ap.parse_args(argv)
    global METRICS
    import importlib.util

    missing = [m for m in METRICS.split(",") if m.startswith(("stoi", "sdr"))
               and importlib.util.find_spec(f"codecbench_utils.metrics.{m}") is None]
    if missing:
        print(f"note: metric module(s) {missing} not available yet; the driver runs without them")
        METRICS = ",".join(m for m in METRICS.split(",") if m not in missing)
    # the floor gets the same allocator setting as the metric workers (PESQ is faster with it too),
    # so the driver is not compared against a handicapped floor
    from codecbench_utils.metrics.pool import _keep_freed_memory

    kept = _keep_freed_memory()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        audio_s = make_corpus(root, args.n)
        print(f"corpus: {args.n} pairs, {audio_s:.0f} s of audio at {SR} Hz; machine: {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f} (shared); freed memory kept by glibc: {kept}")
        results = {}
        if not args.skip_naive:
            results["a naive loop"] = [naive_loop(root)]
        from codecbench_utils.metrics.compute import compute_metrics

        # warm-up outside the timings: first imports, filterbanks, and the worker fork server, which
        # starts once per process (a cold start is timed and printed on its own)
        t = time.perf_counter()
        compute_metrics(root / "ref", root / "est", profile="paper", metrics=METRICS, workers=2, limit=2,
                        progress=False)
        cold = time.perf_counter() - t
        floor_name = "b PESQ floor (NB+WB, 1 proc)"
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(2, initializer=_keep_freed_memory) as executor:
            executor.map(_pesq_both, [[], []])  # start both processes before timing
            for _ in range(max(1, args.repeat)):
                results.setdefault(floor_name, []).append(pesq_floor(root))
                results.setdefault("b2 PESQ alone, 2 procs", []).append(pesq_parallel(root, executor))
                for w in (1, 2):
                    results.setdefault(f"c driver paper, {w} worker(s)", []).append(driver(root, w))
        best = {name: min(runs, key=lambda r: r[0]) for name, runs in results.items()}
        floor = best[floor_name][0]
        print(f"cold start (first pool of this process, 2 items, not in the timings below): {cold:.1f} s")
        medians = {name: float(np.median([r[0] for r in runs])) for name, runs in results.items()}
        print(f"\n{'run':34s} {'best s':>8s} {'audio s/s':>10s} {'vs floor':>9s} {'median s':>9s} {'vs floor':>9s}")
        for name in results:
            wall = best[name][0]
            print(f"{name:34s} {wall:8.1f} {audio_s / wall:10.1f} {wall / floor:9.2f} {medians[name]:9.1f} "
                  f"{medians[name] / medians[floor_name]:9.2f}")
        for w in (1, 2):
            wall, df = best[f"c driver paper, {w} worker(s)"]
            target = 1.25 * floor / w
            print(f"driver {w} worker(s): {wall:.1f} s vs target 1.25 x floor/{w} = {target:.1f} s "
                  f"({'met' if wall <= target else 'NOT met'}; the driver process itself is a further core)")
            secs = df.attrs["seconds"]
            tot = sum(secs.values())
            print("  time share: " + ", ".join(f"{k} {100 * v / tot:.0f}%" for k, v in
                                                sorted(secs.items(), key=lambda kv: -kv[1])))
        parallel = best["b2 PESQ alone, 2 procs"][0]
        print(f"PESQ alone scales to {parallel / floor:.2f} x floor on 2 processes here (0.5 would be perfect); "
              f"the 2-worker driver takes {best['c driver paper, 2 worker(s)'][0] / parallel:.2f} x that")
        results = best
        d1, d2 = results["c driver paper, 1 worker(s)"][1], results["c driver paper, 2 worker(s)"][1]
        cols = METRICS.split(",")
        same = np.array_equal(d1[cols].to_numpy(float), d2[cols].to_numpy(float), equal_nan=True)
        fl = results["b PESQ floor (NB+WB, 1 proc)"][1]
        pesq_same = (np.array_equal(d1["pesq_nb"].to_numpy(float), np.asarray(fl["pesq_nb"]))
                     and np.array_equal(d1["pesq_wb"].to_numpy(float), np.asarray(fl["pesq_wb"])))
        print(f"identical values 1 vs 2 workers: {same}; PESQ identical to the direct library calls: {pesq_same}; "
              f"failed rows: {int((d1['status'] != 'ok').sum())}")
        # the whole process, as a user runs it: interpreter start, imports, pool start-up, writing the table
        import subprocess

        cmd = [sys.executable, "-c", "import sys; from codecbench_utils.cli import main; sys.exit(main())",
               "metrics", "--ref", str(root / "ref"), "--est", str(root / "est"), "--metric-profile", "paper",
               "--metrics", METRICS, "--workers", "2", "--out", str(root / "cli.parquet"), "--no-progress"]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        whole = time.perf_counter() - t
        print(f"whole process (`codecbench metrics --metric-profile paper`, {len(METRICS.split(','))} metrics, 2 workers): "
              f"{whole:.1f} s = {whole / parallel:.2f} x PESQ NB+WB alone on 2 processes (target 1.5)")
        if args.standard:
            std = METRICS + ",dnsmos_sig,dnsmos_bak,dnsmos_ovrl,dnsmos_p808"
            t = time.perf_counter()
            df = compute_metrics(root / "ref", root / "est", profile="standard", metrics=std, workers=2,
                                 progress=False)
            wall = time.perf_counter() - t
            secs = df.attrs["seconds"]
            tot = sum(secs.values())
            print(f"standard profile + DNSMOS, 2 workers: {wall:.1f} s ({wall / floor:.2f} x floor); time share: "
                  + ", ".join(f"{k} {100 * v / tot:.0f}%" for k, v in sorted(secs.items(), key=lambda kv: -kv[1])))
        if "a naive loop" in results:
            share = results["a naive loop"][1]["share"]
            tot = sum(share.values())
            print("naive loop time share: " + ", ".join(f"{k} {100 * v / tot:.0f}%" for k, v in share.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
