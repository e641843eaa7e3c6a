"""The codec protocol every backend implements, and the metadata it carries.

A codec turns mono float32 audio at its own ``sample_rate`` into codes (``encode``: discrete
codes, or continuous latents for VAE-style tokenizers) and back (``decode``, at
``output_sample_rate``, which is ``sample_rate`` except for codecs such as NeuCodec that encode
16 kHz and decode 24 kHz); neural codecs also expose the continuous latent the probes use
(``embed``). ``resynthesize`` is what the resynthesis stage calls: it returns audio time-aligned
with the input (codec delay removed) and of the same duration, plus the bitrate the stream
really had. Encode-only tokenizers (``round_trip: false``) have no ``decode``: the resynthesis
stage skips them with the reason, the probes use their codes and embeddings.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import fit_length
from ..errors import CodecRuntimeError, ConfigError

if TYPE_CHECKING:
    from .fetch import FetchPlan

__all__ = ["CodecSpec", "Encoded", "Codec", "Resynthesis", "expand_path"]


def expand_path(path: str | os.PathLike[str]) -> Path:
    """A path from a codec's YAML or environment, with ``~`` and ``$VARS`` expanded."""
    return Path(os.path.expandvars(os.path.expanduser(str(path))))


@dataclass(frozen=True)
class CodecSpec:
    """Metadata of one codec configuration, read from ``params/codecs/<id>.yaml``.

    ``kbps`` is the nominal bitrate; for neural codecs it follows from
    ``n_q * log2(codebook_size) * frame_rate / 1000`` (multi-rate codebooks: the sum over
    codebooks). Codecs with continuous latents (no codebooks) have no bitrate: ``kbps``,
    ``n_q`` and ``codebook_size`` stay ``None`` and the tables and figures say "no bitrate".
    """

    id: str
    family: str
    backend: str
    sample_rate: int
    n_q: int | None = None
    kbps: float | None = None
    frame_rate: float | None = None
    embedding_dim: int | None = None
    codebook_size: int | None = None
    description: str = ""
    paper: bool = False
    #: the bitrate printed in the paper's Table 3 when it differs from ``kbps`` (rounding)
    paper_kbps: float | None = None
    #: the rate ``decode`` returns when it differs from the input rate ``sample_rate`` (NeuCodec: 24000)
    output_sample_rate: int | None = None
    #: False for encode-only tokenizers: no decoder, so no resynthesis; the probes still use them
    round_trip: bool = True
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CodecSpec:
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"codec spec '{d.get('id')}': unknown keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)


@dataclass
class Encoded:
    """What ``encode`` returns.

    ``codes`` is backend-specific (an int array ``(n_q, frames)`` for neural
    codecs, float latents ``(dim, frames)`` for continuous tokenizers, a list of
    packets for classical ones); ``n_bits`` is the size of the encoded stream, used
    for the real bitrate (None: no bitrate); ``n_samples`` the input length.
    """

    codes: Any
    n_samples: int
    sample_rate: int
    n_bits: int | None = None
    #: the factor the adapter scaled the input by before encoding (a loudness-normalising tokenizer);
    #: decoding divides it out, so the resynthesis keeps the input's level
    gain: float = 1.0

    @property
    def bitrate_kbps(self) -> float | None:
        if self.n_bits is None or self.n_samples == 0:
            return None
        return self.n_bits / (self.n_samples / self.sample_rate) / 1000.0


@dataclass
class Resynthesis:
    """Output of ``Codec.resynthesize``: aligned audio and stream facts."""

    wav: np.ndarray
    sample_rate: int
    bitrate_kbps: float | None
    encode_s: float
    decode_s: float


class Codec:
    """Base class: subclasses implement ``encode`` and ``decode`` (and ``embed``).

    ``available(spec)`` tells without loading anything whether this codec can run
    here; it returns ``None`` or the reason it cannot.
    """

    #: the Python distributions whose versions change this backend's output (in its fingerprint)
    PACKAGES: tuple[str, ...] = ()

    def __init__(self, spec: CodecSpec, *, device: str = "cpu") -> None:
        self.spec = spec
        self.device = device

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def sample_rate(self) -> int:
        """The rate ``encode`` takes (items are resampled to it)."""
        return self.spec.sample_rate

    @property
    def output_sample_rate(self) -> int:
        """The rate ``decode`` returns: ``sample_rate`` unless the spec names another."""
        return int(self.spec.output_sample_rate or self.spec.sample_rate)

    def output_length(self, n_samples: int) -> int:
        """Samples of the resynthesis of an ``n_samples`` input: the same duration at ``output_sample_rate``."""
        if self.output_sample_rate == self.sample_rate:
            return int(n_samples)
        return int(round(n_samples * self.output_sample_rate / self.sample_rate))

    def codes_matrix(self, encoded: Encoded) -> np.ndarray:
        """The discrete codes as one integer ``(n_q, frames)`` array (the token probe's input).

        Multi-rate codecs (SNAC) override it to repeat coarse codes up to the finest rate.
        """
        return np.asarray(encoded.codes)

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        return None

    @classmethod
    def fetch_plan(cls, spec: CodecSpec) -> FetchPlan | None:
        """What ``codecbench codecs fetch`` downloads for this codec (``None``: nothing to download)."""
        return None

    @property
    def default_batch_size(self) -> int:
        """Items per ``resynthesize_batch`` call when the caller does not choose (1: item by item)."""
        return 1

    def encode(self, wav: np.ndarray) -> Encoded:
        raise NotImplementedError

    def decode(self, encoded: Encoded) -> np.ndarray:
        raise NotImplementedError

    def embed(self, wav: np.ndarray) -> np.ndarray:
        """Continuous quantized embeddings, shape ``(frames, dim)``."""
        raise CodecRuntimeError(
            f"codec '{self.id}' has no continuous embeddings; probe its resynthesized audio instead",
            codec_id=self.id,
        )

    @property
    def has_embeddings(self) -> bool:
        return type(self).embed is not Codec.embed

    def resynthesize(self, wav: np.ndarray) -> Resynthesis:
        """Encode then decode; output aligned with and as long as ``wav``."""
        import time

        wav = np.asarray(wav, dtype=np.float32)
        t0 = time.perf_counter()
        enc = self.encode(wav)
        t1 = time.perf_counter()
        out = self.decode(enc)
        t2 = time.perf_counter()
        out = fit_length(np.asarray(out, dtype=np.float32).reshape(-1), self.output_length(wav.shape[0]))
        return Resynthesis(out, self.output_sample_rate, enc.bitrate_kbps, t1 - t0, t2 - t1)

    def resynthesize_batch(self, wavs: list[np.ndarray]) -> list[Resynthesis]:
        """``resynthesize`` over several items; backends with a batched GPU path override it."""
        return [self.resynthesize(w) for w in wavs]

    def close(self) -> None:
        """Release models or pools (default: nothing)."""
