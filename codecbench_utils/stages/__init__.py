"""The pipeline's stages, one module each: a config, ``run(config)`` and the helpers its notebook shows.

Every stage module has the same face:

- ``config(**params) -> Config``: the notebook's parameters checked up front (unknown codec,
  missing upstream artefact, bad values), relative paths resolved against the project root
  (:func:`codecbench_utils.paths.project_path`), so a notebook runs with its defaults from
  papermill and from JupyterLab alike;
- ``run(config) -> result``: the stage's work and nothing else; a missing upstream artefact is
  an error naming the command that makes it;
- ``PATH_PARAMS``: the parameters that are paths (``codecbench run`` makes those given on the
  command line absolute against the caller's folder);
- ``RENAMED``: old parameter names still accepted for one release.

The notebooks, :mod:`codecbench_utils.runner` (papermill), :mod:`codecbench_utils.sweep` and the
demo all go through these modules; a stage's parameters come from the run preset
(``params/presets/<name>.yaml``) with overrides.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import UnknownNameError
from ..layout import FIGURES_NOTEBOOK, STAGE_NOTEBOOKS

__all__ = ["STAGES", "ALL_STAGES", "ROUND_TRIP_STAGES", "get_stage", "notebook_of"]

#: The per-codec stages, in pipeline order.
STAGES: tuple[str, ...] = tuple(STAGE_NOTEBOOKS)
#: ... and the stage that reads every codec's results.
ALL_STAGES: tuple[str, ...] = (*STAGES, "figures")
#: the stages that need a decoder: an encode-only tokenizer (``round_trip: false``) skips them
ROUND_TRIP_STAGES: tuple[str, ...] = ("resynthesis", "acoustic")


def get_stage(name: str) -> ModuleType:
    """The module of stage ``name`` (``resynthesis``, ``acoustic``, ``asr``, ``classification``, ``figures``)."""
    if name not in ALL_STAGES:
        raise UnknownNameError(f"unknown stage '{name}'; known: {', '.join(ALL_STAGES)}")
    return importlib.import_module(f"{__name__}.{name}")


def notebook_of(name: str) -> str:
    """The notebook file that runs stage ``name``."""
    get_stage(name)
    return FIGURES_NOTEBOOK if name == "figures" else STAGE_NOTEBOOKS[name]
