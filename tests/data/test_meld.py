"""MELD recipe on a miniature native layout (CSV per split + mp4 clips read with PyAV)."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.meld import prepare_meld
from codecbench_utils.errors import DatasetLayoutError

HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\n"
EMOS = ("neutral", "joy", "anger", "surprise", "sadness")


def _mp4(path, seconds=0.05, sr=16000):
    """A tiny AAC-in-mp4 clip (MELD's clips are mp4 with an AAC audio track)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=sr)
        s.layout = "mono"
        x = (0.1 * np.random.default_rng(0).standard_normal((1, int(seconds * sr)))).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(x, format="fltp", layout="mono")
        frame.sample_rate = sr
        for p in [*s.encode(frame), *s.encode(None)]:
            c.mux(p)


@pytest.fixture
def corpus(tmp_path, native):
    top = tmp_path / "MELD.Raw"
    lines = []
    for dia in range(5):
        for utt in range(2):
            n = len(lines) + 1
            lines.append(f'{n},"Line {n}, said ’softly’",Speaker{dia % 3},{EMOS[(dia + utt) % 5]},neutral,'
                         f'{dia},{utt},3,19,"00:14:38,127","00:14:40,378"\n')
            _mp4(top / "output_repeated_splits_test" / f"dia{dia}_utt{utt}.mp4")
    native.write_text(top / "test_sent_emo.csv", HEADER + "".join(lines))
    native.write_text(top / "dev_sent_emo.csv", HEADER + '1,Oh.,Rachel,fear,negative,0,0,1,1,"a","b"\n')
    _mp4(top / "dev" / "dev_splits_complete" / "dia0_utt0.mp4", sr=48000)
    return tmp_path


def test_splits_labels_text_speakers_dialogue_folds(corpus, native):
    items = prepare_meld(corpus, progress=False)
    assert len(items) == 11
    assert native.rows(items[:2], "id", "split", "label", "speaker", "text", "sample_rate", "dialogue_id") == [
        ("meld/dev/dia0_utt0", "dev", "fear", "Rachel", "Oh.", 48000, 0),
        ("meld/test/dia0_utt0", "test", "neutral", "Speaker0", "Line 1, said ’softly’", 16000, 0),
    ]
    assert items[1].duration > 0 and items[1].path.endswith("dia0_utt0.mp4")
    folds = {}
    for it in items:
        folds.setdefault((it.split, it.extra["dialogue_id"]), set()).add(it.fold)
    assert all(len(f) == 1 for f in folds.values())  # dialogue-disjoint


def test_test_subset_with_paper_folds(corpus, native, tmp_path):
    f = native.write_text(tmp_path / "meld.csv", "Sr No.,Utterance,WavPath,fold\n1,x,dia0_utt0.wav,3\n"
                          + "".join(f"{i},x,dia{i}_utt{u}.wav,{1 + i % 5}\n" for i in range(1, 5) for u in range(2)))
    with pytest.warns(UserWarning, match="1 items are not in the fold file"):
        items = prepare_meld(corpus, subset="test", fold_file=f, progress=False)
    assert [it.fold for it in items] == [3, None, 2, 2, 3, 3, 4, 4, 5, 5]


def test_bad_rows_missing_and_orphan_clips(corpus, native):
    top = corpus / "MELD.Raw"
    with (top / "test_sent_emo.csv").open("a", encoding="utf-8") as fh:
        fh.write('99,x,Joey,happiness,positive,7,0,1,1,"a","b"\n100,y,Joey,joy,positive,8,0,1,1,"a","b"\n')
    _mp4(top / "output_repeated_splits_test" / "final_videos_testdia9_utt0.mp4")
    with pytest.warns(BadDataWarning, match=r"1 metadata rows whose audio.*1 audio files without.*1 metadata rows"):
        assert len(prepare_meld(corpus, subset="test", progress=False)) == 10
    with pytest.raises(DatasetLayoutError, match="strict"):
        prepare_meld(corpus, subset="test", strict=True, progress=False)


def test_missing_clip_folder(tmp_path, native):
    native.write_text(tmp_path / "MELD.Raw" / "train_sent_emo.csv", HEADER)
    with pytest.raises(DatasetLayoutError, match="unpack train.tar.gz"):
        prepare_meld(tmp_path, progress=False)
