from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.audio import load_audio
from codecbench_utils.codecs.base import Codec, CodecSpec, Encoded
from codecbench_utils.codecs.identity import IdentityCodec
from codecbench_utils.codecs.resynth import read_index, resynthesize
from codecbench_utils.data.manifest import ManifestItem, write_manifest
from codecbench_utils.errors import UnknownNameError

SPEC = CodecSpec(id="identity", family="anchor", backend="identity", sample_rate=16000)


class Crashy(Codec):
    """Fails on items whose first sample is positive; interrupts the run after `stop_after` items."""

    stop_after: int | None = None

    def __init__(self, spec, **kw):
        super().__init__(spec, **kw)
        self.calls = 0

    def encode(self, wav):
        self.calls += 1
        if self.stop_after is not None and self.calls > self.stop_after:
            raise KeyboardInterrupt  # a killed process: not caught per item
        if wav[0] > 0:
            raise ValueError("boom")
        return Encoded(wav, wav.shape[0], self.sample_rate, n_bits=8 * wav.shape[0])

    def decode(self, enc):
        return enc.codes


def _corpus(tmp_path, rng, n=4, sr=22050):
    items = []
    for i in range(n):
        x = 0.1 * rng.standard_normal(int(sr * (0.5 + 0.1 * i))).astype(np.float32)
        x[0] = -0.5  # deterministic sign for Crashy
        rel = f"audio/spk{i % 2}/utt{i}.wav"
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(tmp_path / rel, x, sr, subtype="FLOAT")
        items.append(ManifestItem(id=f"spk{i % 2}/utt{i}", dataset="t", category="speech", path=rel,
                                  duration=len(x) / sr, sample_rate=sr))
    write_manifest(items, tmp_path / "m.jsonl")
    return items


def test_identity_resynthesis_writes_aligned_files_and_index(tmp_path, rng):
    items = _corpus(tmp_path, rng)
    out = tmp_path / "out"
    s = resynthesize(IdentityCodec(SPEC), tmp_path / "m.jsonl", out, progress=False)
    assert (s.n_done, s.n_skipped, s.n_failed) == (4, 0, 0)
    for it in items:
        y, sr = load_audio(out / f"{it.id}.flac")
        x, _ = load_audio(tmp_path / it.path, sr=16000)
        assert sr == 16000 and y.shape == x.shape
        np.testing.assert_allclose(y, x, atol=2e-6)  # 24-bit FLAC quantization
    idx = read_index(out)
    assert set(idx) == {it.id for it in items}
    assert all(r.status == "ok" and r.bitrate_kbps == pytest.approx(256.0) for r in idx.values())


def test_rerun_skips_finished_items(tmp_path, rng):
    _corpus(tmp_path, rng)
    out = tmp_path / "out"
    resynthesize(IdentityCodec(SPEC), tmp_path / "m.jsonl", out, progress=False)
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.flac")}
    s = resynthesize(IdentityCodec(SPEC), tmp_path / "m.jsonl", out, progress=False)
    assert (s.n_done, s.n_skipped) == (0, 4)
    assert mtimes == {p: p.stat().st_mtime_ns for p in out.rglob("*.flac")}


def test_changed_input_is_redone(tmp_path, rng):
    items = _corpus(tmp_path, rng)
    out = tmp_path / "out"
    resynthesize(IdentityCodec(SPEC), tmp_path / "m.jsonl", out, progress=False)
    sf.write(tmp_path / items[0].path, np.full(1000, 0.1, np.float32), 22050, subtype="FLOAT")
    s = resynthesize(IdentityCodec(SPEC), tmp_path / "m.jsonl", out, progress=False)
    assert (s.n_done, s.n_skipped) == (1, 3)


def test_bad_items_fail_with_reason_and_run_goes_on(tmp_path, rng):
    items = _corpus(tmp_path, rng)
    (tmp_path / items[1].path).write_bytes(b"garbage")
    (tmp_path / items[2].path).unlink()
    sf.write(tmp_path / items[3].path, np.array([0.5, 0.1] * 100, np.float32), 22050)  # Crashy fails
    out = tmp_path / "out"
    s = resynthesize(Crashy(SPEC), tmp_path / "m.jsonl", out, progress=False)
    assert (s.n_done, s.n_failed) == (1, 3)
    recs = {r.id: r for r in s.records}
    assert "cannot read" in recs[items[1].id].reason
    assert "cannot read" in recs[items[2].id].reason or "not found" in recs[items[2].id].reason
    assert "boom" in recs[items[3].id].reason and "identity" in recs[items[3].id].reason
    assert (out / f"{items[0].id}.flac").is_file()
    assert not (out / f"{items[3].id}.flac").exists()
    assert "failed" in s.describe()


