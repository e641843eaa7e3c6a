"""AIR-Bench Chat recipe: Chat/Chat_meta.json plus Chat/<task>_<dataset>/<path>."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.airbench_chat import prepare_airbench_chat, subject_of
from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.errors import DatasetLayoutError

META = [
    {"meta_info": "", "question": "What did the speaker ask?", "answer_gt": "The time.",
     "path": "fe_03_00040_0.wav", "task_name": "speech_dialogue_QA", "dataset_name": "fisher", "uniq_id": 0},
    {"meta_info": "", "question": "Is it raining?", "answer_gt": "Yes.", "path": "rain.wav",
     "task_name": "sound_QA", "dataset_name": "clotho", "uniq_id": 1},
    {"meta_info": "", "question": "How loud is it?", "answer_gt": "Loud.", "path": "rain.wav",
     "task_name": "sound_QA", "dataset_name": "clotho", "uniq_id": 2},
    {"meta_info": "", "question": "Which genre?", "answer_gt": "Jazz.", "path": "m1.wav",
     "task_name": "music_QA", "dataset_name": "musiccaps", "uniq_id": 3},
    {"meta_info": "", "question": "Who speaks over the dog?", "answer_gt": "A man.", "path": "mix1.wav",
     "task_name": "speech_and_sound_QA", "dataset_name": "common_voice_audioset", "uniq_id": 4},
]


def _tree(tmp_path, rng):
    chat = tmp_path / "AIR-Bench-Dataset" / "Chat"
    chat.mkdir(parents=True)
    (chat / "Chat_meta.json").write_text(json.dumps(META))
    for r in META:
        p = chat / f"{r['task_name']}_{r['dataset_name']}" / r["path"]
        p.parent.mkdir(exist_ok=True)
        if not p.exists():
            sf.write(p, 0.1 * rng.standard_normal(1600).astype(np.float32), 16000)
    return chat


def test_subject_rule():
    assert [subject_of(t) for t in ("speech_dialogue_QA", "sound_QA", "music_QA", "speech_and_music_QA", "x")] == [
        "speech", "sound", "music", "mix", None]


def test_items(tmp_path, rng):
    _tree(tmp_path, rng)
    items = prepare_airbench_chat(tmp_path, progress=False)
    assert [(it.id, it.split) for it in items] == [
        ("airbench_chat/music_QA_musiccaps/m1", "music"),
        ("airbench_chat/sound_QA_clotho/rain", "sound"),
        ("airbench_chat/speech_and_sound_QA_common_voice_audioset/mix1", "mix"),
        ("airbench_chat/speech_dialogue_QA_fisher/fe_03_00040_0", "speech"),
    ]
    rain = items[1]
    assert [q["uniq_id"] for q in rain.extra["qa"]] == [1, 2]
    assert rain.extra["qa"][0] == {"uniq_id": 1, "question": "Is it raining?", "answer_gt": "Yes."}
    assert [it.split for it in prepare_airbench_chat(tmp_path / "AIR-Bench-Dataset" / "Chat", subset="mix",
                                                     progress=False)] == ["mix"]


def test_bad_data(tmp_path, rng):
    chat = _tree(tmp_path, rng)
    (chat / "music_QA_musiccaps" / "m1.wav").unlink()
    sf.write(chat / "sound_QA_clotho" / "extra.wav", np.zeros(100, np.float32), 16000)
    with pytest.warns(BadDataWarning) as rec:
        items = prepare_airbench_chat(tmp_path, progress=False)
    msg = str(rec[0].message)
    assert "1 metadata rows whose audio file is missing" in msg and "extra.wav" in msg
    assert len(items) == 3
    with pytest.raises(DatasetLayoutError):
        prepare_airbench_chat(tmp_path, strict=True, progress=False)
