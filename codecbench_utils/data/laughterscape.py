"""Laughterscape: a large in-the-wild Japanese laughter corpus (Xin, Takamichi, Morimatsu & Saruwatari, 2023).

Laughs cut from YouTube videos of casters and YouTubers, one speaker per clip,
separated from background music and noise, 16 kHz WAV. The synthesis paper
reports 3.5 h (7,489 utterances, 470 speakers) after its own filtering;
CodecBench uses the 8,170 clips of the public release (``ver1.0``, redistributed
by the CodecBench authors as ``RayYuki/CodecBench_laughterscape_ver1.0``).

License: see the corpus page (research use; redistribution terms there). Source:
https://sites.google.com/site/shinnosuketakamichi/research-topics/laughter_corpus

Native layout (clip names ``<speaker>-<utterance>.wav``; the release's folders
hold variants of the same clips, e.g. the separated ``denoised/`` audio)::

    laughterscape_ver1.0/
    ├── denoised/
    │   ├── spkr001-utt001.wav
    │   └── ...
    └── ...                         # other variant folders, if any

There is no annotation file: the speaker is the file name up to its last ``-``
(``spkr112-utt459`` -> ``spkr112``), as in the authors' loader.

Manifest: ``id = laughterscape/<variant>/<stem>``, ``split`` = the variant
folder (``denoised``; ``all`` for clips lying directly under the root),
``speaker`` as above, ``label = "laughter"``. Subsets: the variant folders
present (``denoised`` is the one the authors' code reads). Files whose name has
no ``-`` get no speaker and are counted as bad data; zero-length files (the
authors' loader drops them too) are counted as unreadable.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..audio import PathLike
from .common import (
    BadData,
    audio_items,
    finish,
    rel_id,
    resolve_root,
    scan_audio,
    select_splits,
)
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "speaker_of",
           "prepare_laughterscape"]

logger = logging.getLogger(__name__)

NAME = "laughterscape"
#: clips in the ver1.0 release as redistributed by the paper's authors (prepare logs a note when it differs)
N_ITEMS = 8170
CATEGORY = "sound"
#: Variant folders known from the release and the authors' code; others found on disk are loaded too.
SUBSETS: tuple[str, ...] = ("denoised", "all")
LICENSE = "research use (see corpus page)"
DESCRIPTION = "in-the-wild Japanese laughter, one speaker per clip; paper subset = the 8,170-clip ver1.0 release"
SIZE = "8,170 clips, 16 kHz, ~4 h"
SOURCE = "https://sites.google.com/site/shinnosuketakamichi/research-topics/laughter_corpus"
LABEL = "laughter"


def speaker_of(stem: str) -> str | None:
    """Speaker of a clip: the name up to its last ``-`` (``spkr112-utt459`` -> ``spkr112``)."""
    return stem.rsplit("-", 1)[0] if "-" in stem else None


def prepare_laughterscape(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the Laughterscape manifest.

    Parameters
    ----------
    root : str or PathLike
        Folder the release was unpacked into, or its top folder.
    subset : str, optional
        One variant folder (``denoised``), or ``all`` for clips directly under
        the root; ``None`` loads every variant present.
    out : str or PathLike, optional
        Manifest to write.
    strict : bool
        Raise on bad data instead of counting and skipping it.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id, with ``speaker``, ``split`` and ``label``.

    Raises
    ------
    DatasetLayoutError
        No ``<speaker>-<utt>.wav`` clip found, or (strict) bad data.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=("*-*.wav", "*/*-*.wav"),
                        top_folders=("laughterscape_ver1.0", "laughterscape", "Laughterscape", "laughter_open"))
    files = scan_audio(base, extensions=(".wav",))
    by_variant: dict[str, list[Path]] = {}
    for p in files:
        rel = p.relative_to(base).parts
        by_variant.setdefault(rel[0] if len(rel) > 1 else "all", []).append(p)
    known = (*SUBSETS, *sorted(v for v in by_variant if v not in SUBSETS))
    splits = select_splits(subset, known=known, present=by_variant, dataset=NAME, root=base, source=SOURCE)
    bad = BadData(NAME)
    specs = []
    for split in splits:
        for p in by_variant[split]:
            spk = speaker_of(p.stem)
            if spk is None:
                bad.add("invalid", p, "name is not <speaker>-<utterance>.wav")
                continue
            specs.append({"path": p, "id": rel_id(NAME, p, base), "split": split, "speaker": spk, "label": LABEL})
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    expected = N_ITEMS
    if subset is None and len(items) != expected and len(splits) == 1:
        logger.info("%s: %d clips, the paper's release has %d", NAME, len(items), expected)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
