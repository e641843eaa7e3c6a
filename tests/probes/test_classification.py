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
    for f in range(1, 6):
        assert sorted(labels[folds == f]) == sorted(["high", "low", "noise"] * 4)


def test_partial_folds_are_excluded_with_a_count_never_reshuffled(tones, caplog):
    from dataclasses import replace

    from codecbench_utils.errors import ManifestError
    from codecbench_utils.probes.classification import fold_items

    items, _ = tones
    partial = [replace(it, fold=None) if i % 4 == 0 else it for i, it in enumerate(items)]
    with caplog.at_level("WARNING"):
        kept = fold_items(partial)
    assert [it.id for it in kept] == [it.id for i, it in enumerate(items) if i % 4]
    assert f"{len(items) // 4} of {len(items)} items have no fold" in caplog.text
    assert assign_folds(kept, 5, seed=0) == [it.fold for it in kept]  # the published folds, untouched
    with pytest.raises(ManifestError, match="have no fold"):
        fold_items(partial, missing="error")
    with pytest.raises(ManifestError, match="fold_items"):
        assign_folds(partial, 5, seed=0)


@pytest.mark.parametrize("field", ["speaker", "fold_group"])
def test_fallback_folds_are_group_disjoint_even_with_few_groups(tones, field, caplog):
    from dataclasses import replace

    items, _ = tones
    grouped = []
    for i, it in enumerate(items):  # 3 groups: fewer than 5 folds
        g = f"g{i % 3}"
        grouped.append(replace(it, fold=None, speaker=g) if field == "speaker" else
                       replace(it, fold=None, extra={**it.extra, "fold_group": g}))
    with caplog.at_level("WARNING"):
        folds = assign_folds(grouped, 5, seed=1)
    assert sorted(set(folds)) == [1, 2, 3] and "only 3 groups" in caplog.text
    group = [it.speaker if field == "speaker" else it.extra["fold_group"] for it in grouped]
    for g in set(group):
        assert len({f for f, gg in zip(folds, group) if gg == g}) == 1  # one group, one fold


def test_recipes_record_the_group_when_folds_cannot_be_made(tones):
    from dataclasses import replace

    from codecbench_utils.data.folds import add_folds

    items, _ = tones
    few = [replace(it, fold=None, speaker=f"s{i % 2}") for i, it in enumerate(items)]
    with pytest.warns(UserWarning, match="only 2 groups"):
        out = add_folds(few, group_key="speaker")
    assert all(it.fold is None for it in out) and {it.extra["fold_group"] for it in out} == {"s0", "s1"}


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


def test_selection_never_returns_the_initialisation():
    """One step per epoch, the warm-up's first at lr 0: epoch 1 holds the initial weights. With labels the
    features cannot predict, the initial (uniform) model has the lowest validation loss; it must not be kept."""
    import torch

    from codecbench_utils.probes.classification import _Data, build_classifier, train_classifier

    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(16)]
    train = _Data(seqs, rng.integers(0, 2, 16), "cpu")
    val = _Data([rng.standard_normal((3, 4)).astype(np.float32) for _ in range(40)], rng.integers(0, 2, 40), "cpu")
    cfg = load_probe_profile("demo", "classification")
    from dataclasses import replace

    cfg = replace(cfg, epochs=4, batch_size=16, lr=0.5, warmup_fraction=0.25, select="val_loss", min_val_items=10)
    model, epoch, _, rule, first = train_classifier(train, val, 2, cfg, seed=0, device="cpu")
    torch.manual_seed(0)
    init = build_classifier(4, 2, cfg)
    assert epoch >= 2 and rule == "val_loss"
    assert not all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), init.state_dict().values()))
    assert first == (epoch == 2)
    small = _Data(seqs[:3], np.array([0, 1, 0]), "cpu")
    *_, rule, _ = train_classifier(train, small, 2, cfg, seed=0, device="cpu")
    assert rule.startswith("last (validation has 3 items")
