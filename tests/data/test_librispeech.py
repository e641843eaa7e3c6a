"""LibriSpeech recipe on a miniature native layout."""

from __future__ import annotations

import json

import pytest

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.librispeech import prepare_librispeech
from codecbench_utils.errors import DatasetLayoutError, UnknownNameError

SPEAKERS = """\
; Some comment lines
;ID  |SEX| SUBSET           |MINUTES| NAME
1089 | M | test-clean       |  8.04 | Lawrence Hooker
19   | F | train-clean-100  | 25.19 | Kara Shallenberg
"""


@pytest.fixture
def corpus(tmp_path, native):
    write_audio, write_text = native.write_audio, native.write_text
    top = tmp_path / "LibriSpeech"
    write_text(top / "SPEAKERS.TXT", SPEAKERS)
    ch = top / "test-clean" / "1089" / "134686"
    write_text(ch / "1089-134686.trans.txt",
               "1089-134686-0000 HE HOPED THERE WOULD BE STEW FOR DINNER\n"
               "1089-134686-0001 STUFF IT INTO YOU\n")
    write_audio(ch / "1089-134686-0000.flac", seconds=0.1)
    write_audio(ch / "1089-134686-0001.flac", seconds=0.2)
    ch2 = top / "train-clean-100" / "19" / "198"
    write_text(ch2 / "19-198.trans.txt", "19-198-0000 NORTHANGER ABBEY\n")
    write_audio(ch2 / "19-198-0000.flac", seconds=0.05)
    return tmp_path


def test_all_parts_with_transcripts_speakers_and_splits(corpus, tmp_path, native):
    out = tmp_path / "m.jsonl"
    items = prepare_librispeech(corpus, out=out, progress=False)
    assert native.rows(items, "id", "split", "speaker", "text", "chapter", "gender", "sample_rate") == [
        ("librispeech/test-clean/1089-134686-0000", "test-clean", "1089",
         "HE HOPED THERE WOULD BE STEW FOR DINNER", "134686", "M", 16000),
        ("librispeech/test-clean/1089-134686-0001", "test-clean", "1089", "STUFF IT INTO YOU", "134686", "M", 16000),
        ("librispeech/train-clean-100/19-198-0000", "train-clean-100", "19", "NORTHANGER ABBEY", "198", "F", 16000),
    ]
    assert [it.duration for it in items] == [0.1, 0.2, 0.05]
    assert all(it.category == "speech" and it.label is None for it in items)
    first = out.read_bytes()
    prepare_librispeech(corpus / "LibriSpeech", out=out, progress=False)  # the archive's top folder
    assert out.read_bytes() == first
    assert json.loads(first.splitlines()[0])["path"].endswith("1089-134686-0000.flac")


def test_subset_only(corpus):
    items = prepare_librispeech(corpus, subset="train-clean-100", progress=False)
    assert [it.id for it in items] == ["librispeech/train-clean-100/19-198-0000"]
    with pytest.raises(DatasetLayoutError, match="subset 'dev-clean'"):
        prepare_librispeech(corpus, subset="dev-clean", progress=False)
    with pytest.raises(UnknownNameError, match="unknown subset 'test'"):
        prepare_librispeech(corpus, subset="test", progress=False)


def test_bad_data_counted_or_strict(corpus, native):
    ch = corpus / "LibriSpeech" / "test-clean" / "1089" / "134686"
    with (ch / "1089-134686.trans.txt").open("a") as fh:
        fh.write("1089-134686-0002 A LINE WITHOUT AUDIO\n1089-134686-0003 BROKEN AUDIO\n")
    native.write_broken(ch / "1089-134686-0003.flac")
    native.write_audio(ch / "1089-134686-0009.flac")  # audio without a transcript line
    with pytest.warns(BadDataWarning, match=r"1 metadata rows whose audio file is missing.*"
                                            r"1 unreadable.*1 audio files without a metadata row"):
        items = prepare_librispeech(corpus, subset="test-clean", progress=False)
    assert len(items) == 2
    with pytest.raises(DatasetLayoutError, match="strict"):
        prepare_librispeech(corpus, subset="test-clean", strict=True, progress=False)


def test_missing_layout_names_source(tmp_path):
    with pytest.raises(DatasetLayoutError, match="openslr.org/12"):
        prepare_librispeech(tmp_path, progress=False)
