"""Cross-validation folds for the classification datasets.

:func:`assign_folds` gives each item a ``fold`` in ``1..n_folds``, stratified by
``label`` and, when ``group_key`` is given, group-disjoint: every item of a group
(a speaker, an actor, an instrument) lands in the same fold, so a probe is never
tested on a voice or an instrument it was trained on. This differs from the
paper's folds, which are not group-disjoint; :func:`read_fold_file` and
:func:`apply_folds` import published fold files instead, for exact comparability.

The assignment is deterministic for a given ``seed`` and independent of the
input order (items are processed in id order).
"""

from __future__ import annotations

import csv
import json
import logging
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

import numpy as np

from ..audio import PathLike
from ..errors import DatasetLayoutError, ManifestError
from .manifest import ManifestItem

__all__ = ["N_FOLDS", "assign_folds", "read_fold_file", "apply_folds", "fold_summary", "add_folds"]

#: Folds per classification dataset (the paper's 5-fold cross-validation).
N_FOLDS = 5

logger = logging.getLogger(__name__)

#: Column names accepted for the item key and the fold in published fold files.
_KEY_COLUMNS = (
    "id", "item", "audio_path", "wavpath", "path", "filename", "file_name", "file", "audio", "wav", "name",
    "video_path",
)
_FOLD_COLUMNS = ("fold", "folds", "fold_id", "split_fold")

GroupKey = str | Callable[[ManifestItem], object] | None


def _group_of(item: ManifestItem, group_key: GroupKey) -> object:
    """The group an item belongs to; ungrouped items are their own group."""
    if group_key is None:
        return ("item", item.id)
    if callable(group_key):
        g = group_key(item)
    elif group_key in item.extra:
        g = item.extra[group_key]
    else:
        g = getattr(item, group_key, None)
    return ("item", item.id) if g is None else ("group", g)


def assign_folds(
    items: Iterable[ManifestItem],
    n_folds: int = 5,
    *,
    group_key: GroupKey = None,
    seed: int = 0,
) -> list[ManifestItem]:
    """Stratified (and optionally group-disjoint) k-fold assignment.

    Parameters
    ----------
    items : iterable of ManifestItem
        Every item must have a ``label``.
    n_folds : int
        Number of folds (>= 2); folds are numbered ``1..n_folds``.
    group_key : str, callable or None
        A field name (``"speaker"``, or a key of ``extra`` such as ``"instrument"``)
        or a function of the item. Items of one group share a fold. ``None``, or an
        item whose group is ``None``, puts that item in a group of its own.
    seed : int
        Seed for the order in which equally spread groups are placed.

    Returns
    -------
    list of ManifestItem
        Copies with ``fold`` set, in id order.

    Raises
    ------
    ManifestError
        An item has no label, or ``n_folds`` exceeds the number of groups.

    Notes
    -----
    The greedy scheme of scikit-learn's ``StratifiedGroupKFold`` (shuffled): groups
    are taken by decreasing spread of their label distribution and each goes to the
    fold that keeps the per-label fold shares most even (lowest mean standard
    deviation over labels), ties broken by the smaller fold, then the lower index.

    Examples
    --------
    >>> from codecbench_utils.data.manifest import ManifestItem
    >>> its = [ManifestItem(id=f"x/{i}", dataset="x", category="speech", path="a.wav",
    ...                     duration=1.0, sample_rate=16000, label="ab"[i % 2], speaker=str(i // 2))
    ...        for i in range(8)]
    >>> sorted({it.fold for it in assign_folds(its, 4, group_key="speaker")})
    [1, 2, 3, 4]
    """
    if n_folds < 2:
        raise ManifestError(f"n_folds must be >= 2, got {n_folds}")
    items = sorted(items, key=lambda it: it.id)
    unlabelled = [it.id for it in items if it.label is None]
    if unlabelled:
        raise ManifestError(
            f"{len(unlabelled)} items have no label (e.g. '{unlabelled[0]}'); folds are stratified by label",
            item_id=unlabelled[0],
        )
    labels = sorted({str(it.label) for it in items})
    lab_idx = {lab: i for i, lab in enumerate(labels)}
    groups: dict[object, list[int]] = {}
    for i, it in enumerate(items):
        groups.setdefault(_group_of(it, group_key), []).append(i)
    if len(groups) < n_folds:
        raise ManifestError(f"cannot make {n_folds} group-disjoint folds from {len(groups)} groups")
    keys = list(groups)
    counts = np.zeros((len(keys), len(labels)), dtype=np.int64)
    for g, k in enumerate(keys):
        for i in groups[k]:
            counts[g, lab_idx[str(items[i].label)]] += 1
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(keys))
    spread = np.std(counts / counts.sum(axis=1, keepdims=True), axis=1)
    order = order[np.argsort(-spread[order], kind="stable")]
    total = counts.sum(axis=0).astype(np.float64)
    fold_counts = np.zeros((n_folds, len(labels)), dtype=np.int64)
    fold_of_group = np.empty(len(keys), dtype=np.int64)
    for g in order:
        best, best_key = 0, None
        for f in range(n_folds):
            fold_counts[f] += counts[g]
            score = float(np.mean(np.std(fold_counts / total, axis=0)))
            fold_counts[f] -= counts[g]
            key = (round(score, 12), int(fold_counts[f].sum()), f)
            if best_key is None or key < best_key:
                best, best_key = f, key
        fold_counts[best] += counts[g]
        fold_of_group[g] = best
    out = list(items)
    for g, k in enumerate(keys):
        for i in groups[k]:
            out[i] = replace(items[i], fold=int(fold_of_group[g]) + 1)
    return out


