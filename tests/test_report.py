"""Tables and figures from synthetic result files; notebook 05 under papermill."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from codecbench_utils import report, tables
from codecbench_utils.stages import figures as figures_stage

ROOT = Path(__file__).resolve().parents[1]
CODECS = ("dac_24k_nq8", "opus_6k", "identity")


def _fake_runs(runs: Path, rng: np.random.Generator) -> None:
    for ci, codec in enumerate(CODECS):
        rows = []
        for cat, ds in (("speech", "librispeech"), ("speech", "vctk"), ("music", "gtzan"), ("sound", "esc50"),
                        ("general", "audioset")):
            for i in range(4):
                row = {"item": f"{ds}/{i}", "dataset": ds, "category": cat, "profile": "paper", "status": "ok"}
                row.update({m: float(rng.uniform(0.5, 1.0) + ci) for m in tables.ACOUSTIC_METRICS})
                rows.append(row)
        rows[0]["pesq_nb"] = np.nan
        rows[0]["status"] = "pesq_nb: no utterances detected"
        (runs / codec / "acoustic").mkdir(parents=True)
        pd.DataFrame(rows).to_parquet(runs / codec / "acoustic" / "metrics.parquet")
        (runs / codec / "probes").mkdir(parents=True)
        pd.DataFrame([{"codec": codec, "feature": f"codec:{codec}", "dataset": "mini_speech", "seed": 0,
                       "step": s, "wer": 1.0 - 0.1 * s - 0.05 * ci} for s in (1, 2)]).to_parquet(
            runs / codec / "probes" / "asr.parquet")
        pd.DataFrame([{"codec": codec, "feature": f"codec:{codec}", "dataset": ds, "seed": 0, "fold": f,
                       "accuracy": 0.5 + 0.1 * f} for ds in ("ravdess", "esc50") for f in range(3)]).to_parquet(
            runs / codec / "probes" / "classification.parquet")
        (runs / codec / "resynth").mkdir()
        with (runs / codec / "resynth" / "index.jsonl").open("w") as fh:
            for k in range(2):
                fh.write(json.dumps({"id": f"x{k}", "status": "ok", "bitrate_kbps": 5.0 + ci + k}) + "\n")


def test_acoustic_table_means_per_dataset_then_over_datasets():
    df = pd.DataFrame({"codec": "c", "category": "speech", "dataset": ["a", "a", "a", "b"],
                       "mel_loss": [1.0, 2.0, np.nan, 10.0]})
    t = tables.acoustic_table(df, scope="speech", metrics=("mel_loss",))
    # dataset a: mean(1, 2) = 1.5 (NaN left out and counted); b: 10 -> (1.5 + 10) / 2
    assert t.loc[0, "mel_loss"] == pytest.approx(5.75)
    assert t.loc[0, "n_items"] == 4 and t.loc[0, "n_failed"] == 1


def test_paper_ids_cover_all_14_configurations():
    ids = set(tables.load_paper_table("overall")["codec"])
    assert None not in ids and len(ids) == 14
    assert {"dac_44k_nq9", "dac_24k_nq8", "stablecodec_nq4", "baichuan_nq8", "xcodec2"} <= ids
    assert tables.paper_id("DAC 24k", 32) == "dac_24k_nq32"


def test_compare_with_paper_reports_difference():
    paper = tables.load_paper_table("overall")
    ours = pd.DataFrame({"codec": ["dac_24k_nq8", "opus_6k"], "mel_loss": [1.0, 2.0]})
    cmp = tables.compare_with_paper(ours, "overall")
    assert list(cmp["codec"]) == ["dac_24k_nq8"]
    expected = float(paper.loc[paper["codec"] == "dac_24k_nq8", "mel_loss"].iloc[0])
    assert cmp.loc[0, "paper"] == pytest.approx(expected) and cmp.loc[0, "diff"] == pytest.approx(1.0 - expected)


def test_report_writes_every_table_and_figure(tmp_path, rng):
    runs = tmp_path / "runs"
    _fake_runs(runs, rng)
    cfg = figures_stage.config(runs=runs, out_dir=tmp_path / "fig", metric_profile="paper")
    res = report.load_results(cfg)
    made = report.make_tables(res, cfg)
    for name in ("table3_overall", "table4_categories", "table7_speech", "table8_music", "table9_sound",
                 "table10_general", "table5_classification", "paper_vs_ours_overall", "asr_wer"):
        assert name in made
        for ext in ("csv", "md", "tex"):
            assert (tmp_path / "fig" / f"{name}.{ext}").stat().st_size > 0
    t3 = made["table3_overall"]
    assert list(t3["codec"]) == sorted(CODECS)
    assert {"kbps", *tables.ACOUSTIC_METRICS} <= set(t3.columns)
    assert t3.set_index("codec").loc["opus_6k", "kbps"] == pytest.approx(6.5)  # measured, not nominal
    assert set(made["table5_classification"].columns) >= {"codec", "ravdess", "esc50"}
    wer = made["asr_wer"].set_index("codec")["wer"]
    assert wer["identity"] == pytest.approx(1.0 - 0.2 - 0.1)  # the last step's WER
    paths = report.make_figures(res, cfg)
    names = {p.name for p in paths}
    assert {"fig2_wer_vs_sim.png", "fig2_wer_vs_sim.svg", "rate_quality.png", "bars_pesq_nb.png"} <= names
    assert all(p.stat().st_size > 1000 for p in paths)


def test_notebook_05_runs_under_papermill(tmp_path, rng):
    import papermill as pm

    runs = tmp_path / "runs"
    _fake_runs(runs, rng)
    pm.execute_notebook(str(ROOT / "notebooks/05_figures.ipynb"), str(tmp_path / "05.ipynb"),
                        parameters={"runs": str(runs), "out_dir": str(tmp_path / "fig"), "metric_profile": "paper"},
                        cwd=str(ROOT), progress_bar=False, kernel_name="python3")
    assert (tmp_path / "fig" / "fig2_wer_vs_sim.png").is_file()
    assert (tmp_path / "fig" / "table3_overall.md").is_file()


def test_codecbench_figures_writes_html_report(tmp_path, rng):
    from codecbench_utils.runner import run_figures

    runs = tmp_path / "runs"
    _fake_runs(runs, rng)
    r = run_figures(preset="paper", runs=runs, overrides={"out_dir": str(tmp_path / "fig")}, progress=False)
    html = r.notebook.with_suffix(".html").read_text()
    assert "table3_overall" in html and "data:image/png;base64" in html
    assert "stage.config(" not in html  # code hidden: a report, not a notebook dump


def test_show_figures_embeds_each_png_once(tmp_path):
    import base64
    import re

    from codecbench_utils.stages.figures import show_figures

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
    (tmp_path / "table3.png").write_bytes(png)
    (tmp_path / "notes.txt").write_text("not a figure")
    html = show_figures(sorted(tmp_path.iterdir())).data
    blobs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert [base64.b64decode(b) for b in blobs] == [png]
    assert "<h4>table3</h4>" in html and "notes" not in html
    assert "no figures" in show_figures([]).data


def test_asr_paired_against_identity_says_when_a_codec_differs():
    import numpy as np
    import pandas as pd

    from codecbench_utils.report import _asr_against_reference

    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 40, 40)
    rows = []
    for codec, rate in (("identity", 0.15), ("good", 0.155), ("bad", 0.40)):
        for i, n in enumerate(lengths):
            e = int(rng.binomial(n, rate))
            rows.append({"codec": codec, "feature": "logmel_resynth", "source": f"logmel:runs/{codec}/resynth",
                         "dataset": "mini_speech", "seed": 0, "item": f"u{i}", "word_errors": e // 4,
                         "n_words": n // 4, "char_errors": e, "n_chars": int(n)})
    out = _asr_against_reference(pd.DataFrame(rows))
    cer = out[out["rate"] == "cer"].set_index("codec")
    assert bool(cer.loc["bad", "differ"]) and cer.loc["bad", "lo"] > 0
    assert cer.loc["good", "lo"] < cer.loc["good", "difference"] < cer.loc["good", "hi"]
    assert set(out["reference"]) == {"identity"} and (out["n_items"] == 40).all()


def test_tables_keep_their_codec_column_in_every_format(tmp_path):
    import pandas as pd

    from codecbench_utils import tables

    rows = [{"codec": c, "category": cat, "dataset": f"d{cat}", "mel_loss": v, "pesq_nb": 2.0, "stoi": 0.9}
            for c, v in (("a", 1.0), ("b", 2.0)) for cat in ("speech", "music")]
    t4 = tables.table4(pd.DataFrame(rows))
    paths = tables.write_table(t4, tmp_path, "t4")
    for p in paths:
        text = p.read_text()
        assert "codec" in text and "\na" in text.replace("| ", "\n").replace("a &", "\na &"), p
    assert list(pd.read_csv(paths[0]).columns[:1]) == ["codec"]


def test_bitrates_and_axes_read_as_people_write_them():
    from codecbench_utils.metrics.profiles import METRIC_LABELS, METRICS
    from codecbench_utils.plots import format_kbps

    assert [format_kbps(v) for v in (256.0, 33.5, 6.226, 3.2, 0.75)] == [
        "256 kbps", "34 kbps", "6.2 kbps", "3.2 kbps", "0.75 kbps"]
    assert set(METRIC_LABELS) == set(METRICS)
    from codecbench_utils.tables import LOWER_IS_BETTER

    for m, label in METRIC_LABELS.items():  # one direction, the same one the tables use
        assert ("↓" in label) == (m in LOWER_IS_BETTER) and ("↑" in label) != ("↓" in label), m


def test_paper_codecs_without_results_are_listed_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    missing = report._paper_codecs_missing({"dac_24k_nq8"})
    assert len(missing) == 13 and "dac_24k_nq8" not in set(missing["codec"])
    why = dict(zip(missing["codec"], missing["why not in the comparison"]))
    assert "codecbench codecs fetch mimi_nq8" in why["mimi_nq8"]


def test_rate_quality_tells_neural_from_classical_codecs():
    import matplotlib

    matplotlib.use("Agg")
    from codecbench_utils import plots

    df = pd.DataFrame([{"codec": c, "category": "speech", "kbps": k, "pesq_nb": q, "family": c.split("_")[0],
                        "kind": kind} for c, k, q, kind in (("opus_6k", 6.2, 2.0, "classical"),
                                                            ("lyra_v2_6k", 6.0, 2.2, "neural"),
                                                            ("lyra_v2_9k2", 9.2, 2.4, "neural"))])
    fig = plots.rate_quality(df, metrics=("pesq_nb",))
    markers = {line.get_marker() for line in fig.axes[0].get_lines()}
    assert markers == {"o", "^"}
    assert {t.get_text() for t in fig.legends[0].get_texts()} >= {"neural (▲)", "classical (●)"}


def test_paper_tables_say_which_cells_mix_categories_and_standard_tables_do_not(tmp_path):
    rows = []
    for profile in ("paper", "standard"):
        for cat in ("speech", "music"):
            value = 3.0 if profile == "paper" or cat == "speech" else np.nan  # standard: not valid on music
            rows.append({"codec": profile, "item": cat, "dataset": f"d{cat}", "category": cat, "profile": profile,
                         "pesq_wb": value, "mse": 0.1, "status": "ok",
                         "not_scored": "pesq_wb" if np.isnan(value) else ""})
    df = pd.DataFrame(rows)
    paper = tables.acoustic_table(df[df["profile"] == "paper"], metrics=("mse", "pesq_wb"))
    standard = tables.acoustic_table(df[df["profile"] == "standard"], metrics=("mse", "pesq_wb"))
    assert len(paper.attrs["notes"]) == 1 and paper.attrs["notes"][0].startswith("pesq_wb mixes categories")
    assert "music" in paper.attrs["notes"][0] and standard.attrs["notes"] == []
    assert standard["n_failed"].tolist() == [0]
    paths = tables.write_table(paper, tmp_path, "t3")
    assert "Note: pesq_wb mixes categories" in (tmp_path / "t3.md").read_text()
    assert "mixes categories" in (tmp_path / "t3.tex").read_text() and (tmp_path / "t3.notes.txt") in paths
    assert list(pd.read_csv(tmp_path / "t3.csv").columns) == ["codec", "mse", "pesq_wb", "n_items", "n_failed"]


def test_table5_pools_baseline_features_into_their_own_rows_and_compares_whisper_small_with_the_paper(tmp_path):
    import pandas as pd

    from codecbench_utils import tables

    rows = []
    for codec in ("dac_24k_nq8", "identity"):
        for feature, acc in (("codec_embedding", 0.40 if codec == "dac_24k_nq8" else 0.5), ("whisper_small", 0.7),
                             ("logmel_resynth", 0.3)):
            for fold in range(2):
                rows.append({"codec": codec, "feature": feature, "dataset": "ravdess", "fold": fold,
                             "accuracy": acc + (0.02 if codec == "identity" and feature == "whisper_small" else 0)})
    t5 = tables.classification_table(pd.DataFrame(rows))
    whisper = t5[t5["codec"] == "whisper_small"]
    assert len(whisper) == 1 and whisper["ravdess"].iloc[0] == pytest.approx(0.71)  # pooled over both runs
    assert set(t5["codec"]) == {"dac_24k_nq8", "identity", "whisper_small"}
    assert len(t5[(t5["codec"] == "dac_24k_nq8")]) == 2  # its embedding and its resynthesis' log-mel
    paper = tables.load_paper_table("classification")
    cmp = tables.compare_with_paper(t5[t5["feature"].isin(["codec_embedding", "whisper_small"])], "classification")
    row = cmp[(cmp["codec"] == "whisper_small") & (cmp["metric"] == "ravdess")].iloc[0]
    assert row["paper"] == pytest.approx(float(paper.loc[paper["codec"] == "whisper_small", "ravdess"].iloc[0]))
    assert row["ours"] == pytest.approx(0.71)
