"""Fixtures for the recipe tests: tiny generated audio files in native layouts (never committed).

``native`` gives the helpers below as attributes (tests run with
``--import-mode=importlib``, so test modules cannot import a sibling helper module).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from codecbench_utils.data.manifest import ManifestItem


def write_audio(path: Path, seconds: float = 0.05, sr: int = 16000, channels: int = 1, seed: int = 0) -> Path:
    """A short seeded noise clip at ``path`` (format from the extension: wav/flac/au)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    data = (0.1 * rng.standard_normal((n, channels))).astype(np.float32)
    fmt = {".au": "AU"}.get(path.suffix.lower())
    sf.write(path, data, sr, format=fmt, subtype="PCM_16")
    return path


def write_broken(path: Path) -> Path:
    """A file with an audio extension that no decoder can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not audio")
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def write_json(path: Path, obj: object) -> Path:
    return write_text(path, json.dumps(obj, indent=2))


def rows(items: list[ManifestItem], *fields: str) -> list[tuple]:
    """The given fields of each item, as tuples (``extra`` keys allowed)."""
    out = []
    for it in items:
        d = it.to_dict()
        out.append(tuple(d.get(f) for f in fields))
    return out


@pytest.fixture
def native() -> SimpleNamespace:
    """The layout helpers: ``native.write_audio(path, seconds=...)``, ``native.rows(items, ...)``, ..."""
    return SimpleNamespace(write_audio=write_audio, write_broken=write_broken, write_text=write_text,
                           write_json=write_json, rows=rows)
