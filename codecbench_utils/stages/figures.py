"""Stage 05, tables and figures from every codec's result files (notebook ``05_figures``).

The work is in :mod:`codecbench_utils.report`; this module checks the parameters, runs it
(:func:`run`, or its three steps for a notebook that shows each) and displays the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..audio import PathLike
from ..errors import ConfigError, MissingArtefactError, renamed_keyword
from ..layout import RunsLayout
from ..paths import project_path
from ..report import Results, load_results, make_figures, make_tables

__all__ = ["Config", "config", "run", "load_results", "make_tables", "make_figures", "show_tables",
           "show_figures", "PATH_PARAMS", "RENAMED"]

PATH_PARAMS = ("runs", "out_dir")
RENAMED = {"profile": "metric_profile"}
_PROFILES = ("", "paper", "standard")


@dataclass(frozen=True)
class Config:
    """Validated parameters of the figures stage."""

    runs: Path
    out_dir: Path
    metric_profile: str  # "" = the only metric profile the results hold


@dataclass
class Outcome:
    results: Results
    tables: dict[str, Any]
    figures: list[Path]


def config(*, runs: PathLike = "runs", out_dir: PathLike = "", metric_profile: str = "", **old: Any) -> Config:
    """Check notebook 05's parameters; ``out_dir`` empty means ``<runs>/figures``.

    ``profile=`` (the old name of ``metric_profile``; its value ``demo`` meant "every row") is
    accepted for one release.
    """
    metric_profile = renamed_keyword(old, "profile", "metric_profile", metric_profile, "", "figures stage")
    if metric_profile == "demo":  # the old "no filter"
        metric_profile = ""
    if metric_profile not in _PROFILES:
        raise ConfigError(f"metric_profile must be paper, standard or empty (the only one present), "
                          f"got '{metric_profile}'")
    layout = RunsLayout(project_path(runs))
    if not layout.root.is_dir():
        raise MissingArtefactError(f"runs folder not found: '{layout.root}'; run `codecbench run --codec ID "
                                   f"--runs {layout.root}` first")
    return Config(layout.root, project_path(out_dir) if str(out_dir) else layout.figures_dir, metric_profile)


def run(cfg: Config) -> Outcome:
    """Load every result file, write the tables and the figures."""
    results = load_results(cfg)
    return Outcome(results, make_tables(results, cfg), make_figures(results, cfg))


def show_tables(made: dict[str, Any], *, floatfmt: str = ".3f") -> Any:
    """All tables as one HTML block (a heading per table) for the notebook."""
    from IPython.display import HTML

    from ..tables import flat_table

    parts = []
    for name, df in made.items():
        parts.append(f"<h3>{name}</h3>" + flat_table(df).to_html(
            index=False, float_format=lambda v: format(v, floatfmt), na_rep="–"))
    return HTML("".join(parts) if parts else "<p><i>no result files found</i></p>")


def show_figures(paths: list[Path]) -> Any:
    """The PNG figures inline, one under another."""
    from IPython.display import HTML

    from ..display import png_img

    imgs = [f"<h4>{p.stem}</h4>{png_img(p.read_bytes())}" for p in paths if p.suffix == ".png"]
    return HTML("".join(imgs) if imgs else "<p><i>no figures</i></p>")
