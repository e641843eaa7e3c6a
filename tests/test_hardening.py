"""Faults a new user meets: aliased ids, a full disk, dropped files and splits, dead writers' temp files,
lost metrics work, unsafe checkpoint loads, and the generic folder recipe. Each fails on the old code."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils import atomic, cli
from codecbench_utils.codecs import resynth
from codecbench_utils.codecs.resynth import resynthesize
from codecbench_utils.data.manifest import ManifestItem, read_manifest, validate_manifest, write_manifest
from codecbench_utils.errors import DiskFullError, ManifestError, UnknownNameError


def _corpus(tmp_path: Path, rng, n: int = 4, ids: list[str] | None = None) -> Path:
    ids = ids or [f"spk/utt{i}" for i in range(n)]
    items = []
    for i, ident in enumerate(ids):
        path = tmp_path / "audio" / f"{i}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, 0.1 * rng.standard_normal(8000).astype(np.float32), 16000)
        items.append({"id": ident, "dataset": "t", "category": "speech", "path": str(path), "duration": 0.5,
                      "sample_rate": 16000})
    m = tmp_path / "m.jsonl"
    m.write_text("".join(json.dumps(d) + "\n" for d in items))
    return m


# ------------------------------------------------------------------ 1. ids that alias one output file
@pytest.mark.parametrize("other", ["a/./b", "a//b", "A/b"])
def test_ids_naming_the_same_output_file_are_refused_naming_both(tmp_path, rng, other):
    m = _corpus(tmp_path, rng, ids=["a/b", other])
    with pytest.raises(ManifestError) as err:
        read_manifest(m)
    assert "'a/b'" in str(err.value) and f"'{other}'" in str(err.value)


@pytest.mark.parametrize("bad", ["a/b/", "a/./b", "a//b", "./a", "/a", "a/../b", "", " a", "a\\b"])
def test_non_canonical_ids_are_bad_ids(tmp_path, rng, bad):
    with pytest.raises(ManifestError, match="item id"):
        validate_manifest([ManifestItem(bad, "t", "speech", "x.wav", 1.0, 16000)])


def test_resynthesis_refuses_aliasing_items_passed_as_a_list(tmp_path, rng):
    items = [ManifestItem(i, "t", "speech", str(tmp_path / "x.wav"), 0.5, 16000) for i in ("a/b", "a//b")]
    with pytest.raises(ManifestError, match="same output file|item id"):
        resynthesize("identity", items, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ 2. a full disk
def _fail_after(n_ok: int, exc: Exception):
    calls = {"n": 0}
    real = resynth.save_audio

    def save(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise exc
        return real(*args, **kwargs)
    return save


def _index_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]


def test_disk_full_stops_the_run_keeps_work_and_resumes(tmp_path, rng, monkeypatch):
    m = _corpus(tmp_path, rng, n=6)
    out = tmp_path / "out"
    monkeypatch.setattr(resynth, "save_audio", _fail_after(2, OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(DiskFullError, match="disk full.*rerun to resume"):
        resynthesize("identity", m, out, progress=False)
    lines = _index_lines(out)  # every line parses: nothing torn
    assert [r["status"] for r in lines] == ["ok", "ok"]  # no item blamed for the disk
    monkeypatch.undo()
    summary = resynthesize("identity", m, out, progress=False)
    assert (summary.n_skipped, summary.n_done, summary.n_failed) == (2, 4, 0)


def test_libsndfile_system_error_on_a_nearly_full_disk_is_a_full_disk(tmp_path, rng, monkeypatch):
    m = _corpus(tmp_path, rng, n=3)
    monkeypatch.setattr(resynth, "save_audio", _fail_after(1, RuntimeError("Error opening file: System error.")))
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda p: type("U", (), {"free": 1024})())
    with pytest.raises(DiskFullError):
        resynthesize("identity", m, tmp_path / "out", progress=False)
    assert [r["status"] for r in _index_lines(tmp_path / "out")] == ["ok"]


def test_a_failed_index_write_leaves_no_torn_line(tmp_path, rng, monkeypatch):
    m = _corpus(tmp_path, rng, n=4)
    out = tmp_path / "out"
    real_write, calls = os.write, {"n": 0}

    def write(fd, data):
        if data.startswith(b'{"id"'):
            calls["n"] += 1
            if calls["n"] == 3:  # half the record reaches the disk, then it is full
                real_write(fd, data[: len(data) // 2])
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)
    monkeypatch.setattr(resynth.os, "write", write)
    with pytest.raises(DiskFullError):
        resynthesize("identity", m, out, progress=False)
    assert len(_index_lines(out)) == 2


def test_cli_reports_a_full_disk_in_one_line(tmp_path, rng, monkeypatch, capsys):
    m = _corpus(tmp_path, rng, n=3)
    monkeypatch.setattr(resynth, "save_audio", _fail_after(0, OSError(errno.ENOSPC, "No space left on device")))
    rc = cli.main(["-q", "resynth", "--codec", "identity", "--manifest", str(m), "--out", str(tmp_path / "o"),
                   "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "disk full" in err[0]


# ------------------------------------------------------------------ 3. silently dropped files and splits
def test_folder_mode_reports_two_files_of_one_item(tmp_path, rng, caplog):
    from codecbench_utils.metrics.compute import compute_metrics, find_pairs

    for d in ("ref", "est"):
        (tmp_path / d).mkdir()
        sf.write(tmp_path / d / "x.flac", 0.1 * rng.standard_normal(16000), 16000)
    sf.write(tmp_path / "ref" / "x.wav", 0.1 * rng.standard_normal(16000), 16000)
    with caplog.at_level("WARNING"):
        pairs = find_pairs(tmp_path / "ref", tmp_path / "est")
    assert len(pairs) == 1 and "1 audio file(s)" in caplog.text and "x.wav" in caplog.text
    with pytest.raises(ManifestError, match="x.wav"):
        compute_metrics(tmp_path / "ref", tmp_path / "est", profile="paper", metrics="mse", strict=True,
                        workers=0, progress=False)


def _meld(root: Path, rng, *, train_csv_inside: bool) -> None:
    header = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID\n"
    for split, clips in (("train", "train/train_splits"), ("test", "output_repeated_splits_test")):
        (root / clips).mkdir(parents=True)
        rows = []
        for d in range(6):
            rows.append(f'{d},"hi there",Ross,{("joy", "anger")[d % 2]},positive,{d},0\n')
            _mp4(root / clips / f"dia{d}_utt0.mp4", rng)
        csv_dir = root / "train" if (split == "train" and train_csv_inside) else root
        (csv_dir / f"{split}_sent_emo.csv").write_text(header + "".join(rows))


def _mp4(path: Path, rng) -> None:
    import av

    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=16000)
        s.layout = "mono"
        frame = av.AudioFrame.from_ndarray((0.1 * rng.standard_normal((1, 16000))).astype(np.float32),
                                           format="flt", layout="mono")
        frame.sample_rate = 16000
        for packet in s.encode(frame):
            c.mux(packet)
        for packet in s.encode(None):
            c.mux(packet)


def test_meld_finds_a_csv_inside_its_split_folder(tmp_path, rng):
    from codecbench_utils.data.meld import prepare_meld

    _meld(tmp_path, rng, train_csv_inside=True)
    items = prepare_meld(tmp_path, progress=False)
    assert {it.split for it in items} == {"train", "test"}


def test_meld_never_drops_a_split_quietly(tmp_path, rng):
    from codecbench_utils.data.common import BadDataWarning
    from codecbench_utils.data.meld import prepare_meld
    from codecbench_utils.errors import DatasetLayoutError

    _meld(tmp_path, rng, train_csv_inside=True)
    (tmp_path / "train" / "train_sent_emo.csv").rename(tmp_path / "elsewhere.csv")
    with pytest.warns(BadDataWarning, match="1 split"):
        items = prepare_meld(tmp_path, progress=False)
    assert {it.split for it in items} == {"test"}
    with pytest.raises(DatasetLayoutError, match="train_sent_emo.csv"):
        prepare_meld(tmp_path, progress=False, strict=True)


# ------------------------------------------------------------------ 4. temp files of dead writers
def test_temp_files_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    host = atomic._HOST
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / f".tmp-{dead_pid}.{host}-abc.flac"
    live = tmp_path / f".tmp-{os.getpid()}.{host}-def.flac"
    foreign_new = tmp_path / ".tmp-1.00000000-ghi.flac"
    untagged_old = tmp_path / ".tmp-xyz.flac"
    for p in (stale, live, foreign_new, untagged_old):
        p.write_bytes(b"x")
    old = time.time() - 2 * atomic.FOREIGN_TEMP_MAX_AGE_S
    os.utime(untagged_old, (old, old))
    assert atomic.remove_stale_temps(tmp_path) == 2
    assert not stale.exists() and not untagged_old.exists() and live.exists() and foreign_new.exists()


def test_resynthesis_cleans_a_killed_writers_temp_file(tmp_path, rng):
    m = _corpus(tmp_path, rng, n=2)
    out = tmp_path / "out"
    (out / "spk").mkdir(parents=True)
    leftover = out / "spk" / ".tmp-4194303.00000000-x.flac"  # another host's, long ago
    leftover.write_bytes(b"half a file")
    old = time.time() - 2 * atomic.FOREIGN_TEMP_MAX_AGE_S
    os.utime(leftover, (old, old))
    resynthesize("identity", m, out, progress=False)
    assert not list(out.rglob(".tmp-*"))


# ------------------------------------------------------------------ 5. metrics flush by item count
def test_metrics_checkpoint_every_few_items(tmp_path, rng, monkeypatch):
    from codecbench_utils.metrics import compute

    for d in ("ref", "est"):
        (tmp_path / d).mkdir()
    for i in range(20):
        x = 0.1 * rng.standard_normal(4000)
        sf.write(tmp_path / "ref" / f"{i:02d}.wav", x, 16000)
        sf.write(tmp_path / "est" / f"{i:02d}.wav", x + 0.01 * rng.standard_normal(4000), 16000)
    writes: list[int] = []
    real = compute.write_results
    monkeypatch.setattr(compute, "write_results", lambda df, path: (writes.append(len(df)), real(df, path))[1])
    monkeypatch.setattr(compute, "CHECKPOINT_SECONDS", 1e9)
    compute.compute_metrics(tmp_path / "ref", tmp_path / "est", profile="paper", metrics="mse",
                            out=tmp_path / "r.csv", workers=0, batch_size=4, progress=False)
    assert writes[:-1] and all(b - a <= compute.CHECKPOINT_ITEMS for a, b in zip([0, *writes], writes))


# ------------------------------------------------------------------ 6. unsafe checkpoint loads
def _pwn() -> None:
    os.environ["CODECBENCH_PWNED"] = "1"


class _RunsCode:
    """Unpickling this calls ``_pwn``: what a tampered checkpoint could do."""

    def __reduce__(self):
        return (_pwn, ())


def test_lightning_checkpoints_load_weights_only_unless_trusted(tmp_path, monkeypatch):
    import torch

    from codecbench_utils.codecs.flowdec import _load_lightning_checkpoint
    from codecbench_utils.errors import CodecRuntimeError

    monkeypatch.delenv("CODECBENCH_PWNED", raising=False)
    path = tmp_path / "x.ckpt"
    torch.save({"state_dict": {"w": torch.ones(2)}, "hyper_parameters": _RunsCode()}, path)
    with pytest.raises(CodecRuntimeError, match="trust_checkpoint"):
        _load_lightning_checkpoint(path, trust=False, codec_id="flowdec_nq8")
    assert "CODECBENCH_PWNED" not in os.environ
    _load_lightning_checkpoint(path, trust=True, codec_id="flowdec_nq8")
    assert os.environ.get("CODECBENCH_PWNED") == "1"
    torch.save({"state_dict": {"w": torch.ones(2)}, "global_step": 3}, path)
    assert _load_lightning_checkpoint(path, trust=False, codec_id="flowdec_nq8")["global_step"] == 3


def test_probe_checkpoints_round_trip_with_weights_only(tmp_path):
    import torch

    from codecbench_utils.probes.asr import _atomic_torch_save, _load_checkpoint

    mean = np.arange(3, dtype=np.float32)
    _atomic_torch_save({"model": {"w": torch.zeros(1)}, "mean": mean, "std": mean + 1, "state": {"step": 2}},
                       tmp_path / "c.pt")
    ck = _load_checkpoint(tmp_path / "c.pt", "cpu")
    np.testing.assert_array_equal(ck["mean"], mean)
    assert isinstance(ck["std"], np.ndarray) and ck["state"]["step"] == 2
    torch.save({"mean": _RunsCode()}, tmp_path / "evil.pt")
    with pytest.raises(Exception, match="[Ww]eights only|weights_only"):
        _load_checkpoint(tmp_path / "evil.pt", "cpu")


# ------------------------------------------------------------------ 7. the generic folder recipe
def _tree(root: Path, rng, files: list[str]) -> None:
    for f in files:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / f, 0.1 * rng.standard_normal(4000), 16000)


def test_folder_category_from_dirs_and_labels_csv(tmp_path, rng, caplog):
    from codecbench_utils.data.folder import prepare_folder

    root = tmp_path / "mine"
    _tree(root, rng, ["speech/a.wav", "music/b.flac", "sound/c.wav", "other/d.wav"])
    (root / "labels.csv").write_text("file,label,text,speaker,split\nspeech/a.wav,hello,hi there,s1,test\n"
                                     "music/b,piano,,,\nmissing.wav,x,,,\n")
    with caplog.at_level("WARNING"), pytest.warns(UserWarning, match="missing"):
        items = prepare_folder(root, category_from_dirs=True, labels="labels.csv", progress=False)
    by = {it.id: it for it in items}
    assert {i: it.category for i, it in by.items()} == {"folder/speech/a": "speech", "folder/music/b": "music",
                                                        "folder/sound/c": "sound", "folder/other/d": "general"}
    a = by["folder/speech/a"]
    assert (a.label, a.text, a.speaker, a.split) == ("hello", "hi there", "s1", "test")
    assert by["folder/music/b"].label == "piano" and by["folder/sound/c"].label is None
    assert "1 file(s) are not under a speech/" in caplog.text


def test_cli_folder_accepts_every_recipe_option(tmp_path, rng, capsys):
    root = tmp_path / "mine"
    _tree(root, rng, ["speech/a.wav", "music/b.wav"])
    out = tmp_path / "m.jsonl"
    rc = cli.main(["-q", "data", "prepare", "folder", "--root", str(root), "--out", str(out), "-o", "name=mine",
                   "--category-from-dirs"])
    assert rc == 0
    items = read_manifest(out)
    assert {(it.id, it.dataset, it.category) for it in items} == {("mine/speech/a", "mine", "speech"),
                                                                 ("mine/music/b", "mine", "music")}
    assert cli.main(["-q", "data", "prepare", "folder", "--root", str(root), "--out", str(out),
                     "-o", "nmae=x"]) == 2
    assert "has no option nmae" in capsys.readouterr().err


def test_unknown_recipe_option_is_a_clear_error():
    from codecbench_utils.data.registry import prepare_dataset

    with pytest.raises(UnknownNameError, match="its options: .*label_from_parent"):
        prepare_dataset("folder", "/nonexistent", bogus=1)


def test_write_manifest_rejects_an_id_ending_in_slash(tmp_path):
    with pytest.raises(ManifestError, match="ends in '/'"):
        write_manifest([ManifestItem("a/", "t", "speech", "x.wav", 1.0, 16000)], tmp_path / "m.jsonl")
