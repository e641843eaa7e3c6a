"""AudioSet recipe: official segment CSVs plus a folder of clips named by YouTube id and start."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.audioset import parse_clip_name, prepare_audioset, read_segments
from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.errors import DatasetLayoutError

EVAL = """# Segments csv created Sun Mar  5 10:54:31 2017
# num_ytids=20371, num_segs=20371, num_unique_labels=527, num_positive_labels=51804
# YTID, start_seconds, end_seconds, positive_labels
--4gqARaEJE, 0.000, 10.000, "/m/068hy,/m/07q6cd_"
--PJHxphWEs, 30.000, 40.000, "/m/09x0r,/t/dd00088"
YabcdefghiJ, 20.000, 30.000, "/m/09x0r"
"""
BAL = """# YTID, start_seconds, end_seconds, positive_labels
-0RWZT-miFs, 420.000, 430.000, "/m/03fwl"
-0SdAVK79lg, 30.000, 40.000, "/m/09x0r"
"""
LABELS = ('index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/068hy,"Domestic animals, pets"\n'
          '2,/m/07q6cd_,"Squeak"\n3,/m/03fwl,"Goat"\n')


def _wav(p, rng):
    p.parent.mkdir(parents=True, exist_ok=True)
    sf.write(p, 0.1 * rng.standard_normal(1600).astype(np.float32), 16000)


def _tree(tmp_path, rng):
    root = tmp_path / "audioset"
    root.mkdir()
    (root / "eval_segments.csv").write_text(EVAL)
    (root / "balanced_train_segments.csv").write_text(BAL)
    (root / "class_labels_indices.csv").write_text(LABELS)
    _wav(root / "audio" / "eval" / "--4gqARaEJE_0.000.wav", rng)
    _wav(root / "audio" / "eval" / "Y--PJHxphWEs_30.000_40.000.wav", rng)
    _wav(root / "audio" / "eval" / "YabcdefghiJ.wav", rng)  # an id that starts with Y, no start
    _wav(root / "audio" / "bal" / "-0RWZT-miFs_420000.wav", rng)  # start in ms
    return root


def test_parse_and_read():
    assert parse_clip_name("Y--PJHxphWEs_30.000_40.000") == [("--PJHxphWEs", 30.0, 40.0)]
    assert ("-0RWZT-miFs", 420000.0, None) in parse_clip_name("-0RWZT-miFs_420000")


def test_segments_and_labels(tmp_path, rng):
    root = _tree(tmp_path, rng)
    segs = read_segments(root / "eval_segments.csv")
    assert segs["--4gqARaEJE"] == [(0.0, 10.0, ["/m/068hy", "/m/07q6cd_"])]
    with pytest.warns(BadDataWarning, match="1 metadata rows whose audio file is missing"):  # -0SdAVK79lg
        items = prepare_audioset(tmp_path, progress=False)
    got = {it.id: (it.split, it.label, it.extra["ytid"], it.extra["start_s"]) for it in items}
    assert got == {
        "audioset/audio/bal/-0RWZT-miFs_420000": ("balanced_train", "Goat", "-0RWZT-miFs", 420.0),
        "audioset/audio/eval/--4gqARaEJE_0.000": ("eval", "Domestic animals, pets; Squeak", "--4gqARaEJE", 0.0),
        "audioset/audio/eval/Y--PJHxphWEs_30.000_40.000": ("eval", "Speech; /t/dd00088", "--PJHxphWEs", 30.0),
        "audioset/audio/eval/YabcdefghiJ": ("eval", "Speech", "YabcdefghiJ", 20.0),
    }
    ev = prepare_audioset(root, subset="eval", progress=False)
    assert len(ev) == 3
    with pytest.raises(DatasetLayoutError):
        prepare_audioset(root, subset="unbalanced_train")


def test_unmatched_clip_and_strict(tmp_path, rng):
    root = _tree(tmp_path, rng)
    _wav(root / "audio" / "eval" / "zzzzzzzzzzz_5.000.wav", rng)
    with pytest.warns(BadDataWarning, match="1 audio files without a metadata row"):
        prepare_audioset(root, subset="eval", progress=False)
    with pytest.raises(DatasetLayoutError):
        prepare_audioset(root, strict=True, progress=False)


def test_no_csv(tmp_path):
    with pytest.raises(DatasetLayoutError, match="eval_segments.csv"):
        prepare_audioset(tmp_path)
