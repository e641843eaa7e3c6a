"""The static leaderboard: built from result files only, self-contained, with playable samples."""

from __future__ import annotations

import re

import numpy as np
import soundfile as sf

from codecbench_utils import cli
from codecbench_utils.codecs.resynth import resynthesize
from codecbench_utils.data.manifest import ManifestItem, write_manifest
from codecbench_utils.metrics.compute import compute_metrics


def _runs(tmp_path, signal, rng):
    runs = tmp_path / "runs"
    corpus = runs / "corpus"
    corpus.mkdir(parents=True)
    items = []
    for i, cat in enumerate(("speech", "speech", "music")):
        sf.write(corpus / f"u{i}.wav", signal(rng, 16000, 1.5), 16000)
        items.append(ManifestItem(f"c/u{i}", "d", cat, f"u{i}.wav", 1.5, 16000))
    manifest = write_manifest(items, corpus / "manifest.jsonl")
    for codec in ("identity", "opus_6k"):
        resynthesize(codec, manifest, runs / codec / "resynth", progress=False)
        compute_metrics(None, runs / codec / "resynth", profile="paper", metrics="pesq_wb,mse,stoi", workers=0,
                        manifest=manifest, out=runs / codec / "acoustic" / "d.parquet", progress=False)
    return runs


def test_leaderboard_is_self_contained_with_every_codec_and_playable_samples(tmp_path, signal, rng, capsys):
    runs = _runs(tmp_path, signal, rng)
    site = tmp_path / "site"
    assert cli.main(["-q", "leaderboard", "--runs", str(runs), "--out", str(site), "--clip-seconds", "1"]) == 0
    page = (site / "index.html").read_text()
    assert not re.search(r"(src|href)=['\"]?https?://", page)  # no CDN, no network: works from file://
    for codec in ("identity", "opus_6k"):
        assert f">{codec}<" in page
    srcs = re.findall(r'<audio[^>]* src="([^"]+)"', page)
    assert len(srcs) == 2 * 2 * 2  # 2 codecs x (best, worst) x (original, resynthesis)
    for src in srcs:
        wav, sr = sf.read(site / src)
        assert 0 < len(wav) <= sr  # trimmed to 1 s, not empty
    for img in re.findall(r"<img [^>]*>", page):
        assert "alt=" in img and (site / re.search(r"src='([^']+)'", img).group(1)).is_file()
    assert 'class="sortable"' in page and "ci_low" in page and "aria-sort" in page
    assert "leaderboard:" in capsys.readouterr().out


def test_leaderboard_without_results_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["-q", "leaderboard", "--runs", str(tmp_path / "nope"), "--out", str(tmp_path / "s")]) == 2
    assert "runs folder not found" in capsys.readouterr().err


def test_sorting_script_orders_numbers_numerically():
    """The page's sort compares data-v values as numbers when both parse (9 before 10)."""
    from codecbench_utils.leaderboard import _JS, _cell

    assert "parseFloat" in _JS and 'data-v="10.0"' in _cell(np.float64(10.0))
    assert 'data-v=""' in _cell(np.float64(np.nan))
