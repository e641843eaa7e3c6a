"""WavCaps-SoundBible recipe: sb_final.json plus the unzipped flac folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.common import BadDataWarning
from codecbench_utils.data.wavcaps_soundbible import prepare_wavcaps_soundbible
from codecbench_utils.errors import DatasetLayoutError

DEEP = "Zip_files/SoundBible/mnt/fast/nobackup/scratch4weeks/xm00178/WavCaps/data/waveforms/SoundBible_flac"


def _row(i, caption):
    return {"title": f"t{i}", "description": "d", "author": "Mike Koenig", "href": f"x-{i}.html",
            "caption": caption, "id": str(i), "duration": 0.1, "audio": "wav_path",
            "download_link": f"http://soundbible.com/grab.php?id={i}&type=wav"}


def _tree(tmp_path, rng, ids=(1725, 2116)):
    root = tmp_path / "WavCaps"
    (root / "json_files" / "SoundBible").mkdir(parents=True)
    rows = [_row(1725, "A dog barks twice."), _row(2116, "A man chants a magical spell.")]
    (root / "json_files" / "SoundBible" / "sb_final.json").write_text(
        json.dumps({"num_captions_per_audio": 1, "data": rows}))
    (root / DEEP).mkdir(parents=True)
    for i in ids:
        sf.write(root / DEEP / f"{i}.flac", 0.1 * rng.standard_normal(3200).astype(np.float32), 32000)
    (root / "Zip_files" / "FreeSound").mkdir(parents=True)
    sf.write(root / "Zip_files" / "FreeSound" / "99.flac", np.zeros(320, np.float32), 32000)  # other part
    return root


def test_items(tmp_path, rng):
    _tree(tmp_path, rng)
    items = prepare_wavcaps_soundbible(tmp_path, progress=False)
    assert [(it.id, it.split, it.category, it.sample_rate) for it in items] == [
        ("wavcaps_soundbible/1725", "all", "general", 32000), ("wavcaps_soundbible/2116", "all", "general", 32000)]
    assert items[1].extra == {"caption": "A man chants a magical spell.", "title": "t2116", "author": "Mike Koenig"}


def test_bad_data(tmp_path, rng):
    root = _tree(tmp_path, rng, ids=(1725, 7))
    with pytest.warns(BadDataWarning) as rec:
        items = prepare_wavcaps_soundbible(root, progress=False)
    msg = str(rec[0].message)
    assert "1 metadata rows whose audio file is missing" in msg and "7.flac" in msg
    assert [it.id for it in items] == ["wavcaps_soundbible/1725"]
    with pytest.raises(DatasetLayoutError):
        prepare_wavcaps_soundbible(root, strict=True, progress=False)
    with pytest.raises(DatasetLayoutError, match="sb_final.json"):
        prepare_wavcaps_soundbible(tmp_path / "WavCaps" / "Zip_files")
