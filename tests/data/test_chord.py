"""Chord recipe on a miniature native layout (Audio_Files/{Major,Minor}/)."""

from __future__ import annotations

from codecbench_utils.data.chord import prepare_chord


def test_labels_from_folders_and_paper_folds(tmp_path, native):
    top = tmp_path / "Audio_Files"
    for i in range(5):
        native.write_audio(top / "Major" / f"Major_{i}.wav", seconds=0.02, sr=44100)
        native.write_audio(top / "Minor" / f"Minor_{i}.wav", seconds=0.02, sr=44100)
    items = prepare_chord(tmp_path, progress=False)
    assert native.rows(items[:1], "id", "label", "split", "sample_rate") == [
        ("chord/Major/Major_0", "Major", "all", 44100)]
    assert [it.label for it in items].count("Minor") == 5
    assert {(it.label, it.fold) for it in items} == {(lab, f) for lab in ("Major", "Minor") for f in range(1, 6)}
    folds = native.write_text(tmp_path / "chord_recognition.csv",
                              "audio_path,label,fold\n" + "".join(
                                  f"{lab}_{i}.wav,{lab},{i + 1}\n" for lab in ("Major", "Minor") for i in range(5)))
    got = prepare_chord(top, fold_file=folds, progress=False)
    assert [it.fold for it in got[:5]] == [1, 2, 3, 4, 5]
