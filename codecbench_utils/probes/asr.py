"""ASR probe: a BiLSTM + character CTC trained on frozen features, scored by WER.

As in the paper's reference implementation:

- features at ``frame_rate`` Hz are repeated ``k = ceil(min_frame_rate / frame_rate)``
  times along time (``repeat_interleave``), so a 12.5 Hz codec reaches 50 Hz and
  CTC can emit one character per frame (the reference picks the smallest
  multiple of the codec rate that is >= 50 Hz; so do we);
- a 2-layer bidirectional LSTM (1024 units per direction in the ``paper``
  profile), a linear layer to 256 outputs and a log-softmax;
- the character set is the reference's: index 0 is the CTC blank, index ``i`` in
  1..255 is the character ``chr(i)``; transcripts are used as they are;
- ``CTCLoss(blank=0, zero_infinity=True)`` with mean reduction, Adam, gradient
  norm clipped, greedy decoding (best path, collapse repeats, drop blanks),
  corpus WER and CER with jiwer.

Deliberate deviations (each removes a flaw rather than a choice): the LSTM reads
packed sequences, so padding never reaches the backward direction; a held-out
selection split picks the checkpoint by its CER, ties broken by its loss (the
reference scores dev-clean after each epoch and keeps no best model, and it steps
its LR schedule on the dev-clean loss; WER cannot select, see :func:`is_better`);
a row whose kept checkpoint is the first evaluated is flagged
(``selected_first_eval``); training resumes from the last checkpoint.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..atomic import atomic_path
from ..audio import PathLike
from ..data.manifest import ManifestItem
from ..errors import ManifestError
from .cache import FeatureSet
from .config import ASRConfig
from .uncertainty import CTC_FLOOR, edit_counts, rate_interval

__all__ = [
    "is_better",
    "SELECTION",
    "BLANK",
    "NUM_CHARS",
    "text_to_labels",
    "labels_to_text",
    "repeat_factor",
    "greedy_decode",
    "build_ctc_probe",
    "ASRResult",
    "train_asr_probe",
    "CURVE_COLUMNS",
]

logger = logging.getLogger(__name__)

#: CTC blank index and vocabulary size of the reference: blank + chr(1)..chr(255).
BLANK = 0
NUM_CHARS = 256
CURVE_COLUMNS = ("step", "train_loss", "dev_loss", "dev_wer", "dev_cer", "lr")


def text_to_labels(text: str) -> list[int]:
    """Character labels of a transcript: ``ord(c)`` for every character (1..255).

    Raises
    ------
    ManifestError
        A character outside 1..255 (the reference's English vocabulary).

    Examples
    --------
    >>> text_to_labels("HI A")
    [72, 73, 32, 65]
    """
    out = [ord(c) for c in text]
    bad = sorted({c for c in text if not 1 <= ord(c) < NUM_CHARS})
    if bad:
        raise ManifestError(f"transcript {text!r} holds characters outside the probe's 255-character "
                            f"vocabulary: {bad}")
    return out


def labels_to_text(labels: Sequence[int]) -> str:
    """Inverse of :func:`text_to_labels` (blanks are dropped)."""
    return "".join(chr(int(i)) for i in labels if int(i) != BLANK)


def repeat_factor(frame_rate: float, min_frame_rate: float = 50.0) -> int:
    """Smallest integer ``k`` with ``k * frame_rate >= min_frame_rate``.

    Examples
    --------
    >>> [repeat_factor(r) for r in (12.5, 25, 50, 75, 86.1)]
    [4, 2, 1, 1, 1]
    """
    if frame_rate <= 0:
        raise ValueError(f"frame_rate must be positive, got {frame_rate}")
    return max(1, math.ceil(min_frame_rate / frame_rate - 1e-9))


def greedy_decode(log_probs: np.ndarray, lengths: Sequence[int]) -> list[str]:
    """Best-path CTC decoding: argmax per frame, collapse repeats, drop blanks.

    Parameters
    ----------
    log_probs : array, shape (batch, frames, NUM_CHARS)
    lengths : sequence of int
        Valid frames per item; frames beyond are ignored.

    Returns
    -------
    list of str

    Examples
    --------
    >>> lp = np.full((1, 5, NUM_CHARS), -9.0); lp[0, [0, 1, 3, 4], [65, 65, 0, 66]] = 0.0
    >>> greedy_decode(lp, [5])
    ['AB']
    """
    best = np.asarray(log_probs).argmax(axis=-1)
    out = []
    for row, n in zip(best, lengths):
        row = row[: int(n)]
        keep = np.ones(row.shape[0], dtype=bool)
        keep[1:] = row[1:] != row[:-1]
        out.append(labels_to_text(row[keep & (row != BLANK)]))
    return out


def build_ctc_probe(input_dim: int, cfg: ASRConfig, *, vocab: list[int] | None = None) -> Any:
    """The probe network: (B, T, D) features + lengths -> (B, T, NUM_CHARS) log-probabilities.

    With ``vocab`` (codebook sizes), the input is code indices and a learned embedding per codebook,
    summed, comes first (the token-based probe, :mod:`codecbench_utils.probes.tokens`).
    """
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from .tokens import token_front

    class CTCProbe(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.front = token_front(vocab) if vocab else None
            width = self.front.out_dim if self.front is not None else input_dim
            self.lstm = nn.LSTM(width, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True,
                                bidirectional=cfg.bidirectional,
                                dropout=cfg.dropout if cfg.num_layers > 1 else 0.0)
            self.classifier = nn.Linear(cfg.hidden_size * (2 if cfg.bidirectional else 1), NUM_CHARS)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            if self.front is not None:
                x = self.front(x)
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, _ = self.lstm(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            return torch.log_softmax(self.classifier(out), dim=-1)

    return CTCProbe()


@dataclass
class ASRResult:
    """One trained ASR probe: the row written to ``asr.parquet``."""

    codec: str
    feature: str
    source: str
    preset: str
    dataset: str
    seed: int
    step: int  # the selected checkpoint's step
    wer: float
    cer: float
    wer_lo: float  # 95% bootstrap interval over the evaluated utterances
    wer_hi: float
    cer_lo: float
    cer_hi: float
    floor: float  # the trivial CTC floor (a model that emits nothing): WER = CER = 1.0
    above_floor: bool  # the CER interval lies entirely below the floor: the probe learned something
    n_items: int
    select_wer: float | None
    select_cer: float | None  # the selection criterion (ties broken by the selection loss)
    selected_first_eval: bool  # the kept checkpoint is the first one evaluated: the probe may not have learned
    train_steps: int
    n_train: int
    repeat: int
    frame_rate: float
    device: str
    train_s: float
    steps_per_s: float
    curve_path: str
    run_dir: str
    hypotheses_path: str  # per utterance: id, ref, hyp, word/char errors and reference lengths
    config: str = ""  # the full effective configuration (JSON): the preset name alone hides overrides
    selected: bool = True  # the row is the selected checkpoint's score (notebook 05 filters on it)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------- selection
#: what picks the kept checkpoint (part of a run's identity, so a resumed run never mixes two rules)
SELECTION = "heldout_cer_then_loss"


def is_better(cer: float, loss: float, best_cer: float, best_loss: float) -> bool:
    """Held-out CER decides; equal CER (a model that emits only blanks scores exactly 1.0) goes to the lower loss.

    WER would keep the untrained model: it is exactly 1.0 while the model emits nothing and can
    exceed 1.0 once it starts emitting characters, so a strict ``<`` never moves off the first
    checkpoint. CER falls as soon as some characters are right.
    """
    if not math.isfinite(cer):
        return False
    if cer != best_cer:
        return cer < best_cer
    return loss < best_loss


# ----------------------------------------------------------------------------- helpers
def _atomic_torch_save(obj: Any, path: Path) -> None:
    """torch.save under a temporary name, then rename (a killed run keeps the old file).

    NumPy arrays go in as tensors, so the file loads with ``weights_only=True`` (a tampered
    checkpoint in a shared runs folder cannot run code).
    """
    import torch

    obj = {k: torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v for k, v in obj.items()}
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _load_checkpoint(path: Path, device: Any) -> dict[str, Any]:
    """A checkpoint written by ``_atomic_torch_save``: tensors and plain data only (``weights_only=True``)."""
    import torch

    ck = torch.load(path, map_location=device, weights_only=True)
    for k in ("mean", "std"):
        if isinstance(ck.get(k), torch.Tensor):
            ck[k] = ck[k].cpu().numpy()
    return ck


def _write_curve(rows: list[dict[str, Any]], path: Path) -> None:
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CURVE_COLUMNS))
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in CURVE_COLUMNS})


def _norm_stats(fs: FeatureSet, ids: Sequence[str], max_items: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std of the training frames (at most ``max_items`` items, evenly spaced)."""
    pick = ids if len(ids) <= max_items else [ids[i] for i in np.linspace(0, len(ids) - 1, max_items).astype(int)]
    s = np.zeros(fs.dim)
    s2 = np.zeros(fs.dim)
    n = 0
    for i in pick:
        x = np.asarray(fs.get(i), dtype=np.float64)
        s += x.sum(0)
        s2 += (x**2).sum(0)
        n += x.shape[0]
    mean = s / max(n, 1)
    std = np.sqrt(np.maximum(s2 / max(n, 1) - mean**2, 1e-10))
    return mean.astype(np.float32), np.maximum(std, 1e-3).astype(np.float32)


class _Batcher:
    """Turns item ids into padded, upsampled, normalized tensors."""

    def __init__(self, fs: FeatureSet, texts: dict[str, str], repeat: int, mean: np.ndarray | None,
                 std: np.ndarray | None, device: Any) -> None:
        self.fs, self.texts, self.repeat, self.device = fs, texts, repeat, device
        self.mean, self.std = mean, std

    def __call__(self, ids: Sequence[str]) -> tuple[Any, Any, Any, Any]:
        import torch

        feats = [np.asarray(self.fs.get(i), dtype=np.float32) for i in ids]
        if self.mean is not None:
            feats = [(f - self.mean) / self.std for f in feats]
        lengths = np.array([f.shape[0] for f in feats]) * self.repeat
        x = np.zeros((len(feats), int(lengths.max()), self.fs.dim), dtype=np.float32)
        for b, f in enumerate(feats):
            x[b, : f.shape[0] * self.repeat] = np.repeat(f, self.repeat, axis=0)
        labels = [text_to_labels(self.texts[i]) for i in ids]
        targets = torch.tensor([c for lab in labels for c in lab], dtype=torch.long)
        target_lengths = torch.tensor([len(lab) for lab in labels], dtype=torch.long)
        return (torch.from_numpy(x).to(self.device), torch.from_numpy(lengths).long(), targets, target_lengths)


def _evaluate(model: Any, batcher: _Batcher, ids: Sequence[str], batch_size: int) -> tuple[float, float, float,
                                                                                           list[str]]:
    """Mean CTC loss, corpus WER, corpus CER and hypotheses on ``ids`` (batches sorted by length)."""
    import jiwer
    import torch

    model.eval()
    order = sorted(range(len(ids)), key=lambda j: batcher.fs.get(ids[j]).shape[0])
    hyps: list[str] = [""] * len(ids)
    losses, weights = [], []
    ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            chunk = [ids[j] for j in order[s : s + batch_size]]
            x, lengths, targets, target_lengths = batcher(chunk)
            lp = model(x, lengths.to(x.device))
            loss = ctc(lp.transpose(0, 1), targets.to(x.device), lengths.to(x.device), target_lengths.to(x.device))
            losses.append(float(loss))
            weights.append(len(chunk))
            for j, h in zip(order[s : s + batch_size], greedy_decode(lp.float().cpu().numpy(), lengths.numpy())):
                hyps[j] = h
    model.train()
    refs = [batcher.texts[i] for i in ids]
    return (float(np.average(losses, weights=weights)), float(jiwer.wer(refs, hyps)),
            float(jiwer.cer(refs, hyps)), hyps)


def resolve_splits(splits: Sequence[str | None], cfg: ASRConfig) -> tuple[str, str, str | None]:
    """The train, evaluation and selection split names; ``"auto"`` reads them off the items' splits.

    ``auto`` picks by role, so a manifest in LibriSpeech's layout (``train-clean-100``,
    ``dev-clean``, ``test-clean``) and the mini corpus (``train``, ``dev``, ``test``) both work:
    train = the largest ``train*`` split; evaluation = a ``test*`` split (``*clean`` first), else a
    ``dev*``/``valid*`` one; selection = a ``dev*``/``valid*`` split other than the evaluation's
    (``*clean`` first), else ``None`` (a held-out part of train).
    """
    counts: dict[str, int] = {}
    for sp in splits:
        if sp:
            counts[str(sp)] = counts.get(str(sp), 0) + 1

    def pick(prefixes: tuple[str, ...], exclude: tuple[str | None, ...] = ()) -> str | None:
        cands = [s for s in counts if s.lower().startswith(prefixes) and s not in exclude]
        return max(cands, key=lambda s: (s.lower().endswith("clean"), counts[s]), default=None)

    train = cfg.train_split
    if train == "auto":
        train = max((s for s in counts if s.lower().startswith("train")), key=counts.get, default="train")
    ev = cfg.eval_split
    if ev == "auto":
        ev = pick(("test",)) or pick(("dev", "valid")) or "test"
    sel = cfg.select_split
    if sel == "auto":
        sel = pick(("dev", "valid"), exclude=(ev,))
    return train, ev, sel


def _split_ids(items: Sequence[ManifestItem], fs: FeatureSet, cfg: ASRConfig, seed: int
               ) -> tuple[list[str], list[str], list[str]]:
    """Train, selection and evaluation ids (items with features and a non-empty transcript)."""
    have = set(fs.ids)
    usable = [it for it in items if it.id in have and (it.text or "").strip()]
    dropped = sum(1 for it in items if it.id in have) - len(usable)
    if dropped:
        logger.warning("ASR probe: %d item(s) without a transcript left out", dropped)
    train_split, eval_split, select_split = resolve_splits([it.split for it in usable], cfg)
    train = [it.id for it in usable if it.split == train_split]
    evals = [it.id for it in usable if it.split == eval_split]
    if select_split:
        select = [it.id for it in usable if it.split == select_split]
    else:
        rng = np.random.default_rng(seed)
        n = min(cfg.heldout_max, max(1, int(round(len(train) * cfg.heldout_fraction))))
        held = set(rng.choice(len(train), size=min(n, max(len(train) - 1, 0)), replace=False).tolist())
        select = [t for j, t in enumerate(train) if j in held]
        train = [t for j, t in enumerate(train) if j not in held]
    if cfg.max_select_items is not None:
        select = select[: cfg.max_select_items]
    if cfg.max_eval_items is not None:
        evals = evals[: cfg.max_eval_items]
    logger.info("ASR probe splits: train %r (%d), selection %s (%d), evaluation %r (%d)", train_split, len(train),
                repr(select_split) if select_split else "held out of train", len(select), eval_split, len(evals))
    for name, ids, split in (("train", train, train_split), ("selection", select, select_split),
                             ("evaluation", evals, eval_split)):
        if not ids:
            splits = sorted({str(it.split) for it in usable})
            raise ManifestError(f"ASR probe: no {name} items (split {split!r}); the items' splits are {splits}")
    return train, select, evals


def _resolve_device(device: str) -> Any:
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


# ----------------------------------------------------------------------------- driver
def train_asr_probe(
    features: FeatureSet,
    items: Sequence[ManifestItem],
    cfg: ASRConfig,
    out_dir: PathLike,
    *,
    codec: str = "",
    dataset: str = "",
    seed: int = 0,
    steps: int | None = None,
    device: str = "cpu",
    resume: bool = True,
    progress: bool = True,
) -> ASRResult:
    """Train an ASR probe on cached features, select a checkpoint, score WER.

    Parameters
    ----------
    features : FeatureSet
        Cached features of ``items`` (from :func:`~codecbench_utils.probes.cache.extract_features`).
    items : sequence of ManifestItem
        Items with ``text`` and ``split``; ``cfg.train_split`` trains, ``cfg.select_split``
        (or a held-out part of train) picks the checkpoint, ``cfg.eval_split`` is scored.
    cfg : ASRConfig
        Hyperparameters (``load_probe_profile(profile, "asr")``).
    out_dir : path
        Run folder: ``last.pt`` (resume), ``best.pt`` (selected weights),
        ``curve.csv`` (``step, train_loss, dev_loss, dev_wer, lr``; "dev" is the selection split),
        ``hypotheses.jsonl`` (evaluation transcripts).
    codec, dataset : str
        Labels copied into the result.
    seed : int
        Seeds torch and the batch order; training on CPU is then deterministic.
    steps : int, optional
        Override ``cfg.steps``.
    device : str
        ``cpu``, ``cuda`` or ``auto``.
    resume : bool
        Continue from ``out_dir/last.pt`` when it belongs to the same features, config and seed.

    Returns
    -------
    ASRResult
    """
    import torch

    steps = int(steps if steps is not None else cfg.steps)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = _resolve_device(device)
    texts = {it.id: it.text or "" for it in items}
    train_ids, select_ids, eval_ids = _split_ids(items, features, cfg, seed)
    k = repeat_factor(features.frame_rate, cfg.min_frame_rate)
    identity = hashlib.sha1(json.dumps({"fp": features.fingerprint, "cfg": cfg.training_dict(), "seed": seed,
                                        "train": train_ids, "selection": SELECTION},
                                       sort_keys=True).encode()).hexdigest()[:16]

    torch.manual_seed(seed)
    np.random.seed(seed)
    from .tokens import source_vocab

    vocab = source_vocab(features.source)
    mean = std = None
    if cfg.normalize and vocab is None:  # code indices are identities, not values: never standardised
        mean, std = _norm_stats(features, train_ids)
    model = build_ctc_probe(features.dim, cfg, vocab=vocab).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = None
    if cfg.lr_plateau_factor:
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=cfg.lr_plateau_factor,
                                                           patience=cfg.lr_plateau_patience)
    state = {"step": 0, "curve": [], "best_wer": math.inf, "best_cer": math.inf, "best_loss": math.inf,
             "best_step": 0, "n_evals": 0, "best_eval": 0, "train_s": 0.0}
    last, best = out / "last.pt", out / "best.pt"
    if resume and last.is_file():
        ck = _load_checkpoint(last, dev)
        if ck.get("identity") == identity:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            if sched is not None and ck.get("scheduler") is not None:
                sched.load_state_dict(ck["scheduler"])
            state = ck["state"]
            mean, std = ck.get("mean"), ck.get("std")
            torch.set_rng_state(ck["torch_rng"])
            logger.info("ASR probe: resumed from %s at step %d", last, state["step"])
        else:
            logger.warning("ASR probe: %s belongs to another run (features/config/seed); starting afresh", last)
    if state["step"] == 0:  # a fresh run: leave nothing of an earlier one behind
        for stale in (best, out / "curve.csv"):
            stale.unlink(missing_ok=True)
    batcher = _Batcher(features, texts, k, mean, std, dev)
    ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
    bs = cfg.batch_size
    per_epoch = max(1, math.ceil(len(train_ids) / bs))

    def checkpoint() -> None:
        _atomic_torch_save({"identity": identity, "model": model.state_dict(), "optimizer": opt.state_dict(),
                            "scheduler": sched.state_dict() if sched is not None else None, "state": state,
                            "mean": mean, "std": std, "torch_rng": torch.get_rng_state(),
                            "config": cfg.to_dict(), "input_dim": features.dim}, last)

    model.train()
    run_loss: list[float] = []
    t_start = time.perf_counter()
    step0 = state["step"]
    pbar = tqdm(total=steps, initial=step0, desc=f"asr probe {codec or ''} {features.source}".strip(),
                unit="step", disable=not progress)
    while state["step"] < steps:
        step = state["step"]
        epoch, pos = divmod(step, per_epoch)
        order = np.random.default_rng([seed, epoch]).permutation(len(train_ids))
        batch = [train_ids[j] for j in order[pos * bs : (pos + 1) * bs]]
        x, lengths, targets, target_lengths = batcher(batch)
        lp = model(x, lengths.to(dev))
        loss = ctc(lp.transpose(0, 1), targets.to(dev), lengths.to(dev), target_lengths.to(dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=cfg.grad_clip)
        opt.step()
        run_loss.append(loss.item())
        state["step"] = step + 1
        pbar.update(1)
        if state["step"] % cfg.log_every == 0:
            pbar.set_postfix(loss=f"{np.mean(run_loss[-cfg.log_every:]):.3f}")
        if state["step"] % cfg.eval_every == 0 or state["step"] == steps:
            d_loss, d_wer, d_cer, _ = _evaluate(model, batcher, select_ids, cfg.eval_batch_size)
            state["curve"].append({"step": state["step"], "train_loss": float(np.mean(run_loss)) if run_loss
                                   else None, "dev_loss": d_loss, "dev_wer": d_wer, "dev_cer": d_cer,
                                   "lr": opt.param_groups[0]["lr"]})
            state["n_evals"] += 1
            run_loss = []
            _write_curve(state["curve"], out / "curve.csv")
            if sched is not None:
                sched.step(d_loss)
            if is_better(d_cer, d_loss, state["best_cer"], state["best_loss"]) or not best.is_file():
                state.update(best_wer=d_wer, best_cer=d_cer, best_loss=d_loss, best_step=state["step"],
                             best_eval=state["n_evals"])
                _atomic_torch_save({"model": model.state_dict(), "step": state["step"], "mean": mean, "std": std,
                                    "config": cfg.to_dict(), "input_dim": features.dim, "identity": identity}, best)
            pbar.set_postfix(loss=f"{d_loss:.3f}", cer=f"{d_cer:.3f}")
            logger.info("ASR probe step %d: selection loss %.4f, CER %.4f, WER %.4f", state["step"], d_loss, d_cer,
                        d_wer)
        if state["step"] % cfg.ckpt_every == 0 or state["step"] == steps:
            state["train_s"] += time.perf_counter() - t_start
            t_start = time.perf_counter()
            checkpoint()
    pbar.close()
    state["train_s"] += time.perf_counter() - t_start
    n_new = state["step"] - step0
    sps = n_new / state["train_s"] if state["train_s"] > 0 else float("nan")

    ck = _load_checkpoint(best, dev)
    model.load_state_dict(ck["model"])
    e_loss, e_wer, e_cer, hyps = _evaluate(model, batcher, eval_ids, cfg.eval_batch_size)
    counts = edit_counts([texts[i] for i in eval_ids], hyps)
    _, wer_lo, wer_hi = rate_interval(counts["word_errors"], counts["n_words"], seed=seed)
    _, cer_lo, cer_hi = rate_interval(counts["char_errors"], counts["n_chars"], seed=seed)
    with atomic_path(out / "hypotheses.jsonl") as tmp, tmp.open("w", encoding="utf-8") as fh:
        for j, (i, h) in enumerate(zip(eval_ids, hyps)):
            fh.write(json.dumps({"id": i, "ref": texts[i], "hyp": h,
                                 **{k: int(v[j]) for k, v in counts.items()}}) + "\n")
    logger.info("ASR probe %s: WER %.4f CER %.4f on %d items (checkpoint of step %d)", features.source, e_wer,
                e_cer, len(eval_ids), ck["step"])
    from .features import parse_feature_source

    return ASRResult(codec=codec, feature=parse_feature_source(features.source).label, source=features.source,
                     preset=cfg.profile, dataset=dataset, seed=seed, step=int(ck["step"]), wer=e_wer, cer=e_cer,
                     n_items=len(eval_ids), select_wer=float(state["best_wer"]),
                     select_cer=float(state.get("best_cer", math.nan)), wer_lo=wer_lo, wer_hi=wer_hi,
                     cer_lo=cer_lo, cer_hi=cer_hi, floor=CTC_FLOOR, above_floor=bool(cer_hi < CTC_FLOOR),
                     hypotheses_path=str(out / "hypotheses.jsonl"),
                     config=json.dumps({**cfg.to_dict(), "steps": steps}, sort_keys=True),
                     selected_first_eval=int(state.get("best_eval", 0)) <= 1, train_steps=int(state["step"]),
                     n_train=len(train_ids), repeat=k, frame_rate=features.frame_rate, device=str(dev),
                     train_s=float(state["train_s"]), steps_per_s=float(sps), curve_path=str(out / "curve.csv"),
                     run_dir=str(out))
