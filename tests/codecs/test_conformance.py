"""The conformance suite: every check can fail, real codecs pass, tiny adapters are measured."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from codecbench_utils.codecs.base import Codec, CodecSpec, Resynthesis
from codecbench_utils.codecs.conformance import CHECKS, check_codec, speechlike
from codecbench_utils.codecs.registry import load_codec

LYRA = Path(__file__).resolve().parents[3] / "shared" / "models" / "lyra_v2"


class _Faulty(Codec):
    """A codec that breaks the promise named in ``options.fault`` (and keeps the others)."""

    def __init__(self, fault: str) -> None:
        super().__init__(CodecSpec(id=f"faulty_{fault}", family="test", backend="none", sample_rate=16000,
                                   frame_rate=50.0, embedding_dim=4, options={"fault": fault}))
        self.calls = 0

    def resynthesize(self, wav: np.ndarray) -> Resynthesis:
        fault, out = self.spec.options["fault"], np.array(wav, dtype=np.float32)
        self.calls += 1
        if fault == "length":
            out = out[:-7]
        if fault == "delay":
            out = np.concatenate([np.zeros(40, np.float32), out[:-40]])
        if fault == "deterministic":
            out = out + 1e-3 * np.random.default_rng(self.calls).standard_normal(out.size).astype(np.float32)
        return Resynthesis(out, 16000 if fault != "sample_rate" else 8000, None, 0.0, 0.0)

    def resynthesize_batch(self, wavs: list[np.ndarray]) -> list[Resynthesis]:
        outs = [self.resynthesize(w) for w in wavs]
        if self.spec.options["fault"] == "batch":  # padding leaks into the shorter item
            outs[1] = Resynthesis(outs[1].wav + 0.01, outs[1].sample_rate, None, 0.0, 0.0)
        return outs

    def embed(self, wav: np.ndarray) -> np.ndarray:
        frames = int(wav.size / 16000 * 50) + (10 if self.spec.options["fault"] == "embeddings" else 0)
        return np.zeros((frames, 4), np.float32)


@pytest.mark.parametrize("fault", CHECKS)
def test_each_check_fails_on_the_fault_it_names_and_only_there(fault):
    report = check_codec(_Faulty(fault))
    status = report.status()
    assert status[fault] == "fail", report.describe()
    assert not report.ok
    # a codec that changes length or output from run to run cannot match its own batched output either
    others = {k: v for k, v in status.items() if k != fault and not (fault in ("length", "deterministic")
                                                                      and k == "batch")}
    assert "fail" not in others.values(), report.describe()


def test_a_faultless_codec_passes_everything():
    report = check_codec(_Faulty("none"))
    assert report.status() == dict.fromkeys(CHECKS, "pass"), report.describe()


@pytest.mark.parametrize("codec_id", ["identity", "opus_6k", "mp3_32k", "amrnb_12k2", "codec2_3200"])
def test_classical_codecs_conform(codec_id):
    report = check_codec(load_codec(codec_id))
    assert report.ok, report.describe()
    assert report.status()["length"] == "pass" and report.status()["deterministic"] == "pass"
    if codec_id in ("identity", "mp3_32k", "amrnb_12k2"):  # waveform-keeping codecs: aligned to the sample
        assert report.status()["delay"] == "pass"


def test_tiny_transformers_adapters_are_measured(tiny):
    codec, dim = tiny
    report = check_codec(codec)
    status = report.status()
    assert set(status) == set(CHECKS)
    for check in ("length", "sample_rate", "deterministic", "embeddings"):
        assert status[check] == "pass", report.describe()
    # batched == single within tolerance: every family either masks its padding or batches equal lengths only
    assert status["batch"] == "pass", report.describe()
    assert status["delay"] in ("pass", "inconclusive")  # random weights: the output may not resemble the input


@pytest.mark.skipif(not (LYRA.is_dir() or os.environ.get("CODECBENCH_LYRA_DIR")),
                    reason="Lyra v2 weights not present (../shared/models/lyra_v2 or $CODECBENCH_LYRA_DIR)")
def test_lyra_conforms_on_its_real_weights(monkeypatch):
    if not os.environ.get("CODECBENCH_LYRA_DIR"):
        monkeypatch.setenv("CODECBENCH_LYRA_DIR", str(LYRA))
    report = check_codec(load_codec("lyra_v2_6k"))
    assert report.status() == dict.fromkeys(CHECKS, "pass"), report.describe()


def test_speechlike_signal_is_not_periodic_and_has_pauses():
    x = speechlike(1.3, 16000, seed=1)
    assert x.dtype == np.float32 and x.size == 20800 and np.max(np.abs(x)) == pytest.approx(0.3)
    frames = np.sqrt(np.mean(x[: 20800 // 160 * 160].reshape(-1, 160) ** 2, axis=1))
    assert (frames < 0.1 * frames.max()).mean() > 0.1 and (frames > 0.3 * frames.max()).mean() > 0.3  # gaps, syllables
    assert not np.array_equal(x, speechlike(1.3, 16000, seed=2))


def test_cli_check_writes_reports_that_list_and_report_read(tmp_path, capsys):
    from codecbench_utils import report as report_mod
    from codecbench_utils.cli import main

    assert main(["codecs", "check", "identity", "opus_6k", "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "identity: conforms" in out and (tmp_path / "opus_6k" / "conformance.json").is_file()
    assert main(["codecs", "list", "--json", "--runs", str(tmp_path)]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["identity"]["conformance"]["length"] == "pass" and rows["mp3_32k"]["conformance"] is None
    table = report_mod._conformance(tmp_path)
    assert list(table["codec"]) == ["identity", "opus_6k"] and list(table.columns[1:]) == list(CHECKS)
    assert main(["codecs", "check", "nope", "--runs", str(tmp_path)]) == 2


def test_cli_check_reports_a_codec_that_cannot_run_and_checks_the_rest(tmp_path, capsys, monkeypatch):
    from codecbench_utils.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert main(["codecs", "check", "hubert_base_l6_km500", "identity", "--runs", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "hubert_base_l6_km500: not checked, it cannot run here: " in out and "centroids not found" in out
    assert "identity: conforms" in out and (tmp_path / "identity" / "conformance.json").is_file()
