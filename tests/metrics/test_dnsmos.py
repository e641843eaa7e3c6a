"""DNSMOS against the speechmos package (its own ONNX files and recipe): equal values, one batched call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.errors import InvalidAudioError
from codecbench_utils.metrics.dnsmos import dnsmos, dnsmos_scores

speechmos = pytest.importorskip("speechmos.dnsmos", reason="speechmos is not installed")
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_audio" / "speech"


def _reference(x: np.ndarray) -> dict[str, float]:
    d = speechmos.run(np.asarray(x, np.float64), 16000)
    return {"sig": d["sig_mos"], "bak": d["bak_mos"], "ovrl": d["ovrl_mos"], "p808": d["p808_mos"]}


def test_equals_speechmos_on_generated_audio_of_several_lengths(signal, rng):
    clips = [signal(rng, 16000, s).astype(np.float64) for s in (0.7, 9.5, 11.3)]  # tiled, one window, three
    ours = dnsmos_scores(clips)  # all windows of all clips in one batched call per model
    for x, got in zip(clips, ours, strict=True):
        want = _reference(x)
        for k in want:
            assert got[k] == pytest.approx(want[k], abs=1e-5), k


def test_equals_speechmos_on_real_speech_and_the_resynthesis_scores_lower():
    if not REAL.is_dir():
        pytest.skip("../shared/real_audio is not present")
    x, sr = sf.read(REAL / "lyra_sample1.flac")
    want = _reference(x)
    noisy = np.clip(x + 0.05 * np.random.default_rng(0).standard_normal(x.size), -1, 1)
    got = dnsmos(x, noisy, sr)
    assert got["dnsmos_ovrl_ref"] == pytest.approx(want["ovrl"], abs=1e-5)
    assert got["dnsmos_p808_ref"] == pytest.approx(want["p808"], abs=1e-5)
    assert 2.5 < got["dnsmos_ovrl_ref"] < 4.5  # clean read speech
    assert got["dnsmos_bak"] < got["dnsmos_bak_ref"] - 0.5  # added noise: the background score drops


def test_bad_input_is_a_typed_error(signal, rng):
    x = signal(rng, 16000, 1.0)
    with pytest.raises(InvalidAudioError, match="16000"):
        dnsmos(x, x, 8000)
    bad = x.copy()
    bad[3] = np.nan
    with pytest.raises(InvalidAudioError, match="NaN"):
        dnsmos(x, bad, 16000)
    with pytest.raises(InvalidAudioError, match="non-empty"):
        dnsmos(x, x[:0], 16000)


def test_only_the_signals_the_asked_columns_need_go_through_the_model(signal, rng, monkeypatch):
    from codecbench_utils.metrics import dnsmos as module

    x = signal(rng, 16000, 1.0).astype(np.float64)
    y = 0.5 * x
    full = dnsmos(x, y, 16000)
    seen: list[int] = []
    real = module.dnsmos_scores
    monkeypatch.setattr(module, "dnsmos_scores", lambda sigs: seen.append(len(sigs)) or real(sigs))
    est_only = dnsmos(x, y, 16000, columns=("dnsmos_ovrl", "dnsmos_sig"))
    ref_only = dnsmos(x, y, 16000, columns=("dnsmos_p808_ref",))
    assert seen == [1, 1] and set(est_only) == {"dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808"}
    assert est_only == {k: v for k, v in full.items() if not k.endswith("_ref")}
    assert ref_only == {k: v for k, v in full.items() if k.endswith("_ref")}
