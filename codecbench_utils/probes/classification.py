"""Classification probe: a linear layer on pooled frozen features, k-fold cross-validated.

As in the paper's reference implementation (ARCH-style recipes): features are
mean-pooled over the valid frames (padding masked), a linear layer is trained
with cross-entropy, AdamW at 1e-3, batch 16, 20 epochs, a linear warm-up over
the first 10 % of the steps then a linear decay to 0 (stepped per batch); each
fold is the test set once, the other folds train, and 20 % of the training
items are held out for validation; accuracy is reported per fold and as mean
± std over folds (and seeds).

Deliberate deviation: the reference means to keep the epoch with the lowest
validation loss but never updates its running best, so it always keeps the
last epoch; here ``select`` picks ``val_loss`` (default), ``val_accuracy`` or
``last`` (the reference's behaviour). Options beyond the paper: an MLP head
(one hidden layer of the input size, ReLU, dropout; the reference's
"non-linear" mode) and attention pooling (a learned linear score per frame,
softmax over the valid frames, weighted sum; ARCH's attention-pooling head).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from ..data.manifest import ManifestItem
from ..errors import ConfigError, ManifestError
from .cache import FeatureSet
from .config import ClassificationConfig
from .uncertainty import majority_chance, mean_interval

__all__ = ["masked_mean", "build_classifier", "fold_items", "assign_folds", "FoldResult", "train_classifier",
           "cross_validate", "summarize_folds"]

logger = logging.getLogger(__name__)


def masked_mean(x: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """Mean over the first ``lengths[b]`` frames of each padded sequence.

    Parameters
    ----------
    x : array, shape (batch, frames, dim)
    lengths : sequence of int, each in 1..frames

    Returns
    -------
    array, shape (batch, dim), float64

    Examples
    --------
    >>> x = np.array([[[1.0], [3.0], [100.0]]])
    >>> masked_mean(x, [2])
    array([[2.]])
    """
    x = np.asarray(x, dtype=np.float64)
    lengths = np.asarray(lengths)
    if np.any(lengths < 1) or np.any(lengths > x.shape[1]):
        raise ValueError(f"lengths must lie in 1..{x.shape[1]}, got {lengths.tolist()}")
    mask = np.arange(x.shape[1])[None, :] < lengths[:, None]
    return (x * mask[..., None]).sum(1) / lengths[:, None]


def build_classifier(dim: int, n_classes: int, cfg: ClassificationConfig, *, vocab: list[int] | None = None) -> Any:
    """The probe head: (B, T, D) features + (B, T) bool mask -> (B, n_classes) logits.

    With ``vocab`` (codebook sizes), the input is code indices and a learned embedding per codebook,
    summed, comes first (the token-based probe, :mod:`codecbench_utils.probes.tokens`).
    """
    import torch
    from torch import nn

    from .tokens import token_front

    front = token_front(vocab) if vocab else None
    dim = front.out_dim if front is not None else dim

    class Probe(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.front = front
            self.score = nn.Linear(dim, 1) if cfg.pooling == "attention" else None
            if cfg.head == "mlp":
                self.head = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(cfg.dropout), nn.ReLU(),
                                          nn.Linear(dim, n_classes))
            else:
                self.head = nn.Linear(dim, n_classes)

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            if self.front is not None:
                x = self.front(x)
            if self.score is not None:
                s = self.score(x).squeeze(-1).masked_fill(~mask, float("-inf"))
                w = torch.softmax(s, dim=-1)
            else:
                w = mask.float() / mask.sum(-1, keepdim=True).clamp(min=1)
            pooled = torch.bmm(w.unsqueeze(1), x).squeeze(1)
            return self.head(pooled)

    return Probe()


#: the extra field in which a recipe records each item's group when it could not make folds
GROUP_FIELD = "fold_group"


def fold_items(items: Sequence[ManifestItem], *, missing: str = "exclude") -> list[ManifestItem]:
    """The items the cross-validation may use: all of them, or those with a fold when only some have one.

    A fold file that covers part of a dataset leaves the rest without folds; reshuffling
    everything would mix the published folds' speakers and sources, so those items are left
    out, with a warning saying how many (``missing="error"``: a ManifestError instead).
    """
    with_fold = [it for it in items if it.fold is not None]
    if not with_fold or len(with_fold) == len(items):
        return list(items)
    msg = (f"{len(items) - len(with_fold)} of {len(items)} items have no fold while the others have one "
           "(a fold file that covers part of the dataset?)")
    if missing == "error":
        raise ManifestError(msg + "; give them folds, or set missing_folds: exclude")
    logger.warning("%s; they are left out of the cross-validation", msg)
    return with_fold


def assign_folds(items: Sequence[ManifestItem], n_folds: int, seed: int) -> list[int]:
    """The manifest's folds when every item has one, else seeded group-disjoint stratified folds.

    The group is what the recipe recorded (``extra["fold_group"]``: speaker, source file,
    dialogue, instrument), else the speaker; with fewer groups than ``n_folds`` there are as
    many folds as groups (at least 2). Without any group, items are their own groups and a
    warning says that folds may then share a source.
    """
    if all(it.fold is not None for it in items):
        return [int(it.fold) for it in items]  # type: ignore[arg-type]
    if any(it.fold is not None for it in items):
        raise ManifestError("some items have folds and some do not; filter them with fold_items() first")
    from ..data.folds import _group_of
    from ..data.folds import assign_folds as group_folds

    if any(GROUP_FIELD in it.extra for it in items):
        key: str | None = GROUP_FIELD
    elif any(it.speaker for it in items):
        key = "speaker"
    else:
        key = None
        logger.warning("no fold and no group (speaker, source) in the manifest: item-level folds, which may "
                       "put one source in training and test")
    n_groups = len({_group_of(it, key) for it in items})
    k = min(n_folds, n_groups)
    if k < 2:
        raise ManifestError(f"cannot cross-validate: the items form {n_groups} group(s) by {key}; need >= 2")
    if k < n_folds:
        logger.warning("only %d groups (%s) for %d folds: using %d group-disjoint folds", n_groups, key,
                       n_folds, k)
    fold_of = {it.id: it.fold for it in group_folds(items, k, group_key=key, seed=seed)}
    return [int(fold_of[it.id]) for it in items]  # type: ignore[arg-type]


@dataclass
class FoldResult:
    """One (seed, fold) of a cross-validation: the row written to ``classification.parquet``."""

    codec: str
    feature: str
    source: str
    preset: str
    dataset: str
    seed: int
    fold: int
    accuracy: float
    f1_macro: float
    n_classes: int
    n_train: int
    n_val: int
    n_test: int
    head: str
    pooling: str
    select: str  # the rule that picked the epoch (with the reason when it had to fall back to "last")
    best_epoch: int
    val_accuracy: float
    train_s: float
    selected_first_eval: bool = False  # the kept epoch is the first evaluated: the probe may not have learned
    chance: float = float("nan")  # accuracy of always answering the majority label
    config: str = ""  # the full effective configuration (JSON): the preset name alone hides overrides

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Data:
    """Padded features, masks and labels of a set of items, as tensors on ``device``."""

    def __init__(self, seqs: list[np.ndarray], labels: np.ndarray, device: Any) -> None:
        import torch

        n, t, d = len(seqs), max(s.shape[0] for s in seqs), seqs[0].shape[1]
        x = np.zeros((n, t, d), dtype=np.float32)
        mask = np.zeros((n, t), dtype=bool)
        for i, s in enumerate(seqs):
            x[i, : s.shape[0]] = s
            mask[i, : s.shape[0]] = True
        self.x = torch.from_numpy(x).to(device)
        self.mask = torch.from_numpy(mask).to(device)
        self.y = torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device)

    def __len__(self) -> int:
        return int(self.y.shape[0])


def _eval(model: Any, data: _Data, batch_size: int = 256) -> tuple[float, np.ndarray]:
    import torch

    model.eval()
    losses, preds = [], []
    with torch.no_grad():
        for s in range(0, len(data), batch_size):
            logits = model(data.x[s : s + batch_size], data.mask[s : s + batch_size])
            losses.append(float(torch.nn.functional.cross_entropy(logits, data.y[s : s + batch_size],
                                                                  reduction="sum")))
            preds.append(logits.argmax(-1).cpu().numpy())
    model.train()
    return sum(losses) / max(len(data), 1), np.concatenate(preds) if preds else np.zeros(0, dtype=int)


def train_classifier(train: _Data, val: _Data, n_classes: int, cfg: ClassificationConfig, *, seed: int,
                     device: Any, vocab: list[int] | None = None) -> tuple[Any, int, float, str, bool]:
    """Train one probe; return the selected model, its epoch (1-based), validation accuracy, the rule used
    and whether the kept epoch is the first one evaluated.

    An epoch in which no step had a learning rate above 0 (the warm-up's first step is at 0: a
    tiny training set can make that a whole epoch) still holds the initialisation and is never
    selected. With fewer than ``cfg.min_val_items`` validation items the last epoch is kept.
    """
    import copy

    import torch

    torch.manual_seed(seed)
    model = build_classifier(int(train.x.shape[-1]), n_classes, cfg, vocab=vocab).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    per_epoch = max(1, math.ceil(len(train) / cfg.batch_size))
    total = cfg.epochs * per_epoch
    warm = max(1, int(total * cfg.warmup_fraction))

    def factor(step: int) -> float:
        if step <= warm:
            return step / warm
        return max(0.0, 1.0 - (step - warm) / max(total - warm, 1))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    gen = torch.Generator().manual_seed(seed)
    rule = cfg.select
    if rule != "last" and len(val) < cfg.min_val_items:
        rule = f"last (validation has {len(val)} items < min_val_items {cfg.min_val_items})"
    best: tuple[float, dict, int, float] | None = None
    updated = False  # has any step moved the weights?
    first_epoch = 0  # the first epoch that may be selected
    for epoch in range(1, cfg.epochs + 1):
        order = torch.randperm(len(train), generator=gen)
        for s in range(0, len(train), cfg.batch_size):
            idx = order[s : s + cfg.batch_size].to(train.x.device)
            loss = torch.nn.functional.cross_entropy(model(train.x[idx], train.mask[idx]), train.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            updated = updated or opt.param_groups[0]["lr"] > 0
            opt.step()
            sched.step()
        if len(val):
            v_loss, v_pred = _eval(model, val)
            v_acc = float(np.mean(v_pred == val.y.cpu().numpy()))
        else:
            v_loss, v_acc = float("nan"), float("nan")
        if not updated:
            continue
        first_epoch = first_epoch or epoch
        score = {"val_loss": v_loss, "val_accuracy": -v_acc}.get(rule, 0.0)
        if best is None or rule.startswith("last") or score < best[0]:
            best = (score, copy.deepcopy(model.state_dict()), epoch, v_acc)
    if best is None:
        raise ConfigError(f"classification probe: no epoch updated the weights (epochs {cfg.epochs}, lr {cfg.lr})")
    model.load_state_dict(best[1])
    return model, best[2], best[3], rule, best[2] == first_epoch


def _split_val(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train/validation split, stratified by label when every class allows it."""
    n = len(labels)
    n_val = int(round(n * fraction))
    if n_val == 0 or n_val >= n:
        return np.arange(n), np.zeros(0, dtype=int)
    from sklearn.model_selection import train_test_split

    _, counts = np.unique(labels, return_counts=True)
    strat = labels if counts.min() >= 2 and n_val >= len(counts) else None
    tr, va = train_test_split(np.arange(n), test_size=n_val, random_state=seed, stratify=strat)
    return np.sort(tr), np.sort(va)


