"""RAVDESS recipe on a miniature native layout (Actor_XX folders, codes in file names)."""

from __future__ import annotations

import pytest

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.ravdess import prepare_ravdess
from codecbench_utils.errors import DatasetLayoutError


@pytest.fixture
def corpus(tmp_path, native):
    speech = tmp_path / "Audio_Speech_Actors_01-24"
    song = tmp_path / "Audio_Song_Actors_01-24"
    for actor in range(1, 7):
        for emo in ("01", "05"):
            name = f"03-01-{emo}-01-0{1 + actor % 2}-01-{actor:02d}.wav"
            native.write_audio(speech / f"Actor_{actor:02d}" / name, seconds=0.02, sr=48000)
    native.write_audio(song / "Actor_01" / "03-02-03-02-02-02-01.wav", seconds=0.02, sr=48000)
    return tmp_path


def test_codes_to_label_split_text_speaker(corpus, native):
    items = prepare_ravdess(corpus, progress=False)
    assert len(items) == 13
    song = [it for it in items if it.split == "song"]
    assert native.rows(song, "id", "label", "text", "speaker", "intensity", "repetition", "gender") == [
        ("ravdess/song/Actor_01/03-02-03-02-02-02-01", "happy", "Dogs are sitting by the door", "Actor_01",
         "strong", "02", "male")
    ]
    sp = next(it for it in items if it.id == "ravdess/speech/Actor_02/03-01-05-01-01-01-02")
    assert (sp.label, sp.text, sp.extra["gender"], sp.sample_rate) == (
        "angry", "Kids are talking by the door", "female", 48000)
    folds_of = {}
    for it in items:
        folds_of.setdefault(it.speaker, set()).add(it.fold)
    assert all(len(f) == 1 for f in folds_of.values())  # actor-disjoint


def test_subset_and_kaggle_layout(tmp_path, native):
    top = tmp_path / "audio_speech_actors_01-24"
    native.write_audio(top / "Actor_03" / "03-01-08-02-01-01-03.wav", seconds=0.02)
    with pytest.warns(UserWarning, match="only 1 groups"):
        items = prepare_ravdess(tmp_path, subset="speech", progress=False)
    assert [(it.id, it.label, it.fold) for it in items] == [
        ("ravdess/speech/Actor_03/03-01-08-02-01-01-03", "surprised", None)]
    with pytest.raises(DatasetLayoutError, match="subset 'song'"):
        prepare_ravdess(tmp_path, subset="song", progress=False)


def test_bad_codes_counted(corpus, native):
    native.write_audio(corpus / "Audio_Speech_Actors_01-24" / "Actor_01" / "03-01-09-01-01-01-01.wav")
    native.write_audio(corpus / "Audio_Speech_Actors_01-24" / "Actor_01" / "01-01-01-01-01-01-01.wav")
    with pytest.warns(BadDataWarning, match="2 metadata rows that cannot be parsed"):
        assert len(prepare_ravdess(corpus, progress=False)) == 13
    with pytest.raises(DatasetLayoutError):
        prepare_ravdess(corpus, strict=True, progress=False)
