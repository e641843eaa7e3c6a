"""Stage 02, acoustic metrics: one row per item of a codec's resynthesis (notebook ``02_acoustic_metrics``).

The work is :func:`codecbench_utils.metrics.compute.compute_metrics`, which writes ``codec``,
``codec_fingerprint`` and ``metric_profile`` into every row; this module checks the notebook's
parameters, refuses a missing resynthesis with the command that makes it, and shows the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..audio import PathLike
from ..codecs.registry import get_spec
from ..errors import ConfigError, MissingArtefactError, renamed_keyword
from ..metrics.asr_error import DEFAULT_RECOGNIZER
from ..metrics.compute import compute_metrics, find_pairs, parse_metrics
from ..metrics.profiles import get_profile
from ..paths import project_path

__all__ = ["Config", "config", "run", "summary", "failures", "listening_examples", "PATH_PARAMS", "RENAMED"]

PATH_PARAMS = ("manifest", "resynth_dir", "out")
RENAMED = {"profile": "metric_profile"}


@dataclass(frozen=True)
class Config:
    """Validated parameters of the acoustic stage."""

    codec: str
    manifest: Path
    resynth_dir: Path
    metric_profile: str
    out: Path
    metrics: tuple[str, ...]
    workers: int | None
    device: str
    limit: int | None
    sim_model: str
    asr_model: str = DEFAULT_RECOGNIZER

    def example_paths(self) -> dict[str, dict[str, Path]]:
        """``ref_paths`` and ``est_paths`` (item id -> file) for the listening widgets."""
        pairs = find_pairs(None, self.resynth_dir, manifest=self.manifest)
        return {"ref_paths": {p.item: p.ref_path for p in pairs},
                "est_paths": {p.item: p.est_path for p in pairs if p.est_path is not None}}


def config(*, codec: str, manifest: PathLike, resynth_dir: PathLike, out: PathLike, metric_profile: str = "paper",
           metrics: str = "", workers: int = 0, device: str = "cpu", limit: int = 0, sim_model: str = "resemblyzer",
           asr_model: str = DEFAULT_RECOGNIZER, **old: Any) -> Config:
    """Check notebook 02's parameters; empty ``metrics`` means the profile's, ``workers=0`` all cores.

    ``profile=`` (the old name of ``metric_profile``) is accepted for one release.
    """
    metric_profile = renamed_keyword(old, "profile", "metric_profile", metric_profile, "paper", "acoustic stage")
    get_spec(codec)
    prof = get_profile(metric_profile).name
    manifest, resynth = project_path(manifest), project_path(resynth_dir)
    if not manifest.is_file():
        raise MissingArtefactError(f"manifest not found: '{manifest}'; make one with "
                                   "`codecbench data prepare NAME --root DIR --out M.jsonl`")
    if not resynth.is_dir():
        raise MissingArtefactError(f"resynthesis folder not found: '{resynth}'; make it with `codecbench run --codec "
                                   f"{codec} --stages resynthesis` or `codecbench resynth --codec {codec} "
                                   f"--manifest {manifest} --out {resynth}`")
    if workers < 0 or limit < 0:
        raise ConfigError(f"workers and limit must be >= 0, got {workers}, {limit}")
    return Config(codec=codec, manifest=manifest, resynth_dir=resynth, metric_profile=prof, out=project_path(out),
                  metrics=parse_metrics(metrics or None, prof), workers=workers or None, device=device,
                  limit=limit or None, sim_model=sim_model, asr_model=asr_model)


def run(cfg: Config, *, progress: bool = True) -> Any:
    """Score the codec's resynthesis; rows carry the codec, its fingerprint and the metric profile."""
    return compute_metrics(None, cfg.resynth_dir, profile=cfg.metric_profile, metrics=cfg.metrics, out=cfg.out,
                           workers=cfg.workers, device=cfg.device, progress=progress, sim_model=cfg.sim_model,
                           manifest=cfg.manifest, limit=cfg.limit, codec=cfg.codec, asr_model=cfg.asr_model)


def summary(results: Any) -> Any:
    """Means with 95% intervals per category (metrics not valid for a category left out)."""
    from ..results import aggregate

    return aggregate(results)


def failures(results: Any) -> Any:
    """The items where a metric failed or was left out, with the reason."""
    return results.loc[results["status"] != "ok", ["item", "status"]]


def listening_examples(results: Any, cfg: Config, *, metric: str | None = None) -> Any:
    """The best and the worst items by ``metric`` (the first selected by default), as players."""
    from ..plots import best_worst_examples

    return best_worst_examples(results, metric=metric or cfg.metrics[0], **cfg.example_paths())
