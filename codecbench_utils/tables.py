"""The paper's tables from result files, and the side-by-side comparison with its numbers.

Inputs are the per-item acoustic rows (``<runs>/<codec>/acoustic/metrics.parquet``)
and the probe results (``<runs>/<codec>/probes/*.parquet``). Aggregation:
per codec and category, the mean over items of each dataset, then the mean
over datasets (each dataset weighs the same, however many items it has);
"overall" is the mean over all datasets. Failed values (NaN) are left out of
the means and counted in ``n_failed``; in the ``standard`` profile a metric not valid for an
item's category (PESQ, STOI, SIM on music and sound) is NaN too, in no mean, but no failure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics.registry import METRICS, get_metric, lower_is_better
from .paths import params_dir
from .results import failed_cells

__all__ = [
    "ACOUSTIC_METRICS",
    "flat_table",
    "TABLE4_METRICS",
    "CLASSIFICATION_DATASETS",
    "PAPER_TABLES",
    "collect_results",
    "acoustic_table",
    "table4",
    "classification_table",
    "load_paper_table",
    "paper_id",
    "compare_with_paper",
    "write_table",
]

logger = logging.getLogger(__name__)

#: every acoustic result column, in registry order (a table shows those its rows have)
ACOUSTIC_METRICS: tuple[str, ...] = METRICS
#: higher is better for all but these (the registry's, plus the probes' error rates)
LOWER_IS_BETTER: frozenset[str] = lower_is_better() | {"wer", "cer"}
TABLE4_METRICS: tuple[str, ...] = ("mel_loss", "pesq_nb", "stoi")
CLASSIFICATION_DATASETS: tuple[str, ...] = ("ravdess", "crema_d", "meld", "chord", "gtzan", "nsynth", "esc50",
                                            "vocalsound")
#: file of the paper's numbers per table scope
PAPER_TABLES: dict[str, str] = {
    "overall": "table3_overall.csv",
    "speech": "table7_speech.csv",
    "music": "table8_music.csv",
    "sound": "table9_sound.csv",
    "general": "table10_general.csv",
    "classification": "table5_classification.csv",
}
#: (model as printed, nq) -> our codec id; DAC also needs the sample rate (24 vs 44 kHz)
_PAPER_IDS: dict[tuple[str, str], str] = {
    ("dac24", "8"): "dac_24k_nq8", ("dac24", "32"): "dac_24k_nq32", ("dac44", "9"): "dac_44k_nq9",
    ("maskgct", "8"): "maskgct_nq8", ("maskgct", "12"): "maskgct_nq12", ("maskgct", "10"): "maskgct_nq10",
    ("bigcodec", "1"): "bigcodec", ("mimi", "8"): "mimi_nq8", ("mimi", "32"): "mimi_nq32",
    ("stablecodec", "1"): "stablecodec_nq1", ("stablecodec", "4"): "stablecodec_nq4",
    ("xcodec2", "1"): "xcodec2", ("flowdec", "8"): "flowdec_nq8", ("flowdec", "10"): "flowdec_nq10",
    ("baichuan", "8"): "baichuan_nq8", ("whispersmall", "/"): "whisper_small",
}


def paper_id(model: str, nq: object, sample_rate: object = None) -> str | None:
    """Our codec id for a row of the paper's tables (None if we have no such configuration)."""
    key = "".join(ch for ch in str(model).lower() if ch.isalnum())
    key = {"maskgctcodec": "maskgct", "xcodec20": "xcodec2", "dac24k": "dac24"}.get(key, key)
    if key == "dac":
        key = "dac44" if str(sample_rate).startswith("44") else "dac24"
    nq_s = str(nq).strip()
    if nq_s.endswith(".0"):
        nq_s = nq_s[:-2]
    return _PAPER_IDS.get((key, nq_s))


