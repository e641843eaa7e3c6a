"""Probe stages end to end: notebooks 03 and 04 under papermill write the tables notebook 05 reads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from codecbench_utils.codecs.resynth import resynthesize
from codecbench_utils.data.manifest import write_manifest
from codecbench_utils.errors import UnknownNameError
from codecbench_utils.stages._probe import probe_stage_config

ROOT = Path(__file__).resolve().parents[2]


def test_stage_config_validates_and_derives(tmp_path):
    cfg = probe_stage_config("asr", codec="identity", preset="paper", seeds="0, 2", runs=tmp_path)
    assert cfg.datasets == ("librispeech",) and cfg.seeds == (0, 2) and cfg.steps is None
    assert cfg.probe_cfg.hidden_size == 1024 and cfg.probe_cfg.steps == 400_000
    assert cfg.out_dir == tmp_path / "identity" / "probes"
    assert cfg.resynth_dir == tmp_path / "identity" / "resynth"
    assert cfg.features == ("codec", "logmel:original", "logmel:resynth")
    for bad in ({"codec": "nope"}, {"preset": "nope"}, {"features": "mfcc:x"}, {"device": "tpu"},
                {"hidden_units": 3}):
        kwargs = {"codec": "identity", **bad}
        with pytest.raises(UnknownNameError):
            probe_stage_config("asr", **kwargs)


def test_notebooks_03_04_write_results_that_notebook_05_reads(tmp_path, alphabet, tones, monkeypatch):
    import papermill as pm

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernels' torch: tiny models, shared CI cores
    from codecbench_utils import tables

    a_items, a_root = alphabet
    t_items, t_root = tones
    # one manifest holding both corpora, paths relative to its folder
    items = [it.__class__(**{**it.__dict__, "path": str(a_root / it.path)}) for it in a_items]
    items += [it.__class__(**{**it.__dict__, "path": str(t_root / it.path)}) for it in t_items]
    manifest = write_manifest(items, tmp_path / "manifest.jsonl")
    runs = tmp_path / "runs"
    common = {"codec": "identity", "preset": "demo", "runs": str(runs), "manifest": str(manifest),
              "device": "cpu"}
    # stage 01 first: a probe stage does not resynthesize behind the user's back
    resynthesize("identity", manifest, runs / "identity" / "resynth", progress=False)
    pm.execute_notebook(str(ROOT / "notebooks/03_asr_probe.ipynb"), str(tmp_path / "03.ipynb"),
                        parameters={**common, "datasets": "alpha_speech", "features": "logmel:original",
                                    "steps": 20}, cwd=str(ROOT), progress_bar=False, kernel_name="python3")
    pm.execute_notebook(str(ROOT / "notebooks/04_classification_probe.ipynb"), str(tmp_path / "04.ipynb"),
                        parameters={**common, "datasets": "tones", "features": "logmel:original,logmel:resynth"},
                        cwd=str(ROOT), progress_bar=False, kernel_name="python3")
    out = runs / "identity" / "probes"
    asr = pd.read_parquet(out / "asr.parquet")
    assert {"codec", "feature", "preset", "seed", "step", "wer", "cer", "n_items", "dataset"} <= set(asr.columns)
    assert asr[["codec", "feature", "dataset", "train_steps"]].values.tolist() == [
        ["identity", "logmel_original", "alpha_speech", 20]]
    curves = pd.read_csv(out / "asr_curves.csv")
    assert curves["step"].tolist() == [20]
    folds = pd.read_parquet(out / "classification.parquet")
    assert {"codec", "feature", "preset", "dataset", "seed", "fold", "accuracy", "n_classes", "n_train",
            "n_test"} <= set(folds.columns)
    assert sorted(folds["feature"].unique()) == ["logmel_original", "logmel_resynth"]
    summary = pd.read_csv(out / "classification_summary.csv")
    assert len(summary) == 2 and summary["accuracy"].min() > 0.8
    # identity resynthesis: both log-mel sources see the same audio
    assert summary["accuracy"].nunique() == 1
    probes = tables.collect_results(runs, "probes")  # what notebook 05 loads
    assert probes["wer"].notna().sum() == 1 and probes["accuracy"].notna().sum() == 10
    assert (runs / "cache" / "features").is_dir() and (runs / "identity" / "resynth" / "index.jsonl").is_file()


def test_notebook_overrides_drop_unset_values_and_keep_yaml_nulls():
    from codecbench_utils.stages.asr import notebook_overrides

    assert notebook_overrides("", hidden_size=0, lr=0.0, head="", threads=1) == {"threads": 1}
    assert notebook_overrides("{select_split: null, eval_split: test-clean}", hidden_size=64) == {
        "hidden_size": 64, "select_split": None, "eval_split": "test-clean"}
    assert notebook_overrides("steps: 5") == {"steps": 5}
    with pytest.raises(ValueError, match="YAML mapping"):
        notebook_overrides("[1, 2]")


def test_torch_threads_is_set_and_restored():
    import torch

    from codecbench_utils.stages._probe import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
