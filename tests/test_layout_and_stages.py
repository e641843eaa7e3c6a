"""The redesign's contracts: one runs layout, one stage layer, three names, paths that work from anywhere."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from codecbench_utils import runner
from codecbench_utils.cli import main
from codecbench_utils.data.manifest import ManifestItem, write_manifest
from codecbench_utils.errors import (
    CodecBenchDeprecationWarning,
    ConfigError,
    MissingArtefactError,
    UnknownNameError,
)
from codecbench_utils.layout import RunsLayout
from codecbench_utils.stages import ALL_STAGES, STAGES, get_stage, notebook_of
from codecbench_utils.tables import ACOUSTIC_METRICS

ROOT = Path(__file__).resolve().parents[1]


def _manifest(folder: Path, rng: np.random.Generator, n: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(n):
        sf.write(folder / f"a{i}.wav", (0.1 * rng.standard_normal(8000)).astype(np.float32), 16000, subtype="FLOAT")
        items.append(ManifestItem(id=f"a{i}", dataset="t", category="speech", path=f"a{i}.wav", duration=0.5,
                                  sample_rate=16000))
    return write_manifest(items, folder / "manifest.jsonl")


def test_layout_is_absolute_and_names_every_artefact(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lay = RunsLayout("r")
    assert lay.root == tmp_path / "r" and lay.root.is_absolute()
    assert lay.manifest("mini") == tmp_path / "r/mini/manifest.jsonl"
    assert lay.resynth_dir("opus_6k") == tmp_path / "r/opus_6k/resynth"
    assert lay.acoustic_file("opus_6k", "mini") == tmp_path / "r/opus_6k/acoustic/mini.parquet"
    assert lay.acoustic_shard_file("c", "d", 1, 3).name == "d.0001-of-0003.parquet"
    assert lay.probes_dir("c") == tmp_path / "r/c/probes"
    assert lay.feature_cache == tmp_path / "r/cache/features"
    assert lay.figures_dir == tmp_path / "r/figures" and lay.figures_notebook.parent == lay.figures_dir
    assert lay.stage_notebook("c", "acoustic").name == "02_acoustic_metrics.ipynb"
    assert lay.codec_of(lay.acoustic_file("lyra_v2_6k", "x")) == "lyra_v2_6k"
    assert lay.codec_of(tmp_path / "elsewhere" / "f") is None


def test_every_stage_module_has_the_same_face():
    assert ALL_STAGES == (*STAGES, "figures")
    for name in ALL_STAGES:
        mod = get_stage(name)
        assert callable(mod.config) and callable(mod.run)
        assert isinstance(mod.PATH_PARAMS, tuple) and isinstance(mod.RENAMED, dict)
        assert (ROOT / "notebooks" / notebook_of(name)).is_file()
    with pytest.raises(UnknownNameError, match="unknown stage"):
        get_stage("mixing")


def test_notebooks_declare_exactly_what_their_stage_config_reads():
    """A notebook parameter the stage does not know would be silently ignored; the runner relies on PATH_PARAMS."""
    import papermill as pm

    for name in ALL_STAGES:
        declared = set(pm.inspect_notebook(str(ROOT / "notebooks" / notebook_of(name))))
        mod = get_stage(name)
        assert set(mod.PATH_PARAMS) <= declared, name
        assert not set(mod.RENAMED) & declared, f"{name}: an old name is still a notebook parameter"


def test_notebook_defaults_resolve_against_the_project_root_from_any_folder(monkeypatch):
    """JupyterLab starts kernels in notebooks/: a default like runs/mini/manifest.jsonl must still mean the root's."""
    import papermill as pm

    monkeypatch.chdir(ROOT / "notebooks")
    defaults = {k: eval(v["default"]) for k, v in pm.inspect_notebook("01_resynthesis.ipynb").items()}
    expected = ROOT / "runs" / "mini" / "manifest.jsonl"
    try:
        cfg = get_stage("resynthesis").config(**defaults)
    except MissingArtefactError as exc:  # no demo run in this checkout: the error names the root's file
        assert str(expected) in str(exc)
    else:
        assert cfg.manifest == expected and cfg.out_dir == ROOT / "runs" / "opus_24k" / "resynth"
    cfg = get_stage("asr").config(codec="identity", runs="runs")
    assert cfg.runs == ROOT / "runs" and cfg.out_dir == ROOT / "runs" / "identity" / "probes"


def test_codecbench_run_works_from_another_folder_with_relative_paths(tmp_path, rng, monkeypatch):
    here = tmp_path / "elsewhere"
    _manifest(here / "myruns" / "mini", rng)
    _manifest(here / "other", rng, n=3)
    monkeypatch.chdir(here)
    rc = main(["-q", "run", "--codec", "identity", "--stages", "resynthesis", "--runs", "myruns",
               "-p", "resynthesis.manifest=other/manifest.jsonl"])
    assert rc == 0
    out = here / "myruns" / "identity"
    assert (out / "01_resynthesis.ipynb").is_file()
    assert sorted(p.name for p in (out / "resynth").glob("*.flac")) == ["a0.flac", "a1.flac", "a2.flac"]


def test_stage_parameters_fill_dataset_and_make_given_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = runner.stage_parameters("acoustic", codec="opus_6k", preset="demo", runs="r",
                                overrides={"out": "x.csv", "metrics": "mse"})
    assert p["manifest"] == str(tmp_path / "r/mini/manifest.jsonl")
    assert p["out"] == str(tmp_path / "x.csv") and p["metrics"] == "mse" and p["metric_profile"] == "paper"
    p = runner.stage_parameters("acoustic", codec="c", preset="paper", runs="r", dataset="vctk")
    assert p["out"].endswith("r/c/acoustic/vctk.parquet")