def collect_results(runs: str | Path, kind: str = "acoustic") -> pd.DataFrame:
    """Concatenate ``<runs>/<codec>/<kind>/*.parquet`` (empty frame if none).

    Rows carry their ``codec`` since the driver writes it; files written before that get it from
    their folder.
    """
    from .layout import RunsLayout
    from .metrics.compute import read_results

    layout = RunsLayout(runs)
    frames = []
    for path in layout.result_files(kind):
        df = read_results(path)
        if "codec" not in df.columns or df["codec"].isna().all():
            df = df.drop(columns=["codec"], errors="ignore")
            df.insert(0, "codec", layout.codec_of(path))
        df["source_file"] = str(path)
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def _dataset_means(df: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    cols = [m for m in metrics if m in df.columns]
    keys = ["codec", "category", "dataset"]
    g = df.groupby(keys, sort=True)
    means = g[cols].mean()
    n_items = g.size().rename("n_items")
    failed = failed_cells(df, cols)
    n_failed = failed.groupby([df[k] for k in keys], sort=True).sum().sum(axis=1).astype(int).rename("n_failed")
    return pd.concat([means, n_items, n_failed], axis=1).reset_index()


def acoustic_table(df: pd.DataFrame, *, scope: str = "overall",
                   metrics: Sequence[str] = ACOUSTIC_METRICS) -> pd.DataFrame:
    """Table 3 (``scope='overall'``) or Tables 7-10 (``scope`` = a category): one row per codec."""
    if df.empty:
        return pd.DataFrame(columns=["codec", *metrics, "n_items", "n_failed"])
    per_ds = _dataset_means(df, metrics)
    if scope != "overall":
        per_ds = per_ds[per_ds["category"] == scope]
    cols = [m for m in metrics if m in per_ds.columns]
    g = per_ds.groupby("codec", sort=True)
    table = g[cols].mean()
    table["n_items"] = g["n_items"].sum()
    table["n_failed"] = g["n_failed"].sum()
    table = table.reset_index()
    table.attrs["notes"] = mixed_category_notes(per_ds, cols)
    return table


def mixed_category_notes(per_dataset: pd.DataFrame, metrics: Sequence[str]) -> list[str]:
    """One line per column whose means include categories the metric is not valid for.

    That happens in the ``paper`` profile, which computes PESQ, STOI and SIM on music and
    sound as the paper did; the ``standard`` profile leaves those cells out, so it has none.
    """
    notes = []
    for m in metrics:
        if m not in METRICS or m not in per_dataset.columns:
            continue
        with_values = set(per_dataset.loc[per_dataset[m].notna(), "category"].dropna())
        outside = sorted(with_values - set(get_metric(m).categories))
        if outside:
            notes.append(f"{m} mixes categories: its means include {', '.join(outside)} items, where "
                         f"{get_metric(m).why or 'it is not meaningful'} (paper profile, as the paper computed it)")
    return notes


def table4(df: pd.DataFrame) -> pd.DataFrame:
    """Table 4: mel loss, PESQ-NB and STOI per category, codecs as rows, (category, metric) columns."""
    parts = {cat: acoustic_table(df, scope=cat, metrics=TABLE4_METRICS).set_index("codec")[list(TABLE4_METRICS)]
             for cat in ("speech", "music", "sound", "general")}
    parts = {k: v for k, v in parts.items() if not v.empty}
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, axis=1)


#: features computed on the original audio, whichever codec's run trained them: one row of their own in Table 5
BASELINE_FEATURES = ("whisper_", "ssl_", "logmel_original")


