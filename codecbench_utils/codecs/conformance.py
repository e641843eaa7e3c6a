"""The conformance suite: does a codec keep the promises the pipeline relies on?

``codecbench codecs check ID`` runs, on two speech-like test signals of unequal, non-frame-multiple
lengths at the codec's rate:

- ``length``: the resynthesis has exactly the input's length, or its duration at the declared output
  rate (the driver refuses anything else);
- ``sample_rate``: it comes back at the declared (output) rate;
- ``delay``: the output is aligned with the input within one sample (the codec's own delay is
  removed by its adapter), measured on the waveform; codecs that do not keep the waveform
  (vocoders, parametric and most low-rate neural codecs) are measured on the energy envelope
  instead, to within a millisecond, and the detail says so; ``inconclusive`` when neither
  resembles the input enough to measure a lag (an untrained model), with the reason;
- ``deterministic``: two runs give identical output (or the codec is declared ``stochastic``);
- ``batch``: batched resynthesis equals one-at-a-time resynthesis within ``BATCH_TOLERANCE`` of
  the peak, on items of different lengths (``n/a`` when the adapter runs items one at a time);
- ``embeddings``: ``embed`` returns ``(frames, embedding_dim)`` with about ``duration x
  frame_rate`` frames (``n/a`` for codecs without embeddings).

An encode-only tokenizer (``round_trip: false``) has only ``deterministic`` (its codes) and
``embeddings`` checked; the others are ``n/a``.

A report is kept beside the codec's results (``RunsLayout.conformance_file``) with the codec
fingerprint it was measured on; ``codecs list --json`` and the report's conformance table read it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .base import Codec
from .fingerprint import codec_fingerprint

__all__ = ["CHECKS", "BATCH_TOLERANCE", "CheckResult", "ConformanceReport", "check_codec", "speechlike",
           "read_report"]

CHECKS = ("length", "sample_rate", "delay", "deterministic", "batch", "embeddings")
#: batched and single outputs may differ by this fraction of the single output's peak (float arithmetic
#: in another order, padding the codec masks); more is a codec that lets padding leak into its items
BATCH_TOLERANCE = 1e-3
#: frames of an embedding may differ from duration x frame rate by this many (edge padding)
FRAME_SLACK = 2
Status = Literal["pass", "fail", "inconclusive", "n/a"]


@dataclass
class CheckResult:
    name: str
    status: Status
    detail: str


@dataclass
class ConformanceReport:
    codec: str
    fingerprint: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No check failed (inconclusive and n/a are not failures)."""
        return all(r.status != "fail" for r in self.results)

    def status(self) -> dict[str, str]:
        return {r.name: r.status for r in self.results}

    def to_dict(self) -> dict[str, Any]:
        return {"codec": self.codec, "fingerprint": self.fingerprint, "seconds": round(self.seconds, 3),
                "results": [asdict(r) for r in self.results]}

    def write(self, path: str | Path) -> Path:
        from ..atomic import atomic_path

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    def describe(self) -> str:
        lines = [f"{self.codec}: {'conforms' if self.ok else 'DOES NOT CONFORM'} ({self.seconds:.1f} s)"]
        lines += [f"  {r.status:<12} {r.name:<13} {r.detail}" for r in self.results]
        return "\n".join(lines)


def read_report(path: str | Path, *, fingerprint: str | None = None) -> dict[str, Any] | None:
    """A stored report, or None when it is missing, unreadable or measured on another fingerprint."""
    try:
        d = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if fingerprint is not None and d.get("fingerprint") != fingerprint:
        return None
    return d


