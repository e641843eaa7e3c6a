"""The paper's token-based probe input (§4.3.3): a learned embedding per codebook over the discrete codes, summed.

The feature source ``tokens:<codec>`` caches the codes as a ``(frames, n_q)`` matrix (integers
stored as float32, exact below 2**24). The probe models put :func:`token_front` in front of their
head: one ``nn.Embedding`` per codebook, their outputs summed, trained with the probe. A codebook
larger than :data:`MAX_ROWS` (X-codec 2's 65,536 entries) is hashed into ``MAX_ROWS`` rows
(index modulo a prime), so the parameter count stays bounded; the feature label says so
(``codec_tokens_hashed``). Token inputs are never standardised or mean-pooled before the
embedding: an index's value means nothing, only its identity.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TOKEN_DIM", "MAX_ROWS", "token_vocab", "token_front", "source_vocab"]

#: width of the summed token embedding
TOKEN_DIM = 64
#: the most rows one codebook's embedding may have; larger codebooks are hashed into this many
MAX_ROWS = 4093  # a prime: index % MAX_ROWS spreads structured (FSQ) indices evenly


def source_vocab(source: str) -> list[int] | None:
    """What a probe puts an embedding over: the codebook sizes of a ``tokens:`` source, else None."""
    from .features import parse_feature_source

    return token_vocab(source) if parse_feature_source(source).kind == "tokens" else None


def token_vocab(source: str) -> list[int]:
    """Codebook sizes of a ``tokens:<codec>`` source, from the codec's spec."""
    from ..codecs.registry import get_spec
    from ..errors import ConfigError
    from .features import parse_feature_source

    spec = get_spec(str(parse_feature_source(source).codec_id))
    sizes = spec.options.get("codebook_sizes")  # codecs whose codebooks differ in size (Baichuan)
    if sizes and spec.n_q:
        return [int(s) for s in sizes[: int(spec.n_q)]]
    if not spec.codebook_size or not spec.n_q:
        raise ConfigError(f"tokens:{spec.id}: the codec's spec gives no codebook_size/n_q: it has no discrete codes "
                          f"(continuous latents or an anchor); probe its embeddings with codec:{spec.id} instead")
    return [int(spec.codebook_size)] * int(spec.n_q)


def token_front(vocab: list[int], dim: int = TOKEN_DIM) -> Any:
    """``(B, T, n_q)`` code indices (float) -> ``(B, T, dim)``: per-codebook embeddings, summed."""
    import torch
    from torch import nn

    class TokenEmbedding(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rows = [min(v, MAX_ROWS) for v in vocab]
            self.tables = nn.ModuleList(nn.Embedding(r, dim) for r in self.rows)
            self.out_dim = dim

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            idx = x.round().long().clamp(min=0)
            return sum(t(idx[..., q] % r) for q, (t, r) in enumerate(zip(self.tables, self.rows, strict=True)))

    return TokenEmbedding()
