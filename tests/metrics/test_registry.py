"""The metric registry is the one place a metric's facts live; everything else derives from it."""

from __future__ import annotations

import inspect

import pytest

from codecbench_utils import results, tables
from codecbench_utils.errors import UnknownNameError
from codecbench_utils.metrics import compute, profiles, registry


def test_every_row_resolves_to_importable_functions_with_its_arguments():
    for profile in ("paper", "standard"):
        for name, spec in registry.metric_specs(profile).items():
            fn = spec.function()
            params = inspect.signature(fn).parameters
            assert list(params)[:3] == ["ref", "est", "sr"], name
            for key, _ in spec.kwargs:
                assert key in params, (name, key)
            if "text" in registry.get_metric(name).needs:
                assert "text" in params, name
            if spec.batched is not None:
                assert callable(spec.batched_function()), name


def test_derived_lists_come_from_the_registry():
    assert profiles.METRICS == tables.ACOUSTIC_METRICS == results.METRIC_COLUMNS == registry.METRICS
    assert registry.PAPER_METRICS == ("mel_loss", "mse", "pesq_nb", "pesq_wb", "sc", "sdr", "si_sdr", "sim", "stoi",
                                      "visqol")
    assert registry.default_metrics("paper") == registry.PAPER_METRICS  # the paper profile's columns do not move
    assert set(registry.default_metrics("standard")) == set(registry.METRICS)
    assert registry.lower_is_better() | {"wer", "cer"} == tables.LOWER_IS_BETTER
    cols = compute.row_columns("paper")
    assert cols[0] == "item" and cols[1:11] == registry.PAPER_METRICS and cols[11] == "status"
    assert "dnsmos_ovrl" in compute.row_columns("standard") and "dnsmos_ovrl" not in cols
    assert "asr_wer" in compute.row_columns("paper", ["asr_wer"])  # an explicit selection gets its column


def test_groups_are_computed_by_one_function_and_reference_columns_point_at_their_metric():
    groups: dict[str, set[str]] = {}
    for m in registry.REGISTRY:
        if m.group:
            groups.setdefault(m.group, set()).add(f"{m.module}.{m.fn}")
        if m.reference_of:
            assert m.name == f"{m.reference_of}_ref" and m.reference_of in registry.METRICS
    assert groups == {"dnsmos": {"dnsmos.dnsmos"}, "asr": {"asr_error.asr_error_rates"}}


def test_validity_rule_and_unknown_names():
    assert not registry.metric_is_valid("dnsmos_ovrl", "music", "paper")  # not a paper column: rule everywhere
    assert registry.metric_is_valid("pesq_wb", "music", "paper")  # the paper computed its own on every category
    assert not registry.metric_is_valid("asr_wer", "sound", "standard")
    assert registry.higher_is_better("dnsmos_p808") and not registry.higher_is_better("asr_cer")
    with pytest.raises(UnknownNameError, match="choose from"):
        registry.get_metric("nope")
    with pytest.raises(UnknownNameError, match="choose from"):
        compute.parse_metrics("mse,nope")