def test_old_names_still_work_for_one_release_and_say_so(tmp_path, rng):
    with pytest.warns(CodecBenchDeprecationWarning, match="'profile' is now called 'metric_profile'"):
        p = runner.stage_parameters("acoustic", codec="c", runs=tmp_path, overrides={"profile": "standard"})
    assert p["metric_profile"] == "standard" and "profile" not in p
    with pytest.raises(UnknownNameError, match="both 'profile'"):
        runner.stage_parameters("acoustic", codec="c", runs=tmp_path,
                                overrides={"profile": "standard", "metric_profile": "paper"})
    with pytest.warns(CodecBenchDeprecationWarning):
        cfg = get_stage("asr").config(codec="identity", profile="small", runs=tmp_path)
    assert cfg.preset == "small"
    with pytest.warns(CodecBenchDeprecationWarning, match="--profile is now --metric-profile"):
        ref = tmp_path / "ref"
        _manifest(ref, rng)
        rc = main(["-q", "metrics", "--ref", str(ref), "--est", str(ref), "--profile", "standard",
                   "--metrics", "mse", "--out", str(tmp_path / "m.csv"), "--workers", "0", "--no-progress"])
    assert rc == 0 and set(pd.read_csv(tmp_path / "m.csv")["metric_profile"]) == {"standard"}
    with pytest.raises(UnknownNameError, match="unexpected keyword"):  # a typo is not swallowed by the old-name catch
        runner.run_codec("identity", stagse=["resynthesis"], runs=tmp_path)
    with pytest.raises(UnknownNameError, match="both 'profile'"):
        get_stage("figures").config(runs=tmp_path, profile="paper", metric_profile="standard")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new names warn about nothing
        runner.stage_parameters("acoustic", codec="c", runs=tmp_path, overrides={"metric_profile": "paper"})


def test_result_rows_carry_codec_fingerprint_and_metric_profile(tmp_path, rng, monkeypatch):
    from codecbench_utils.codecs import fingerprint
    from codecbench_utils.codecs.registry import get_spec
    from codecbench_utils.codecs.resynth import resynthesize

    manifest = _manifest(tmp_path / "d", rng)
    resynthesize("identity", manifest, tmp_path / "est", progress=False)
    stage = get_stage("acoustic")
    df = stage.run(stage.config(codec="identity", manifest=manifest, resynth_dir=tmp_path / "est",
                                out=tmp_path / "r.parquet", metrics="mse", workers=0), progress=False)
    fp = fingerprint.codec_fingerprint(get_spec("identity"))
    assert set(df["codec"]) == {"identity"} and set(df["codec_fingerprint"]) == {fp}
    assert set(df["metric_profile"]) == {"paper"}
    on_disk = pd.read_parquet(tmp_path / "r.parquet")
    assert set(on_disk["codec"]) == {"identity"} and set(on_disk["codec_fingerprint"]) == {fp}
    # the fingerprint follows the backend's package versions and the declared weights
    spec = get_spec("opus_6k")
    before = fingerprint.codec_fingerprint(spec)
    monkeypatch.setattr(fingerprint, "version", lambda p: "0.0-other")
    assert fingerprint.codec_fingerprint(spec) != before
    lyra = fingerprint.fingerprint_payload(get_spec("lyra_v2_6k"))
    assert lyra["weights"]["files"] and all(len(h) == 64 for h in lyra["weights"]["files"].values())


def test_probe_stage_refuses_missing_upstream_work_and_names_the_command(tmp_path, rng):
    manifest = _manifest(tmp_path / "d", rng)
    asr = get_stage("asr")
    with pytest.raises(MissingArtefactError, match="codecbench data prepare"):
        asr.run(asr.config(codec="identity", runs=tmp_path / "runs", manifest=tmp_path / "none.jsonl",
                           datasets="t", features="logmel:original"))
    with pytest.raises(MissingArtefactError, match="codecbench data prepare t --root"):
        asr.run(asr.config(codec="identity", runs=tmp_path / "runs", manifest="", datasets="t",
                           features="logmel:original"))
    cls = get_stage("classification")
    with pytest.raises(MissingArtefactError, match="--stages resynthesis"):
        cls.run(cls.config(codec="opus_6k", runs=tmp_path / "runs", manifest=manifest, datasets="t",
                           features="logmel:resynth"))
    assert not (tmp_path / "runs" / "opus_6k" / "resynth").exists()  # nothing done behind the user's back


def test_figures_go_beside_the_runs_and_refuse_mixed_metric_profiles(tmp_path):
    runs = tmp_path / "runs"
    for codec, prof in (("identity", "paper"), ("opus_6k", "standard")):
        (runs / codec / "acoustic").mkdir(parents=True)
        row = {"item": "a", "dataset": "d", "category": "speech", "metric_profile": prof, "status": "ok"}
        pd.DataFrame([{**row, **dict.fromkeys(ACOUSTIC_METRICS, 0.5)}]).to_parquet(runs / codec / "acoustic" / "d.parquet")
    fig = get_stage("figures")
    cfg = fig.config(runs=runs)
    assert cfg.out_dir == runs / "figures"
    with pytest.raises(ConfigError, match="metric profiles"):
        fig.run(cfg)
    out = fig.run(fig.config(runs=runs, metric_profile="standard"))
    assert set(out.results.acoustic["codec"]) == {"opus_6k"}
    assert (runs / "figures" / "table3_overall.md").is_file()
    with pytest.raises(MissingArtefactError, match="runs folder not found"):
        fig.config(runs=tmp_path / "nope")