def test_resume_after_crash_keeps_finished_work(tmp_path, rng):
    _corpus(tmp_path, rng)
    out = tmp_path / "out"
    crashy = Crashy(SPEC)
    crashy.stop_after = 2
    with pytest.raises(KeyboardInterrupt):
        resynthesize(crashy, tmp_path / "m.jsonl", out, progress=False)
    lines = (out / "index.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(x)["status"] == "ok" for x in lines)
    # a torn line from the kill must not break the resume
    with (out / "index.jsonl").open("a") as fh:
        fh.write('{"id": "spk0/ut')
    assert not list(out.rglob(".tmp-*"))
    s = resynthesize(Crashy(SPEC), tmp_path / "m.jsonl", out, progress=False)
    assert (s.n_done, s.n_skipped, s.n_failed) == (2, 2, 0)
    assert len((out / "index.jsonl").read_text().splitlines()) == 4


def test_unknown_codec_id_is_clear(tmp_path, rng):
    _corpus(tmp_path, rng)
    with pytest.raises(UnknownNameError, match="unknown codec 'nope'"):
        resynthesize("nope", tmp_path / "m.jsonl", tmp_path / "out", progress=False)


def test_limit(tmp_path, rng):
    _corpus(tmp_path, rng)
    s = resynthesize("identity", tmp_path / "m.jsonl", tmp_path / "out", limit=2, progress=False)
    assert s.n_done == 2


class Batchy(IdentityCodec):
    """Counts batch calls; a batch holding a loud item fails as a whole."""

    def __init__(self, spec, **kw):
        super().__init__(spec, **kw)
        self.batches: list[int] = []

    def resynthesize_batch(self, wavs):
        self.batches.append(len(wavs))
        if any(np.abs(w).max() > 0.9 for w in wavs):
            raise RuntimeError("batch failed")
        return [self.resynthesize(w) for w in wavs]


def test_batches_are_used_and_fall_back_per_item(tmp_path, rng):
    items = _corpus(tmp_path, rng, n=5)
    codec = Batchy(SPEC)
    s = resynthesize(codec, tmp_path / "m.jsonl", tmp_path / "out", batch_size=2, progress=False)
    assert codec.batches == [2, 2] and s.n_done == 5  # the 5th item goes alone
    x = np.full(2000, 0.95, np.float32)
    sf.write(tmp_path / items[0].path, x, 22050, subtype="FLOAT")
    codec = Batchy(SPEC)
    s = resynthesize(codec, tmp_path / "m.jsonl", tmp_path / "out2", batch_size=5, progress=False)
    assert codec.batches == [5] and s.n_done == 5 and s.n_failed == 0  # fallback saved every item


def test_concurrent_shards_share_one_index(tmp_path, rng):
    """Shard B runs (to completion) while shard A is mid-way: A's compaction must keep B's records."""
    items = _corpus(tmp_path, rng, n=4)
    out = tmp_path / "out"
    first, second = items[:2], items[2:]

    class Nested(IdentityCodec):
        def encode(self, wav):
            if not getattr(self, "nested_done", False):
                self.nested_done = True
                resynthesize(IdentityCodec(SPEC), second, out, manifest_dir=tmp_path, progress=False)
            return super().encode(wav)

    resynthesize(Nested(SPEC), first, out, manifest_dir=tmp_path, progress=False)
    idx = read_index(out)
    assert sorted(idx) == sorted(it.id for it in items)
    assert len((out / "index.jsonl").read_text().splitlines()) == 4


def test_on_item_sees_each_recorded_item_after_it_is_indexed(tmp_path, rng):
    items = _corpus(tmp_path, rng, n=3)
    seen = []

    def hook(rec):
        seen.append((rec.id, rec.status, rec.id in read_index(tmp_path / "out")))

    resynthesize(IdentityCodec(SPEC), tmp_path / "m.jsonl", tmp_path / "out", progress=False, on_item=hook)
    assert [(i, st) for i, st, _ in seen] == [(it.id, "ok") for it in items]
    assert all(indexed for *_, indexed in seen)
    seen.clear()
    resynthesize(IdentityCodec(SPEC), tmp_path / "m.jsonl", tmp_path / "out", progress=False, on_item=hook)
    assert seen == []  # skipped items are not reported
