"""Figures: functions on tidy DataFrames that return matplotlib Figures.

Notebook 05 calls them and saves each with :func:`save_figure` (PNG + SVG).
Matplotlib is imported inside the functions with the non-interactive Agg
backend fallback, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["save_figure", "bubble_wer_sim", "rate_quality", "category_bars", "plot_learning_curves"]

_CATEGORIES = ("speech", "music", "sound", "general")


def _plt() -> Any:
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, out_dir: str | Path, stem: str) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` (150 dpi) and ``<stem>.svg``; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


def format_kbps(kbps: float) -> str:
    """A bitrate as people write it: ``256 kbps``, ``33 kbps``, ``6.2 kbps``, ``0.75 kbps``."""
    if kbps != kbps:  # continuous latents (VibeVoice, Pocket TTS) or a codec with no known rate
        return "no bitrate"
    return f"{kbps:.0f} kbps" if kbps >= 10 else f"{kbps:.2g} kbps"


def _label(metric: str) -> str:
    from .metrics.profiles import METRIC_LABELS

    return METRIC_LABELS.get(metric, metric)


def bubble_wer_sim(df: pd.DataFrame, *, title: str = "WER vs speaker similarity") -> Any:
    """Figure 2 of the paper: ASR-probe WER against SIM, bubble area proportional to bitrate.

    ``df`` has one row per codec with columns ``codec, wer, sim, kbps`` (and
    ``wer_lo, wer_hi``: drawn as 95% error bars). Lower-right is better (similar voice, low WER). Rows with a missing value are drawn
    nowhere and listed in the title's footnote instead of being dropped silently; codecs without a
    bitrate (continuous latents) are drawn as small hollow markers labelled "no bitrate".
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 5))
    ok = df.dropna(subset=["wer", "sim"])
    missing = sorted(set(df["codec"]) - set(ok["codec"]))
    if not ok.empty:
        rated, unrated = ok[ok["kbps"].notna()], ok[ok["kbps"].isna()]
        # area proportional to bitrate; a 15 pt^2 floor keeps the lowest-rate codecs visible
        area = 15 + 2000 * rated["kbps"] / max(float(rated["kbps"].max()), 1e-9) if not rated.empty else []
        ax.scatter(rated["sim"], rated["wer"], s=area, alpha=0.45, edgecolor="k")
        ax.scatter(unrated["sim"], unrated["wer"], s=40, facecolor="none", edgecolor="k")
        if {"wer_lo", "wer_hi"} <= set(ok.columns):  # 95% intervals of the WER over utterances
            bars = ok.dropna(subset=["wer_lo", "wer_hi"])
            ax.errorbar(bars["sim"], bars["wer"], yerr=[bars["wer"] - bars["wer_lo"], bars["wer_hi"] - bars["wer"]],
                        fmt="none", ecolor="0.3", elinewidth=1, capsize=3)
        for r in ok.itertuples():
            ax.annotate(f"{r.codec}\n{format_kbps(r.kbps)}", (r.sim, r.wer), fontsize=7, ha="center", va="center")
    ax.margins(0.15)
    ax.set_xlabel("SIM (speaker similarity, cosine, ↑)")
    bars = not ok.empty and {"wer_lo", "wer_hi"} <= set(ok.columns) and ok["wer_lo"].notna().any()
    ax.set_ylabel("WER of the ASR probe (↓" + ("; bars: 95% interval)" if bars else ")"))
    ax.set_title(title + (f"\n(no WER or SIM for: {', '.join(missing)})" if missing else ""), fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def rate_quality(df: pd.DataFrame, *, metrics: Sequence[str] = ("pesq_nb", "visqol", "mel_loss")) -> Any:
    """Rate–quality curves: bitrate (log axis) against each metric, one panel per metric.

    ``df``: one row per (codec, category) with ``codec, category, kbps`` and the
    metric columns; codecs of a family (``family`` column, if present) are joined
    by a line in bitrate order; with a ``kind`` column, ``neural`` codecs are drawn as triangles and the
    others as circles.
    """
    plt = _plt()
    metrics = [m for m in metrics if m in df.columns]
    fig, axes = plt.subplots(1, max(len(metrics), 1), figsize=(4.5 * max(len(metrics), 1), 4), squeeze=False)
    cats = [c for c in _CATEGORIES if c in set(df["category"])]
    colors = dict(zip(cats, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for ax, m in zip(axes[0], metrics, strict=False):
        for cat in cats:
            sub = df[df["category"] == cat].dropna(subset=["kbps", m]).sort_values("kbps")
            groups = [g for _, g in sub.groupby("family")] if "family" in sub.columns else [sub]
            for j, g in enumerate(groups):
                neural = "kind" in g.columns and (g["kind"] == "neural").any()
                ax.plot(g["kbps"], g[m], marker="^" if neural else "o", color=colors[cat], alpha=0.8,
                        label=cat if j == 0 else None)
        ax.set_xscale("log")
        ax.set_xlabel("bitrate (kbps, log scale)")
        ax.set_ylabel(_label(m))
        ax.grid(alpha=0.3, which="both")
    handles, labels = axes[0][0].get_legend_handles_labels()
    seen = dict(zip(labels, handles, strict=False))
    if "kind" in df.columns and (df["kind"] == "neural").any():
        from matplotlib.lines import Line2D

        seen["neural (▲)"] = Line2D([], [], marker="^", color="0.4", linestyle="none")
        seen["classical (●)"] = Line2D([], [], marker="o", color="0.4", linestyle="none")
    if seen:
        fig.legend(seen.values(), seen.keys(), loc="upper center", ncol=len(seen), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def category_bars(table: pd.DataFrame, metric: str) -> Any:
    """Grouped bars: one group per codec, one bar per category, for ``metric``.

    ``table``: rows ``codec, category`` with the metric column (NaN bars are left out).
    """
    plt = _plt()
    wide = table.pivot_table(index="codec", columns="category", values=metric, aggfunc="mean")
    cats = [c for c in _CATEGORIES if c in wide.columns]
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(wide) + 2), 4))
    width = 0.8 / max(len(cats), 1)
    x = np.arange(len(wide))
    for i, cat in enumerate(cats):
        ax.bar(x + i * width - 0.4 + width / 2, wide[cat].to_numpy(dtype=float), width, label=cat)
    ax.set_xticks(x, wide.index, rotation=45, ha="right")
    ax.set_ylabel(_label(metric))
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes: never on a bar
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_learning_curves(curves: pd.DataFrame, *, title: str = "ASR probe learning curves") -> Any:
    """ASR-probe learning curves: CTC loss (train and selection split) and selection WER against step.

    ``curves`` has the columns of ``asr_curves.csv``: ``step, train_loss, dev_loss,
    dev_wer`` plus optional ``codec, feature, dataset, seed`` naming each run; one
    line per run, the same colour for a run's train (dashed) and selection (solid) loss.
    """
    plt = _plt()
    fig, (ax_loss, ax_wer) = plt.subplots(1, 2, figsize=(11, 4))
    keys = [k for k in ("codec", "feature", "dataset", "seed") if k in curves.columns]
    groups = curves.groupby(keys, sort=True) if keys else [((), curves)]
    for i, (key, run) in enumerate(groups):
        key = key if isinstance(key, tuple) else (key,)
        name = " ".join(str(k) for k in key) or "run"
        run = run.sort_values("step")
        color = f"C{i % 10}"
        ax_loss.plot(run["step"], run["train_loss"], "--", color=color, alpha=0.7)
        ax_loss.plot(run["step"], run["dev_loss"], "-", color=color, label=name)
        ax_wer.plot(run["step"], run["dev_wer"], "-o", color=color, ms=3, label=name)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("CTC loss (dashed: train, solid: selection split)")
    ax_wer.set_xlabel("step")
    ax_wer.set_ylabel("WER on the selection split (lower is better)")
    ax_wer.set_ylim(bottom=0)
    for ax in (ax_loss, ax_wer):
        ax.grid(alpha=0.3)
    ax_wer.legend(frameon=False, fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- acoustic-metrics listening (#3)
def spectrogram_pair(ref: np.ndarray, est: np.ndarray, sr: int, *, title: str = "") -> Any:
    """Log-magnitude spectrograms of a reference and its estimate, one above the other."""
    plt = _plt()
    fig, axes = plt.subplots(2, 1, figsize=(8, 4.5), sharex=True, constrained_layout=True)
    for ax, wav, name in zip(axes, (ref, est), ("ref", "est"), strict=True):
        ax.specgram(np.asarray(wav, dtype=np.float64) + 1e-9, NFFT=512, Fs=sr, noverlap=384, cmap="magma")
        ax.set_ylabel(f"{name}\nHz")
    axes[-1].set_xlabel("s")
    if title:
        axes[0].set_title(title)
    return fig


def best_worst_examples(df: pd.DataFrame, *, metric: str, ref_paths: dict[str, Any],
                        est_paths: dict[str, Any], n: int = 1, higher_is_better: bool | None = None) -> Any:
    """Players and spectrograms of the ``n`` best and ``n`` worst items by ``metric``.

    ``ref_paths``/``est_paths`` map item ids to files; which way is better comes from the
    metric registry unless given. Returns an IPython display object (a table of players
    followed by the figures).
    """
    if higher_is_better is None:
        from .metrics.registry import higher_is_better as _higher

        higher_is_better = _higher(metric)
    import io

    from IPython.display import HTML

    from .audio import load_audio
    from .display import listening_table, png_img

    ok = df[np.isfinite(pd.to_numeric(df[metric], errors="coerce"))].sort_values(metric,
                                                                               ascending=not higher_is_better)
    picks = [("best", r) for _, r in ok.head(n).iterrows()] + [("worst", r) for _, r in ok.tail(n).iterrows()]
    rows = [(f"{tag} {metric}={r[metric]:.3f}: {r['item']}", ref_paths[r["item"]], est_paths[r["item"]])
            for tag, r in picks]
    figs = []
    for (label, ref, est) in rows:
        x, sr = load_audio(ref)
        y, _ = load_audio(est, sr=sr)
        fig = spectrogram_pair(x, y, sr, title=label)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        _plt().close(fig)
        figs.append(png_img(buf.getvalue()))
    return HTML(listening_table(rows).data + "".join(figs))


__all__ += ["spectrogram_pair", "best_worst_examples"]
