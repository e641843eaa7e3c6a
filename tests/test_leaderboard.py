"""The static leaderboard: built from result files only, self-contained, with playable samples."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
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
    assert "Conformance" not in page  # no codec was checked
    assert cli.main(["-q", "codecs", "check", "identity", "--runs", str(runs)]) == 0
    assert cli.main(["-q", "leaderboard", "--runs", str(runs), "--out", str(site), "--clip-seconds", "1"]) == 0
    assert "<h2>Conformance</h2>" in (site / "index.html").read_text()


def test_leaderboard_keeps_its_audio_under_the_budget_and_says_what_it_left_out(tmp_path, signal, rng):
    from codecbench_utils.leaderboard import build_leaderboard

    runs = _runs(tmp_path, signal, rng)
    site = build_leaderboard(runs, tmp_path / "site", clip_seconds=1, audio_budget_mb=1e-6)  # room for one codec
    page = site.index.read_text()
    assert site.n_clips == 4 and "left out to keep the audio under" in page and "opus_6k." in page
    audio = [p for p in (tmp_path / "site" / "audio").rglob("*") if p.is_file()]
    assert {p.parent.name for p in audio} == {"identity"} and all(p.suffix == ".flac" for p in audio)


def test_leaderboard_without_results_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["-q", "leaderboard", "--runs", str(tmp_path / "nope"), "--out", str(tmp_path / "s")]) == 2
    assert "runs folder not found" in capsys.readouterr().err


def test_sorting_script_orders_numbers_numerically():
    """The page's sort compares data-v values as numbers when both parse (9 before 10)."""
    from codecbench_utils.leaderboard import _JS, _cell

    assert "parseFloat" in _JS and 'data-v="10.0"' in _cell(np.float64(10.0))
    assert 'data-v=""' in _cell(np.float64(np.nan))


# ------------------------------------------------------------------ in a real browser
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Debian's chromium and chromium-driver are not "
                                "installed (.ci/run installs them)")


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-test.txt)")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


@needs_browser
def test_page_renders_sorts_and_plays_in_chromium(tmp_path, signal, rng, browser):
    from selenium.webdriver.common.by import By

    from codecbench_utils.leaderboard import build_leaderboard

    site = build_leaderboard(_runs(tmp_path, signal, rng), tmp_path / "site", clip_seconds=1.0)
    browser.get(site.index.resolve().as_uri())
    assert browser.title == "CodecBench leaderboard"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "identity" in text and "opus_6k" in text
    # sorting: click the "mean" header of the first metric table twice; the order must flip
    table = browser.find_elements(By.CSS_SELECTOR, "table.sortable")[1]
    header = [b for b in table.find_elements(By.CSS_SELECTOR, "th button") if b.text == "mean"][0]

    def first_column():
        return [r.find_elements(By.TAG_NAME, "td")[0].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]

    header.click()
    ascending = first_column()
    header.click()
    assert first_column() == ascending[::-1] and len(ascending) == 2
    durations = browser.execute_async_script(
        "var done = arguments[0]; var as = Array.from(document.querySelectorAll('audio'));"
        "Promise.all(as.map(function (a) { return new Promise(function (r) {"
        "a.addEventListener('loadedmetadata', function () { r(a.duration); });"
        "a.addEventListener('error', function () { r(-1); }); a.preload = 'metadata'; a.load(); }); }))"
        ".then(done);")
    assert len(durations) == 8 and all(d > 0 for d in durations)
    browser.save_screenshot(str(tmp_path / "leaderboard.png"))
    assert (tmp_path / "leaderboard.png").stat().st_size > 0


def test_best_and_worst_samples_follow_the_metrics_direction(tmp_path, signal, rng):
    """For a lower-is-better metric (MSE) the best item is the one with the lowest value, not the highest."""
    import pandas as pd

    from codecbench_utils.leaderboard import build_leaderboard

    runs = _runs(tmp_path, signal, rng)
    rows = pd.read_parquet(runs / "opus_6k" / "acoustic" / "d.parquet")
    speech = rows[rows["category"] == "speech"]
    lowest, highest = speech.loc[speech["mse"].idxmin(), "item"], speech.loc[speech["mse"].idxmax(), "item"]
    assert lowest != highest
    build_leaderboard(runs, tmp_path / "site", clip_seconds=1, sample_metric="mse")
    names = {p.name for p in (tmp_path / "site" / "audio" / "opus_6k").iterdir()}
    assert f"{lowest.replace('/', '__')}_best_codec.flac" in names
    assert f"{highest.replace('/', '__')}_worst_codec.flac" in names
