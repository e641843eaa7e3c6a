"""Typed errors: each also inherits a builtin so generic handlers keep working.

Messages name the thing, what was seen against what was expected, and the fix.
Exceptions carry fields (``item_id``, ``codec_id``, ``metric``) that drivers copy
into the per-item ``status`` column.
"""

from __future__ import annotations

__all__ = [
    "CodecBenchError",
    "InvalidAudioError",
    "ManifestError",
    "DatasetLayoutError",
    "MissingWeightsError",
    "MissingDependencyError",
    "CodecRuntimeError",
    "MetricError",
    "UnknownNameError",
    "ConfigError",
    "MissingArtefactError",
    "DiskFullError",
    "first_line",
    "CodecBenchDeprecationWarning",
    "renamed",
    "renamed_keyword",
]


class CodecBenchError(Exception):
    """Base of every CodecBench error."""

    def __init__(
        self,
        message: str,
        *,
        item_id: str | None = None,
        codec_id: str | None = None,
        metric: str | None = None,
    ) -> None:
        super().__init__(message)
        self.item_id = item_id
        self.codec_id = codec_id
        self.metric = metric


class InvalidAudioError(CodecBenchError, ValueError):
    """Audio that cannot be used: empty, NaN/inf, too short, unreadable, wrong shape."""


class ManifestError(CodecBenchError, ValueError):
    """A manifest row is missing a field or has a value of the wrong type."""


class DatasetLayoutError(CodecBenchError, FileNotFoundError):
    """A dataset folder or annotation file is not where the recipe expects it."""


class MissingWeightsError(CodecBenchError, FileNotFoundError):
    """A codec or model checkpoint is not on disk (we never download at run time)."""


class MissingDependencyError(CodecBenchError, ImportError):
    """An optional backend package is not installed; the message gives the pip line."""


class CodecRuntimeError(CodecBenchError, RuntimeError):
    """A codec failed while encoding or decoding one item."""


class MetricError(CodecBenchError, RuntimeError):
    """A metric is undefined for one item (e.g. PESQ found no utterance)."""


class DiskFullError(CodecBenchError, OSError):
    """The disk (or quota) filled up: the run stops, finished work is kept, a rerun resumes."""


class ConfigError(CodecBenchError, ValueError):
    """A parameter (CLI flag, notebook parameter, preset key) whose value cannot work."""


class MissingArtefactError(CodecBenchError, FileNotFoundError):
    """An upstream stage's output is not there; the message names the command that makes it."""


class UnknownNameError(CodecBenchError, KeyError):
    """An id (codec, dataset, profile, metric) that no registry knows."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when the message is empty."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def require(module: str, pip_name: str | None = None, *, purpose: str = ""):
    """Import an optional backend or raise MissingDependencyError with the pip line."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        what = f" (needed for {purpose})" if purpose else ""
        raise MissingDependencyError(
            f"package '{module}' is not installed{what}; "
            f"install it with: pip install {pip_name or module}"
        ) from exc


class CodecBenchDeprecationWarning(FutureWarning):
    """An old name (flag, notebook parameter, preset folder) still accepted for one release.

    A ``FutureWarning`` so that it is shown to people running notebooks and the CLI, not only to
    test runners.
    """


def _warn_renamed(old: str, new: str, where: str) -> None:
    import warnings

    warnings.warn(f"{where}: '{old}' is now called '{new}'; the old name goes away in the next release",
                  CodecBenchDeprecationWarning, stacklevel=4)


def renamed(params: dict, renames: dict[str, str], where: str) -> dict:
    """``params`` with each old key of ``renames`` moved to its new name, warning once per key.

    Both names given is an error: which one is meant cannot be guessed.
    """
    out = dict(params)
    for old, new in renames.items():
        if old not in out:
            continue
        if new in out:
            raise UnknownNameError(f"{where}: both '{old}' (old name) and '{new}' given; keep '{new}'")
        _warn_renamed(old, new, where)
        out[new] = out.pop(old)
    return out


def renamed_keyword(caught: dict, old: str, new: str, value: object, default: object, where: str) -> object:
    """The value of keyword argument ``new`` of a function whose ``**caught`` takes its old name ``old``.

    The old name warns (accepted for one release); both names given is an error; any other name
    in ``caught`` is an error, as Python itself would raise without the catch-all.
    """
    unknown = sorted(set(caught) - {old})
    if unknown:
        raise UnknownNameError(f"{where}: unexpected keyword argument(s) {unknown}")
    if old not in caught:
        return value
    if value != default:
        raise UnknownNameError(f"{where}: both '{old}' (old name) and '{new}' given; keep '{new}'")
    _warn_renamed(old, new, where)
    return caught[old]
