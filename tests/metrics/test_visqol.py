"""ViSQOL wrapper against direct ``visqol-python`` calls (the package ships no conformance audio)."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.errors import InvalidAudioError, MetricError
from codecbench_utils.metrics.visqol import visqol

# same backend, same inputs -> exact
# same backend, but not bit-reproducible: one clean-checkout run differed by 1.2e-14 (summation order)
SAME_BACKEND = dict(rtol=1e-12, atol=0)


def _reference_visqol(ref, est, sr, mode):
    from visqol import VisqolApi

    api = VisqolApi()
    api.create(mode=mode)
    return api.measure_from_arrays(np.asarray(ref, np.float64), np.asarray(est, np.float64), sr).moslqo


@pytest.mark.parametrize(("mode", "sr"), [("audio", 48000), ("speech", 16000)])
def test_visqol_matches_direct_call(signal, rng, mode, sr):
    ref = signal(rng, sr, 1.0)
    est = ref + 0.01 * rng.standard_normal(ref.size).astype(np.float32)
    got = visqol(ref, est, sr, mode=mode)
    assert got.dtype == np.float64 and 1.0 <= float(got) <= 5.0
    np.testing.assert_allclose(got, _reference_visqol(ref, est, sr, mode), **SAME_BACKEND)


def test_visqol_errors_are_typed(signal, rng):
    ref = signal(rng, 16000, 1.0)
    with pytest.raises(InvalidAudioError, match="sr=48000"):
        visqol(ref, ref, 16000, mode="audio")
    with pytest.raises(InvalidAudioError, match="needs >= 0.5 s"):
        visqol(ref[:4000], ref[:4000], 16000, mode="speech")
    with pytest.raises(InvalidAudioError, match="silent"):
        visqol(np.zeros(16000), ref, 16000, mode="speech")  # the library alone would say ~4.7
    bad = ref.copy()
    bad[3] = np.inf
    with pytest.raises(InvalidAudioError, match="NaN/inf"):
        visqol(ref, bad, 16000, mode="speech")
    with pytest.raises(MetricError, match="returned nan"):
        visqol(ref, np.zeros_like(ref), 16000, mode="speech")  # silent estimate: library gives NaN
