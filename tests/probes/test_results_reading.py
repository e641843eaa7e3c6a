"""Probe summaries in words: what each interval allows one to say."""

from __future__ import annotations

import math

from codecbench_utils.probes.results import UNDERPOWERED_WIDTH, reading


def test_classification_rows_in_words():
    base = {"accuracy": 0.8, "chance": 0.5, "n_first_eval": 0}
    assert reading({**base, "accuracy_lo": 0.45, "accuracy_hi": 0.9}, "classification").startswith(
        "not above chance")
    wide = {**base, "accuracy_lo": 0.55, "accuracy_hi": 0.55 + UNDERPOWERED_WIDTH + 0.05}
    assert reading(wide, "classification").startswith("under-powered")
    good = {**base, "accuracy_lo": 0.75, "accuracy_hi": 0.85}
    assert reading(good, "classification").startswith("above chance")
    assert reading({**good, "n_first_eval": 2}, "classification").startswith("kept its first evaluated")
    assert reading({**base, "accuracy_lo": math.nan, "accuracy_hi": math.nan}, "classification").startswith(
        "no interval")


def test_asr_rows_in_words():
    base = {"wer": 0.3, "floor": 1.0, "cer_hi": 0.2, "n_first_eval": 0}
    assert reading({**base, "wer_lo": 0.9, "wer_hi": 1.0, "cer_hi": 1.0}, "asr").startswith("at the CTC floor")
    assert reading({**base, "wer_lo": 0.1, "wer_hi": 0.5}, "asr").startswith("under-powered")
    assert reading({**base, "wer_lo": 0.25, "wer_hi": 0.35}, "asr").startswith("learned")
