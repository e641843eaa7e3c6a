"""Dataset registry: name -> recipe module (one module per dataset).

A recipe module defines ``NAME``, ``CATEGORY``, ``SUBSETS``, ``LICENSE``,
``DESCRIPTION`` (and optionally ``SIZE``) and ``prepare_<name>(root, *,
subset=None, out=None) -> list[ManifestItem]``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..errors import UnknownNameError
from .manifest import ManifestItem

__all__ = ["DATASETS", "get_recipe", "list_datasets", "prepare_dataset"]

#: dataset name -> module path; imported lazily.
DATASETS: dict[str, str] = {
    "mini": "codecbench_utils.data.mini",
    # speech
    "librispeech": "codecbench_utils.data.librispeech",
    "libri2mix": "codecbench_utils.data.libri2mix",
    "kespeech": "codecbench_utils.data.kespeech",
    "meld": "codecbench_utils.data.meld",
    "crema_d": "codecbench_utils.data.crema_d",
    "ravdess": "codecbench_utils.data.ravdess",
    # music
    "nsynth": "codecbench_utils.data.nsynth",
    "gtzan": "codecbench_utils.data.gtzan",
    "chord": "codecbench_utils.data.chord",
    # sound
    "esc50": "codecbench_utils.data.esc50",
    "vocalsound": "codecbench_utils.data.vocalsound",
    "catdog": "codecbench_utils.data.catdog",
    "gunshot": "codecbench_utils.data.gunshot",
    "laughterscape": "codecbench_utils.data.laughterscape",
    # general audio
    "folder": "codecbench_utils.data.folder",
    "audioset": "codecbench_utils.data.audioset",
    "airbench_chat": "codecbench_utils.data.airbench_chat",
    "clotho_aqa": "codecbench_utils.data.clotho_aqa",
    "wavcaps_soundbible": "codecbench_utils.data.wavcaps_soundbible",
}


def get_recipe(name: str) -> ModuleType:
    if name not in DATASETS:
        raise UnknownNameError(f"unknown dataset '{name}'; known: {', '.join(sorted(DATASETS))}")
    return importlib.import_module(DATASETS[name])


def list_datasets() -> list[dict[str, Any]]:
    rows = []
    for name in sorted(DATASETS):
        mod = get_recipe(name)
        rows.append(
            {
                "name": name,
                "category": getattr(mod, "CATEGORY", ""),
                "license": getattr(mod, "LICENSE", ""),
                "size": getattr(mod, "SIZE", ""),
                "subsets": list(getattr(mod, "SUBSETS", ())),
                "description": getattr(mod, "DESCRIPTION", ""),
            }
        )
    return rows


def prepare_dataset(recipe: str, root: Any, /, *, subset: str | None = None, out: Any = None,
                    **kwargs: Any) -> list[ManifestItem]:
    """Call the recipe's ``prepare_<recipe>``; ``kwargs`` are its options (``name=`` included).

    Raises UnknownNameError for an option the recipe does not take, listing those it does.
    """
    import inspect

    mod = get_recipe(recipe)
    fn = getattr(mod, f"prepare_{recipe}")
    params = inspect.signature(fn).parameters
    options = [p for p in params if p not in ("root", "subset", "out")]
    unknown = sorted(set(kwargs) - set(options))
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        raise UnknownNameError(f"recipe '{recipe}' has no option {', '.join(unknown)}; its options: "
                               f"{', '.join(options)}")
    return fn(root, subset=subset, out=out, **kwargs)
