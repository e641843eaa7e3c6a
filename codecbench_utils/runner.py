"""Papermill orchestration: run the stage notebooks for a codec, and the figures notebook.

A run preset, ``params/presets/<preset>.yaml``, holds per stage the notebook parameters as
templates (``{codec}``, ``{runs}``, ``{dataset}``, ``{preset}`` are filled in). Overrides are checked
against the notebook's own parameters (``papermill.inspect_notebook``) and an unknown name is an
error, where papermill alone would only warn. The runs root and every path given as an override
are made absolute against the caller's folder first, so ``codecbench run --runs X`` works from
any folder. Executed notebooks land where :class:`~codecbench_utils.layout.RunsLayout` says.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CodecBenchDeprecationWarning, UnknownNameError, first_line, renamed, renamed_keyword
from .layout import RunsLayout
from .paths import notebooks_dir, params_dir, project_root
from .stages import ROUND_TRIP_STAGES, STAGES, get_stage, notebook_of

__all__ = [
    "STAGES",
    "load_preset",
    "stage_parameters",
    "check_parameters",
    "run_notebook",
    "run_codec",
    "run_figures",
    "export_html",
    "settle_progress_bars",
    "StageRun",
]

logger = logging.getLogger(__name__)

PRESETS_DIR = "presets"
#: the folder run presets lived in before they were called presets (read for one release)
_OLD_PRESETS_DIR = "profiles"


@dataclass
class StageRun:
    """One executed notebook: where it is, how long it took, and the error if it failed."""

    codec: str
    stage: str
    notebook: Path
    seconds: float
    error: str | None = None
    #: why the stage was not run (an encode-only tokenizer has nothing to resynthesize); not a failure
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def state(self) -> str:
        """``ok``, ``skipped: <why>`` or ``FAILED: <error>``, for one-line summaries."""
        return f"FAILED: {self.error}" if self.error else f"skipped: {self.skipped}" if self.skipped else "ok"


def _preset_path(preset: str) -> Path | None:
    for folder in (PRESETS_DIR, _OLD_PRESETS_DIR):
        path = params_dir() / folder / f"{preset}.yaml"
        if path.is_file():
            if folder == _OLD_PRESETS_DIR:
                warnings.warn(f"run preset '{preset}' found in params/{_OLD_PRESETS_DIR}/; move it to "
                              f"params/{PRESETS_DIR}/ (the old folder goes away in the next release)",
                              CodecBenchDeprecationWarning, stacklevel=3)
            return path
    return None


def load_preset(preset: str) -> dict[str, Any]:
    """Read the run preset ``params/presets/<preset>.yaml``."""
    import yaml

    path = _preset_path(preset)
    if path is None:
        known = sorted(p.stem for p in (params_dir() / PRESETS_DIR).glob("*.yaml"))
        raise UnknownNameError(f"unknown run preset '{preset}'; known: {', '.join(known)}")
    return yaml.safe_load(path.read_text()) or {}


def _fill(value: Any, subst: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**subst)
    if isinstance(value, list):
        return [_fill(v, subst) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, subst) for k, v in value.items()}
    return value


def _absolute_paths(stage: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Path parameters given relative to the caller's folder, made absolute (empty stays empty)."""
    paths = get_stage(stage).PATH_PARAMS
    return {k: (str(Path(v).expanduser().resolve()) if k in paths and isinstance(v, str) and v else v)
            for k, v in params.items()}


def stage_parameters(stage: str, *, codec: str | None, preset: str = "demo", runs: str | Path = "runs",
                     dataset: str | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameters a stage notebook gets: the preset's templates filled in, then overrides.

    ``runs`` and the path parameters among ``overrides`` are taken relative to the current
    folder; old parameter names (``profile``) are accepted with a deprecation warning.
    """
    module = get_stage(stage)
    prof = load_preset(preset)
    templates = (prof.get("stages") or {}).get(stage, {})
    layout = RunsLayout(runs)
    subst = {"codec": codec or "", "runs": str(layout.root), "preset": preset,
             "dataset": dataset or prof.get("dataset", "")}
    params = renamed(_fill(templates, subst), module.RENAMED, f"preset '{preset}', stage {stage}")
    given = renamed(dict(overrides or {}), module.RENAMED, f"stage {stage} override")
    params.update(_absolute_paths(stage, given))
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
    """Execute one notebook with papermill (cwd = project root); the output is kept even if it fails.

    With ``progress``, the kernel's stderr (the stages' item-level progress bars, warnings) is
    streamed to this terminal as it runs, instead of papermill's cell counter.
    """
    import sys

    import papermill as pm

    check_parameters(src, params)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(str(src), str(dst), parameters=dict(params), cwd=str(project_root()),
                            progress_bar=False, stderr_file=sys.stderr if progress else None,
                            kernel_name="python3")
    finally:
        if dst.is_file():
            settle_progress_bars(dst)
    return dst


def settle_progress_bars(notebook: str | Path) -> None:
    """Keep only what a progress bar last showed in a saved notebook.

    A text bar arrives as one stream output per update (``\r`` + the bar); merged and with
    overwritten text dropped, the saved notebook shows ``51/51 100%`` once, not thousands of
    updates. (The package uses plain text ``tqdm`` everywhere for this: ``tqdm.auto`` picks widget
    bars in a kernel, and those save as ``0/51 0%``.)
    """
    import nbformat
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(str(notebook), as_version=4)
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    nbformat.write(nb, str(notebook))


def _describe(exc: BaseException) -> str:
    """One line naming the error; papermill's carries the cell's exception name and value."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return first_line(exc)


def run_codec(codec: str, *, stages: Sequence[str] = STAGES, preset: str = "demo",
              runs: str | Path = "runs", overrides: Mapping[str, Mapping[str, Any]] | None = None,
              progress: bool = True, stop_on_error: bool = True, **old: Any) -> list[StageRun]:
    """Run the stage notebooks for one codec into ``<runs>/<codec>/`` (``profile=`` is ``preset``'s old name)."""
    from .codecs.registry import get_spec

    preset = renamed_keyword(old, "profile", "preset", preset, "demo", "run_codec")
    spec = get_spec(codec)
    for stage in stages:
        if stage not in STAGES:
            raise UnknownNameError(f"unknown stage '{stage}'; known: {', '.join(STAGES)}")
    layout = RunsLayout(runs)
    out: list[StageRun] = []
    for stage in stages:
        src = notebooks_dir() / notebook_of(stage)
        dst = layout.stage_notebook(codec, stage)
        if not spec.round_trip and stage in ROUND_TRIP_STAGES:
            from .codecs.resynth import encode_only_reason

            out.append(StageRun(codec, stage, dst, 0.0, skipped=encode_only_reason(spec)))
            logger.info("%s: stage %s skipped: %s", codec, stage, out[-1].skipped)
            continue
        params = stage_parameters(stage, codec=codec, preset=preset, runs=layout.root,
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


def run_figures(*, preset: str = "demo", runs: str | Path = "runs", overrides: Mapping[str, Any] | None = None,
                progress: bool = True, **old: Any) -> StageRun:
    """Execute notebook 05 into ``<runs>/figures/``; its tables and figures go there too unless
    ``overrides`` names another ``out_dir``."""
    preset = renamed_keyword(old, "profile", "preset", preset, "demo", "run_figures")
    layout = RunsLayout(runs)
    src = notebooks_dir() / notebook_of("figures")
    dst = layout.figures_notebook
    params = stage_parameters("figures", codec=None, preset=preset, runs=layout.root, overrides=overrides)
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
