"""Gunshot Triangulation: the shot-cutting rule against a literal sample loop, and both layouts."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.gunshot import ShotRule, cut_shots, find_shots, firearm_of_shot, prepare_gunshot
from codecbench_utils.errors import DatasetLayoutError

RULE = ShotRule(sr=8000, mic_offsets=(9000, 8700, 8400, 8000), threshold=0.8, min_gap_samples=2000, n_shots=3,
                pre_s=0.125, clip_s=0.5)
SHOTS = [3000, 12000, 20000]  # onsets in the aligned mic-1 timeline


def _reference_find_shots(audio, min_samples_between_shots, num_shots, threshold=0.8):
    """The per-sample loop of the release's create_data.m, transcribed literally."""
    in_shot = False
    starts = []
    for i, sample in enumerate(audio):
        if not in_shot and abs(sample) >= threshold and len(starts) < num_shots:
            starts.append(i)
            in_shot = True
        if in_shot and i - starts[-1] > min_samples_between_shots:
            in_shot = False
    return starts


def _aligned(rng, gain):
    x = 0.01 * rng.standard_normal(32000)
    for s in SHOTS:
        burst = 0.95 * np.exp(-np.arange(600) / 80.0) * np.sign(rng.standard_normal(600))
        x[s : s + 600] += gain * burst
    return x.astype(np.float32)


def _recordings(rng):
    aligned = [_aligned(rng, g) for g in (1.0, 0.6, 0.5, 0.4)]
    recs = [np.concatenate([0.01 * rng.standard_normal(off - RULE.sr).astype(np.float32), a])
            for off, a in zip(RULE.mic_offsets, aligned)]
    return aligned, recs


def test_find_shots_matches_reference_loop(rng):
    x = rng.uniform(-1, 1, 20000)  # many loud samples: exercises the re-arm boundary
    for gap in (0, 1, 7, 300):
        ref = _reference_find_shots(x, gap, 50)
        assert find_shots(x, threshold=0.8, min_gap_samples=gap, n_shots=50) == ref
    aligned, _ = _recordings(rng)
    assert find_shots(aligned[0], threshold=0.8, min_gap_samples=2000, n_shots=3) == SHOTS


def test_firearm_map():
    assert [firearm_of_shot(k) for k in range(22)] == [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6,
                                                       7, 7, 7]


def test_cut_shots_clips(rng):
    aligned, recs = _recordings(rng)
    clips = cut_shots(recs, RULE)
    assert len(clips) == 12
    for mic, shot, onset, clip in clips:
        assert onset == SHOTS[shot]
        np.testing.assert_array_equal(clip, aligned[mic - 1][onset - 1000 : onset + 3000])


def test_prepare_cuts_recordings(tmp_path, rng):
    _, recs = _recordings(rng)
    root = tmp_path / "gunshot_triangulation"
    root.mkdir()
    for name, x in zip(RULE.mic_files, recs):
        sf.write(root / name, x, RULE.sr, subtype="FLOAT")
    (root / "create_data.m").write_text("% MATLAB script\n")
    out = tmp_path / "m" / "gunshot.jsonl"
    items = prepare_gunshot(tmp_path, out=out, rule=RULE, progress=False)
    assert len(items) == 12
    assert items[0].id == "gunshot/mic1_shot0_fid1"
    assert {it.label for it in items} == {"mic1", "mic2", "mic3", "mic4"}
    assert {(it.extra["shot"], it.fold) for it in items} == {(0, 1), (1, 1), (2, 1)}
    assert all(it.duration == 0.5 and it.sample_rate == 8000 for it in items)
    assert all(str(tmp_path / "m" / "gunshot_shots") in it.path for it in items)
    assert not any(p.name.startswith("mic1_shot") for p in root.iterdir())  # corpus left untouched
    first = out.read_bytes()
    prepare_gunshot(tmp_path, out=out, rule=RULE, progress=False)  # reuses the cut clips
    assert out.read_bytes() == first


def test_prepare_precut_layout_and_errors(tmp_path, rng):
    d = tmp_path / "gunshot_triangulation"
    d.mkdir()
    for mic in (1, 2):
        for shot in (0, 4):
            sf.write(d / f"mic{mic}_shot{shot}_fid{firearm_of_shot(shot)}.wav", rng.uniform(-.5, .5, 800), 8000)
    with pytest.warns(UserWarning, match="4 clips, the release gives 88"):
        items = prepare_gunshot(tmp_path, progress=False)
    assert [(it.id, it.label, it.fold) for it in items] == [
        ("gunshot/mic1_shot0_fid1", "mic1", 1), ("gunshot/mic1_shot4_fid2", "mic1", 2),
        ("gunshot/mic2_shot0_fid1", "mic2", 1), ("gunshot/mic2_shot4_fid2", "mic2", 2)]
    with pytest.raises(DatasetLayoutError):
        prepare_gunshot(tmp_path, strict=True, progress=False)
    with pytest.raises(DatasetLayoutError, match="mic1raw.wav"):
        prepare_gunshot(tmp_path / "nothing_here" if (tmp_path / "nothing_here").mkdir() is None else tmp_path)
