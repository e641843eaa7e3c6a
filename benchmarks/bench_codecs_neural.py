"""Cost, token statistics and residual delay of neural codecs on real checkpoints.

Usage (on a machine with the weights in the Hugging Face cache or local folders)::

    python benchmarks/bench_codecs_neural.py --codecs dac_24k_nq8,mimi_nq8 --device cuda --seconds 10

For each codec: parameter count, encode/decode real-time factor and CUDA peak
memory (:func:`codecbench_utils.codecs.stats.profile_codec`), codebook utilization,
entropy and perplexity of the tokens of the test signals, and the delay of the
resynthesized audio relative to the input (should be 0 samples: the backends trim
their padding; a non-zero value belongs in the YAML's ``options.delay_samples``).
Test audio is generated (speech-like harmonic bursts plus noise), never downloaded.
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def _signal(rng: np.random.Generator, sr: int, seconds: float) -> np.ndarray:
    n = int(sr * seconds)
    t = np.arange(n) / sr
    f0 = 120 + 40 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    tone = sum(np.sin(k * phase) / k for k in range(1, 8)) * (np.sin(2 * np.pi * 2.5 * t) > 0)
    x = 0.3 * tone + 0.05 * np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")
    return (0.8 * x / np.max(np.abs(x))).astype(np.float32)


def main() -> None:
    from codecbench_utils.audio import estimate_delay
    from codecbench_utils.codecs.registry import load_codec
    from codecbench_utils.codecs.stats import profile_codec, token_stats

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codecs", required=True, help="comma-separated codec ids")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--items", type=int, default=4)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    for codec_id in args.codecs.split(","):
        codec = load_codec(codec_id, device=args.device)
        wavs = [_signal(rng, codec.sample_rate, args.seconds) for _ in range(args.items)]
        prof = profile_codec(codec, wavs)
        codes = [codec.encode(w).codes for w in wavs]
        sizes = getattr(codec, "codebook_sizes", None) or codec.spec.codebook_size
        stats = token_stats(codes, sizes)
        out = codec.decode(codec.encode(wavs[0]))
        delay = estimate_delay(wavs[0], out, max_delay_samples=codec.sample_rate // 10)
        print(json.dumps({"codec": codec_id, **prof, "delay_samples": delay,
                          **{k: v for k, v in stats.items() if k.startswith("mean_")}}))
        codec.close()


if __name__ == "__main__":
    main()
