"""Laughterscape recipe on a miniature release (<variant>/<speaker>-<utt>.wav)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.laughterscape import prepare_laughterscape, speaker_of
from codecbench_utils.errors import DatasetLayoutError


def _wav(p, rng):
    p.parent.mkdir(parents=True, exist_ok=True)
    sf.write(p, 0.1 * rng.standard_normal(1600).astype(np.float32), 16000)


def test_speaker_rule():
    assert speaker_of("spkr112-utt459") == "spkr112"
    assert speaker_of("a-b-utt1") == "a-b"
    assert speaker_of("noutt") is None


def test_variants_and_speakers(tmp_path, rng):
    base = tmp_path / "laughterscape_ver1.0"
    for v in ("denoised", "original"):
        for n in ("spkr001-utt001", "spkr001-utt002", "spkr553-utt026"):
            _wav(base / v / f"{n}.wav", rng)
    items = prepare_laughterscape(tmp_path, progress=False)
    assert len(items) == 6
    assert {it.split for it in items} == {"denoised", "original"}
    den = prepare_laughterscape(tmp_path, subset="denoised", progress=False)
    assert [(it.id, it.speaker, it.label, it.sample_rate) for it in den] == [
        ("laughterscape/denoised/spkr001-utt001", "spkr001", "laughter", 16000),
        ("laughterscape/denoised/spkr001-utt002", "spkr001", "laughter", 16000),
        ("laughterscape/denoised/spkr553-utt026", "spkr553", "laughter", 16000),
    ]
    with pytest.raises(DatasetLayoutError):
        prepare_laughterscape(tmp_path, subset="all")


def test_bad_files(tmp_path, rng):
    base = tmp_path / "denoised"
    _wav(base / "spkr001-utt001.wav", rng)
    _wav(base / "nospeaker.wav", rng)
    sf.write(base / "spkr002-utt001.wav", np.zeros(0, np.float32), 16000)  # empty, as the loader drops
    with pytest.warns(BadDataWarning, match="1 unreadable.*1 metadata rows that cannot"):
        items = prepare_laughterscape(tmp_path, progress=False)
    assert [it.id for it in items] == ["laughterscape/denoised/spkr001-utt001"]
    with pytest.raises(DatasetLayoutError):
        prepare_laughterscape(tmp_path, strict=True, progress=False)
    with pytest.raises(DatasetLayoutError, match="laughterscape"):
        prepare_laughterscape(tmp_path / "denoised" / "spkr001-utt001.wav")
