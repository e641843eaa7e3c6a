"""Cost, token statistics and residual delay of neural codecs on real checkpoints.

Usage (on a machine with the weights in the Hugging Face cache or local folders)::

    python benchmarks/bench_codecs_neural.py --codecs dac_24k_nq8,mimi_nq8 --device cuda --seconds 10

For each codec: parameter count, encode/decode real-time factor and CUDA peak
memory (:func:`codecbench_utils.codecs.stats.profile_codec`), codebook utilization,
entropy and perplexity of the tokens of the test signals, and the delay of the
resynthesized audio relative to the input (should be 0 samples: the backends trim
their padding; a non-zero value belongs in the YAML's ``options.delay_samples``).
Test audio is generated (speech-like harmonic bursts plus noise), never downloaded, or read
from ``--audio DIR`` (e.g. real recordings).

``--throughput`` times resynthesis instead, in seconds of audio per wall second: one item at
a time (``Codec.resynthesize`` in a loop: the straightforward baseline, one core), the codec's
own ``resynthesize_batch`` (Lyra: items in parallel on threads), and the resynthesis stage
(``codecbench resynth``: loading, coding, FLAC writing, index), with ratios against the first::

    CODECBENCH_LYRA_DIR=... python benchmarks/bench_codecs_neural.py --codecs lyra_v2_6k --throughput
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


def _load_dir(folder: str, sr: int) -> list[np.ndarray]:
    from pathlib import Path

    from codecbench_utils.audio import load_audio

    return [load_audio(p, sr=sr)[0] for p in sorted(Path(folder).rglob("*"))
            if p.suffix.lower() in (".wav", ".flac")]


def throughput(codec_id: str, wavs: list[np.ndarray], repeat: int) -> dict:
    """Audio seconds per wall second: item by item, the codec's batch, and the resynthesis stage."""
    import tempfile
    import time
    from pathlib import Path

    import soundfile as sf

    from codecbench_utils.codecs.registry import load_codec
    from codecbench_utils.codecs.resynth import resynthesize
    from codecbench_utils.data.manifest import ManifestItem, write_manifest

    codec = load_codec(codec_id)
    audio_s = sum(len(w) for w in wavs) / codec.sample_rate
    best = {"one_at_a_time": np.inf, "batch": np.inf, "stage": np.inf}
    with tempfile.TemporaryDirectory() as tmp:
        items = []
        for i, w in enumerate(wavs):
            sf.write(Path(tmp) / f"{i}.wav", w, codec.sample_rate)
            items.append(ManifestItem(f"i{i}", "bench", "speech", f"{i}.wav", len(w) / codec.sample_rate,
                                      codec.sample_rate))
        manifest = write_manifest(items, Path(tmp) / "m.jsonl")
        for r in range(repeat):  # interleaved, best of ``repeat``
            t0 = time.perf_counter()
            for w in wavs:
                codec.resynthesize(w)
            best["one_at_a_time"] = min(best["one_at_a_time"], time.perf_counter() - t0)
            t0 = time.perf_counter()
            codec.resynthesize_batch(wavs)
            best["batch"] = min(best["batch"], time.perf_counter() - t0)
            t0 = time.perf_counter()
            resynthesize(codec, manifest, Path(tmp) / f"out{r}", progress=False)
            best["stage"] = min(best["stage"], time.perf_counter() - t0)
    base = audio_s / best["one_at_a_time"]
    return {"codec": codec_id, "audio_s": round(audio_s, 1), "items": len(wavs),
            **{f"{k}_x_realtime": round(audio_s / v, 1) for k, v in best.items()},
            **{f"{k}_vs_one_at_a_time": round(audio_s / v / base, 2) for k, v in best.items() if k != "one_at_a_time"}}


def main() -> None:
    from codecbench_utils.audio import estimate_delay
    from codecbench_utils.codecs.registry import load_codec
    from codecbench_utils.codecs.stats import profile_codec, token_stats

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codecs", required=True, help="comma-separated codec ids")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--items", type=int, default=4)
    ap.add_argument("--audio", default=None, help="folder of .wav/.flac files to use instead of generated audio")
    ap.add_argument("--throughput", action="store_true", help="time resynthesis: item by item, batch, stage")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    if args.throughput:
        for codec_id in args.codecs.split(","):
            from codecbench_utils.codecs.registry import get_spec

            sr = get_spec(codec_id).sample_rate
            wavs = (_load_dir(args.audio, sr) if args.audio else
                    [_signal(rng, sr, args.seconds) for _ in range(args.items)])
            print(json.dumps(throughput(codec_id, wavs, args.repeat)))
        return
    for codec_id in args.codecs.split(","):
        codec = load_codec(codec_id, device=args.device)
        wavs = (_load_dir(args.audio, codec.sample_rate) if args.audio else
                [_signal(rng, codec.sample_rate, args.seconds) for _ in range(args.items)])
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
