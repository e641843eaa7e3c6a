"""Stand-ins for metric modules that have not landed yet (installed only when the import fails)."""

from __future__ import annotations

import sys
import types

import numpy as np


def _stoi(ref, est, sr, *, extended=False):
    from pystoi import stoi as pystoi_stoi

    return np.float64(pystoi_stoi(np.asarray(ref, np.float64), np.asarray(est, np.float64), sr, extended=extended))


def _batched_stoi(refs, ests, sr, *, extended=False, device="cpu"):
    return np.array([_stoi(r, e, sr, extended=extended) for r, e in zip(refs, ests, strict=True)])


def install(monkeypatch) -> list[str]:
    """Install stubs for missing modules; returns the names stubbed."""
    stubbed = []
    try:
        import codecbench_utils.metrics.stoi  # noqa: F401
    except ImportError:
        mod = types.ModuleType("codecbench_utils.metrics.stoi")
        mod.stoi, mod.batched_stoi = _stoi, _batched_stoi
        monkeypatch.setitem(sys.modules, "codecbench_utils.metrics.stoi", mod)
        stubbed.append("stoi")
    return stubbed
