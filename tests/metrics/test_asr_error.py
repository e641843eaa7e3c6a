"""ASR error rates of the resynthesis: normaliser, rates against a plain edit distance, real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.errors import MetricError
from codecbench_utils.metrics.asr_error import _rates, asr_error_rates, normalize_text, transcribe

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_audio"


def _edit_distance(a: list, b: list) -> int:
    d = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        prev, d[0] = d.copy(), i
        for j, y in enumerate(b, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (x != y))
    return int(d[-1])


def test_normaliser():
    assert normalize_text("Front-Center, isn't it?  'Yes'") == "front center isn't it yes"
    assert normalize_text("HELLO_world 42!") == "hello world 42"
    assert normalize_text(" ... ") == ""


@pytest.mark.parametrize(("ref", "hyp"), [("the cat sat on the mat", "the cat sat on mat"),
                                          ("front right", "we're right now"), ("a b c", "x y z w"),
                                          ("side left", "side left")])
def test_rates_equal_a_plain_edit_distance(ref, hyp):
    wer, cer = _rates(ref, hyp)
    assert wer == pytest.approx(_edit_distance(ref.split(), hyp.split()) / len(ref.split()))
    assert cer == pytest.approx(_edit_distance(list(ref), list(hyp)) / len(ref))


def test_empty_transcript_is_an_error_and_silence_is_scored(signal, rng):
    x = signal(rng, 16000, 1.0)
    with pytest.raises(MetricError, match="empty"):
        asr_error_rates(x, x, 16000, text=" ?! ")
    out = asr_error_rates(x, np.zeros_like(x), 16000, text="front right")
    assert set(out) == {"asr_wer", "asr_cer", "asr_wer_ref", "asr_cer_ref"}
    assert out["asr_wer"] >= 0.5  # silence is not the transcript


def _labels():
    import pandas as pd

    if not (REAL / "labels.csv").is_file():
        pytest.skip("../shared/real_audio is not present")
    d = pd.read_csv(REAL / "labels.csv")
    return d[d["text"].notna()]


def test_real_speech_is_recognised_and_a_damaged_copy_is_not():
    labels = _labels()
    clean, damaged = [], []
    for row in labels.itertuples():
        x, sr = sf.read(REAL / row.file)
        low = np.repeat(x[::8], 8)[: x.size]  # 2 kHz sample-and-hold: aliased, muffled
        out = asr_error_rates(x, low, sr, text=row.text)
        clean.append(out["asr_wer_ref"])
        damaged.append(out["asr_wer"])
    assert np.mean(clean) <= 0.5  # pocketsphinx gets most of the eight channel names
    assert np.mean(damaged) > np.mean(clean) + 0.2
    x, sr = sf.read(REAL / "speech" / "alsa_front_right.flac")
    assert normalize_text(transcribe(x, sr)) == "front right"


def test_only_the_signals_the_asked_columns_need_are_transcribed(signal, rng, monkeypatch):
    from codecbench_utils.metrics import asr_error

    x = signal(rng, 16000, 1.0)
    heard: list[int] = []
    monkeypatch.setattr(asr_error, "transcribe", lambda audio, sr: heard.append(id(audio)) or "front right")
    out = asr_error_rates(x, x * 0.5, 16000, text="front right", columns=("asr_wer", "asr_cer"))
    assert out == {"asr_wer": 0.0, "asr_cer": 0.0} and len(heard) == 1
    assert set(asr_error_rates(x, x, 16000, text="front right")) == {"asr_wer", "asr_cer", "asr_wer_ref",
                                                                      "asr_cer_ref"}