def cross_validate(
    features: FeatureSet,
    items: Sequence[ManifestItem],
    cfg: ClassificationConfig,
    *,
    codec: str = "",
    dataset: str = "",
    seeds: Sequence[int] = (0,),
    device: str = "cpu",
    progress: bool = True,
    predictions: list[dict[str, Any]] | None = None,
) -> list[FoldResult]:
    """Cross-validate a classification probe on cached features.

    Parameters
    ----------
    features : FeatureSet
        Cached features of ``items``.
    items : sequence of ManifestItem
        Items with ``label`` (and ``fold``; see :func:`fold_items` and :func:`assign_folds`).
    cfg : ClassificationConfig
        ``load_probe_profile(profile, "classification")``.
    codec, dataset : str
        Labels copied into the results.
    seeds : sequence of int
        One full cross-validation per seed (model init, batch order, validation split).
    device : str
        ``cpu``, ``cuda`` or ``auto``.
    predictions : list, optional
        Gets one dict per (seed, test item): codec, feature, source, dataset, seed, fold, item,
        true and predicted label, correct (what item-level intervals are computed from).

    Returns
    -------
    list of FoldResult
        One per (seed, fold); summarize with :func:`summarize_folds`.

    Raises
    ------
    ManifestError
        Fewer than two labels or two folds among the items with features.
    """
    import torch

    from .features import parse_feature_source

    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                       ("cpu" if device == "auto" else device))
    have = set(features.ids)
    usable = [it for it in items if it.id in have and it.label not in (None, "")]
    classes = sorted({str(it.label) for it in usable})
    if len(classes) < 2:
        raise ManifestError(f"classification probe on '{dataset}': {len(classes)} label(s) among "
                            f"{len(usable)} usable items; need at least 2")
    usable = fold_items(usable, missing=cfg.missing_folds)
    y_all = np.array([classes.index(str(it.label)) for it in usable])
    chance = majority_chance(y_all)
    config = json.dumps(cfg.to_dict(), sort_keys=True)
    max_frames = None
    if dataset in cfg.max_seconds:
        max_frames = max(1, int(cfg.max_seconds[dataset] * features.frame_rate))
    seqs = []
    for it in usable:
        s = np.asarray(features.get(it.id), dtype=np.float32)
        seqs.append(s[:max_frames] if max_frames else s)
    from .tokens import source_vocab

    vocab = source_vocab(features.source)
    if cfg.pooling == "mean" and vocab is None:  # pooling first is exact for a mean and far cheaper
        seqs = [s.mean(0, keepdims=True) for s in seqs]  # (code indices are embedded per frame first)
    label = parse_feature_source(features.source).label
    results: list[FoldResult] = []
    folds_of = {seed: np.array(assign_folds(usable, cfg.n_folds, seed)) for seed in seeds}  # once per seed
    runs = [(seed, f) for seed in seeds for f in sorted(set(folds_of[seed].tolist()))]
    if len({f for _, f in runs}) < 2:
        raise ManifestError(f"classification probe on '{dataset}': the items hold a single fold; need >= 2")
    bar = tqdm(runs, desc=f"cls probe {dataset} {features.source}", unit="fold", disable=not progress)
    for seed, fold in bar:
        folds = folds_of[seed]
        test_idx = np.flatnonzero(folds == fold)
        pool_idx = np.flatnonzero(folds != fold)
        tr_rel, va_rel = _split_val(y_all[pool_idx], cfg.val_fraction, seed)
        tr_idx, va_idx = pool_idx[tr_rel], pool_idx[va_rel]
        mean = std = None
        if cfg.normalize and vocab is None:  # code indices are identities, not values
            frames = np.concatenate([seqs[i] for i in tr_idx])
            mean, std = frames.mean(0), np.maximum(frames.std(0), 1e-3)

        def data(idx: np.ndarray) -> _Data:
            return _Data([seqs[i] if mean is None else (seqs[i] - mean) / std for i in idx], y_all[idx], dev)

        t0 = time.perf_counter()
        train, test = data(tr_idx), data(test_idx)
        val = data(va_idx) if len(va_idx) else _empty_like(train)
        model, best_epoch, v_acc, rule, first = train_classifier(train, val, len(classes), cfg, seed=seed,
                                                                 device=dev, vocab=vocab)
        _, pred = _eval(model, test)
        y_test = y_all[test_idx]
        from sklearn.metrics import f1_score

        results.append(FoldResult(
            codec=codec, feature=label, source=features.source, preset=cfg.profile, dataset=dataset, seed=seed,
            fold=int(fold), accuracy=float(np.mean(pred == y_test)),
            f1_macro=float(f1_score(y_test, pred, average="macro", labels=np.arange(len(classes)),
                                    zero_division=0)),
            n_classes=len(classes), n_train=len(tr_idx), n_val=len(va_idx), n_test=len(test_idx), head=cfg.head,
            pooling=cfg.pooling, select=rule, best_epoch=best_epoch, val_accuracy=v_acc,
            selected_first_eval=first and cfg.epochs > 1, chance=chance, config=config,
            train_s=time.perf_counter() - t0))
        if predictions is not None:
            predictions += [{"codec": codec, "feature": label, "source": features.source, "dataset": dataset,
                             "seed": seed, "fold": int(fold), "item": usable[i].id, "true": classes[t],
                             "pred": classes[p], "correct": int(t == p)}
                            for i, t, p in zip(test_idx, y_test, pred)]
        bar.set_postfix(acc=f"{results[-1].accuracy:.3f}")
    logger.info("classification %s %s: accuracy %.4f ± %.4f over %d fold runs", dataset, features.source,
                np.mean([r.accuracy for r in results]), np.std([r.accuracy for r in results]), len(results))
    return results


