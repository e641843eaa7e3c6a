"""``codecbench leaderboard``: a static page built only from result files, that works offline.

One ``index.html`` (inline CSS and a few lines of JavaScript for sortable tables: no server,
no CDN, works from ``file://``) plus ``assets/`` (figures) and ``audio/`` (short clips):

- per category and metric, a table of codecs: bitrate, mean, 95% bootstrap interval over
  items, items with a value and items without one;
- the rate-quality figure (neural and classical codecs as separate families) and Figure 2;
- the probe results with their intervals and chance lines;
- for each codec, listening samples: the original beside the resynthesis, on the best and
  the worst speech item by ``sample_metric`` (clips trimmed to ``clip_seconds``);
- provenance: metric profile and implementation versions, codec families.
"""

from __future__ import annotations

import html
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .audio import PathLike, load_audio
from .layout import RunsLayout

__all__ = ["build_leaderboard", "LeaderboardSite"]

logger = logging.getLogger(__name__)


_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:.25em .6em;border-bottom:1px solid #ddd;
text-align:right}th:first-child,td:first-child{text-align:left}th button{font:inherit;font-weight:600;
background:none;border:0;cursor:pointer;padding:0}caption{text-align:left;font-weight:600}
.note{color:#666;font-size:12px}img{max-width:100%}audio{height:28px;width:220px}"""

_JS = """document.querySelectorAll('table.sortable th button').forEach(function(b){
b.addEventListener('click',function(){var th=b.parentNode,table=th.closest('table'),i=Array.prototype.indexOf.call(
th.parentNode.children,th),tb=table.tBodies[0],rows=Array.from(tb.rows),asc=th.getAttribute('aria-sort')!=='ascending';
rows.sort(function(x,y){var a=x.cells[i].dataset.v,c=y.cells[i].dataset.v,p=parseFloat(a),q=parseFloat(c);
var r=(isNaN(p)||isNaN(q))?String(a).localeCompare(String(c)):p-q;return asc?r:-r;});
rows.forEach(function(r){tb.appendChild(r);});table.querySelectorAll('th').forEach(function(h){
h.removeAttribute('aria-sort');});th.setAttribute('aria-sort',asc?'ascending':'descending');});});"""


@dataclass
class LeaderboardSite:
    """What :func:`build_leaderboard` wrote."""

    index: Path
    n_codecs: int
    n_clips: int
    bytes: int


def _cell(v: Any, fmt: str = ".3f") -> str:
    if isinstance(v, (float, np.floating)):
        text = "–" if np.isnan(v) else format(v, fmt)
        return f'<td data-v="{"" if np.isnan(v) else repr(float(v))}">{text}</td>'
    return f'<td data-v="{html.escape(str(v))}">{html.escape(str(v))}</td>'


def _table(df: pd.DataFrame, caption: str) -> str:
    head = "".join(f'<th scope="col"><button type="button">{html.escape(str(c))}</button></th>' for c in df.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in df.itertuples(index=False))
    return (f'<table class="sortable"><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _metric_tables(acoustic: pd.DataFrame, facts: pd.DataFrame) -> list[str]:
    from .metrics.registry import METRIC_LABELS, METRICS
    from .results import aggregate

    out = []
    metrics = [m for m in METRICS if m in acoustic.columns and acoustic[m].notna().any()]
    agg = aggregate(acoustic, by=("codec", "category"), metrics=metrics)
    rate = dict(zip(facts["codec"], facts["kbps"]))
    for cat in ("speech", "music", "sound", "general"):
        sub = agg[agg["category"] == cat] if "category" in agg.columns else agg.iloc[0:0]
        if sub.empty:
            continue
        out.append(f"<h3>{cat}</h3>")
        for m in metrics:
            t = sub[sub["metric"] == m]
            if t.empty or t["n"].sum() == 0:
                continue
            frame = pd.DataFrame({"codec": t["codec"], "kbps": [rate.get(c, np.nan) for c in t["codec"]],
                                  "mean": t["mean"], "ci_low": t["ci_low"], "ci_high": t["ci_high"],
                                  "n valid": t["n"].astype(int), "n failed": t["n_failed"].astype(int)})
            out.append(_table(frame, f"{METRIC_LABELS.get(m, m)}, {cat}: mean and 95% interval over items"))
    return out


def _reference_paths(runs: Path, manifest: PathLike | None) -> dict[str, Path]:
    from .data.manifest import read_manifest, resolve_path

    paths = [Path(manifest)] if manifest else RunsLayout(runs).manifests()
    out: dict[str, Path] = {}
    for m in paths:
        try:
            for it in read_manifest(m):
                out.setdefault(it.id, resolve_path(it, m.parent))
        except Exception as exc:  # a broken manifest loses the samples, not the page
            logger.warning("leaderboard: cannot read %s (%s); its items get no listening samples", m, exc)
    return out


def _clip(src: Path, dst: Path, seconds: float) -> bool:
    import soundfile as sf

    try:
        wav, sr = load_audio(src)
    except Exception as exc:  # a missing or unreadable file: no sample, said in the log
        logger.warning("leaderboard: no sample from %s (%s)", src, exc)
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    sf.write(dst, np.clip(wav[: int(seconds * sr)], -1, 1), sr, format="FLAC", subtype="PCM_16")
    return True


def _samples(runs: Path, out: Path, acoustic: pd.DataFrame, refs: dict[str, Path], metric: str,
             seconds: float, budget_bytes: int) -> tuple[list[str], int]:
    """Best and worst speech item of each codec, original beside resynthesis, as lossless FLAC clips.

    Codecs are taken in order until the clips reach ``budget_bytes``; the page says which were left out.
    """
    from .codecs.resynth import output_path
    from .metrics.registry import higher_is_better

    layout = RunsLayout(runs)
    blocks, n, used, left_out = [], 0, 0, []
    if metric not in acoustic.columns or "category" not in acoustic.columns:
        speech = acoustic.iloc[0:0]
    else:
        speech = acoustic[(acoustic["category"] == "speech") & acoustic[metric].notna()]
    for codec in sorted(set(speech["codec"])):
        if used >= budget_bytes:
            left_out.append(codec)
            continue
        rows = speech[speech["codec"] == codec].sort_values(metric, ascending=higher_is_better(metric))
        picks = [("worst", rows.iloc[0]), ("best", rows.iloc[-1])] if len(rows) else []
        cells = []
        for label, r in picks:
            item = str(r["item"])
            ref, est = refs.get(item), output_path(layout.resynth_dir(codec), item)
            safe = item.replace("/", "__")
            a, b = out / "audio" / codec / f"{safe}_{label}_orig.flac", out / "audio" / codec / f"{safe}_{label}_codec.flac"
            if ref is None or not _clip(ref, a, seconds) or not _clip(est, b, seconds):
                continue
            n += 2
            used += a.stat().st_size + b.stat().st_size
            cells.append(f"<td>{label}: {html.escape(item)} ({metric} {r[metric]:.2f})</td>"
                         f'<td><audio controls preload="none" src="{a.relative_to(out).as_posix()}" '
                         f'aria-label="original of {html.escape(item)}"></audio></td>'
                         f'<td><audio controls preload="none" src="{b.relative_to(out).as_posix()}" '
                         f'aria-label="{html.escape(codec)} resynthesis of {html.escape(item)}"></audio></td>')
        if cells:
            blocks.append(f"<tr><th scope='row' rowspan='{len(cells)}'>{html.escape(codec)}</th>"
                          + "</tr><tr>".join(cells) + "</tr>")
    if not blocks:
        return ["<p class='note'>No listening samples: no speech item has both its reference and a resynthesis "
                "here.</p>"], 0
    note = ([f"<p class='note'>Samples of {len(left_out)} codec(s) left out to keep the audio under "
             f"{budget_bytes / 2**20:.0f} MB (--audio-budget-mb): {html.escape(', '.join(left_out))}.</p>"]
            if left_out else [])
    return ["<table><thead><tr><th>codec</th><th>item</th><th>original</th><th>resynthesis</th></tr></thead>"
            f"<tbody>{''.join(blocks)}</tbody></table>", *note], n


def build_leaderboard(runs: PathLike, out: PathLike, *, manifest: PathLike | None = None,
                      sample_metric: str = "pesq_wb", clip_seconds: float = 5.0,
                      metric_profile: str = "", audio_budget_mb: float = 20.0) -> LeaderboardSite:
    """Write the static leaderboard of every codec under ``runs`` into ``out``; return what was written.

    ``metric_profile`` picks the acoustic rows when the runs hold more than one profile;
    listening clips stop once they reach ``audio_budget_mb`` (the page names the codecs left out).
    """
    from .report import load_results, make_figures, make_tables
    from .stages import figures

    out = Path(out).resolve()
    cfg = figures.config(runs=Path(runs).resolve(), out_dir=out / "assets", metric_profile=metric_profile)
    runs = cfg.runs  # checked: the runs folder exists
    if out.exists():
        shutil.rmtree(out)
    (out / "assets").mkdir(parents=True)
    results = load_results(cfg)
    acoustic = results.acoustic
    codecs = sorted(set(acoustic.get("codec", pd.Series(dtype=str))))
    facts = results.codecs  # bitrates and families, as load_results found them
    made = make_tables(results, cfg)
    figures = [p for p in make_figures(results, cfg) if p.suffix == ".png"]
    for p in (out / "assets").glob("*"):  # keep the figures, drop the tables' csv/md/tex copies
        if p.suffix != ".png":
            p.unlink()
    parts = [f"<h1>CodecBench leaderboard</h1><p class='note'>{len(codecs)} codecs, built from the result files "
             f"in <code>{html.escape(str(runs))}</code>. Click a column header to sort.</p>"]
    overview = facts[["codec", "family", "kbps"]].copy()
    parts += ["<h2>Codecs</h2>", _table(overview, "codecs and the bitrate their streams really had (kbps; – for continuous latents, which have none)")]
    parts += ["<h2>Acoustic metrics</h2>", *_metric_tables(acoustic, facts)] if not acoustic.empty else []
    figs = [f"<figure><img src='assets/{p.name}' alt='{html.escape(p.stem.replace('_', ' '))}'>"
            f"<figcaption>{html.escape(p.stem)}</figcaption></figure>" for p in figures
            if p.stem.startswith(("rate_quality", "fig2"))]
    parts += ["<h2>Quality against bitrate</h2>", *figs] if figs else []
    probe_parts = [_table(made[k], title) for k, title in (
        ("probe_asr_intervals", "ASR probe: WER/CER with 95% intervals; floor = trivial CTC (1.0)"),
        ("probe_asr_paired", "ASR probe, each codec against identity on the same utterances (paired 95%)"),
        ("probe_classification_intervals", "classification probes: accuracy, 95% interval, majority-class chance"),
    ) if k in made and not made[k].empty]
    parts += ["<h2>Semantic probes</h2>", *probe_parts] if probe_parts else []
    if "codec_conformance" in made:
        parts += ["<h2>Conformance</h2>", _table(made["codec_conformance"], "codecbench codecs check: length, sample "
                                                 "rate, delay, determinism, batched = single, embeddings")]
    refs = _reference_paths(runs, manifest)
    clips, n_clips = _samples(runs, out, acoustic, refs, sample_metric, clip_seconds, int(audio_budget_mb * 2**20))
    parts += [f"<h2>Listening samples (best and worst speech item by {html.escape(sample_metric)})</h2>", *clips]
    prov = {"metric_profiles": sorted(set(acoustic.get("metric_profile", pd.Series(dtype=str)).dropna())),
            "metric_versions": sorted(set(acoustic.get("metric_versions", pd.Series(dtype=str)).dropna()))[:3]}
    parts += ["<h2>Provenance</h2>", f"<pre>{html.escape(json.dumps(prov, indent=1))}</pre>"]
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>CodecBench leaderboard</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{_CSS}</style></head>"
            f"<body>{''.join(parts)}<script>{_JS}</script></body></html>")
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    logger.info("leaderboard: %s (%d codecs, %d clips, %.1f MB)", index, len(codecs), n_clips, size / 2**20)
    return LeaderboardSite(index, len(codecs), n_clips, size)
