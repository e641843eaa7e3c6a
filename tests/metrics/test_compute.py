"""The metrics driver on a tiny generated folder pair, broken items included."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.manifest import ManifestItem, write_manifest
from codecbench_utils.metrics.compute import compute_metrics, read_results
from codecbench_utils.metrics.mel_loss import mel_loss
from codecbench_utils.metrics.pesq import pesq_nb, pesq_wb
from codecbench_utils.metrics.profiles import prepare_pair

from . import _stubs

FAST = "mel_loss,mse,pesq_nb,pesq_wb,sc,sdr,si_sdr,stoi"


@pytest.fixture
def dirs(tmp_path, signal, rng, monkeypatch):
    _stubs.install(monkeypatch)
    ref, est = tmp_path / "ref", tmp_path / "est"
    (ref / "spk").mkdir(parents=True)
    est.joinpath("spk").mkdir(parents=True)
    for i in range(3):  # good items, one nested, one at 24 kHz
        sr = 24000 if i == 2 else 16000
        x = signal(rng, sr, 1.2)
        name = f"spk/good{i}" if i == 1 else f"good{i}"
        sf.write(ref / f"{name}.wav", x, sr, subtype="FLOAT")
        sf.write(est / f"{name}.flac", x + 0.01 * rng.standard_normal(x.size).astype(np.float32), sr)
    x = signal(rng, 16000, 1.0)
    sf.write(ref / "silent.wav", np.zeros(16000, np.float32), 16000)
    sf.write(est / "silent.wav", x, 16000)
    sf.write(ref / "short.wav", x[:1000], 16000)
    sf.write(est / "short.wav", x[:1000], 16000)
    bad = x.copy()
    bad[100] = np.nan
    sf.write(ref / "nan.wav", x, 16000, subtype="FLOAT")
    sf.write(est / "nan.wav", bad, 16000, subtype="FLOAT")
    sf.write(ref / "noest.wav", x, 16000)
    return ref, est


def test_rows_values_and_failures(dirs, tmp_path):
    ref, est = dirs
    out = tmp_path / "m.csv"
    df = compute_metrics(ref, est, profile="paper", metrics=FAST, out=out, workers=0, progress=False)
    assert list(df["item"]) == ["good0", "good2", "nan", "noest", "short", "silent", "spk/good1"]
    rows = df.set_index("item")
    for item in ("good0", "good2", "spk/good1"):
        assert rows.loc[item, "status"] == "ok"
        assert np.isfinite(rows.loc[item, FAST.split(",")].astype(float)).all()
    assert np.isnan(rows.loc["good0", "sim"]) and np.isnan(rows.loc["good0", "visqol"])  # not asked for
    # PESQ of a row equals PESQ of the pair prepared by the profile (no shift, exact)
    r, _ = sf.read(ref / "good2.wav", dtype="float32")
    e, _ = sf.read(est / "good2.flac", dtype="float32")
    p = prepare_pair(r, 24000, e, 24000, profile="paper", metrics=("pesq_nb",))
    assert rows.loc["good2", "pesq_wb"] == float(pesq_wb(p.ref, p.est, 16000))
    assert rows.loc["good2", "pesq_nb"] == float(pesq_nb(*p.pesq_nb))
    # failures: NaN + a reason naming the metric, never a number
    assert np.isnan(rows.loc["nan", FAST.split(",")].astype(float)).all()
    assert rows.loc["nan", "status"].startswith("all:") and "NaN" in rows.loc["nan", "status"]
    assert "no estimate file" in rows.loc["noest", "status"]
    assert np.isnan(rows.loc["short", "pesq_wb"]) and "pesq_wb: " in rows.loc["short", "status"]
    assert np.isnan(rows.loc["silent", "pesq_nb"]) and "pesq_nb: ref is silent" in rows.loc["silent", "status"]
    assert rows.loc["good0", "metric_profile"] == "paper"
    assert "pesq" in json.loads(rows.loc["good0", "metric_versions"])
    # csv round trip
    back = read_results(out)
    assert list(back["item"]) == list(df["item"]) and list(back["status"]) == list(df["status"])
    np.testing.assert_allclose(back["pesq_wb"].to_numpy(float), df["pesq_wb"].to_numpy(float), equal_nan=True)


@pytest.mark.parametrize(("profile", "precision"), [("paper", "float32"), ("standard", "float64")])
def test_mel_loss_precision_follows_the_profile(dirs, profile, precision):
    ref, est = dirs
    df = compute_metrics(ref, est, profile=profile, metrics="mel_loss", workers=1, progress=False, limit=2)
    r, _ = sf.read(ref / "good0.wav", dtype="float32")
    e, _ = sf.read(est / "good0.flac", dtype="float32")
    p = prepare_pair(r, 16000, e, 16000, profile=profile, metrics=("mel_loss",))
    value = df.set_index("item").loc["good0", "mel_loss"]
    assert value == float(mel_loss(p.ref, p.est, 16000, precision=precision))
    other = "float64" if precision == "float32" else "float32"
    assert value != float(mel_loss(p.ref, p.est, 16000, precision=other))


def test_pool_equals_serial_and_resume(dirs, tmp_path):
    ref, est = dirs
    serial = compute_metrics(ref, est, profile="standard", metrics="pesq_nb,pesq_wb,mse", workers=0,
                             progress=False)
    out = tmp_path / "m.parquet"
    pooled = compute_metrics(ref, est, profile="standard", metrics="pesq_nb,pesq_wb,mse", workers=2,
                             progress=False, out=out)
    cols = ["pesq_nb", "pesq_wb", "mse"]
    np.testing.assert_array_equal(serial[cols[:2]].to_numpy(float), pooled[cols[:2]].to_numpy(float))
    # workers=0 runs MSE's batched kernel, workers=2 its per-item function in the pool (CPU):
    # float64 summation order differs (1e-16 relative seen)
    np.testing.assert_allclose(serial["mse"].to_numpy(float), pooled["mse"].to_numpy(float), rtol=1e-12)
    assert list(serial["status"]) == list(pooled["status"])
    back = read_results(out)  # parquet round trip
    np.testing.assert_array_equal(back[cols].to_numpy(float), pooled[cols].to_numpy(float))
    again = compute_metrics(ref, est, profile="standard", metrics="pesq_nb,pesq_wb,mse", workers=0,
                            progress=False, out=out)
    assert again.attrs["seconds"]["pesq_wb"] == 0.0  # everything skipped
    np.testing.assert_array_equal(again[cols].to_numpy(float), pooled[cols].to_numpy(float))


def test_manifest_and_resynthesis_index(tmp_path, signal, rng, monkeypatch):
    _stubs.install(monkeypatch)
    sr = 16000
    items = []
    (tmp_path / "est").mkdir()
    for i in range(2):
        x = signal(rng, sr, 1.0)
        sf.write(tmp_path / f"a{i}.wav", x, sr)
        items.append(ManifestItem(id=f"a{i}", dataset="toy", category="speech", path=f"a{i}.wav", duration=1.0,
                                  sample_rate=sr))
    sf.write(tmp_path / "est" / "a0.flac", x, sr)
    write_manifest(items, tmp_path / "m.jsonl")
    (tmp_path / "est" / "index.jsonl").write_text(
        json.dumps({"id": "a0", "status": "ok"}) + "\n" + json.dumps({"id": "a1", "status": "failed",
                                                                       "reason": "codec crashed"}) + "\n")
    df = compute_metrics(None, tmp_path / "est", manifest=tmp_path / "m.jsonl", profile="standard",
                         metrics=["mse", "visqol"], workers=0, progress=False)
    rows = df.set_index("item")
    assert rows.loc["a0", "dataset"] == "toy" and rows.loc["a0", "category"] == "speech"
    assert "resynthesis failed: codec crashed" in rows.loc["a1", "status"]
    assert np.isfinite(rows.loc["a0", "visqol"])  # speech mode at 16 kHz for a speech item


def test_cli_metrics(dirs, tmp_path, capsys):
    from codecbench_utils.cli import main

    ref, est = dirs
    out = tmp_path / "cli.csv"
    rc = main(["metrics", "--ref", str(ref), "--est", str(est), "--metric-profile", "standard", "--out", str(out),
               "--metrics", "mse,pesq_wb", "--workers", "0", "--no-progress"])
    assert rc == 0 and "7 items" in capsys.readouterr().out
    df = read_results(out)
    assert df.loc[df["item"] == "good0", "status"].item() == "ok" and np.isnan(df["stoi"]).all()


def test_standard_profile_leaves_speech_metrics_out_of_music_and_sound(tmp_path, rng):
    """PESQ/STOI on music are NaN with 'not valid for category music' — not a failure, in no mean, no n_failed."""
    import soundfile as sf

    from codecbench_utils.data.manifest import ManifestItem, write_manifest
    from codecbench_utils.metrics.compute import compute_metrics
    from codecbench_utils.tables import acoustic_table

    t = np.arange(32000) / 16000
    speechlike = (0.3 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
                  + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
    items = []
    (tmp_path / "est").mkdir()
    for cat in ("speech", "music", "sound"):
        sf.write(tmp_path / f"{cat}.wav", speechlike, 16000)
        sf.write(tmp_path / "est" / f"{cat}.flac", speechlike + 0.01 * rng.standard_normal(t.size), 16000)
        items.append(ManifestItem(cat, "d" + cat, cat, f"{cat}.wav", 2.0, 16000))
    manifest = write_manifest(items, tmp_path / "m.jsonl")
    std = compute_metrics(None, tmp_path / "est", profile="standard", metrics="mse,pesq_wb,stoi", workers=0,
                          manifest=manifest, progress=False).set_index("item")
    assert std.loc["speech", "status"] == "ok" and np.isfinite(std.loc["speech", ["pesq_wb", "stoi"]]).all()
    for cat in ("music", "sound"):
        assert std.loc[cat, "status"] == f"ok; pesq_wb, stoi: not valid for category {cat}"
        assert np.isnan(std.loc[cat, "pesq_wb"]) and np.isnan(std.loc[cat, "stoi"]) and np.isfinite(std.loc[cat, "mse"])
    table = acoustic_table(std.reset_index().assign(codec="c"), metrics=("mse", "pesq_wb", "stoi"))
    assert table["n_failed"].tolist() == [0]
    assert table["pesq_wb"].iloc[0] == pytest.approx(std.loc["speech", "pesq_wb"])  # speech alone in the mean
    paper = compute_metrics(None, tmp_path / "est", profile="paper", metrics="pesq_wb", workers=0,
                            manifest=manifest, progress=False)
    assert paper["pesq_wb"].notna().all()  # the paper computed them on every category


def _manifest_with_transcripts(tmp_path, rng):
    """Speech with a transcript, without one, in German; and music. Real channel names when ../shared has them."""
    from pathlib import Path

    real = Path(__file__).resolve().parents[2].parent / "shared" / "real_audio" / "speech" / "alsa_front_right.flac"
    t = np.arange(24000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    speech, text = (sf.read(real)[0].astype(np.float32), "Front Right") if real.is_file() else (tone, "a tone")
    (tmp_path / "est").mkdir()
    items = []
    for name, cat, x, txt, extra in (("said", "speech", speech, text, {}), ("untold", "speech", speech, None, {}),
                                     ("german", "speech", speech, "vorne rechts", {"language": "de"}),
                                     ("song", "music", tone, None, {})):
        sf.write(tmp_path / f"{name}.wav", x, 16000)
        sf.write(tmp_path / "est" / f"{name}.flac", x + 0.0005 * rng.standard_normal(x.size), 16000)
        items.append(ManifestItem(name, "d", cat, f"{name}.wav", x.size / 16000, 16000, text=txt, extra=extra))
    return write_manifest(items, tmp_path / "m.jsonl"), real.is_file()


@pytest.mark.parametrize("workers", [0, 2])
def test_standard_defaults_add_dnsmos_and_asr_offline_and_say_what_was_left_out(tmp_path, rng, monkeypatch,
                                                                              workers):
    """The standard profile's new columns run with no network; left-out cells are reasons, not failures."""
    import socket

    from codecbench_utils.results import aggregate
    from codecbench_utils.tables import acoustic_table

    pytest.importorskip("speechmos", reason="speechmos is not installed")
    pytest.importorskip("pocketsphinx", reason="pocketsphinx is not installed")

    real_connect = socket.socket.connect

    def no_network(sock, address):  # local (unix) sockets stay: the worker pool talks through them
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError("network disabled in this test")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", no_network)  # workers=0: every metric runs in this process
    manifest, real = _manifest_with_transcripts(tmp_path, rng)
    metrics = "mse,dnsmos_ovrl,dnsmos_ovrl_ref,dnsmos_sig,asr_wer,asr_cer,asr_wer_ref"
    df = compute_metrics(None, tmp_path / "est", manifest=manifest, profile="standard", metrics=metrics,
                         workers=workers, progress=False).set_index("item")
    said = df.loc["said"]
    assert said["status"] == "ok" and said["not_scored"] == ""
    assert 1.0 <= said["dnsmos_ovrl"] <= 5.0 and 1.0 <= said["dnsmos_ovrl_ref"] <= 5.0
    assert np.isfinite(said[["asr_wer", "asr_cer", "asr_wer_ref"]].to_numpy(float)).all()
    if real:  # a faint noise (43 dB SNR) does not change what the recognizer hears (at 28 dB it does)
        assert said["asr_wer_ref"] == 0.0 and said["asr_wer"] == 0.0
    assert df.loc["untold", "status"] == "ok; asr_wer, asr_cer, asr_wer_ref: no transcript"
    assert np.isfinite(df.loc["untold", "dnsmos_ovrl"]) and np.isnan(df.loc["untold", "asr_wer"])
    assert "language 'de' not covered" in df.loc["german", "status"]
    assert df.loc["song", "not_scored"].split(",") == ["dnsmos_sig", "dnsmos_ovrl", "dnsmos_ovrl_ref", "asr_wer",
                                                        "asr_cer", "asr_wer_ref"]  # registry order
    assert "not valid for category music" in df.loc["song", "status"]
    assert "pocketsphinx" in said["metric_versions"] and "basic-en-1" in said["metric_versions"]
    table = acoustic_table(df.reset_index().assign(codec="c"), metrics=metrics.split(","))
    assert table["n_failed"].tolist() == [0]
    summary = aggregate(df.reset_index(), by=("category",))
    assert summary["n_failed"].sum() == 0


def test_a_failing_group_fails_each_of_its_columns_with_the_reason(tmp_path, rng, monkeypatch):
    from codecbench_utils.metrics import dnsmos

    pytest.importorskip("speechmos", reason="speechmos is not installed")
    manifest, _ = _manifest_with_transcripts(tmp_path, rng)

    def broken(*args, **kwargs):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(dnsmos, "dnsmos_scores", broken)
    df = compute_metrics(None, tmp_path / "est", manifest=manifest, profile="standard",
                         metrics="mse,dnsmos_sig,dnsmos_bak", workers=0, progress=False).set_index("item")
    assert df.loc["said", "status"] == ("dnsmos_sig: RuntimeError: model exploded; "
                                        "dnsmos_bak: RuntimeError: model exploded")
    assert np.isfinite(df.loc["said", "mse"])
