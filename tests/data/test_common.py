"""Shared recipe helpers: root resolution, scanning, bad-data accounting, finish, folds."""

from __future__ import annotations

import json
import warnings
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.common import (
    BadData,
    BadDataWarning,
    audio_item,
    audio_items,
    finish,
    rel_id,
    resolve_root,
    scan_audio,
    select_splits,
)
from codecbench_utils.data.folds import apply_folds, assign_folds, fold_summary, read_fold_file
from codecbench_utils.data.manifest import ManifestItem, read_manifest
from codecbench_utils.errors import DatasetLayoutError, InvalidAudioError, ManifestError, UnknownNameError


def _wav(path, seconds=0.1, sr=16000, channels=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(round(seconds * sr))
    sf.write(path, np.zeros((n, channels), dtype=np.float32) + 0.01, sr)
    return path


def test_resolve_root_accepts_parent_top_folder_and_only_subfolder(tmp_path):
    (tmp_path / "Corpus" / "meta").mkdir(parents=True)
    (tmp_path / "Corpus" / "meta" / "x.csv").write_text("a\n")
    kw = dict(dataset="d", source="https://x", markers=["meta/*.csv"])
    assert resolve_root(tmp_path / "Corpus", **kw) == tmp_path / "Corpus"
    assert resolve_root(tmp_path, **kw, top_folders=["Corpus"]) == tmp_path / "Corpus"
    assert resolve_root(tmp_path, **kw) == tmp_path / "Corpus"  # the only visible subfolder
    (tmp_path / "Other").mkdir()
    with pytest.raises(DatasetLayoutError, match=r"d: none of \['meta/\*.csv'\].*https://x"):
        resolve_root(tmp_path, **kw)
    with pytest.raises(DatasetLayoutError, match="root folder not found"):
        resolve_root(tmp_path / "nope", **kw)


def test_scan_audio_skips_hidden_and_appledouble(tmp_path):
    a = _wav(tmp_path / "a" / "1.wav")
    _wav(tmp_path / "a" / "._1.wav")
    _wav(tmp_path / "__MACOSX" / "a" / "1.wav")
    _wav(tmp_path / ".hidden" / "2.wav")
    (tmp_path / "a" / "notes.txt").write_text("x")
    b = _wav(tmp_path / "B.WAV")
    assert scan_audio(tmp_path) == sorted([a, b])
    assert rel_id("ds", a, tmp_path) == "ds/a/1"


def test_select_splits():
    kw = dict(known=("train", "dev", "test"), dataset="d", root="/r", source="u")
    assert select_splits(None, present={"test", "train"}, **kw) == ["train", "test"]
    assert select_splits("dev", present={"dev"}, **kw) == ["dev"]
    with pytest.raises(UnknownNameError, match="unknown subset 'x'"):
        select_splits("x", present={"dev"}, **kw)
    with pytest.raises(DatasetLayoutError, match="subset 'train'"):
        select_splits("train", present={"dev"}, **kw)
    with pytest.raises(DatasetLayoutError, match="no split"):
        select_splits(None, present=set(), **kw)


def test_audio_item_reads_header(tmp_path):
    p = _wav(tmp_path / "x.wav", seconds=0.25, sr=22050, channels=2)
    it = audio_item(p, id="d/x", dataset="d", category="music", label="l", extra={"k": 1})
    assert (it.sample_rate, it.channels, it.label, it.extra) == (22050, 2, "l", {"k": 1})
    assert isinstance(it.sample_rate, int)
    np.testing.assert_allclose(it.duration, 5512 / 22050, atol=1e-6)  # round(0.25 s * 22050)
    with pytest.raises(InvalidAudioError):
        audio_item(tmp_path / "missing.wav", id="d/m", dataset="d", category="music")


def test_bad_data_counted_in_one_warning_and_strict_raises(tmp_path):
    good = _wav(tmp_path / "g.wav")
    broken = tmp_path / "b.wav"
    broken.write_bytes(b"not audio")
    specs = [dict(path=good, id="d/g"), dict(path=broken, id="d/b"), dict(path=tmp_path / "m.wav", id="d/m")]
    bad = BadData("d")
    items = audio_items(specs, dataset="d", category="sound", bad=bad, progress=False)
    bad.add("unlabelled", tmp_path / "orphan.wav")
    assert bad.counts() == {"missing": 1, "unreadable": 1, "unlabelled": 1, "invalid": 0, "split": 0}
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = finish(items, tmp_path / "m.jsonl", bad=bad)
    msgs = [str(w.message) for w in rec if issubclass(w.category, BadDataWarning)]
    assert len(msgs) == 1
    assert "1 metadata rows whose audio file is missing" in msgs[0]
    assert "1 unreadable" in msgs[0] and "1 audio files without a metadata row" in msgs[0]
    assert [it.id for it in out] == ["d/g"]
    with pytest.raises(DatasetLayoutError, match="strict"):
        finish(items, None, bad=bad, strict=True)
    only_unreadable = BadData("d")
    only_unreadable.add("unreadable", broken, "bad header")
    with pytest.raises(InvalidAudioError, match="1 unreadable"):
        only_unreadable.report(strict=True)


def test_finish_sorts_validates_and_writes_byte_identical(tmp_path):
    a, b = _wav(tmp_path / "a.wav"), _wav(tmp_path / "b.wav")
    items = [audio_item(b, id="d/b", dataset="d", category="sound"),
             audio_item(a, id="d/a", dataset="d", category="sound")]
    out = tmp_path / "sub" / "m.jsonl"
    got = finish(items, out, bad=BadData("d"))
    assert [it.id for it in got] == ["d/a", "d/b"]
    first = out.read_bytes()
    finish(list(reversed(items)), out, bad=BadData("d"))
    assert out.read_bytes() == first
    assert [it.id for it in read_manifest(out)] == ["d/a", "d/b"]
    assert json.loads(first.splitlines()[0])["path"] == str(a)
    with pytest.raises(ManifestError, match="duplicate"):
        finish(items + items[:1], None, bad=BadData("d"))
    with pytest.raises(DatasetLayoutError, match="no valid audio item"):
        finish([], None, bad=BadData("d"))


# ---------------------------------------------------------------- folds
def _items(n_speakers=20, per_speaker=6, labels=("a", "b", "c")):
    rng = np.random.default_rng(0)
    out = []
    for s in range(n_speakers):
        for k in range(per_speaker):
            out.append(ManifestItem(id=f"d/{s:02d}_{k}", dataset="d", category="speech", path="x.wav",
                                    duration=1.0, sample_rate=16000, speaker=f"s{s}",
                                    label=labels[int(rng.integers(len(labels)))]))
    return out


def test_assign_folds_group_disjoint_and_stratified():
    items = _items()
    got = assign_folds(items, 5, group_key="speaker", seed=0)
    assert {it.fold for it in got} == {1, 2, 3, 4, 5}
    per_speaker = {}
    for it in got:
        per_speaker.setdefault(it.speaker, set()).add(it.fold)
    assert all(len(f) == 1 for f in per_speaker.values())  # speaker-disjoint
    # stratified: each fold's share of each label within 10 points of the overall share
    overall = Counter(it.label for it in got)
    for fold, counts in fold_summary(got).items():
        n = sum(counts.values())
        for lab, c in overall.items():
            assert abs(counts.get(lab, 0) / n - c / len(got)) < 0.12, (fold, lab)
    # deterministic and independent of the input order
    again = assign_folds(list(reversed(items)), 5, group_key="speaker", seed=0)
    assert [(it.id, it.fold) for it in again] == [(it.id, it.fold) for it in got]


def test_assign_folds_ungrouped_is_exactly_stratified():
    items = _items(n_speakers=10, per_speaker=10, labels=("a", "b"))
    got = assign_folds(items, 5)
    overall = Counter(it.label for it in got)
    for counts in fold_summary(got).values():
        for lab, c in overall.items():
            assert abs(counts[lab] - c / 5) <= 1


def test_assign_folds_errors():
    items = _items(n_speakers=3)
    with pytest.raises(ManifestError, match="3 groups"):
        assign_folds(items, 5, group_key="speaker")
    with pytest.raises(ManifestError, match="no label"):
        assign_folds([ManifestItem(id="d/x", dataset="d", category="speech", path="x", duration=1.0,
                                   sample_rate=8000)], 2)


def test_read_and_apply_published_folds(tmp_path):
    items = [ManifestItem(id=f"esc50/audio/{i}-1-A-0", dataset="esc50", category="sound",
                          path=f"/c/audio/{i}-1-A-0.wav", duration=5.0, sample_rate=44100, label="dog")
             for i in range(1, 4)]
    csvf = tmp_path / "folds.csv"
    csvf.write_text("filename,fold,target\n1-1-A-0.wav,1,0\n2-1-A-0.wav,2,0\n")
    assert read_fold_file(csvf) == {"1-1-A-0.wav": 1, "2-1-A-0.wav": 2}
    jf = tmp_path / "folds.json"
    jf.write_text(json.dumps({"1": ["audio/1-1-A-0"], "3": ["3-1-A-0"]}))
    with pytest.warns(UserWarning, match="1 items are not in the fold file"):
        got = apply_folds(items, read_fold_file(csvf))
    assert [it.fold for it in got] == [1, 2, None]
    assert [it.fold for it in apply_folds(items[::2], read_fold_file(jf))] == [1, 3]
    with pytest.raises(ManifestError, match="not in the fold file"):
        apply_folds(items, read_fold_file(csvf), strict=True)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ManifestError, match="key column"):
        read_fold_file(bad)


# Table 2 of the paper: classes per probed dataset (None: not a classification set).
_TABLE2 = {"librispeech": None, "libri2mix": None, "kespeech": None, "meld": 7, "crema_d": 6, "ravdess": 8,
           "nsynth": 10, "gtzan": 10, "chord": 2}


@pytest.mark.parametrize("name", sorted(_TABLE2))
def test_registry_finds_each_paper_recipe(name):
    from codecbench_utils.data.registry import get_recipe

    mod = get_recipe(name)
    assert mod.NAME == name and mod.CATEGORY in ("speech", "music") and callable(getattr(mod, f"prepare_{name}"))
