"""Project paths, defined once (relative to the project root)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "params_dir", "notebooks_dir", "project_path", "is_checkout"]


def _checkout() -> Path:
    return Path(__file__).resolve().parents[1]


def is_checkout() -> bool:
    """Whether the package runs from a source checkout (``params/`` beside it) rather than an installed wheel."""
    return bool(os.environ.get("CODECBENCH_ROOT")) or (_checkout() / "params").is_dir()


def project_root() -> Path:
    """The folder holding ``params/`` and ``notebooks/``: the checkout, or the installed package's copy.

    ``CODECBENCH_ROOT`` overrides it. A wheel carries ``params/`` and ``notebooks/`` in
    ``codecbench_utils/_project`` (see ``pyproject.toml``).
    """
    env = os.environ.get("CODECBENCH_ROOT")
    if env:
        return Path(env)
    if (_checkout() / "params").is_dir():
        return _checkout()
    return Path(__file__).resolve().parent / "_project"


def params_dir() -> Path:
    return project_root() / "params"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def project_path(path: str | os.PathLike, *, base: str | os.PathLike | None = None) -> Path:
    """An absolute path: ``path`` itself when absolute, else relative to ``base`` (default: the project root
    in a checkout, the current folder for an installed package).

    Notebook defaults such as ``runs/mini/manifest.jsonl`` are written relative to the project root,
    so they mean the same file whether the kernel starts in the root (papermill) or in ``notebooks/``
    (JupyterLab). Command-line paths are made absolute against the caller's folder before they
    reach a notebook (see :func:`codecbench_utils.runner.stage_parameters`).
    """
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    if base is None:  # an installed package's own folder is no place for runs: the caller's folder then
        base = project_root() if is_checkout() else Path.cwd()
    return Path(base) / p
