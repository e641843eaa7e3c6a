from __future__ import annotations

import json

import pytest

from codecbench_utils.data.manifest import ManifestItem, read_manifest, resolve_path, write_manifest
from codecbench_utils.errors import ManifestError


def _item(i: str, **kw) -> ManifestItem:
    base = dict(id=i, dataset="d", category="speech", path=f"{i}.wav", duration=1.0, sample_rate=16000)
    base.update(kw)
    return ManifestItem(**base)


def test_round_trip_is_byte_identical(tmp_path):
    items = [_item("a/1", text="hello", speaker="s1", split="test"),
             _item("b", label="x", fold=2, extra={"pitch": 60})]
    p = write_manifest(items, tmp_path / "m.jsonl")
    first = p.read_bytes()
    back = read_manifest(p)
    assert back == items
    write_manifest(back, p)
    assert p.read_bytes() == first
    row = json.loads(first.splitlines()[1])
    assert row["pitch"] == 60 and row["fold"] == 2 and row["text"] is None


def test_missing_required_field_names_item_and_line(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text(json.dumps({"id": "x", "dataset": "d", "category": "speech", "path": "x.wav",
                             "duration": 1.0}) + "\n")
    with pytest.raises(ManifestError, match=r"line 1.*'x'.*sample_rate"):
        read_manifest(p)


def test_bad_category_and_duplicates(tmp_path):
    with pytest.raises(ManifestError, match="category"):
        ManifestItem.from_dict(dict(id="x", dataset="d", category="noise", path="p", duration=1,
                                    sample_rate=8000))
    with pytest.raises(ManifestError, match="duplicate"):
        write_manifest([_item("a"), _item("a")], tmp_path / "m.jsonl")


def test_invalid_json_line(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text("{not json}\n")
    with pytest.raises(ManifestError, match="line 1"):
        read_manifest(p)


def test_relative_paths_hang_off_manifest_dir(tmp_path):
    it = _item("a")
    assert resolve_path(it, tmp_path) == tmp_path / "a.wav"
    abs_it = _item("b", path=str(tmp_path / "b.wav"))
    assert resolve_path(abs_it, "/elsewhere") == tmp_path / "b.wav"
