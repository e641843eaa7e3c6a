"""GTZAN recipe on miniature native layouts (marsyas genres/*.au and Kaggle genres_original/*.wav)."""

from __future__ import annotations

import pytest

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.gtzan import GENRES, prepare_gtzan
from codecbench_utils.errors import DatasetLayoutError


def _tree(top, native, ext):
    for g in GENRES:
        for i in range(2):
            native.write_audio(top / g / f"{g}.{i:05d}.{ext}", seconds=0.02, sr=22050)


def test_marsyas_au_layout(tmp_path, native):
    _tree(tmp_path / "genres", native, "au")
    items = prepare_gtzan(tmp_path, progress=False)
    assert len(items) == 20
    assert native.rows(items[:2], "id", "label", "split", "sample_rate") == [
        ("gtzan/blues/blues.00000", "blues", "all", 22050), ("gtzan/blues/blues.00001", "blues", "all", 22050)]
    assert sorted({it.label for it in items}) == sorted(GENRES)
    assert {it.fold for it in items} == {1, 2, 3, 4, 5}
    per_fold = {}
    for it in items:
        per_fold[it.fold] = per_fold.get(it.fold, 0) + 1
    assert set(per_fold.values()) == {4}  # stratified: 20 items over 5 folds


def test_kaggle_layout_with_broken_file(tmp_path, native):
    top = tmp_path / "Data" / "genres_original"
    _tree(top, native, "wav")
    native.write_broken(top / "jazz" / "jazz.00054.wav")
    with pytest.warns(BadDataWarning, match=r"1 unreadable.*jazz.00054.wav"):
        items = prepare_gtzan(tmp_path, progress=False)
    assert len(items) == 20
    with pytest.raises(Exception, match="strict"):
        prepare_gtzan(top, strict=True, progress=False)


def test_missing(tmp_path):
    with pytest.raises(DatasetLayoutError, match="marsyas"):
        prepare_gtzan(tmp_path, progress=False)
