"""Papermill orchestration: run the stage notebooks for a codec, and the figures notebook.

``params/profiles/<profile>.yaml`` holds, per stage, the notebook parameters as
templates (``{codec}``, ``{runs}`` are filled in). Overrides are checked
against the notebook's own parameters (``papermill.inspect_notebook``) and an
unknown name is an error, where papermill alone would only warn. Executed
notebooks land in ``<runs>/<codec>/`` (figures: ``<runs>/figures/``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UnknownNameError, first_line
from .paths import notebooks_dir, params_dir, project_root

__all__ = [
    "STAGES",
    "STAGE_NOTEBOOKS",
    "FIGURES_NOTEBOOK",
    "load_profile",
    "stage_parameters",
    "check_parameters",
    "run_notebook",
    "run_codec",
    "run_figures",
    "export_html",
    "StageRun",
]

logger = logging.getLogger(__name__)

STAGES: tuple[str, ...] = ("resynthesis", "acoustic", "asr", "classification")
STAGE_NOTEBOOKS: dict[str, str] = {
    "resynthesis": "01_resynthesis.ipynb",
    "acoustic": "02_acoustic_metrics.ipynb",
    "asr": "03_asr_probe.ipynb",
    "classification": "04_classification_probe.ipynb",
}
FIGURES_NOTEBOOK = "05_figures.ipynb"


@dataclass
class StageRun:
    """One executed notebook: where it is, how long it took, and the error if it failed."""

    codec: str
    stage: str
    notebook: Path
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def load_profile(profile: str) -> dict[str, Any]:
    """Read ``params/profiles/<profile>.yaml``."""
    import yaml

    path = params_dir() / "profiles" / f"{profile}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (params_dir() / "profiles").glob("*.yaml"))
        raise UnknownNameError(f"unknown profile '{profile}'; known: {', '.join(known)}")
    return yaml.safe_load(path.read_text()) or {}


def _fill(value: Any, subst: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**subst)
    if isinstance(value, list):
        return [_fill(v, subst) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, subst) for k, v in value.items()}
    return value


def stage_parameters(stage: str, *, codec: str | None, profile: str, runs: str | Path = "runs",
                     overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameters a stage notebook gets: profile templates filled in, then overrides."""
    if stage not in STAGE_NOTEBOOKS and stage != "figures":
        raise UnknownNameError(f"unknown stage '{stage}'; known: {', '.join(STAGES)}, figures")
    prof = load_profile(profile)
    templates = (prof.get("stages") or {}).get(stage, {})
    params = _fill(templates, {"codec": codec or "", "runs": str(runs), "profile": profile})
    params.update(overrides or {})
    return params


def check_parameters(notebook: str | Path, params: Mapping[str, Any]) -> None:
    """Reject parameter names the notebook does not declare (papermill would only warn)."""
    import papermill as pm

    declared = pm.inspect_notebook(str(notebook))
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise UnknownNameError(
            f"notebook '{Path(notebook).name}' has no parameter(s) {unknown}; it declares: {', '.join(declared)}"
        )


def run_notebook(src: str | Path, dst: str | Path, params: Mapping[str, Any], *,
                 progress: bool = True) -> Path:
    """Execute one notebook with papermill (cwd = project root); the output is kept even if it fails."""
    import papermill as pm

    check_parameters(src, params)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(src), str(dst), parameters=dict(params), cwd=str(project_root()),
                        progress_bar=progress, kernel_name="python3")
    return dst


def _describe(exc: BaseException) -> str:
    """One line naming the error; papermill's carries the cell's exception name and value."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return first_line(exc)


def run_codec(codec: str, *, stages: Sequence[str] = STAGES, profile: str = "demo",
              runs: str | Path = "runs", overrides: Mapping[str, Mapping[str, Any]] | None = None,
              progress: bool = True, stop_on_error: bool = True) -> list[StageRun]:
    """Run the stage notebooks for one codec into ``<runs>/<codec>/``."""
    from .codecs.registry import get_spec

    get_spec(codec)
    out: list[StageRun] = []
    for stage in stages:
        if stage not in STAGE_NOTEBOOKS:
            raise UnknownNameError(f"unknown stage '{stage}'; known: {', '.join(STAGES)}")
        src = notebooks_dir() / STAGE_NOTEBOOKS[stage]
        dst = Path(runs) / codec / STAGE_NOTEBOOKS[stage]
        params = stage_parameters(stage, codec=codec, profile=profile, runs=runs,
                                  overrides=(overrides or {}).get(stage))
        logger.info("%s: stage %s -> %s", codec, stage, dst)
        t0 = time.perf_counter()
        try:
            run_notebook(src, dst, params, progress=progress)
            out.append(StageRun(codec, stage, dst, time.perf_counter() - t0))
        except Exception as exc:  # papermill's execution error: keep the notebook, record, maybe go on
            out.append(StageRun(codec, stage, dst, time.perf_counter() - t0, error=_describe(exc)))
            logger.warning("%s: stage %s failed: %s (executed notebook kept at %s)", codec, stage,
                           out[-1].error, dst)
            if stop_on_error:
                break
    return out


def run_figures(*, profile: str = "demo", runs: str | Path = "runs",
                overrides: Mapping[str, Any] | None = None, progress: bool = True) -> StageRun:
    """Execute notebook 05 (tables and figures from the result files) into ``<runs>/figures/``."""
    src = notebooks_dir() / FIGURES_NOTEBOOK
    dst = Path(runs) / "figures" / FIGURES_NOTEBOOK
    params = stage_parameters("figures", codec=None, profile=profile, runs=runs, overrides=overrides)
    t0 = time.perf_counter()
    run_notebook(src, dst, params, progress=progress)
    export_html(dst)
    return StageRun("all", "figures", dst, time.perf_counter() - t0)


def export_html(notebook: str | Path) -> Path:
    """Write ``<notebook>.html`` next to an executed notebook (code cells hidden: a report)."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook = Path(notebook)
    exporter = HTMLExporter()
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    out = notebook.with_suffix(".html")
    out.write_text(body, encoding="utf-8")
    return out
