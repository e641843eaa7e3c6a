"""Clotho-AQA recipe on a miniature release (audio_files/ + clotho_aqa_<split>.csv)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.clotho_aqa import prepare_clotho_aqa
from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.errors import DatasetLayoutError

HEAD = "file_name,QuestionText,answer,confidence\n"


def _tree(tmp_path, rng):
    base = tmp_path / "clotho_aqa"
    (base / "audio_files").mkdir(parents=True)
    for n in ("00294 harbour ambient", "Bird calls", "rain_on_roof"):
        sf.write(base / "audio_files" / f"{n}.wav", 0.1 * rng.standard_normal(4410).astype(np.float32), 44100)
    (base / "clotho_aqa_train.csv").write_text(
        HEAD + "00294 harbour ambient.wav,Are there waves?,yes,yes\n"
               "00294 harbour ambient.wav,Are there waves?,yes,maybe\n"
               "00294 harbour ambient.wav,\"Where is this, a harbour?\",harbour,yes\n"
               "Bird calls.wav,Is it raining?,no,yes\n")
    (base / "clotho_aqa_test.csv").write_text(HEAD + "rain_on_roof.wav,Is it raining?,yes,yes\n")
    (base / "clotho_aqa_metadata.csv").write_text("file_name,keywords,sound_id,sound_link,start_end_samples,"
                                                  "manufacturer,license\n")
    (base / "LICENSE.txt").write_text("license\n")
    return base


def test_items_and_qa(tmp_path, rng):
    _tree(tmp_path, rng)
    items = prepare_clotho_aqa(tmp_path, progress=False)
    assert [(it.id, it.split, it.category) for it in items] == [
        ("clotho_aqa/00294 harbour ambient", "train", "general"),
        ("clotho_aqa/Bird calls", "train", "general"),
        ("clotho_aqa/rain_on_roof", "test", "general"),
    ]
    assert items[0].extra["qa"] == [{"question": "Are there waves?", "answers": ["yes", "yes"]},
                                    {"question": "Where is this, a harbour?", "answers": ["harbour"]}]
    assert items[0].sample_rate == 44100
    assert [it.id for it in prepare_clotho_aqa(tmp_path, subset="test", progress=False)] == ["clotho_aqa/rain_on_roof"]
    with pytest.raises(DatasetLayoutError):
        prepare_clotho_aqa(tmp_path, subset="val")


def test_bad_data(tmp_path, rng):
    base = _tree(tmp_path, rng)
    (base / "audio_files" / "Bird calls.wav").unlink()
    sf.write(base / "audio_files" / "orphan.wav", np.zeros(100, np.float32), 44100)
    with pytest.warns(BadDataWarning) as rec:
        items = prepare_clotho_aqa(base, progress=False)
    msg = str(rec[0].message)
    assert "1 metadata rows whose audio file is missing" in msg and "orphan.wav" in msg
    assert len(items) == 2
    with pytest.raises(DatasetLayoutError):
        prepare_clotho_aqa(base, strict=True, progress=False)