def speechlike(seconds: float, sr: int, *, seed: int = 0) -> np.ndarray:
    """Syllables of a voiced, gliding, formant-shaped pulse train between short silences: speech-like.

    Codecs built for speech reproduce it; the syllables' sharp onsets and the pitch glide give the
    waveform and the energy envelope one clear correlation peak, so a lag can be measured.
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    f0 = 110 + 40 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, np.pi)) + 20 * t
    pulses = (np.diff(np.floor(np.cumsum(f0 / sr)), prepend=0.0) > 0).astype(np.float64)
    voiced = pulses.copy()
    for formant, bw in ((500, 80), (1500, 120), (2500, 160)):
        f = min(formant, 0.45 * sr)
        r = np.exp(-np.pi * bw / sr)
        voiced += 0.5 * lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], pulses)
    gate = np.zeros(n)
    pos = int(rng.uniform(0.02, 0.06) * sr)
    while pos < n:  # syllables of 80-220 ms, gaps of 30-120 ms, 5 ms ramps
        length, gap = int(rng.uniform(0.08, 0.22) * sr), int(rng.uniform(0.03, 0.12) * sr)
        seg = np.ones(min(length, n - pos))
        ramp = min(int(0.005 * sr), seg.size // 2)
        if ramp:
            seg[:ramp], seg[seg.size - ramp:] = np.linspace(0, 1, ramp), np.linspace(1, 0, ramp)
        gate[pos:pos + seg.size] = seg * rng.uniform(0.5, 1.0)
        pos += length + gap
    x = voiced * gate + 0.003 * rng.standard_normal(n)
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


#: envelope frames of this many milliseconds (the resolution of the envelope delay)
ENVELOPE_MS = 1.0


def _envelope(x: np.ndarray, sr: int) -> np.ndarray:
    """RMS over 5 ms windows, one value per ``ENVELOPE_MS``, mean removed (a lag of loudness, not of phase)."""
    hop = max(1, int(round(sr * ENVELOPE_MS / 1000)))
    win = max(hop, int(round(sr * 0.005)))
    power = np.convolve(np.asarray(x, dtype=np.float64) ** 2, np.ones(win) / win, mode="same")[::hop]
    env = np.sqrt(np.maximum(power, 0.0))
    return env - env.mean()


def _check(name: str, fn: Any) -> CheckResult:
    try:
        status, detail = fn()
    except Exception as exc:  # a check that crashes is a failed check, with the reason
        status, detail = "fail", f"{type(exc).__name__}: {exc}"
    return CheckResult(name, status, detail)


def check_codec(codec: Codec, *, seconds: tuple[float, float] = (1.3, 0.71)) -> ConformanceReport:
    """Run every check of the suite on a loaded codec (see the module docstring)."""
    from ..audio import find_delay, resample

    t0 = time.perf_counter()
    sr, out_sr = codec.sample_rate, codec.output_sample_rate
    a, b = speechlike(seconds[0], sr, seed=1), speechlike(seconds[1], sr, seed=2)
    cache: dict[str, Any] = {}

    def single(key: str, x: np.ndarray) -> Any:
        if key not in cache:
            cache[key] = codec.resynthesize(x)
        return cache[key]

    def length():
        got = [single("a", a).wav.shape[0], single("b", b).wav.shape[0]]
        want = [codec.output_length(a.size), codec.output_length(b.size)]
        if got != want:
            return "fail", f"{[a.size, b.size]} samples in, {got} out, expected {want}"
        if out_sr == sr:
            return "pass", f"{want[0]} and {want[1]} samples in and out"
        return "pass", f"{a.size} and {b.size} samples in at {sr} Hz, {want[0]} and {want[1]} out at {out_sr} Hz"

    def sample_rate():
        got = single("a", a).sample_rate
        said = f"{sr} Hz in, {out_sr} Hz out" if out_sr != sr else f"{sr} Hz"
        return ("pass", said) if got == out_sr else ("fail", f"declared {out_sr} Hz out, returned {got} Hz")

    def delay():
        out = np.asarray(single("a", a).wav, dtype=np.float64)
        if out_sr != sr:  # measured at the input's rate
            out = resample(out, out_sr, sr)
        out = out[: a.size]
        est = find_delay(a, out, max_delay_samples=int(0.1 * sr))
        if not est.refused:
            if abs(est.samples) <= 1:
                return "pass", f"{est.samples} samples on the waveform (correlation {est.confidence:.2f})"
            return "fail", f"output trails the input by {est.samples} samples (correlation {est.confidence:.2f})"
        env = find_delay(_envelope(a, sr), _envelope(out, sr), max_delay_samples=int(100 / ENVELOPE_MS))
        if env.refused:
            return "inconclusive", f"no lag measurable on the waveform or the envelope: {env.reason}"
        ms = env.samples * ENVELOPE_MS
        if abs(env.samples) <= 1:
            return "pass", (f"{ms:g} ms on the energy envelope (correlation {env.confidence:.2f}); the waveform is "
                            f"not kept (best |r| {abs(est.confidence):.2f}), so alignment is known to 1 ms")
        return "fail", f"output trails the input by {ms:g} ms on the energy envelope (correlation {env.confidence:.2f})"

    def deterministic():
        again = codec.resynthesize(a).wav
        diff = float(np.max(np.abs(np.asarray(again, dtype=np.float64) - single("a", a).wav)))
        if diff == 0.0:
            return "pass", "bit-identical"
        if codec.spec.options.get("stochastic"):
            return "n/a", f"declared stochastic (runs differ by up to {diff:.2e})"
        return "fail", f"two runs differ by up to {diff:.2e}"

    def batch():
        if type(codec).resynthesize_batch is Codec.resynthesize_batch:
            return "n/a", "the adapter runs items one at a time"
        outs = codec.resynthesize_batch([a, b])
        worst = 0.0
        for out, key, x in zip(outs, ("a", "b"), (a, b)):
            ref = np.asarray(single(key, x).wav, dtype=np.float64)
            if out.wav.shape != ref.shape:
                return "fail", f"batched item has {out.wav.shape[0]} samples, single {ref.shape[0]}"
            worst = max(worst, float(np.max(np.abs(out.wav - ref)) / max(np.max(np.abs(ref)), 1e-9)))
        status = "pass" if worst <= BATCH_TOLERANCE else "fail"
        how = "" if getattr(codec, "BATCHES_UNEQUAL_LENGTHS", True) else "; items of unequal length run one at a time"
        return status, f"batched vs single: {worst:.1e} of the peak (tolerance {BATCH_TOLERANCE:g}){how}"

    def embeddings():
        if type(codec).embed is Codec.embed:
            return "n/a", "no embeddings"
        emb = np.asarray(codec.embed(a))
        problems = []
        if emb.ndim != 2:
            return "fail", f"shape {emb.shape}, expected (frames, dim)"
        dim, rate = codec.spec.embedding_dim, codec.spec.frame_rate
        if dim is not None and emb.shape[1] != dim:
            problems.append(f"dim {emb.shape[1]}, declared {dim}")
        if rate:
            expected = a.size / sr * rate
            if abs(emb.shape[0] - expected) > FRAME_SLACK:
                problems.append(f"{emb.shape[0]} frames, {expected:.1f} expected at {rate:g} frames/s")
        if not np.all(np.isfinite(emb)):
            problems.append("NaN/inf values")
        return ("fail", "; ".join(problems)) if problems else ("pass", f"{emb.shape[0]} x {emb.shape[1]}")

    def encode_only():
        return "n/a", "encode-only tokenizer (round_trip: false): nothing is decoded"

    def codes_deterministic():
        first, again = codec.encode(a).codes, codec.encode(a).codes
        return ("pass", "identical codes") if np.array_equal(first, again) else ("fail", "two encodings differ")

    checks = (length, sample_rate, delay, deterministic, batch, embeddings)
    if not codec.spec.round_trip:
        checks = (encode_only, encode_only, encode_only, codes_deterministic, encode_only, embeddings)
    report = ConformanceReport(codec.id, codec_fingerprint(codec.spec))
    for name, fn in zip(CHECKS, checks, strict=True):
        report.results.append(_check(name, fn))
    report.seconds = time.perf_counter() - t0
    return report
