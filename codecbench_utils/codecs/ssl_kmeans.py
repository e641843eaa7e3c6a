"""An encode-only tokenizer: SSL features assigned to k-means centroids (HuBERT units, as GSLM and many speech LMs use).

The paper notes its probing applies to SSL tokenizers too. Such a tokenizer has no decoder
(its units are vocoded by a separately trained unit vocoder, not by the tokenizer), so its spec
says ``round_trip: false``: the resynthesis and acoustic stages skip it with the reason, and the
probes read its units (``tokens:<id>``) and their centroid vectors (``codec:<id>``).

- features: the hidden states after ``options.layer`` of ``options.model`` (a HuBERT / WavLM /
  wav2vec 2.0 short name, Hub repo id in the cache, or local folder), at 50 frames/s, exactly as
  the ``ssl:<model>@<layer>`` probe source computes them;
- ``encode``: each frame's nearest centroid (squared Euclidean distance), codes ``(1, frames)``;
  ``n_bits = frames * log2(k)``;
- ``embed``: the chosen centroids, ``(frames, dim)``: the quantized representation.

The centroids come from ``options.centroids`` (a relative path is in the codecbench cache,
``$XDG_CACHE_HOME/codecbench``): a ``.npy`` array ``(k, dim)``, or a scikit-learn
k-means saved with joblib (textless-lib's ``km.bin``), whose ``cluster_centers_`` are read; joblib
files are pickles, so load only files you trust. The SSL model comes from the Hub cache
(``codecbench codecs fetch ID``); the centroids file cannot be fetched by this tool, and the error
says where to put it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CodecRuntimeError, ConfigError, MissingWeightsError
from .base import Codec, CodecSpec, Encoded, expand_path
from .fetch import FetchPlan, cache_root

__all__ = ["SSLKMeansCodec", "load_centroids"]


def load_centroids(path: str | os.PathLike[str]) -> np.ndarray:
    """``(k, dim)`` float32 centroids from a ``.npy`` file or a joblib-saved scikit-learn k-means."""
    path = expand_path(path)
    if not path.is_file():
        raise MissingWeightsError(f"k-means centroids not found at {path}")
    if path.suffix == ".npy":
        centers = np.load(path, allow_pickle=False)
    else:
        import joblib

        centers = getattr(joblib.load(path), "cluster_centers_", None)
        if centers is None:
            raise ConfigError(f"{path}: not a .npy array nor a k-means model with cluster_centers_")
    centers = np.asarray(centers, dtype=np.float32)
    if centers.ndim != 2 or not np.all(np.isfinite(centers)):
        raise ConfigError(f"{path}: centroids must be a finite (k, dim) array, got shape {centers.shape}")
    return centers


class SSLKMeansCodec(Codec):
    """SSL layer features quantized to their nearest k-means centroid; encode only (see the module docstring)."""

    PACKAGES = ("transformers", "torch")

    def __init__(self, spec: CodecSpec, *, device: str = "cpu", weights: str | os.PathLike[str] | None = None,
                 features: Any = None) -> None:
        super().__init__(spec, device=device)
        from ..probes.pretrained import SSLFeatures

        opts = spec.options
        self.centroids = load_centroids(self._centroids_path(spec))
        self.features = features or SSLFeatures(str(weights or opts["model"]), int(opts["layer"]), device=device)
        k, dim = self.centroids.shape
        if k != spec.codebook_size or (spec.embedding_dim is not None and dim != spec.embedding_dim):
            raise CodecRuntimeError(f"codec '{spec.id}': the centroids are {k} x {dim}, the YAML says codebook_size "
                                    f"{spec.codebook_size} and embedding_dim {spec.embedding_dim}", codec_id=spec.id)
        if dim != self.features.dim:
            raise CodecRuntimeError(f"codec '{spec.id}': centroids of dim {dim} for {self.features.dim}-dim "
                                    f"features of {self.features.name}", codec_id=spec.id)
        self._c64 = self.centroids.astype(np.float64)  # distances in float64, computed per item against these
        self._sq = (self._c64 ** 2).sum(axis=1)

    @staticmethod
    def _centroids_path(spec: CodecSpec) -> Path:
        path = spec.options.get("centroids")
        if not path:
            raise MissingWeightsError(f"codec '{spec.id}': its YAML names no options.centroids", codec_id=spec.id)
        path = expand_path(path)
        return path if path.is_absolute() else cache_root() / path  # relative: in the codecbench cache

    @classmethod
    def available(cls, spec: CodecSpec) -> str | None:
        path = cls._centroids_path(spec)
        if not path.is_file():
            return (f"codec '{spec.id}': k-means centroids not found at {path}; put a (k, dim) .npy there (or a "
                    f"joblib k-means such as textless-lib's km.bin), or point options.centroids in "
                    f"params/codecs/{spec.id}.yaml at one")
        from ..probes.pretrained import pretrained_missing

        why = pretrained_missing("ssl", str(spec.options["model"]))
        return f"codec '{spec.id}': SSL model: {why}, or `codecbench codecs fetch {spec.id}`" if why else None

    @classmethod
    def fetch_plan(cls, spec: CodecSpec) -> FetchPlan | None:
        """The SSL model's Hub snapshot (the centroids file is the user's to provide)."""
        from ..probes.pretrained import SSL_MODELS, resolve_model

        source = resolve_model(str(spec.options["model"]), SSL_MODELS)
        return None if Path(source).is_dir() else FetchPlan(spec.id, hub_repo=source,
                                                            hub_revision=spec.options.get("revision"))

    def _assign(self, feats: np.ndarray) -> np.ndarray:
        f = feats.astype(np.float64)
        dist = (f ** 2).sum(axis=1, keepdims=True) - 2.0 * f @ self._c64.T + self._sq
        return dist.argmin(axis=1).astype(np.int64)

    def encode(self, wav: np.ndarray) -> Encoded:
        """Units ``(1, frames)``: the nearest centroid of each frame's features."""
        wav = np.asarray(wav, dtype=np.float32)
        codes = self._assign(self.features(wav, self.sample_rate))[None]
        return Encoded(codes=codes, n_samples=int(wav.size), sample_rate=self.sample_rate,
                       n_bits=int(round(codes.shape[1] * math.log2(self.centroids.shape[0]))))

    def decode(self, encoded: Encoded) -> np.ndarray:
        raise CodecRuntimeError(f"codec '{self.id}' is an encode-only tokenizer (round_trip: false): it has no decoder",
                                codec_id=self.id)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        """The chosen centroids, ``(frames, dim)``."""
        return self.centroids[self.encode(wav).codes[0]]

    def close(self) -> None:
        self.features.close()
