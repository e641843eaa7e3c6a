"""Classification probe: masked pooling, folds, model selection, and that it beats chance."""

from __future__ import annotations

import numpy as np
import pytest

from codecbench_utils.errors import ManifestError
from codecbench_utils.probes.classification import (
    assign_folds,
    build_classifier,
    cross_validate,
    masked_mean,
    summarize_folds,
)
from codecbench_utils.probes.config import load_probe_profile

#: Three tone/noise classes, 20 items each (chance 1/3). Measured mean accuracy over 5 folds:
#: 0.95 (demo profile: linear, mean pooling; seeds 0 and 1), 0.98-1.00 (attention pooling + MLP).
LEARNED_ACCURACY = 0.8
#: Pooling in float32 torch vs float64 NumPy.
POOL_ATOL = 1e-5


def _reference_masked_mean(x: np.ndarray, lengths) -> np.ndarray:
    return np.stack([x[b, : lengths[b]].mean(0) for b in range(len(lengths))])


def test_masked_mean_matches_per_item_mean(rng):
    x = rng.standard_normal((4, 9, 3))
    lengths = [9, 1, 5, 3]
    np.testing.assert_allclose(masked_mean(x, lengths), _reference_masked_mean(x, lengths), rtol=1e-12)
    with pytest.raises(ValueError):
        masked_mean(x, [0, 1, 1, 1])


@pytest.mark.parametrize("pooling", ["mean", "attention"])
def test_pooling_ignores_padding(rng, pooling):
    import torch

    cfg = load_probe_profile("demo", "classification", pooling=pooling)
    torch.manual_seed(0)
    model = build_classifier(4, 3, cfg).eval()
    x = torch.from_numpy(rng.standard_normal((1, 6, 4)).astype(np.float32))
    padded = torch.cat([x, 1e3 * torch.ones(1, 5, 4)], dim=1)
    mask = torch.zeros(1, 11, dtype=torch.bool)
    mask[0, :6] = True
    with torch.no_grad():
        np.testing.assert_allclose(model(padded, mask).numpy(), model(x, torch.ones(1, 6, dtype=torch.bool)).numpy(),
                                   atol=POOL_ATOL)
    if pooling == "mean":
        ref = model.head(torch.from_numpy(_reference_masked_mean(padded.numpy(), [6]).astype(np.float32)))
        np.testing.assert_allclose(model(padded, mask).detach().numpy(), ref.detach().numpy(), atol=POOL_ATOL)


def test_assign_folds_uses_manifest_folds_else_stratifies(tones):
    items, _ = tones
    assert assign_folds(items, 5, seed=0) == [it.fold for it in items]
    from dataclasses import replace

    no_folds = [replace(it, fold=None) for it in items]
    folds = np.array(assign_folds(no_folds, 5, seed=0))
    labels = np.array([it.label for it in items])
    for f in range(5):
        assert sorted(labels[folds == f]) == sorted(["high", "low", "noise"] * 4)


def test_probe_beats_chance_with_5_folds(tones, tone_features):
    items, _ = tones
    cfg = load_probe_profile("demo", "classification")
    rows = cross_validate(tone_features, items, cfg, codec="identity", dataset="tones", progress=False)
    assert [r.fold for r in rows] == [1, 2, 3, 4, 5]
    assert all(r.n_test == 12 and r.n_classes == 3 and r.n_train + r.n_val == 48 for r in rows)
    assert np.mean([r.accuracy for r in rows]) > LEARNED_ACCURACY
    summary = summarize_folds(rows)
    assert len(summary) == 1
    acc = np.array([r.accuracy for r in rows])
    assert summary[0]["accuracy"] == pytest.approx(acc.mean())
    assert summary[0]["accuracy_std"] == pytest.approx(acc.std())
    assert summary[0]["n_folds"] == 5 and summary[0]["feature"] == "logmel_original"


def test_options_and_seeds(tones, tone_features):
    items, _ = tones
    cfg = load_probe_profile("demo", "classification", pooling="attention", head="mlp", select="val_accuracy")
    rows = cross_validate(tone_features, items, cfg, seeds=[0, 1], progress=False)
    assert len(rows) == 10 and {r.seed for r in rows} == {0, 1}
    assert np.mean([r.accuracy for r in rows]) > LEARNED_ACCURACY
    last = load_probe_profile("demo", "classification", select="last", epochs=3)
    assert {r.best_epoch for r in cross_validate(tone_features, items, last, progress=False)} == {3}
    again = cross_validate(tone_features, items, last, progress=False)
    assert [r.accuracy for r in again] == [r.accuracy for r in cross_validate(tone_features, items, last,
                                                                              progress=False)]


def test_single_label_is_an_error(tones, tone_features):
    items, _ = tones
    cfg = load_probe_profile("demo", "classification")
    with pytest.raises(ManifestError, match="need at least 2"):
        cross_validate(tone_features, [it for it in items if it.label == "low"], cfg, progress=False)
