"""Token statistics of neural codecs, and a small profiler for their cost.

The token statistics are pure functions on code arrays of shape ``(n_q, frames)``
(what :meth:`Codec.encode` returns in ``Encoded.codes``), so they can be computed
per item and summed over a dataset through :func:`token_counts`:

- **utilization**: the fraction of a codebook's entries used at least once;
- **entropy** (bits): Shannon entropy of the empirical distribution of the indices
  of one codebook, at most ``log2(codebook_size)``;
- **perplexity**: ``2 ** entropy``, the number of equally likely entries that would
  give the same entropy (between 1 and ``codebook_size``).

:func:`profile_codec` measures parameter count, encode and decode real-time factor
(seconds of compute per second of audio, lower is faster) and, on CUDA, peak memory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidAudioError

__all__ = [
    "token_counts",
    "codebook_utilization",
    "codebook_entropy",
    "codebook_perplexity",
    "token_stats",
    "parameter_count",
    "profile_codec",
]


def _sizes(codebook_size: int | Sequence[int], n_q: int) -> list[int]:
    """One codebook size per codebook (codecs such as Baichuan's use different sizes)."""
    if isinstance(codebook_size, (int, np.integer)):
        sizes = [int(codebook_size)] * n_q
    else:
        sizes = [int(s) for s in codebook_size]
        if len(sizes) != n_q:
            raise InvalidAudioError(f"got {len(sizes)} codebook sizes for {n_q} codebooks")
    if any(s < 1 for s in sizes):
        raise InvalidAudioError(f"codebook sizes must be >= 1, got {sizes}")
    return sizes


def _as_codes(codes: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """Codes as one ``(n_q, frames)`` int array (a list of items is joined along frames)."""
    if isinstance(codes, np.ndarray):
        arr = codes
    else:
        items = [np.asarray(c) for c in codes]
        if not items:
            raise InvalidAudioError("no code arrays given")
        arr = np.concatenate([c.reshape(c.shape[0], -1) if c.ndim > 1 else c[None] for c in items], axis=1)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2:
        raise InvalidAudioError(f"expected codes of shape (n_q, frames), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidAudioError(f"codes must be integers, got dtype {arr.dtype}")
    return arr


def token_counts(codes: np.ndarray | Sequence[np.ndarray], codebook_size: int | Sequence[int]) -> np.ndarray:
    """Histogram of code indices per codebook.

    Parameters
    ----------
    codes : array of shape (n_q, frames), or a list of such arrays
        Integer code indices (a list is joined along the frame axis).
    codebook_size : int or sequence of int
        Entries per codebook; a sequence gives one size per codebook.

    Returns
    -------
    np.ndarray, shape (n_q, max(codebook_size)), int64
        ``counts[q, k]`` is how often index ``k`` occurs in codebook ``q``; sum the
        counts of several items to get dataset-level statistics.

    Raises
    ------
    InvalidAudioError
        Codes that are not integers, out of ``[0, codebook_size)``, or badly shaped.

    Examples
    --------
    >>> token_counts(np.array([[0, 1, 1], [2, 2, 2]]), 4)
    array([[1, 2, 0, 0],
           [0, 0, 3, 0]])
    """
    arr = _as_codes(codes)
    sizes = _sizes(codebook_size, arr.shape[0])
    out = np.zeros((arr.shape[0], max(sizes)), dtype=np.int64)
    for q, (row, size) in enumerate(zip(arr, sizes, strict=True)):
        if row.size and (row.min() < 0 or row.max() >= size):
            raise InvalidAudioError(
                f"codebook {q}: indices span [{row.min()}, {row.max()}], expected [0, {size - 1}]"
            )
        out[q] = np.bincount(row.astype(np.int64), minlength=out.shape[1])
    return out


def _counts(codes_or_counts: np.ndarray | Sequence[np.ndarray], codebook_size: int | Sequence[int],
            counts: bool) -> tuple[np.ndarray, list[int]]:
    if counts:
        c = np.asarray(codes_or_counts, dtype=np.int64)
        return c, _sizes(codebook_size, c.shape[0])
    c = token_counts(codes_or_counts, codebook_size)
    return c, _sizes(codebook_size, c.shape[0])


def codebook_utilization(codes: np.ndarray | Sequence[np.ndarray], codebook_size: int | Sequence[int], *,
                         counts: bool = False) -> np.ndarray:
    """Fraction of each codebook's entries used at least once.

    Parameters
    ----------
    codes : array (n_q, frames), list of arrays, or counts (n_q, K) when ``counts=True``
    codebook_size : int or sequence of int
    counts : bool
        ``codes`` already holds :func:`token_counts` output.

    Returns
    -------
    np.ndarray, shape (n_q,), float64, in (0, 1]; higher means more of the codebook is used.

    Examples
    --------
    >>> codebook_utilization(np.array([[0, 1, 1, 3]]), 8)
    array([0.375])
    """
    c, sizes = _counts(codes, codebook_size, counts)
    return np.array([np.count_nonzero(c[q, :s]) / s for q, s in enumerate(sizes)], dtype=np.float64)


def codebook_entropy(codes: np.ndarray | Sequence[np.ndarray], codebook_size: int | Sequence[int], *,
                     counts: bool = False) -> np.ndarray:
    """Shannon entropy (bits) of the index distribution of each codebook.

    ``H_q = -sum_k p_qk log2 p_qk`` with ``p_qk`` the relative frequency of index
    ``k`` in codebook ``q`` (terms with ``p = 0`` count as 0). Between 0 and
    ``log2(codebook_size)``; higher means the tokens carry more information.

    Returns
    -------
    np.ndarray, shape (n_q,), float64; NaN for a codebook with no tokens.

    Examples
    --------
    >>> codebook_entropy(np.array([[0, 1, 2, 3]]), 4)
    array([2.])
    """
    c, _ = _counts(codes, codebook_size, counts)
    total = c.sum(axis=1, keepdims=True).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = c / total
        terms = np.where(c > 0, -p * np.log2(np.where(c > 0, p, 1.0)), 0.0)
    h = terms.sum(axis=1)
    h[total[:, 0] == 0] = np.nan
    return h


def codebook_perplexity(codes: np.ndarray | Sequence[np.ndarray], codebook_size: int | Sequence[int], *,
                        counts: bool = False) -> np.ndarray:
    """Perplexity ``2 ** entropy`` of each codebook, between 1 and ``codebook_size``.

    Examples
    --------
    >>> codebook_perplexity(np.array([[5, 5, 7, 7]]), 8)
    array([2.])
    """
    return np.exp2(codebook_entropy(codes, codebook_size, counts=counts))


def token_stats(codes: np.ndarray | Sequence[np.ndarray], codebook_size: int | Sequence[int], *,
                counts: bool = False) -> dict[str, Any]:
    """All token statistics at once, per codebook and averaged over codebooks.

    Returns
    -------
    dict
        ``n_tokens`` (per codebook), ``utilization``, ``entropy_bits``, ``perplexity``
        (lists, one value per codebook) and their means ``mean_utilization``,
        ``mean_entropy_bits``, ``mean_perplexity``.
    """
    c, _ = _counts(codes, codebook_size, counts)
    util = codebook_utilization(c, codebook_size, counts=True)
    ent = codebook_entropy(c, codebook_size, counts=True)
    ppl = np.exp2(ent)
    return {
        "n_tokens": c.sum(axis=1).tolist(),
        "utilization": util.tolist(),
        "entropy_bits": ent.tolist(),
        "perplexity": ppl.tolist(),
        "mean_utilization": float(np.mean(util)),
        "mean_entropy_bits": float(np.mean(ent)),
        "mean_perplexity": float(np.mean(ppl)),
    }


def parameter_count(model: Any) -> int:
    """Number of parameters of a torch module (shared tensors counted once)."""
    seen: set[int] = set()
    n = 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            n += p.numel()
    return int(n)


def profile_codec(codec: Any, wavs: Sequence[np.ndarray], *, warmup: int = 1) -> dict[str, Any]:
    """Parameter count, encode/decode real-time factor and peak memory of a loaded codec.

    Parameters
    ----------
    codec : Codec
        A loaded codec (its ``model`` attribute, if any, gives the parameter count).
    wavs : sequence of np.ndarray
        Mono audio at ``codec.sample_rate``; the first ``warmup`` items are run once
        untimed first.

    Returns
    -------
    dict
        ``params`` (None without a torch model), ``audio_s``, ``encode_s``, ``decode_s``,
        ``encode_rtf`` and ``decode_rtf`` (compute seconds per audio second, lower is
        faster), ``peak_mem_mb`` (CUDA peak allocated memory; None on CPU) and ``device``.

    Notes
    -----
    CUDA work is synchronized before each clock read. On CPU, torch allocations are
    invisible to Python's tracemalloc, so no peak memory is reported there.
    """
    import torch

    device = str(getattr(codec, "device", "cpu"))
    cuda = device.startswith("cuda") and torch.cuda.is_available()

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    for wav in list(wavs)[:warmup]:
        codec.decode(codec.encode(wav))
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    enc_s = dec_s = audio_s = 0.0
    for wav in wavs:
        audio_s += len(wav) / codec.sample_rate
        sync()
        t0 = time.perf_counter()
        enc = codec.encode(wav)
        sync()
        t1 = time.perf_counter()
        codec.decode(enc)
        sync()
        t2 = time.perf_counter()
        enc_s += t1 - t0
        dec_s += t2 - t1
    model = getattr(codec, "model", None)
    return {
        "params": parameter_count(model) if model is not None and hasattr(model, "parameters") else None,
        "audio_s": audio_s,
        "encode_s": enc_s,
        "decode_s": dec_s,
        "encode_rtf": enc_s / audio_s if audio_s else None,
        "decode_rtf": dec_s / audio_s if audio_s else None,
        "peak_mem_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        "device": device,
    }
