"""LibriSpeech: read English audiobook speech at 16 kHz (Panayotov et al., 2015).

CodecBench uses ``test-clean`` for the acoustic stage and ``train-clean-100`` /
``dev-clean`` (train/validate) with ``test-clean`` (test) for the ASR probe.

License: CC BY 4.0. Source: https://www.openslr.org/12 (one ``<part>.tar.gz`` per
part, each unpacking into a top folder ``LibriSpeech/``).

Native layout::

    LibriSpeech/
      SPEAKERS.TXT
      test-clean/
        1089/                       speaker
          134686/                   chapter
            1089-134686.trans.txt
            1089-134686-0000.flac
            ...

Sample lines::

    SPEAKERS.TXT:          1089 | M | test-clean       |  8.04 | Lawrence Hooker
    1089-134686.trans.txt: 1089-134686-0000 HE HOPED THERE WOULD BE STEW FOR DINNER ...

Items: one per transcript line; ``text`` is the upper-case transcript, ``speaker``
the reader id, ``split`` the part name, ``extra`` holds ``chapter`` and ``gender``
(from SPEAKERS.TXT when present). Ids: ``librispeech/<part>/<utterance id>``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..audio import PathLike
from ..errors import DatasetLayoutError
from .common import (
    BadData,
    audio_items,
    finish,
    read_text_lines,
    resolve_root,
    scan_audio,
    select_splits,
)
from .manifest import ManifestItem

__all__ = [
    "NAME",
    "CATEGORY",
    "SUBSETS",
    "LICENSE",
    "SOURCE",
    "DESCRIPTION",
    "SIZE",
    "prepare_librispeech",
]

logger = logging.getLogger(__name__)

NAME = "librispeech"
CATEGORY = "speech"
SUBSETS: tuple[str, ...] = (
    "dev-clean",
    "dev-other",
    "test-clean",
    "test-other",
    "train-clean-100",
    "train-clean-360",
    "train-other-500",
)
LICENSE = "CC BY 4.0"
SOURCE = "https://www.openslr.org/12"
DESCRIPTION = "read English speech; test-clean (acoustic), train-clean-100/dev-clean (ASR probe)"
SIZE = "test-clean 2,620 utt / 5.4 h; train-clean-100 28,539 utt / 100.6 h; dev-clean 2,703 utt"



def _read_speakers(path: Path) -> dict[str, str]:
    """Reader id -> gender ('M'/'F') from SPEAKERS.TXT (';' lines are comments)."""
    out = {}
    for line in read_text_lines(path):
        if line.lstrip().startswith(";"):
            continue
        cols = [c.strip() for c in line.split("|")]
        if len(cols) >= 2 and cols[0].isdigit():
            out[cols[0]] = cols[1]
    return out


def prepare_librispeech(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the LibriSpeech manifest from its native layout.

    Parameters
    ----------
    root : str or PathLike
        The folder the archives were unpacked into, or ``LibriSpeech/`` itself.
    subset : str, optional
        One part of :data:`SUBSETS`; ``None`` loads every part present.
    out : str or PathLike, optional
        Manifest to write (atomically).
    strict : bool
        Raise instead of skipping bad data.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id.

    Raises
    ------
    DatasetLayoutError
        No part found, the requested part absent, or bad data under ``strict``.
    UnknownNameError
        ``subset`` is not a LibriSpeech part.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=SUBSETS, top_folders=("LibriSpeech",))
    present = [p for p in SUBSETS if (base / p).is_dir()]
    parts = select_splits(subset, known=SUBSETS, present=present, dataset=NAME, root=base, source=SOURCE)
    speakers_file = base / "SPEAKERS.TXT"
    genders = _read_speakers(speakers_file) if speakers_file.is_file() else {}
    bad = BadData(NAME)
    specs = []
    for part in parts:
        part_dir = base / part
        listed: set[Path] = set()
        for trans in sorted(part_dir.glob("*/*/*.trans.txt")):
            for line in read_text_lines(trans):
                utt, _, text = line.partition(" ")
                fields = utt.split("-")
                if len(fields) != 3 or not text.strip():
                    bad.add("invalid", trans, f"line '{line[:40]}'")
                    continue
                spk, chapter, _ = fields
                flac = trans.parent / f"{utt}.flac"
                listed.add(flac)
                specs.append(
                    dict(
                        path=flac,
                        id=f"{NAME}/{part}/{utt}",
                        split=part,
                        text=text.strip(),
                        speaker=spk,
                        extra={"chapter": chapter, **({"gender": genders[spk]} if spk in genders else {})},
                    )
                )
        for flac in scan_audio(part_dir, extensions=(".flac",)):
            if flac not in listed:
                bad.add("unlabelled", flac)
        if not listed and not any(bad.problems.values()):
            raise DatasetLayoutError(
                f"{NAME}: no '<speaker>/<chapter>/*.trans.txt' under '{part_dir}'; get it from {SOURCE}"
            )
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
