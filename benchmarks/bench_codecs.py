"""Speed of the classical codecs: milliseconds of CPU per second of audio.

Run ``python benchmarks/bench_codecs.py [--seconds 10] [--repeat 3] [ids ...]``.
Each codec encodes and decodes the same seeded speech-like signal at its own
rate; the best of ``--repeat`` runs is reported (single thread, wall clock).
"""

from __future__ import annotations

import argparse

import numpy as np

from codecbench_utils.codecs.registry import codec_specs, load_codec

DEFAULT_IDS = (
    "opus_6k", "opus_12k", "opus_24k", "mp3_32k", "mp3_64k", "aac_32k", "aac_64k",
    "amrnb_12k2", "g722_64k", "codec2_700c", "codec2_1200", "codec2_3200",
)


def _signal(sr: int, seconds: float) -> np.ndarray:
    """Harmonic tone bursts plus smoothed noise (the same recipe as the tests)."""
    rng = np.random.default_rng(0)
    n = int(sr * seconds)
    t = np.arange(n) / sr
    phase = 2 * np.pi * np.cumsum(120 + 40 * np.sin(2 * np.pi * 3 * t)) / sr
    tone = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = (np.sin(2 * np.pi * 2.5 * t) > 0).astype(float)
    noise = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")
    x = 0.3 * tone * env + 0.05 * noise
    return (0.8 * x / np.max(np.abs(x))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", default=list(DEFAULT_IDS))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    specs = codec_specs()
    print(f"{'codec':14s} {'rate':>6s} {'kbps':>7s} {'enc ms/s':>9s} {'dec ms/s':>9s} {'x realtime':>11s}")
    for cid in args.ids:
        codec = load_codec(specs[cid])
        x = _signal(codec.sample_rate, args.seconds)
        best_enc = best_dec = float("inf")
        kbps = float("nan")
        for _ in range(args.repeat):
            res = codec.resynthesize(x)
            best_enc, best_dec = min(best_enc, res.encode_s), min(best_dec, res.decode_s)
            kbps = res.bitrate_kbps or float("nan")
        per_s = 1000.0 / args.seconds
        total = best_enc + best_dec
        print(f"{cid:14s} {codec.sample_rate:6d} {kbps:7.2f} {best_enc * per_s:9.2f} {best_dec * per_s:9.2f} "
              f"{args.seconds / total:11.0f}")


if __name__ == "__main__":
    main()
