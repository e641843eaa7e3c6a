"""`codecbench probe`: per-item rows, summaries with intervals, paired comparisons, the effective config."""

from __future__ import annotations

import json

import jiwer
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from codecbench_utils import cli
from codecbench_utils.data.manifest import write_manifest
from codecbench_utils.probes.standalone import probe_manifest


@pytest.fixture(scope="module")
def corpus(alphabet, tmp_path_factory):
    """The alphabet corpus, plus a degraded copy of every file (a 'codec' that adds noise and low-passes)."""
    items, root = alphabet
    manifest = write_manifest(items, root / "alpha.jsonl")
    degraded = tmp_path_factory.mktemp("degraded")
    rng = np.random.default_rng(0)
    for it in items:
        wav, sr = sf.read(root / it.path, dtype="float32")
        smeared = np.convolve(wav, np.ones(40) / 40, mode="same") + 0.05 * rng.standard_normal(len(wav))
        out = degraded / f"{it.id}.flac"
        out.parent.mkdir(parents=True, exist_ok=True)
        sf.write(out, smeared.astype(np.float32), sr)
    return manifest, degraded


def test_asr_rows_summary_and_paired_comparison(corpus, tmp_path):
    manifest, degraded = corpus
    run = probe_manifest("asr", manifest, f"logmel:original,logmel:{degraded}", tmp_path / "out", preset="small",
                         overrides={"steps": 300, "hidden_size": 48, "eval_every": 50, "lr": 3e-3},
                         seeds=[0], device="cpu", lanes=1, progress=False)
    rows = pd.read_parquet(tmp_path / "out" / "asr.parquet")
    assert {"item", "source", "seed", "reference", "hypothesis", "wer", "cer", "config", "preset"} <= set(rows.columns)
    assert len(rows) == 2 * 12  # the test split (auto), once per feature source
    for r in rows.itertuples():  # CER recomputed from reference and hypothesis
        assert r.cer == pytest.approx(jiwer.cer(r.reference, r.hypothesis))
    assert json.loads(rows["config"].iloc[0])["steps"] == 300
    summary = pd.read_csv(tmp_path / "out" / "asr_summary.csv")
    original = summary[summary["source"] == "logmel:original"].iloc[0]
    assert original["cer_lo"] <= original["cer"] <= original["cer_hi"] and bool(original["above_floor"])
    cmp = pd.read_csv(tmp_path / "out" / "asr_comparisons.csv")
    assert set(cmp["rate"]) == {"cer", "wer"} and (cmp["n_items"] == 12).all()
    assert "paired comparisons" in run.describe()


def test_cli_classify_writes_one_row_per_test_item(tones, tmp_path, capsys):
    items, root = tones
    manifest = write_manifest(items, root / "tones.jsonl")
    rc = cli.main(["-q", "probe", "classify", "--manifest", str(manifest), "--features", "logmel:original",
                   "--preset", "small", "--seeds", "0,1", "-p", "epochs=5", "--out", str(tmp_path / "o"),
                   "--no-progress", "--device", "cpu"])
    assert rc == 0
    rows = pd.read_parquet(tmp_path / "o" / "classification.parquet")
    assert len(rows) == 2 * len(items) and set(rows["seed"]) == {0, 1}
    assert {"item", "true", "pred", "correct", "config"} <= set(rows.columns)
    summary = pd.read_csv(tmp_path / "o" / "classification_summary.csv")
    s = summary.iloc[0]
    assert s["accuracy_lo"] <= s["accuracy"] <= s["accuracy_hi"] and s["chance"] == pytest.approx(1 / 3)
    assert bool(s["above_chance"]) and s["n_seeds"] == 2
    assert "accuracy" in capsys.readouterr().out


def test_cli_asr_runs_seeds_in_parallel_lanes(corpus, tmp_path):
    manifest, _ = corpus
    rc = cli.main(["-q", "probe", "asr", "--manifest", str(manifest), "--features", "logmel:original",
                   "--seeds", "0,1", "-p", "steps=20", "-p", "hidden_size=16", "-p", "eval_every=10",
                   "--out", str(tmp_path / "o"), "--no-progress", "--device", "cpu"])
    assert rc == 0
    rows = pd.read_parquet(tmp_path / "o" / "asr.parquet")
    assert set(rows["seed"]) == {0, 1} and len(rows) == 24
