"""Project paths, defined once (relative to the project root)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "params_dir", "notebooks_dir", "project_path"]


def project_root() -> Path:
    """The checkout root (the folder holding ``params/`` and ``notebooks/``).

    ``CODECBENCH_ROOT`` overrides it, e.g. for a non-editable install.
    """
    env = os.environ.get("CODECBENCH_ROOT")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1]


def params_dir() -> Path:
    return project_root() / "params"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def project_path(path: str | os.PathLike, *, base: str | os.PathLike | None = None) -> Path:
    """An absolute path: ``path`` itself when absolute, else relative to ``base`` (default: the project root).

    Notebook defaults such as ``runs/mini/manifest.jsonl`` are written relative to the project root,
    so they mean the same file whether the kernel starts in the root (papermill) or in ``notebooks/``
    (JupyterLab). Command-line paths are made absolute against the caller's folder before they
    reach a notebook (see :func:`codecbench_utils.runner.stage_parameters`).
    """
    p = Path(path).expanduser()
    return p if p.is_absolute() else Path(base if base is not None else project_root()) / p
