"""CREMA-D recipe on a miniature native layout (AudioWAV/ + VideoDemographics.csv)."""

from __future__ import annotations

import warnings

import pytest

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.crema_d import prepare_crema_d
from codecbench_utils.errors import DatasetLayoutError, UnknownNameError

ACTORS = ("1001", "1002", "1003", "1004", "1005", "1006")
EMOS = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")


@pytest.fixture
def corpus(tmp_path, native):
    top = tmp_path / "CREMA-D"
    native.write_text(top / "VideoDemographics.csv",
                      "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
                      "1002,21,Female,Caucasian,Not Hispanic\n")
    for a in ACTORS:
        for e in EMOS:
            native.write_audio(top / "AudioWAV" / f"{a}_DFA_{e}_XX.wav", seconds=0.02)
    native.write_audio(top / "AudioWAV" / "1001_IEO_ANG_HI.wav", seconds=0.03)
    return tmp_path


def _prepare(root, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", BadDataWarning)
        return prepare_crema_d(root, progress=False, **kw)


def test_labels_speakers_text_and_speaker_disjoint_folds(corpus, native):
    items = _prepare(corpus)
    assert len(items) == 37
    first = items[0]
    assert native.rows([first], "id", "label", "speaker", "text", "split", "intensity", "sex", "age") == [
        ("crema_d/1001_DFA_ANG_XX", "anger", "1001", "Don't forget a jacket", "all", "unspecified", "Male", "51")
    ]
    hi = next(it for it in items if it.id == "crema_d/1001_IEO_ANG_HI")
    assert (hi.label, hi.text, hi.extra["intensity"]) == ("anger", "It's eleven o'clock", "high")
    assert {it.label for it in items} == {"anger", "disgust", "fear", "happy", "neutral", "sad"}
    assert {it.sample_rate for it in items} == {16000}
    folds_of = {}
    for it in items:
        folds_of.setdefault(it.speaker, set()).add(it.fold)
    assert all(len(f) == 1 for f in folds_of.values())
    assert {f for fs in folds_of.values() for f in fs} == {1, 2, 3, 4, 5}
    assert [it.id for it in _prepare(corpus / "CREMA-D", subset="all")] == [it.id for it in items]


def test_published_fold_file(corpus, native, tmp_path):
    f = native.write_text(tmp_path / "crema_d_test.csv",
                          "file,emotion,label,fold\n1001_DFA_ANG_XX.wav,anger,0,4\n1002_DFA_SAD_XX.wav,sad,5,2\n")
    with pytest.warns(UserWarning, match="35 items are not in the fold file"):
        items = prepare_crema_d(corpus, fold_file=f, progress=False)
    got = {it.id: it.fold for it in items if it.fold is not None}
    assert got == {"crema_d/1001_DFA_ANG_XX": 4, "crema_d/1002_DFA_SAD_XX": 2}


def test_bad_names_and_empty_audio(corpus, native):
    audio = corpus / "CREMA-D" / "AudioWAV"
    native.write_audio(audio / "notes_about_this.wav")
    native.write_audio(audio / "1076_MTI_SAD_XX.wav", seconds=0.0)  # the corpus's known empty file
    with pytest.warns(BadDataWarning, match=r"1 unreadable or empty.*1 metadata rows that cannot be parsed"):
        items = prepare_crema_d(corpus, progress=False)
    assert len(items) == 37
    with pytest.raises(DatasetLayoutError, match="strict"):
        prepare_crema_d(corpus, strict=True, progress=False)
    with pytest.raises(UnknownNameError):
        prepare_crema_d(corpus, subset="test", progress=False)


def test_missing_layout(tmp_path):
    with pytest.raises(DatasetLayoutError, match="AudioWAV.*CREMA-D"):
        prepare_crema_d(tmp_path, progress=False)
