"""``folder`` recipe: any directory of audio."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.folder import prepare_folder
from codecbench_utils.errors import DatasetLayoutError, InvalidAudioError, UnknownNameError


def _tree(tmp_path, rng):
    root = tmp_path / "collected"
    for rel, sr, ch in [("speech/a.wav", 16000, 1), ("music/rock/b.flac", 44100, 2), ("c.ogg", 24000, 1)]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        x = 0.1 * rng.standard_normal((sr // 10, ch)).astype(np.float32)
        sf.write(p, x, sr)
    (root / "README.txt").write_text("not audio")
    (root / ".hidden.wav").write_bytes(b"x")
    return root


def test_recursive_ids_and_info(tmp_path, rng):
    root = _tree(tmp_path, rng)
    items = prepare_folder(root, progress=False)
    assert [(it.id, it.sample_rate, it.channels, it.category, it.split, it.label) for it in items] == [
        ("folder/c", 24000, 1, "general", "all", None),
        ("folder/music/rock/b", 44100, 2, "general", "all", None),
        ("folder/speech/a", 16000, 1, "general", "all", None),
    ]
    assert items[1].duration == pytest.approx(0.1)


def test_options(tmp_path, rng):
    root = _tree(tmp_path, rng)
    items = prepare_folder(root, category="music", name="mine", label_from_parent=True, split_from_top=True,
                           progress=False)
    assert [(it.id, it.dataset, it.category, it.label, it.split) for it in items] == [
        ("mine/c", "mine", "music", None, "all"),
        ("mine/music/rock/b", "mine", "music", "rock", "music"),
        ("mine/speech/a", "mine", "music", "speech", "speech"),
    ]
    assert [it.id for it in prepare_folder(root, subset="speech", progress=False)] == ["folder/speech/a"]
    with pytest.raises(UnknownNameError):
        prepare_folder(root, category="noise")


def test_bad_files(tmp_path, rng):
    root = _tree(tmp_path, rng)
    (root / "broken.wav").write_bytes(b"RIFF0000")
    sf.write(root / "speech" / "a.flac", np.zeros(160, np.float32), 16000)  # same id as a.wav
    with pytest.warns(BadDataWarning, match="1 unreadable.*1 metadata rows that cannot"):
        items = prepare_folder(root, progress=False)
    assert len(items) == 3
    with pytest.raises((DatasetLayoutError, InvalidAudioError)):
        prepare_folder(root, strict=True, progress=False)
    with pytest.raises(DatasetLayoutError):
        prepare_folder(tmp_path / "nope")


def test_labels_csv_carries_transcripts_and_languages(tmp_path, rng):
    root = _tree(tmp_path, rng)
    (root / "labels.csv").write_text("file,text,language\nspeech/a.wav,Front Right,en\nc,Hallo,de\n")
    items = {it.id: it for it in prepare_folder(root, labels="labels.csv", progress=False)}
    assert items["folder/speech/a"].text == "Front Right" and items["folder/speech/a"].extra == {"language": "en"}
    assert items["folder/c"].extra == {"language": "de"} and items["folder/music/rock/b"].extra == {}
