"""The paper's tables and figures regenerated from result files alone (stage 05's work).

Reads ``<runs>/<codec>/acoustic/*.parquet`` (per-item metric rows),
``<runs>/<codec>/probes/*.parquet`` (ASR and classification probe results) and
``<runs>/<codec>/resynth/index.jsonl`` (measured bitrates); writes Markdown,
CSV and LaTeX tables and PNG + SVG figures into ``out_dir``. The functions take the
stage's config (:class:`codecbench_utils.stages.figures.Config`: ``runs``, ``out_dir``,
``metric_profile``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from . import plots, tables
from .layout import RunsLayout
from .probes.results import (
    ASR_FILE,
    ASR_ITEMS_FILE,
    CLS_FILE,
    CLS_ITEMS_FILE,
    read_probe_results,
    reading,
    summarize_asr,
)

__all__ = ["Results", "load_results", "make_tables", "make_figures"]

class Config(Protocol):
    """What the functions read of the figures stage's config (``stages.figures.Config``)."""

    runs: Path
    out_dir: Path
    metric_profile: str


logger = logging.getLogger(__name__)


@dataclass
class Results:
    """Everything notebook 05 shows: per-item acoustic rows, probe rows, per-codec facts."""

    acoustic: pd.DataFrame
    asr: pd.DataFrame
    classification: pd.DataFrame
    codecs: pd.DataFrame  # codec, family, kbps (measured where resynthesis ran), nominal_kbps
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def describe(self) -> str:
        n_codecs = self.acoustic["codec"].nunique() if not self.acoustic.empty else 0
        return (f"{len(self.acoustic)} acoustic rows from {n_codecs} codec(s), {len(self.asr)} ASR probe rows, "
                f"{len(self.classification)} classification probe rows")


def _codec_facts(runs: Path, codecs: list[str]) -> pd.DataFrame:
    from .codecs.registry import codec_specs
    from .codecs.resynth import read_index
    layout = RunsLayout(runs)
    specs = codec_specs()
    rows = []
    for c in codecs:
        spec = specs.get(c)
        recs = [r for r in read_index(layout.resynth_dir(c)).values() if r.status == "ok" and r.bitrate_kbps]
        measured = float(np.mean([r.bitrate_kbps for r in recs])) if recs else np.nan
        nominal = spec.kbps if spec is not None and spec.kbps is not None else np.nan
        rows.append({"codec": c, "family": spec.family if spec else "", "nominal_kbps": nominal,
                     "kbps": measured if np.isfinite(measured) else nominal})
    return pd.DataFrame(rows, columns=["codec", "family", "nominal_kbps", "kbps"])


def _one_metric_profile(acoustic: pd.DataFrame, wanted: str) -> pd.DataFrame:
    """The rows of one metric profile: ``wanted``, or the only one there is; two mixed in one mean is refused."""
    if acoustic.empty or "metric_profile" not in acoustic.columns:
        return acoustic
    if wanted:
        return acoustic[acoustic["metric_profile"] == wanted]
    found = sorted(set(acoustic["metric_profile"].dropna()))
    if len(found) > 1:
        from .errors import ConfigError

        raise ConfigError(f"the acoustic results hold rows of metric profiles {found}; a table mixing them would "
                          "mean nothing: pass metric_profile (notebook 05, `codecbench figures -p "
                          "figures.metric_profile=NAME`, `codecbench leaderboard --metric-profile NAME`)")
    return acoustic


def load_results(cfg: Config) -> Results:
    """Collect every codec's result files under ``cfg.runs`` (acoustic rows of one metric profile)."""
    acoustic = _one_metric_profile(tables.collect_results(cfg.runs, "acoustic"), cfg.metric_profile)
    asr = read_probe_results(cfg.runs, ASR_FILE)
    cls = read_probe_results(cfg.runs, CLS_FILE)
    names = sorted(set(acoustic.get("codec", pd.Series(dtype=str))) | set(asr.get("codec", pd.Series(dtype=str)))
                   | set(cls.get("codec", pd.Series(dtype=str))))
    return Results(acoustic, asr, cls, _codec_facts(cfg.runs, names))


