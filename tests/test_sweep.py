"""Sweeps: sharding, resume, equality with a serial run, and a killed Ray worker retried."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from codecbench_utils import sweep
from codecbench_utils.codecs.resynth import read_index, resynthesize
from codecbench_utils.data.manifest import ManifestItem, write_manifest

METRICS = ("mel_loss", "mse", "sc", "si_sdr")
CODECS = ["identity", "opus_24k"]


def _dataset(runs, rng, n=6):
    folder = runs / "tiny"
    folder.mkdir(parents=True)
    items = []
    for i in range(n):
        t = np.arange(8000 + 800 * i) / 16000
        x = (0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
        sf.write(folder / f"s{i}.wav", x, 16000, subtype="FLOAT")
        items.append(ManifestItem(id=f"spk/s{i}", dataset="tiny", category="speech", path=f"s{i}.wav",
                                  duration=t.size / 16000, sample_rate=16000))
    write_manifest(items, folder / "manifest.jsonl")
    return items


def _serial(runs):
    from codecbench_utils.metrics.compute import compute_metrics

    for codec in CODECS:
        resynthesize(codec, runs / "tiny" / "manifest.jsonl", runs / codec / "resynth", progress=False)
        compute_metrics(None, runs / codec / "resynth", profile="paper", metrics=list(METRICS), workers=0,
                        manifest=runs / "tiny" / "manifest.jsonl", progress=False,
                        out=sweep.acoustic_file(runs, codec, "tiny"))


def _metric_frame(runs, codec):
    df = pd.read_parquet(sweep.acoustic_file(runs, codec, "tiny"))
    return df[["item", "status", *METRICS]].reset_index(drop=True)


@pytest.mark.parametrize("n,k", [(10, 3), (2, 4), (0, 2), (7, 1)])
def test_shards_cover_items_exactly_once(n, k):
    covered = [i for s in range(k) for i in range(*sweep.shard_range(n, s, k))]
    assert covered == list(range(n))


def test_plan_orders_stages_and_shards_only_item_stages():
    tasks = sweep.plan_sweep(["identity"], ["tiny"], stages=["asr", "resynthesis", "acoustic"], n_shards=2)
    assert [(t.stage, t.shard, t.n_shards) for t in tasks] == [
        ("resynthesis", 0, 2), ("resynthesis", 1, 2), ("acoustic", 0, 2), ("acoustic", 1, 2), ("asr", 0, 1)]


def test_local_sweep_equals_serial_and_resumes(tmp_path, rng):
    serial, swept = tmp_path / "serial", tmp_path / "swept"
    _dataset(serial, rng)
    _dataset(swept, np.random.default_rng(1234))
    _serial(serial)
    results = sweep.run_sweep(CODECS, ["tiny"], runs=swept, stages=["resynthesis", "acoustic"], n_shards=3,
                              metrics=METRICS, progress=False)
    assert all(r.ok for r in results), sweep.describe_results(results)
    for codec in CODECS:
        pd.testing.assert_frame_equal(_metric_frame(swept, codec), _metric_frame(serial, codec))
    again = sweep.run_sweep(CODECS, ["tiny"], runs=swept, stages=["resynthesis"], n_shards=3, progress=False)
    assert sum(r.counts["skipped"] for r in again) == 12 and sum(r.counts["done"] for r in again) == 0


def test_ray_sweep_retries_a_killed_worker_without_duplicates(tmp_path, rng, monkeypatch):
    ray = pytest.importorskip("ray")
    runs = tmp_path / "runs"
    items = _dataset(runs, rng)
    marker = tmp_path / "killed-once"
    monkeypatch.setenv(sweep.KILL_ONCE_ENV, str(marker))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {sweep.KILL_ONCE_ENV: str(marker)}})
    try:
        results = sweep.run_sweep(CODECS, ["tiny"], runs=runs, stages=["resynthesis", "acoustic"], n_shards=2,
                                  engine="ray", metrics=METRICS, progress=False)
    finally:
        ray.shutdown()
    assert marker.is_file(), "the fault was never injected"
    assert all(r.ok for r in results), sweep.describe_results(results)
    for codec in CODECS:
        idx = read_index(runs / codec / "resynth")
        assert sorted(idx) == sorted(it.id for it in items) and all(r.status == "ok" for r in idx.values())
        lines = (runs / codec / "resynth" / "index.jsonl").read_text().splitlines()
        assert len(lines) == len(items)
        df = _metric_frame(runs, codec)
        assert sorted(df["item"]) == sorted(it.id for it in items) and not df["item"].duplicated().any()
