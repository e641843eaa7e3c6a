"""Libri2Mix recipe on a miniature native layout (wav16k/max/{metadata,test/mix_*})."""

from __future__ import annotations

import pytest

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.libri2mix import prepare_libri2mix
from codecbench_utils.errors import DatasetLayoutError

MIXES = ("1089-134686-0000_121-121726-0000", "1188-133604-0006_4970-29095-0023")


@pytest.fixture
def corpus(tmp_path, native):
    top = tmp_path / "Libri2Mix" / "wav16k" / "max"
    for mix, noisy in (("mix_clean", False), ("mix_both", True)):
        head = "mixture_ID,mixture_path,source_1_path,source_2_path" + (",noise_path" if noisy else "") + ",length\n"
        body = "".join(f"{m},/gen/{m}.wav,/gen/s1/{m}.wav,/gen/s2/{m}.wav" + (",/gen/n.wav" if noisy else "")
                       + ",800\n" for m in MIXES)
        native.write_text(top / "metadata" / f"mixture_test_{mix}.csv", head + body)
        for m in MIXES:
            native.write_audio(top / "test" / mix / f"{m}.wav", seconds=0.05)
    native.write_audio(top / "test" / "s1" / f"{MIXES[0]}.wav")  # sources are not items
    native.write_audio(tmp_path / "Libri2Mix" / "wav8k" / "max" / "test" / "mix_clean" / f"{MIXES[0]}.wav", sr=8000)
    return tmp_path


def test_clean_and_noisy_test_mixtures(corpus, native):
    items = prepare_libri2mix(corpus, progress=False)
    assert native.rows(items, "id", "split", "mixture", "speakers", "sample_rate") == [
        (f"libri2mix/wav16k/max/test/{mix}/{m}", "test", mix, spk, 16000)
        for mix in ("mix_both", "mix_clean")
        for m, spk in zip(MIXES, (["1089", "121"], ["1188", "4970"]))
    ]
    assert items[0].extra["sources"] == ["1089-134686-0000", "121-121726-0000"]
    assert all(it.speaker is None and it.label is None for it in items)
    eight = prepare_libri2mix(corpus, subset="test", rate="wav8k", progress=False)
    assert [(it.id, it.sample_rate) for it in eight] == [(f"libri2mix/wav8k/max/test/mix_clean/{MIXES[0]}", 8000)]


def test_missing_and_orphan_mixtures(corpus, native):
    folder = corpus / "Libri2Mix" / "wav16k" / "max" / "test" / "mix_both"
    (folder / f"{MIXES[1]}.wav").unlink()
    native.write_audio(folder / "19-198-0000_26-495-0000.wav")
    with pytest.warns(BadDataWarning, match=r"1 metadata rows whose audio.*1 audio files without"):
        assert len(prepare_libri2mix(corpus, progress=False)) == 3
    with pytest.raises(DatasetLayoutError, match="strict"):
        prepare_libri2mix(corpus, strict=True, progress=False)
    with pytest.raises(DatasetLayoutError, match="subset 'dev'"):
        prepare_libri2mix(corpus, subset="dev", progress=False)
    with pytest.raises(DatasetLayoutError, match="mode folder 'min'"):
        prepare_libri2mix(corpus, mode="min", progress=False)
