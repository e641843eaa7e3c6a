"""How a result row was made: package and implementation versions, the codec's identity, and the
key that decides whether a finished row can be reused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from .pairs import PairSource
from .registry import get_metric, packages_for

__all__ = ["metric_versions", "codec_columns", "item_key"]


def metric_versions(metrics: Sequence[str]) -> str:
    """JSON of the package versions and implementation versions behind the selected metrics.

    Packages come from the registry rows; every ``*_VERSION`` string of the metric modules
    (and of the resampler) is recorded too. Written into every row.
    """
    import importlib
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for p in sorted({"codecbench", "numpy", "torch"} | packages_for(list(metrics))):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "missing"
    for module in ("resample", *sorted({get_metric(m).module for m in metrics})):
        try:
            mod = importlib.import_module(f"codecbench_utils.metrics.{module}")
        except ImportError:
            continue
        for name in dir(mod):
            if name.endswith("_VERSION") and isinstance(getattr(mod, name), str):
                out[name.lower()] = getattr(mod, name)
    return json.dumps(out, sort_keys=True)


def codec_columns(codec: str | None) -> dict[str, str | None]:
    """``codec`` and ``codec_fingerprint`` of the rows (both None for plain folders)."""
    if not codec:
        return {"codec": None, "codec_fingerprint": None}
    from ..codecs.fingerprint import codec_fingerprint
    from ..codecs.registry import get_spec

    return {"codec": codec, "codec_fingerprint": codec_fingerprint(get_spec(codec))}


def _file_fingerprint(path: Path | None) -> str:
    if path is None or not path.is_file():
        return "none"
    st = path.stat()
    return f"{st.st_size}-{st.st_mtime_ns}"


def item_key(src: PairSource, profile: str, metrics: Sequence[str], sim_spec: str, *, with_text: bool,
             options: Mapping[str, str] | None = None) -> str:
    """What a finished row must match to be reused: profile, metrics, models, file sizes and mtimes,
    the transcript when a metric reads it, and any non-default run option (e.g. the recognizer)."""
    parts = [profile, ",".join(metrics), sim_spec if "sim" in metrics else "",
             _file_fingerprint(src.ref_path), _file_fingerprint(src.est_path), src.pre_status or ""]
    if with_text:  # a corrected transcript is rescored
        parts += [src.text or "", src.language or ""]
    parts += [f"{k}={v}" for k, v in sorted((options or {}).items())]
    payload = "|".join(parts)
    return hashlib.sha1(payload.encode()).hexdigest()[:16]