def classification_table(probes: pd.DataFrame) -> pd.DataFrame:
    """Table 5: mean accuracy over folds (and seeds) per codec/feature and dataset.

    Baseline features (Whisper's encoder, SSL layers, log-mel of the original audio) do not depend on
    the codec whose run trained them: their rows are pooled under the feature's name (``whisper_small``,
    the paper's Whisper-Small row) instead of appearing once per codec.
    """
    if probes.empty:
        return pd.DataFrame()
    if "feature" in probes.columns:
        baseline = probes["feature"].astype(str).str.startswith(BASELINE_FEATURES)
        if baseline.any():
            probes = probes.copy()
            probes.loc[baseline, "codec"] = probes.loc[baseline, "feature"]
    key = ["codec", "feature"] if "feature" in probes.columns else ["codec"]
    wide = probes.groupby([*key, "dataset"])["accuracy"].mean().unstack("dataset")
    return wide.reset_index()


def load_paper_table(scope: str) -> pd.DataFrame:
    """The paper's published numbers for ``scope`` with our codec id in a ``codec`` column."""
    path = params_dir() / "paper_tables" / PAPER_TABLES[scope]
    t = pd.read_csv(path, dtype={"nq": str})
    t.insert(0, "codec", [paper_id(r.model, r.nq, getattr(r, "sample_rate", None)) for r in t.itertuples()])
    return t


def compare_with_paper(ours: pd.DataFrame, scope: str, *, metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """Ours beside the paper's for every configuration we ran: long format with the difference."""
    paper = load_paper_table(scope)
    metrics = list(metrics) if metrics is not None else [
        c for c in paper.columns if c in ours.columns and c not in ("codec", "model", "sample_rate", "nq", "kbps")]
    rows = []
    for _, r in ours.iterrows():
        match = paper[paper["codec"] == r["codec"]]
        if match.empty:
            continue
        p = match.iloc[0]
        for m in metrics:
            ov, pv = float(r[m]), float(p[m])
            rows.append({"codec": r["codec"], "metric": m, "ours": ov, "paper": pv, "diff": ov - pv})
    return pd.DataFrame(rows, columns=["codec", "metric", "ours", "paper", "diff"])


def flat_table(df: pd.DataFrame) -> pd.DataFrame:
    """A table as every format shows it: a named index (Table 4's codec) becomes a column, so the rows
    can be told apart, and two-level column names are joined (``speech pesq_nb``)."""
    flat = df.reset_index() if isinstance(df.index, pd.MultiIndex) or df.index.name is not None else df.copy()
    if isinstance(flat.columns, pd.MultiIndex):
        flat.columns = [" ".join(str(x) for x in c if str(x)) for c in flat.columns]
    return flat


def write_table(df: pd.DataFrame, out_dir: str | Path, stem: str, *, floatfmt: str = ".3f") -> list[Path]:
    """Write ``stem.csv``, ``stem.md`` and ``stem.tex``; returns the paths.

    Notes in ``df.attrs["notes"]`` (e.g. which cells mix categories) follow the table in the
    Markdown and LaTeX files and go to ``stem.notes.txt`` beside the CSV.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    flat = flat_table(df)
    notes = list(df.attrs.get("notes", ()))
    paths = [out / f"{stem}.csv", out / f"{stem}.md", out / f"{stem}.tex"]
    flat.to_csv(paths[0], index=False)
    paths[1].write_text(_markdown(flat, floatfmt) + "\n" + "".join(f"\nNote: {n}\n" for n in notes))
    tex = flat.to_latex(index=False, float_format=lambda v: format(v, floatfmt), na_rep="--")
    tex += "".join(f"\\par\\footnotesize Note: {_tex_escape(n)}\n" for n in notes)
    paths[2].write_text(tex)
    if notes:
        paths.append(out / f"{stem}.notes.txt")
        paths[-1].write_text("".join(f"{n}\n" for n in notes))
    return paths


def _tex_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "&%$#_{}" else ch for ch in text)


def _markdown(df: pd.DataFrame, floatfmt: str) -> str:
    """A plain pipe table (no tabulate dependency); NaN shows as an en dash."""
    df = df.reset_index() if df.index.name is not None else df
    def cell(v: object) -> str:
        if isinstance(v, (float, np.floating)):
            return "–" if np.isnan(v) else format(v, floatfmt)
        return str(v)
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])