def fold_summary(items: Iterable[ManifestItem]) -> dict[int, dict[str, int]]:
    """``{fold: {label: count}}`` for a quick look at the balance."""
    out: dict[int, dict[str, int]] = {}
    for it in items:
        if it.fold is None:
            continue
        d = out.setdefault(it.fold, {})
        d[str(it.label)] = d.get(str(it.label), 0) + 1
    return dict(sorted(out.items()))


def read_fold_file(path: PathLike) -> dict[str, int]:
    """Read a published fold file into ``{key: fold}``.

    Accepted formats: CSV/TSV with a header holding a key column (one of
    ``id, item, path, filename, file_name, file, audio, wav, name``) and a fold
    column (``fold``); JSON as ``{key: fold}`` or ``{fold: [keys]}``; JSONL rows
    with those columns. Keys are matched by :func:`apply_folds`.

    Raises
    ------
    DatasetLayoutError
        The file is missing.
    ManifestError
        No recognisable key/fold columns, or a fold that is not an integer.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetLayoutError(f"fold file not found: '{path}'")
    suffix = path.suffix.lower()
    rows: list[Mapping[str, object]]
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ManifestError(f"'{path}': expected a JSON object, got {type(data).__name__}")
        mapping: dict[str, int] = {}
        for k, v in data.items():
            if isinstance(v, list):
                for key in v:
                    mapping[str(key)] = _as_fold(k, path)
            else:
                mapping[str(k)] = _as_fold(v, path)
        return mapping
    if suffix == ".jsonl":
        rows = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    else:
        text = path.read_text(encoding="utf-8-sig")
        delim = "\t" if suffix == ".tsv" or "\t" in text.splitlines()[0] else ","
        rows = list(csv.DictReader(text.splitlines(), delimiter=delim))
    if not rows:
        raise ManifestError(f"'{path}': no rows")
    cols = {c.lower().strip(): c for c in rows[0]}
    key_col = next((cols[c] for c in _KEY_COLUMNS if c in cols), None)
    fold_col = next((cols[c] for c in _FOLD_COLUMNS if c in cols), None)
    if key_col is None or fold_col is None:
        raise ManifestError(
            f"'{path}': need a key column (one of {list(_KEY_COLUMNS)}) and a fold column "
            f"(one of {list(_FOLD_COLUMNS)}); found {list(rows[0])}"
        )
    return {str(r[key_col]): _as_fold(r[fold_col], path) for r in rows}


def _as_fold(v: object, path: Path) -> int:
    """A fold value as int, with a ManifestError naming the file otherwise."""
    try:
        return int(str(v).strip())
    except ValueError as exc:
        raise ManifestError(f"'{path}': fold '{v}' is not an integer") from exc


def _keys_of(item: ManifestItem) -> Sequence[str]:
    """Keys a published fold file may use for an item: id, id without dataset, file name, stem."""
    p = PurePosixPath(item.path.replace("\\", "/"))
    tail = item.id.split("/", 1)[1] if "/" in item.id else item.id
    return (item.id, tail, p.name, p.stem)


def apply_folds(
    items: Iterable[ManifestItem],
    folds: Mapping[str, int],
    *,
    strict: bool = False,
) -> list[ManifestItem]:
    """Set ``fold`` from a published mapping (see :func:`read_fold_file`).

    Each item is looked up by its id, its id without the ``<dataset>/`` prefix,
    its file name, then its file stem; the file's keys are also indexed by their
    file name and stem (so ``dia0_utt0.wav`` in the file matches ``dia0_utt0.mp4``).
    Stems repeat across splits in some corpora (MELD): prepare only the split the
    fold file covers. Unmatched items keep ``fold=None`` and are
    counted in one warning (``strict`` raises instead).

    Raises
    ------
    ManifestError
        ``strict`` and some items are not in ``folds``.
    """
    lookup: dict[str, int] = {}
    for k, v in folds.items():  # also index the file name and stem of path-like keys
        p = PurePosixPath(k.replace("\\", "/"))
        for key in (p.stem, p.name, k):
            lookup[key] = v
    out, missing = [], []
    for it in items:
        fold = next((lookup[k] for k in _keys_of(it) if k in lookup), None)
        if fold is None:
            missing.append(it.id)
        out.append(replace(it, fold=fold))
    if missing:
        msg = f"{len(missing)} items are not in the fold file (e.g. '{missing[0]}')"
        if strict:
            raise ManifestError(msg, item_id=missing[0])
        logger.warning("%s", msg)
        warnings.warn(msg + "; they keep fold=None", stacklevel=2)
    return out


def add_folds(
    items: Sequence[ManifestItem],
    *,
    group_key: GroupKey,
    fold_file: PathLike | None = None,
    n_folds: int = N_FOLDS,
    seed: int = 0,
    strict: bool = False,
) -> list[ManifestItem]:
    """Folds for a recipe: from ``fold_file`` when given, else :func:`assign_folds`.

    With too few groups for ``n_folds`` group-disjoint folds (a tiny extract of a
    corpus), the items are returned without folds, each with its group in
    ``extra["fold_group"]`` so the probe can still keep groups apart, and a warning says why.
    """
    if fold_file is not None:
        return apply_folds(items, read_fold_file(fold_file), strict=strict)
    n_groups = len({_group_of(it, group_key) for it in items})
    if n_groups < n_folds:
        msg = f"only {n_groups} groups ({group_key}) for {n_folds} folds; items left without folds"
        logger.warning("%s", msg)
        warnings.warn(msg, stacklevel=2)
        return [replace(it, extra={**it.extra, "fold_group": str(_group_of(it, group_key)[1])}) for it in items]
    return assign_folds(items, n_folds, group_key=group_key, seed=seed)