def _empty_like(data: _Data) -> _Data:
    """A zero-item dataset (no validation split): selection then keeps the last epoch."""
    out = _Data.__new__(_Data)
    out.x, out.mask, out.y = data.x[:0], data.mask[:0], data.y[:0]
    return out


def summarize_folds(rows: Sequence[FoldResult | dict[str, Any]],
                    predictions: Sequence[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Accuracy (and macro F1) per (codec, feature, preset, dataset, head, pooling), with its uncertainty.

    ``accuracy`` is the mean over all (seed, fold) runs; ``seed_std`` is the spread of the
    per-seed accuracies (how much a rerun moves it) and ``fold_std`` the mean within-seed spread
    over folds (how uneven the folds are), both population std. With ``predictions`` (from
    :func:`cross_validate`), ``accuracy_lo``/``accuracy_hi`` is a 95% bootstrap interval over
    test items (their correctness averaged over seeds). ``chance`` is the majority-label
    accuracy; ``above_chance`` says whether the interval lies above it (``None`` without an
    interval); ``n_first_eval`` counts runs that kept their first evaluated epoch.
    """
    import pandas as pd

    keys = ("codec", "feature", "source", "preset", "dataset", "head", "pooling")
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        d = r.to_dict() if isinstance(r, FoldResult) else dict(r)
        groups.setdefault(tuple(d.get(k) for k in keys), []).append(d)
    preds = pd.DataFrame(list(predictions)) if predictions else pd.DataFrame()
    out = []
    for key, rs in groups.items():
        acc = np.array([r["accuracy"] for r in rs])
        f1 = np.array([r.get("f1_macro", np.nan) for r in rs], dtype=float)
        seeds = sorted({r.get("seed", 0) for r in rs})
        per_seed = [np.mean([r["accuracy"] for r in rs if r.get("seed", 0) == s]) for s in seeds]
        fold_std = float(np.mean([np.std([r["accuracy"] for r in rs if r.get("seed", 0) == s]) for s in seeds]))
        lo = hi = float("nan")
        if not preds.empty and key[2] is not None:
            mine = preds[(preds["codec"] == key[0]) & (preds["source"] == key[2]) & (preds["dataset"] == key[4])]
            if len(mine):
                _, lo, hi = mean_interval(mine.groupby("item")["correct"].mean().to_numpy())
        chance = float(rs[0].get("chance", float("nan")))
        above = None if np.isnan(lo) or np.isnan(chance) else bool(lo > chance)
        out.append({**dict(zip(keys, key)), "accuracy": float(acc.mean()), "accuracy_std": float(acc.std()),
                    "accuracy_lo": lo, "accuracy_hi": hi, "seed_std": float(np.std(per_seed)), "fold_std": fold_std,
                    "chance": chance, "above_chance": above,
                    "f1_macro": float(f1.mean()), "f1_macro_std": float(f1.std()),
                    "accuracy_pm": (f"{100 * acc.mean():.1f} [{100 * lo:.1f}, {100 * hi:.1f}]" if not np.isnan(lo)
                                    else f"{100 * acc.mean():.1f} ± {100 * acc.std():.1f}"),
                    "n_first_eval": int(sum(bool(r.get("selected_first_eval")) for r in rs)),
                    "n_folds": len({r.get("fold") for r in rs}), "n_seeds": len(seeds),
                    "n_classes": rs[0].get("n_classes"), "n_items": int(sum(r.get("n_test", 0) for r in rs)
                                                                     // max(len(seeds), 1))})
    return out
