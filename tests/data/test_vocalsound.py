"""VocalSound recipe on a miniature native layout (audio_16k/, datafiles/, meta/)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.vocalsound import LABELS, prepare_vocalsound
from codecbench_utils.errors import DatasetLayoutError

SOUNDS = list(LABELS)  # laughter, sigh, cough, throatclearing, sneeze, sniff


def _wav(path, rng, sr=16000, n=800):
    sf.write(path, 0.1 * rng.standard_normal(n).astype(np.float32), sr)


def _tree(tmp_path, rng, *, datafiles=True):
    base = tmp_path / "vs_release_16k"
    (base / "audio_16k").mkdir(parents=True)
    (base / "meta").mkdir()
    spk = {"tr": ["f0003", "m0004"], "val": ["f0010"], "te": ["f0020", "m0021", "f0022", "m0023", "f0024"]}
    for prefix, ss in spk.items():
        (base / "meta" / f"{prefix}_meta.csv").write_text(
            "".join(f"{s},{'female' if s[0] == 'f' else 'male'},25,United States,English,no\n" for s in ss))
        names = [f"{s}_0_{snd}.wav" for s in ss for snd in SOUNDS]
        for n in names:
            _wav(base / "audio_16k" / n, rng)
        if datafiles:
            (base / "datafiles").mkdir(exist_ok=True)
            rows = [{"wav": f"/data/sls/vocalsound/audio_16k/{n}", "labels": LABELS[n.split("_")[2][:-4]][0]}
                    for n in names]
            (base / "datafiles" / f"{prefix}.json").write_text(json.dumps({"data": rows}))
    (base / "class_labels_indices_vs.csv").write_text('index,mid,display_name\n0,/m/01j3sz,"Laughter"\n')
    return base


def test_all_splits_labels_speakers(tmp_path, rng):
    _tree(tmp_path, rng)
    items = prepare_vocalsound(tmp_path, progress=False)
    assert len(items) == 8 * 6
    assert Counter(it.split for it in items) == {"train": 12, "validation": 6, "test": 30}
    it = next(i for i in items if i.id == "vocalsound/f0003_0_throatclearing")
    assert (it.label, it.speaker, it.split, it.sample_rate) == ("Throat clearing", "f0003", "train", 16000)
    assert it.extra["gender"] == "female" and it.extra["mid"] == "/m/0dl9sf8" and it.extra["take"] == 0
    assert {i.label for i in items} == {"Laughter", "Sigh", "Cough", "Throat clearing", "Sneeze", "Sniff"}


def test_test_subset_folds_speaker_disjoint_and_stratified(tmp_path, rng):
    base = _tree(tmp_path, rng)
    items = prepare_vocalsound(base, subset="test", progress=False)
    assert {i.split for i in items} == {"test"} and len(items) == 30
    folds_of_spk: dict[str, set[int]] = {}
    for i in items:
        folds_of_spk.setdefault(i.speaker, set()).add(i.fold)
    assert all(len(f) == 1 for f in folds_of_spk.values())  # speaker-disjoint
    assert sorted(f.pop() for f in folds_of_spk.values()) == [1, 2, 3, 4, 5]
    per_fold = Counter((i.fold, i.label) for i in items)
    assert set(per_fold.values()) == {1}  # each fold holds every label once


def test_meta_only_fallback_and_bad_data(tmp_path, rng):
    base = _tree(tmp_path, rng, datafiles=False)
    _wav(base / "audio_16k" / "m9999_0_cough.wav", rng)  # speaker in no split list
    (base / "audio_16k" / "f0020_0_sigh.wav").write_bytes(b"broken")
    with pytest.warns(BadDataWarning) as rec:
        items = prepare_vocalsound(base, progress=False)
    msg = str(rec[0].message)
    assert "1 unreadable" in msg and "1 audio files without a metadata row" in msg and "m9999" in msg
    assert len(items) == 47
    with pytest.raises(DatasetLayoutError):
        prepare_vocalsound(base, strict=True, progress=False)


def test_paper_fold_file(tmp_path, rng):
    base = tmp_path / "vocalsound"
    (base / "wav").mkdir(parents=True)
    (base / "meta").mkdir()
    lines = ["spk_id,wav,labels,WavPath,label,fold"]
    for k, (s, snd) in enumerate([("f2750", "cough"), ("m0805", "sigh"), ("f1142", "cough")]):
        name = f"{s}_0_{snd}.wav"
        _wav(base / "wav" / name, rng)
        lines.append(f"{s},/data/sls/x/{name},{LABELS[snd][0]},{name},{LABELS[snd][1]},{k + 1}")
    (base / "meta" / "vocalsound.csv").write_text("\n".join(lines) + "\n")
    items = prepare_vocalsound(base, progress=False)
    assert [(i.id, i.label, i.fold, i.split) for i in items] == [
        ("vocalsound/f1142_0_cough", "Cough", 3, "test"),
        ("vocalsound/f2750_0_cough", "Cough", 1, "test"),
        ("vocalsound/m0805_0_sigh", "Sigh", 2, "test"),
    ]


def test_no_audio_folder(tmp_path):
    with pytest.raises(DatasetLayoutError, match="vocalsound"):
        prepare_vocalsound(tmp_path)
