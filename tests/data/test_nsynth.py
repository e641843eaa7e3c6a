"""NSynth recipe on a miniature native layout (nsynth-<split>/examples.json + audio/)."""

from __future__ import annotations

import pytest

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.nsynth import prepare_nsynth
from codecbench_utils.errors import DatasetLayoutError

FAMILIES = ("bass", "keyboard")


def _entry(family, inst, pitch):
    note = f"{family}_electronic_{inst:03d}-{pitch:03d}-100"
    return note, {"note": pitch, "note_str": note, "instrument": inst, "instrument_str": note.split("-")[0],
                  "pitch": pitch, "velocity": 100, "sample_rate": 16000, "qualities": [0] * 10,
                  "qualities_str": [], "instrument_family": FAMILIES.index(family),
                  "instrument_family_str": family, "instrument_source": 1, "instrument_source_str": "electronic"}


@pytest.fixture
def corpus(tmp_path, native):
    for split, insts in (("test", range(10)), ("valid", range(10, 11))):
        top = tmp_path / f"nsynth-{split}"
        meta = {}
        for inst in insts:
            for pitch in (40, 52):
                note, row = _entry(FAMILIES[inst % 2], inst, pitch)
                meta[note] = row
                native.write_audio(top / "audio" / f"{note}.wav", seconds=0.02)
        native.write_json(top / "examples.json", meta)
    return tmp_path


def test_splits_labels_and_instrument_disjoint_folds(corpus, native):
    items = prepare_nsynth(corpus, progress=False)
    assert len(items) == 22
    assert {it.split for it in items} == {"test", "valid"}
    assert native.rows(items[:1], "id", "label", "split", "instrument", "pitch", "velocity") == [
        ("nsynth/test/bass_electronic_000-040-100", "bass", "test", "bass_electronic_000", 40, 100)]
    folds_of = {}
    for it in items:
        folds_of.setdefault(it.extra["instrument"], set()).add(it.fold)
    assert all(len(f) == 1 for f in folds_of.values())
    assert {f for fs in folds_of.values() for f in fs} == {1, 2, 3, 4, 5}


def test_subset_and_single_split_root(corpus):
    with pytest.warns(UserWarning, match="only 1 groups"):
        assert len(prepare_nsynth(corpus, subset="valid", progress=False)) == 2
    items = prepare_nsynth(corpus / "nsynth-test", progress=False)
    assert {it.split for it in items} == {"test"} and len(items) == 20
    with pytest.raises(DatasetLayoutError, match="subset 'train'"):
        prepare_nsynth(corpus, subset="train", progress=False)


def test_missing_and_unlisted_audio(corpus, native):
    (corpus / "nsynth-test" / "audio" / "bass_electronic_000-040-100.wav").unlink()
    native.write_audio(corpus / "nsynth-test" / "audio" / "vocal_synthetic_003-063-025.wav")
    with pytest.warns(BadDataWarning, match=r"1 metadata rows whose audio file is missing.*1 audio files without"):
        items = prepare_nsynth(corpus, subset="test", progress=False)
    assert len(items) == 19
