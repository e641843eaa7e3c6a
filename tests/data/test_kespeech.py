"""KeSpeech recipe on a miniature native layout (Tasks/ASR/<part>/ Kaldi lists + Audio/)."""

from __future__ import annotations

import pytest

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.kespeech import prepare_kespeech
from codecbench_utils.errors import DatasetLayoutError

UTTS = {
    "test": [("1000001_a1", "1000001", "Southwestern", "我们今天去哪里"), ("1000002_b2", "1000002", "Mandarin", "好的")],
    "dev_phase1": [("1000003_c3", "1000003", "Ji-Lu", "<SPOKEN_NOISE>你好")],
}


@pytest.fixture
def corpus(tmp_path, native):
    top = tmp_path / "KeSpeech"
    for part, utts in UTTS.items():
        d = top / "Tasks" / "ASR" / part
        native.write_text(d / "wav.scp", "".join(f"{u} Audio/{s}/phase1/{u}.wav\n" for u, s, _, _ in utts))
        native.write_text(d / "text", "".join(f"{u} {t}\n" for u, _, _, t in utts))
        native.write_text(d / "utt2spk", "".join(f"{u} {s}\n" for u, s, _, _ in utts))
        native.write_text(d / "utt2subdialect", "".join(f"{u} {g}\n" for u, _, g, _ in utts))
        for u, s, _, _ in utts:
            native.write_audio(top / "Audio" / s / "phase1" / f"{u}.wav", seconds=0.03)
    return tmp_path


def test_parts_transcripts_speakers_subdialects(corpus, native):
    items = prepare_kespeech(corpus, progress=False)
    assert native.rows(items, "id", "split", "speaker", "label", "text", "sample_rate") == [
        ("kespeech/dev_phase1/1000003_c3", "dev_phase1", "1000003", "Ji-Lu", "<SPOKEN_NOISE>你好", 16000),
        ("kespeech/test/1000001_a1", "test", "1000001", "Southwestern", "我们今天去哪里", 16000),
        ("kespeech/test/1000002_b2", "test", "1000002", "Mandarin", "好的", 16000),
    ]
    assert [it.id for it in prepare_kespeech(corpus / "KeSpeech", subset="test", progress=False)] == [
        "kespeech/test/1000001_a1", "kespeech/test/1000002_b2"]


def test_bad_lists(corpus, native):
    d = corpus / "KeSpeech" / "Tasks" / "ASR" / "test"
    with (d / "wav.scp").open("a") as fh:
        fh.write("1000009_z9 Audio/1000009/phase1/1000009_z9.wav\n1000008_y8 Audio/x.wav\n")
    with (d / "text").open("a") as fh:
        fh.write("1000009_z9 没有音频\n1000007_x7 没有列表\n")
    with (d / "utt2spk").open("a") as fh:
        fh.write("1000009_z9 1000009\n")
    with pytest.warns(BadDataWarning, match=r"2 metadata rows whose audio.*1 metadata rows that cannot"):
        assert len(prepare_kespeech(corpus, subset="test", progress=False)) == 2
    (d / "utt2spk").unlink()
    with pytest.raises(DatasetLayoutError, match="utt2spk"):
        prepare_kespeech(corpus, subset="test", progress=False)
