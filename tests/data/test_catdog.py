"""Cats-and-Dogs recipe on a miniature Kaggle layout (cats_dogs/ + train_test_split.csv)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.catdog import prepare_catdog
from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.errors import DatasetLayoutError

CSV = (",test_cat,test_dog,train_cat,train_dog\n"
       "0,cat_22.wav,dog_barking_97.wav,cat_99.wav,dog_barking_33.wav\n"
       "1,cat_5.wav,,cat_1.wav,dog_barking_0.wav\n"
       "2,,,cat_7.wav,dog_barking_1.wav\n")


def _wav(path, rng):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, 0.1 * rng.standard_normal(1600).astype(np.float32), 16000)


def _tree(tmp_path, rng):
    base = tmp_path / "audio-cats-and-dogs"
    for n in ["cat_22", "dog_barking_97", "cat_99", "dog_barking_33", "cat_5", "cat_1", "dog_barking_0", "cat_7",
              "dog_barking_1"]:
        _wav(base / "cats_dogs" / f"{n}.wav", rng)
    (base / "train_test_split.csv").write_text(CSV)
    (base / "utils.py").write_text("# helper shipped with the dataset\n")
    return base


def test_split_csv(tmp_path, rng):
    _tree(tmp_path, rng)
    items = prepare_catdog(tmp_path, progress=False)
    assert len(items) == 9
    got = {it.id: (it.split, it.label) for it in items}
    assert got["catdog/cat_22"] == ("test", "cat")
    assert got["catdog/dog_barking_33"] == ("train", "dog")
    assert Counter(it.split for it in items) == {"train": 6, "test": 3}
    assert {it.fold for it in items} == {1, 2, 3, 4, 5}
    assert [it.id for it in prepare_catdog(tmp_path, subset="test", progress=False)] == [
        "catdog/cat_22", "catdog/cat_5", "catdog/dog_barking_97"]


def test_folder_layout(tmp_path, rng):
    base = tmp_path / "cats_dogs"
    for split, lab, n in [("train", "cat", "cat_1"), ("train", "dog", "dog_barking_0"), ("test", "cat", "cat_2")]:
        _wav(base / split / lab / f"{n}.wav", rng)
    items = prepare_catdog(tmp_path, progress=False)
    assert [(it.id, it.split, it.label) for it in items] == [
        ("catdog/test/cat/cat_2", "test", "cat"), ("catdog/train/cat/cat_1", "train", "cat"),
        ("catdog/train/dog/dog_barking_0", "train", "dog")]


def test_bad_data(tmp_path, rng):
    base = _tree(tmp_path, rng)
    (base / "cats_dogs" / "cat_7.wav").unlink()
    _wav(base / "cats_dogs" / "cat_200.wav", rng)
    with pytest.warns(BadDataWarning) as rec:
        items = prepare_catdog(base, progress=False)
    msg = str(rec[0].message)
    assert "1 metadata rows whose audio file is missing" in msg and "cat_200.wav" in msg
    assert len(items) == 8
    with pytest.raises(DatasetLayoutError):
        prepare_catdog(base, strict=True, progress=False)


def test_empty_root(tmp_path):
    with pytest.raises(DatasetLayoutError, match="catdog"):
        prepare_catdog(tmp_path)
