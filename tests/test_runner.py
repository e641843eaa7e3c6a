from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils import runner
from codecbench_utils.cli import main
from codecbench_utils.data.manifest import ManifestItem, write_manifest
from codecbench_utils.errors import UnknownNameError
from codecbench_utils.layout import STAGE_NOTEBOOKS


def _mini_manifest(runs, rng):
    (runs / "mini").mkdir(parents=True)
    items = []
    for i in range(2):
        sf.write(runs / "mini" / f"a{i}.wav", (0.1 * rng.standard_normal(8000)).astype(np.float32), 16000,
                 subtype="FLOAT")
        items.append(ManifestItem(id=f"a{i}", dataset="t", category="speech", path=f"a{i}.wav",
                                  duration=0.5, sample_rate=16000))
    write_manifest(items, runs / "mini" / "manifest.jsonl")


def test_stage_parameters_fill_templates(tmp_path):
    p = runner.stage_parameters("resynthesis", codec="opus_6k", preset="demo", runs=tmp_path,
                                overrides={"limit": 3})
    assert p["codec"] == "opus_6k"
    assert p["out_dir"] == f"{tmp_path}/opus_6k/resynth"
    assert p["limit"] == 3


def test_unknown_parameter_profile_and_stage_are_rejected():
    nb = runner.notebooks_dir() / STAGE_NOTEBOOKS["resynthesis"]
    with pytest.raises(UnknownNameError, match=r"no parameter\(s\) \['codek'\]"):
        runner.check_parameters(nb, {"codek": "x"})
    with pytest.raises(UnknownNameError, match="unknown run preset"):
        runner.load_preset("nope")
    with pytest.raises(UnknownNameError, match="unknown stage"):
        runner.stage_parameters("mixing", codec="x", preset="demo")


def test_run_codec_executes_resynthesis_notebook(tmp_path, rng):
    _mini_manifest(tmp_path, rng)
    rc = main(["-q", "run", "--codec", "identity", "--stages", "resynthesis", "--runs", str(tmp_path),
               "-p", "resynthesis.limit=1"])
    assert rc == 0
    assert (tmp_path / "identity" / "01_resynthesis.ipynb").is_file()
    assert sorted(p.name for p in (tmp_path / "identity" / "resynth").glob("*.flac")) == ["a0.flac"]


def test_failed_stage_keeps_notebook_and_reports(tmp_path):
    runs = runner.run_codec("identity", stages=["resynthesis"], runs=tmp_path, progress=False)
    assert len(runs) == 1 and not runs[0].ok
    assert "manifest not found" in runs[0].error or "FileNotFoundError" in runs[0].error
    assert runs[0].notebook.is_file()


def test_run_streams_item_progress_and_saves_settled_bars(tmp_path, rng, capfd):
    import json

    _mini_manifest(tmp_path, rng)
    runs = runner.run_codec("identity", stages=["resynthesis"], runs=tmp_path, progress=True)
    assert runs[0].ok, runs[0].error
    err = capfd.readouterr().err
    assert "resynth identity" in err and "2/2" in err  # item-level progress reached the terminal
    nb = json.loads(runs[0].notebook.read_text())
    streams = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("name") == "stderr"
               and "resynth identity" in "".join(o["text"])]
    assert len(streams) == 1  # one settled output, not one per update
    text = "".join(streams[0]["text"])
    assert "2/2" in text and "0/2" not in text and "\r" not in text
