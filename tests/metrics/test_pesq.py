"""PESQ wrappers against the ``pesq`` package called directly; the pool keeps row order."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError, MetricError
from codecbench_utils.metrics.pesq import pesq_many, pesq_nb, pesq_wb
from codecbench_utils.metrics.pool import MetricPool

# same backend, same inputs -> exact
EXACT = dict(rtol=0, atol=0)


def _reference_pesq(ref, est, sr, mode):
    import pesq

    return pesq.pesq(sr, ref, est, mode)


def _pair(signal, rng, sr, seconds=1.5, noise=0.02):
    ref = signal(rng, sr, seconds).astype(np.float64)
    est = ref + noise * rng.standard_normal(ref.size)
    return ref, est


@pytest.mark.parametrize("sr", [8000, 16000])
def test_pesq_nb_matches_package(signal, rng, sr):
    ref, est = _pair(signal, rng, sr)
    np.testing.assert_allclose(pesq_nb(ref, est, sr), _reference_pesq(ref, est, sr, "nb"), **EXACT)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pesq_wb_matches_package(signal, rng, dtype):
    ref, est = _pair(signal, rng, 16000)
    ref, est = ref.astype(dtype), est.astype(dtype)
    got = pesq_wb(ref, est, 16000)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, _reference_pesq(ref, est, 16000, "wb"), **EXACT)


def test_pesq_pinned_value(signal):
    # pesq 0.0.4 on the conftest signal (seed 1234) plus seeded noise
    rng = np.random.default_rng(1234)
    ref, est = _pair(signal, rng, 16000)
    assert 1.0 < float(pesq_wb(ref, est, 16000)) < 4.7
    np.testing.assert_allclose(pesq_wb(ref, ref, 16000), _reference_pesq(ref, ref, 16000, "wb"), **EXACT)


def test_pesq_errors_are_typed(signal, rng):
    ref, est = _pair(signal, rng, 16000)
    with pytest.raises(InvalidAudioError, match="sr=16000"):
        pesq_wb(ref[::2], est[::2], 8000)
    with pytest.raises(InvalidAudioError, match="one of"):
        pesq_nb(ref, est, 22050)
    with pytest.raises(InvalidAudioError, match="needs >= 0.25 s"):
        pesq_wb(ref[:1000], est[:1000], 16000)
    with pytest.raises(InvalidAudioError, match="silent"):
        pesq_wb(np.zeros(16000), est[:16000], 16000)
    bad = est.copy()
    bad[10] = np.nan
    with pytest.raises(InvalidAudioError, match="NaN"):
        pesq_nb(ref, bad, 16000)
    with pytest.raises(InvalidAudioError, match="align"):
        pesq_wb(ref, est[:-1], 16000)
    # a 20 Hz tone is below PESQ's speech band: the C library finds no utterance -> MetricError
    hum = np.sin(2 * np.pi * 20 * np.arange(16000) / 16000)
    with pytest.raises(MetricError, match="no utterance"):
        pesq_wb(hum, 0.5 * hum, 16000)


def test_pool_matches_serial_and_keeps_failed_rows_in_place(signal, rng):
    pairs = [_pair(signal, rng, 16000, seconds=1.0, noise=0.01 * (i + 1)) for i in range(4)]
    pairs.insert(2, (np.zeros(16000), np.zeros(16000)))  # silent -> error in row 2
    pairs.append((pairs[0][0][:100], pairs[0][1][:100]))  # too short -> error in the last row
    serial = pesq_many(pairs, 16000, mode="wb", workers=0)
    pooled = pesq_many(pairs, 16000, mode="wb", workers=2)
    expected = [_reference_pesq(r, e, 16000, "wb") for i, (r, e) in enumerate(pairs) if i not in (2, 5)]
    for out in (serial, pooled):
        assert isinstance(out[2], InvalidAudioError) and "silent" in str(out[2])
        assert isinstance(out[5], InvalidAudioError) and out[5].metric == "pesq_wb"
        np.testing.assert_allclose([v for i, v in enumerate(out) if i not in (2, 5)], expected, **EXACT)


def test_metric_pool_bounded_submit(signal, rng):
    ref, est = _pair(signal, rng, 8000, seconds=1.0)
    with MetricPool(1, chunksize=1, max_inflight=1) as pool:
        pool.submit([(i, pesq_nb, ref, est, 8000, {}) for i in range(3)])
        assert pool.n_pending <= 1
        got = sorted(pool.collect(wait=True))
    assert [k for k, _, _ in got] == [0, 1, 2]
    assert len({v for _, v, _ in got}) == 1
