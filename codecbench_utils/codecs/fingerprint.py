"""A codec configuration's fingerprint: what keys resynthesis files, cached features and result rows.

It hashes everything known to change a codec's output without loading it: the spec (the YAML),
the versions of the backend's packages (``Codec.PACKAGES``) and the weights' identity where the
codec declares it (the sha256 of each pinned file, or the Hugging Face repo and revision). A
weight file given only as a local path is identified by its path, not its bytes: hashing
gigabytes on every run would cost more than it catches.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .base import CodecSpec

__all__ = ["codec_fingerprint", "fingerprint_payload", "model_fingerprint"]


def _versions(packages: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for p in packages:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "missing"
    return out


def _weights(spec: CodecSpec, cls: Any) -> dict[str, Any]:
    try:
        plan = cls.fetch_plan(spec)
    except Exception:  # a plan that cannot be built (bad YAML) is reported by `codecs list`, not here
        plan = None
    if plan is None:
        return {}
    return {"files": {f.name: f.sha256 for f in plan.files}, "hub": [plan.hub_repo, plan.hub_revision]}


#: spec fields added after the first fingerprints were written, left out while at their defaults so
#: results computed before they existed keep their keys (and are not recomputed)
_LATER_FIELDS = {"output_sample_rate": None, "round_trip": True}


def fingerprint_payload(spec: CodecSpec) -> dict[str, Any]:
    """What :func:`codec_fingerprint` hashes (spec, backend package versions, weight identity)."""
    from .registry import BACKENDS, codec_class

    cls = codec_class(spec) if spec.backend in BACKENDS else None
    fields = {k: v for k, v in spec.to_dict().items() if k not in _LATER_FIELDS or v != _LATER_FIELDS[k]}
    return {"spec": fields, "packages": _versions(getattr(cls, "PACKAGES", ())),
            "weights": _weights(spec, cls) if cls is not None else {}}


def model_fingerprint(model: Any, source: str, extra: object = None) -> str:
    """16 hex digits for a loaded transformers model (a recognizer, a probe's feature model).

    Hashes its config, what is taken from it (``extra``) and its weights' identity: the first MiB
    of the safetensors of a local folder, or the commit of a cached Hugging Face snapshot.
    """
    from pathlib import Path

    h = hashlib.sha1(json.dumps([model.config.to_dict(), extra], sort_keys=True, default=str).encode())
    folder = Path(getattr(model, "name_or_path", source))
    weights = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    if weights:
        with weights[0].open("rb") as fh:
            h.update(fh.read(1 << 20))
    else:
        h.update(str(getattr(model.config, "_commit_hash", None)).encode())
    return h.hexdigest()[:16]


def codec_fingerprint(spec: CodecSpec, extra: str = "") -> str:
    """16 hex digits identifying a codec configuration's output (``extra`` separates uses, e.g. embeddings)."""
    payload = json.dumps(fingerprint_payload(spec), sort_keys=True, default=str) + extra
    return hashlib.sha1(payload.encode()).hexdigest()[:16]
