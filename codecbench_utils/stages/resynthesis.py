"""Stage 01, resynthesis: every manifest item through one codec (notebook ``01_resynthesis``).

The work itself is :func:`codecbench_utils.codecs.resynth.resynthesize`; this module checks the
notebook's parameters, runs it, and shows the result (per-item table, listening examples).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..audio import PathLike
from ..codecs.registry import get_spec
from ..codecs.resynth import ResynthRecord, ResynthSummary, output_path, read_index, resynthesize
from ..data.manifest import read_manifest, resolve_path
from ..errors import ConfigError, MissingArtefactError
from ..paths import project_path

__all__ = ["Config", "config", "run", "summary_frame", "listening_examples", "PATH_PARAMS", "RENAMED"]

PATH_PARAMS = ("manifest", "out_dir")
RENAMED: dict[str, str] = {}


@dataclass(frozen=True)
class Config:
    """Validated parameters of the resynthesis stage."""

    codec: str
    manifest: Path
    out_dir: Path
    device: str = "cpu"
    batch_size: int | None = None
    limit: int | None = None


def config(*, codec: str, manifest: PathLike, out_dir: PathLike, device: str = "cpu", batch_size: int = 0,
           limit: int = 0) -> Config:
    """Check the stage parameters up front (unknown codec, missing manifest, bad values).

    ``limit`` 0 means every item and ``batch_size`` 0 the codec's default (papermill
    parameters cannot be ``None`` on the CLI).
    """
    get_spec(codec)  # raises UnknownNameError listing the known ids
    manifest = project_path(manifest)
    if not manifest.is_file():
        raise MissingArtefactError(f"manifest not found: '{manifest}'; make one with "
                                   "`codecbench data prepare NAME --root DIR --out M.jsonl`")
    if device != "cpu" and not device.startswith("cuda"):
        raise ConfigError(f"device must be 'cpu' or 'cuda[:N]', got '{device}'")
    if batch_size < 0 or limit < 0:
        raise ConfigError(f"batch_size and limit must be >= 0, got {batch_size}, {limit}")
    return Config(codec, manifest, project_path(out_dir), device, batch_size or None, limit or None)


def run(cfg: Config, *, progress: bool = True, on_item: Callable[[ResynthRecord], None] | None = None
        ) -> ResynthSummary:
    """Resynthesize the manifest (finished items are skipped; failed ones are retried)."""
    return resynthesize(cfg.codec, cfg.manifest, cfg.out_dir, device=cfg.device, limit=cfg.limit,
                        batch_size=cfg.batch_size, progress=progress, on_item=on_item)


def summary_frame(summary: ResynthSummary) -> Any:
    """Per-item records as a pandas DataFrame (status, reason, bitrate, timings)."""
    import pandas as pd

    return pd.DataFrame([r.to_dict() for r in summary.records]).drop(columns=["key"], errors="ignore")


def listening_examples(cfg: Config, *, n: int = 3, max_seconds: float = 10.0) -> Any:
    """Players for the first ``n`` finished items of each category: original vs resynthesized."""
    from ..display import listening_table

    items = read_manifest(cfg.manifest)
    index = read_index(cfg.out_dir)
    rows, per_cat = [], {}
    for it in items:
        rec = index.get(it.id)
        if rec is None or rec.status != "ok" or per_cat.get(it.category, 0) >= n:
            continue
        per_cat[it.category] = per_cat.get(it.category, 0) + 1
        rows.append((f"{it.id} ({it.category})", resolve_path(it, cfg.manifest.parent),
                     output_path(cfg.out_dir, it.id)))
    return listening_table(rows, max_seconds=max_seconds)
