"""Project paths, defined once (relative to the project root)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "params_dir", "notebooks_dir"]


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
