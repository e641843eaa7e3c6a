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
    "DiskFullError",
    "first_line",
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
