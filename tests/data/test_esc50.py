"""ESC-50 recipe on a miniature native layout (meta/esc50.csv + audio/)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.esc50 import prepare_esc50
from codecbench_utils.errors import DatasetLayoutError, UnknownNameError

HEADER = "filename,fold,target,category,esc10,src_file,take\n"
ROWS = [
    ("1-100032-A-0.wav", 1, 0, "dog", "True", "100032", "A"),
    ("2-100038-A-14.wav", 2, 14, "chirping_birds", "False", "100038", "A"),
    ("3-100018-A-31.wav", 3, 31, "mouse_click", "False", "100018", "A"),
    ("5-9032-A-0.wav", 5, 0, "dog", "True", "9032", "A"),
]


def _tree(tmp_path, rng, rows=ROWS, extra_audio=()):
    base = tmp_path / "ESC-50-master"
    (base / "meta").mkdir(parents=True)
    (base / "audio").mkdir()
    (base / "meta" / "esc50.csv").write_text(HEADER + "".join(",".join(map(str, r)) + "\n" for r in rows))
    for name in [r[0] for r in rows] + list(extra_audio):
        sf.write(base / "audio" / name, 0.1 * rng.standard_normal(2205).astype(np.float32), 44100)
    return base


def test_all_rows(tmp_path, rng):
    _tree(tmp_path, rng)
    items = prepare_esc50(tmp_path, progress=False)  # the folder holding ESC-50-master/
    assert [it.id for it in items] == ["esc50/1-100032-A-0", "esc50/2-100038-A-14", "esc50/3-100018-A-31",
                                       "esc50/5-9032-A-0"]
    assert [it.label for it in items] == ["dog", "chirping_birds", "mouse_click", "dog"]
    assert [it.fold for it in items] == [1, 2, 3, 5]
    assert [it.split for it in items] == ["fold1", "fold2", "fold3", "fold5"]
    it = items[0]
    assert (it.sample_rate, it.duration, it.category, it.channels) == (44100, 0.05, "sound", 1)
    assert it.extra == {"target": 0, "esc10": True, "src_file": "100032", "take": "A"}


def test_subsets_and_top_folder(tmp_path, rng):
    base = _tree(tmp_path, rng)
    assert [it.id for it in prepare_esc50(base, subset="esc10", progress=False)] == [
        "esc50/1-100032-A-0", "esc50/5-9032-A-0"]
    assert [it.fold for it in prepare_esc50(base, subset="fold3", progress=False)] == [3]
    with pytest.raises(UnknownNameError):
        prepare_esc50(base, subset="fold6")


def test_bad_data_counted_and_strict(tmp_path, rng):
    rows = ROWS + [("4-1-A-1.wav", 4, 1, "rooster", "False", "1", "A"), ("4-2-A-1.wav", "x", 1, "rooster", "False", "2", "A")]
    base = _tree(tmp_path, rng, rows=ROWS, extra_audio=["4-3-A-2.wav"])
    (base / "meta" / "esc50.csv").write_text(HEADER + "".join(",".join(map(str, r)) + "\n" for r in rows))
    (base / "audio" / ROWS[1][0]).write_bytes(b"not audio")
    with pytest.warns(BadDataWarning) as rec:
        items = prepare_esc50(base, progress=False)
    msg = str(rec[0].message)
    assert "1 metadata rows whose audio file is missing" in msg  # 4-1-A-1.wav
    assert "1 unreadable" in msg and "1 audio files without a metadata row" in msg and "1 metadata rows that cannot" in msg
    assert len(items) == 3
    with pytest.raises(DatasetLayoutError):
        prepare_esc50(base, strict=True, progress=False)


def test_out_is_byte_identical(tmp_path, rng):
    base = _tree(tmp_path, rng)
    out = tmp_path / "m" / "esc50.jsonl"
    prepare_esc50(base, out=out, progress=False)
    first = out.read_bytes()
    prepare_esc50(base, out=out, progress=False)
    assert out.read_bytes() == first
    assert json.loads(first.splitlines()[0])["label"] == "dog"


def test_missing_meta(tmp_path):
    (tmp_path / "audio").mkdir()
    with pytest.raises(DatasetLayoutError, match="esc50"):
        prepare_esc50(tmp_path)


def test_cli_prepare(tmp_path, rng, capsys):
    from codecbench_utils.cli import main
    from codecbench_utils.data.manifest import read_manifest

    base = _tree(tmp_path, rng)
    out = tmp_path / "esc50.jsonl"
    assert main(["-q", "data", "prepare", "esc50", "--root", str(base), "--out", str(out), "--subset", "esc10"]) == 0
    assert [it.id for it in read_manifest(out)] == ["esc50/1-100032-A-0", "esc50/5-9032-A-0"]
    (base / "audio" / ROWS[0][0]).unlink()
    assert main(["-q", "data", "prepare", "esc50", "--root", str(base), "--out", str(out), "--strict"]) == 2
    assert "missing" in capsys.readouterr().err
