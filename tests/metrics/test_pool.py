"""Tests for the metric worker pool's set-up (its task handling is tested through PESQ and the driver)."""

from __future__ import annotations

import platform
import sys

import numpy as np
import pytest

from codecbench_utils.metrics import pool
from codecbench_utils.metrics.pool import MetricPool


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_keep_freed_memory_is_applied_on_glibc():
    assert pool._keep_freed_memory() is True


def test_worker_init_preloads_modules_and_limits_threads(monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    for var in pool._THREAD_VARS:
        monkeypatch.setenv(var, "4")
    pool._init_worker(("colorsys",))
    try:
        assert "colorsys" in sys.modules
        assert all(__import__("os").environ[v] == "1" for v in pool._THREAD_VARS)
    finally:
        pool._THREAD_LIMITS.restore_original_limits()


def test_eager_start_does_not_count_as_pending_work():
    from codecbench_utils.metrics.mse import mse

    x = np.linspace(-1, 1, 1000)
    with MetricPool(2, chunksize=1, preload=("codecbench_utils.metrics.mse",)) as p:
        assert p.n_pending == 0
        p.submit([(i, mse, x, x * 0.5, 16000, {}) for i in range(4)])
        got = sorted(p.collect(wait=True))
    assert [k for k, _, _ in got] == [0, 1, 2, 3]
    np.testing.assert_allclose([v for _, v, _ in got], np.mean((x - 0.5 * x) ** 2))