def _with_rate(table: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return table
    out = table.merge(facts[["codec", "kbps"]], on="codec", how="left")
    out = out[["codec", "kbps", *[c for c in out.columns if c not in ("codec", "kbps")]]]
    out.attrs = dict(table.attrs)  # the table's notes (cells that mix categories) survive the merge
    return out


def _final_wer(asr: pd.DataFrame) -> pd.DataFrame:
    """Per codec: the WER of the selected checkpoint, mean over seeds, codec-embedding probes first."""
    if asr.empty:
        return pd.DataFrame(columns=["codec", "wer"])
    df = asr
    if "selected" in df.columns:
        df = df[df["selected"].astype(bool)]
    elif "step" in df.columns:
        df = df[df["step"] == df.groupby(["codec", *([c for c in ("feature", "seed") if c in df.columns])])["step"]
                .transform("max")]
    if "feature" in df.columns:
        codec_feat = df[df["feature"].astype(str).str.startswith("codec")]
        df = pd.concat([codec_feat, df[~df["codec"].isin(codec_feat["codec"])]])
        df = df[df["feature"] == df.groupby("codec")["feature"].transform("first")]
    agg = {"wer": ("wer", "mean")}
    if {"wer_lo", "wer_hi"} <= set(df.columns):  # per-run 95% intervals over utterances, averaged over seeds
        agg.update(wer_lo=("wer_lo", "mean"), wer_hi=("wer_hi", "mean"))
    if "seed" in df.columns:
        agg["n_seeds"] = ("seed", "nunique")
    out = df.groupby("codec", as_index=False).agg(**agg)
    flags = []
    for codec in out["codec"]:
        runs = df[df["codec"] == codec]
        f = []
        if "above_floor" in runs.columns and not runs["above_floor"].astype(bool).all():
            f.append("not below the trivial CTC floor")
        if "selected_first_eval" in runs.columns and runs["selected_first_eval"].astype(bool).any():
            f.append("kept its first checkpoint")
        flags.append("; ".join(f))
    out["caveat"] = flags
    return out


def _paper_codecs_missing(ran: set[str]) -> pd.DataFrame:
    """The paper's codecs with no results here, and why each cannot run (the comparison with the
    paper's tables covers only the others)."""
    from .codecs.registry import list_codecs

    paper_ids = [c for c in tables.load_paper_table("overall")["codec"] if c]
    rows = {r["id"]: r for r in list_codecs()}
    out = []
    for c in paper_ids:
        if c in ran:
            continue
        r = rows.get(c)
        why = ("no configuration in params/codecs" if r is None else
               "runnable here, but not run (add it to the demo or `codecbench run --codec " + c + "`)"
               if r["available"] else str(r["reason"]))
        out.append({"codec": c, "why not in the comparison": why})
    return pd.DataFrame(out)


def _asr_against_reference(items: pd.DataFrame, reference: str = "identity") -> pd.DataFrame:
    """Each codec's log-mel-of-resynthesis ASR probe against the reference codec's, paired over utterances.

    The honest form of "codec A keeps more of the words than codec B": the CER (and WER)
    difference with a 95% paired bootstrap interval; ``differ`` says whether it excludes 0.
    """
    from .probes.results import compare_asr

    if items.empty or "feature" not in items.columns:
        return pd.DataFrame()
    resynth = items[items["feature"] == "logmel_resynth"]
    ref = resynth[resynth["codec"] == reference]
    rows = []
    for ds in sorted(set(ref["dataset"])):
        ref_src = ref[ref["dataset"] == ds]["source"].iloc[0]
        for codec in sorted(set(resynth["codec"]) - {reference}):
            mine = resynth[(resynth["codec"] == codec) & (resynth["dataset"] == ds)]
            if mine.empty:
                continue
            for rate in ("cer", "wer"):
                r = compare_asr(resynth, mine["source"].iloc[0], ref_src, rate=rate, dataset=ds, codec_a=codec,
                                codec_b=reference)
                rows.append({"codec": codec, "reference": reference, "dataset": ds, "rate": rate,
                             "n_items": r["n_items"], "codec_rate": r["rate_a"], "reference_rate": r["rate_b"],
                             "difference": r["difference"], "lo": r["lo"], "hi": r["hi"], "differ": r["differ"]})
    return pd.DataFrame(rows)


def _conformance(runs: Path) -> pd.DataFrame:
    """One row per codec checked with ``codecbench codecs check``: each check's status (details in the JSON)."""
    from .codecs.conformance import CHECKS, read_report

    rows = []
    for path in RunsLayout(runs).conformance_files():
        report = read_report(path)
        if report:
            rows.append({"codec": report["codec"], **{r["name"]: r["status"] for r in report["results"]}})
    return pd.DataFrame(rows, columns=["codec", *CHECKS]) if rows else pd.DataFrame()


def make_tables(results: Results, cfg: Config) -> dict[str, pd.DataFrame]:
    """Write Table 3, 4, 7-10, 5 and the paper comparisons into ``cfg.out_dir``; return them."""
    out = cfg.out_dir
    made: dict[str, pd.DataFrame] = {}
    ac = results.acoustic
    if not ac.empty:
        made["table3_overall"] = _with_rate(tables.acoustic_table(ac, scope="overall"), results.codecs)
        made["table4_categories"] = tables.table4(ac)
        for num, cat in ((7, "speech"), (8, "music"), (9, "sound"), (10, "general")):
            t = tables.acoustic_table(ac, scope=cat)
            if not t.empty:
                made[f"table{num}_{cat}"] = _with_rate(t, results.codecs)
        for key, scope in (("table3_overall", "overall"), ("table7_speech", "speech"), ("table8_music", "music"),
                           ("table9_sound", "sound"), ("table10_general", "general")):
            if key in made:
                cmp = tables.compare_with_paper(made[key], scope)
                if not cmp.empty:
                    made[f"paper_vs_ours_{scope}"] = cmp
    conformance = _conformance(cfg.runs)
    if not conformance.empty:
        made["codec_conformance"] = conformance
    missing = _paper_codecs_missing(set(ac.get("codec", pd.Series(dtype=str))))
    if not missing.empty:
        made["paper_codecs_missing"] = missing
    if not results.classification.empty:
        made["table5_classification"] = tables.classification_table(results.classification)
        t5 = made["table5_classification"]
        if "feature" in t5.columns:  # the paper probes codec embeddings and Whisper-Small: only those rows compare
            t5 = t5[(t5["feature"] == "codec_embedding") | t5["feature"].astype(str).str.startswith("whisper_")]
        cmp = tables.compare_with_paper(t5, "classification").dropna(subset=["ours"])
        if not cmp.empty:
            made["paper_vs_ours_classification"] = cmp
        from .probes.classification import summarize_folds

        ci = pd.DataFrame(summarize_folds(results.classification.to_dict("records"),
                                          read_probe_results(cfg.runs, CLS_ITEMS_FILE).to_dict("records")))
        ci["reading"] = [reading(r, "classification") for r in ci.to_dict("records")]
        made["probe_classification_intervals"] = ci[[c for c in (
            "codec", "feature", "dataset", "accuracy", "accuracy_lo", "accuracy_hi", "chance", "above_chance",
            "seed_std", "fold_std", "n_seeds", "n_first_eval", "reading") if c in ci.columns]]
    wer = _final_wer(results.asr)
    if not wer.empty:
        made["asr_wer"] = wer
        asr_items = read_probe_results(cfg.runs, ASR_ITEMS_FILE)
        summary = summarize_asr(results.asr, asr_items)
        paired = _asr_against_reference(asr_items)
        if not paired.empty:
            made["probe_asr_paired"] = paired
        summary["reading"] = [reading(r, "asr") for r in summary.to_dict("records")]
        made["probe_asr_intervals"] = summary[[c for c in (
            "codec", "feature", "dataset", "wer", "wer_lo", "wer_hi", "cer", "cer_lo", "cer_hi", "floor",
            "above_floor", "wer_seed_std", "n_seeds", "n_first_eval", "reading") if c in summary.columns]]
    for name, df in made.items():
        tables.write_table(df, out, name)
    results.tables = made
    logger.info("wrote %d tables to %s", len(made), out)
    return made


def _bubble_frame(results: Results) -> pd.DataFrame:
    facts = results.codecs[["codec", "kbps"]]
    sim = (results.acoustic[results.acoustic["category"] == "speech"].groupby("codec", as_index=False)["sim"].mean()
           if not results.acoustic.empty and "sim" in results.acoustic.columns else pd.DataFrame(columns=["codec", "sim"]))
    return facts.merge(_final_wer(results.asr), on="codec", how="left").merge(sim, on="codec", how="left")


def make_figures(results: Results, cfg: Config) -> list[Path]:
    """Figure 2 (WER vs SIM bubbles), rate–quality curves and per-category bars (PNG + SVG)."""
    import matplotlib.pyplot as plt

    paths: list[Path] = []
    bubble = _bubble_frame(results)
    if not bubble.empty:
        fig = plots.bubble_wer_sim(bubble)
        paths += plots.save_figure(fig, cfg.out_dir, "fig2_wer_vs_sim")
        plt.close(fig)
    ac = results.acoustic
    if not ac.empty:
        per_cat = pd.concat(
            [tables.acoustic_table(ac, scope=cat).assign(category=cat) for cat in ("speech", "music", "sound", "general")],
            ignore_index=True,
        ).merge(results.codecs, on="codec", how="left")
        per_cat["kind"] = ["classical" if f in ("classical", "anchor") or not isinstance(f, str) or not f
                           else "neural" for f in per_cat.get("family", pd.Series("", index=per_cat.index))]
        # join points of one codec line (opus_6k, opus_24k, ...), not of a whole family such as "classical"
        per_cat["family"] = per_cat["codec"].str.split("_").str[0]
        fig = plots.rate_quality(per_cat)
        paths += plots.save_figure(fig, cfg.out_dir, "rate_quality")
        plt.close(fig)
        for metric in ("mel_loss", "pesq_nb", "stoi", "visqol"):
            if metric in per_cat.columns and per_cat[metric].notna().any():
                fig = plots.category_bars(per_cat, metric)
                paths += plots.save_figure(fig, cfg.out_dir, f"bars_{metric}")
                plt.close(fig)
    logger.info("wrote %d figure files to %s", len(paths), cfg.out_dir)
    return paths
