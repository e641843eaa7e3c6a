"""The ``runs/`` tree, defined once: every path under a runs root is built here.

::

    <runs>/<dataset>/manifest.jsonl                  a prepared dataset (``codecbench data prepare``)
    <runs>/data/<dataset>/                           corpora the probe presets prepare from recipes
    <runs>/<codec>/resynth/<item>.flac, index.jsonl  stage 01
    <runs>/<codec>/acoustic/<dataset>.parquet        stage 02 (shards under acoustic/shards/)
    <runs>/<codec>/probes/                           stages 03 and 04 (tables, checkpoints)
    <runs>/<codec>/<NN_stage>.ipynb                  executed stage notebooks
    <runs>/<codec>/conformance.json                  ``codecbench codecs check``
    <runs>/cache/features/                           probe features, shared by every codec
    <runs>/figures/                                  notebook 05, its tables and figures

A runs root is made absolute when the layout is built, so a layout handed to a
notebook kernel, a worker process or a Ray task means the same folder wherever
that process starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunsLayout", "STAGE_NOTEBOOKS", "FIGURES_NOTEBOOK", "MANIFEST_NAME"]

MANIFEST_NAME = "manifest.jsonl"
CONFORMANCE_NAME = "conformance.json"
#: The notebook of each stage, in pipeline order.
STAGE_NOTEBOOKS: dict[str, str] = {
    "resynthesis": "01_resynthesis.ipynb",
    "acoustic": "02_acoustic_metrics.ipynb",
    "asr": "03_asr_probe.ipynb",
    "classification": "04_classification_probe.ipynb",
}
FIGURES_NOTEBOOK = "05_figures.ipynb"


@dataclass(frozen=True)
class RunsLayout:
    """Paths under one runs root (see the module docstring for the tree)."""

    root: Path

    def __init__(self, root: str | Path = "runs") -> None:
        object.__setattr__(self, "root", Path(root).expanduser().resolve())

    # datasets
    def dataset_dir(self, dataset: str) -> Path:
        return self.root / dataset

    def manifest(self, dataset: str) -> Path:
        """A prepared dataset's manifest: ``<runs>/<dataset>/manifest.jsonl``."""
        return self.dataset_dir(dataset) / MANIFEST_NAME

    def manifests(self) -> list[Path]:
        """Every prepared manifest directly under the root."""
        return sorted(self.root.glob(f"*/{MANIFEST_NAME}"))

    @property
    def data_root(self) -> Path:
        """Where probe presets prepare corpora from dataset recipes: ``<runs>/data``."""
        return self.root / "data"

    # per codec
    def codec_dir(self, codec: str) -> Path:
        return self.root / codec

    def resynth_dir(self, codec: str) -> Path:
        return self.codec_dir(codec) / "resynth"

    def acoustic_dir(self, codec: str) -> Path:
        return self.codec_dir(codec) / "acoustic"

    def acoustic_file(self, codec: str, dataset: str) -> Path:
        """A codec's per-item metric rows for one dataset (sweep and serial run alike)."""
        return self.acoustic_dir(codec) / f"{dataset}.parquet"

    def acoustic_shard_file(self, codec: str, dataset: str, shard: int, n_shards: int) -> Path:
        return self.acoustic_dir(codec) / "shards" / f"{dataset}.{shard:04d}-of-{n_shards:04d}.parquet"

    def result_files(self, kind: str = "acoustic") -> list[Path]:
        """Every codec's ``acoustic`` (merged: shards excluded) or ``probes`` result tables."""
        return sorted(self.root.glob(f"*/{kind}/*.parquet"))

    def conformance_file(self, codec: str) -> Path:
        """``codecbench codecs check``'s report for a codec."""
        return self.codec_dir(codec) / CONFORMANCE_NAME

    def conformance_files(self) -> list[Path]:
        """Every codec's conformance report."""
        return sorted(self.root.glob(f"*/{CONFORMANCE_NAME}"))

    def probes_dir(self, codec: str) -> Path:
        return self.codec_dir(codec) / "probes"

    def probe_files(self, name: str) -> list[Path]:
        """``<runs>/*/probes/<name>`` of every codec."""
        return sorted(self.root.glob(f"*/probes/{name}"))

    def stage_notebook(self, codec: str, stage: str) -> Path:
        """Where ``codecbench run`` keeps a codec's executed notebook of ``stage``."""
        return self.codec_dir(codec) / STAGE_NOTEBOOKS[stage]

    # shared
    @property
    def feature_cache(self) -> Path:
        """Probe features, shared by every codec and stage."""
        return self.root / "cache" / "features"

    @property
    def figures_dir(self) -> Path:
        """Tables and figures of notebook 05 (the default of ``codecbench figures --runs X``)."""
        return self.root / "figures"

    @property
    def figures_notebook(self) -> Path:
        return self.figures_dir / FIGURES_NOTEBOOK

    def codec_of(self, path: str | Path) -> str | None:
        """The codec a path under ``<runs>/<codec>/...`` belongs to (None outside the root)."""
        try:
            rel = Path(path).resolve().relative_to(self.root)
        except ValueError:
            return None
        return rel.parts[0] if len(rel.parts) > 1 else None
