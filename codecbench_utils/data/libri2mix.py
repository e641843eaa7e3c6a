"""Libri2Mix: two-speaker mixtures of LibriSpeech utterances, clean and with WHAM! noise (Cosentino et al., 2020).

CodecBench uses the ``test`` split: 3,000 mixtures, each as ``mix_clean`` (two
speakers) and ``mix_both`` (two speakers plus noise).

License: the generated mixtures inherit CC BY 4.0 (LibriSpeech) and CC BY-NC 4.0
(WHAM! noise). Source: https://github.com/JorisCos/LibriMix (generated locally with
``generate_librimix.sh``; not downloadable as audio, so no ``download`` here).

Native layout::

    Libri2Mix/
      wav16k/                        (and/or wav8k/)
        max/                         (and/or min/)
          metadata/
            mixture_test_mix_clean.csv
            mixture_test_mix_both.csv
          test/
            mix_clean/  1089-134686-0000_121-121726-0000.wav
            mix_both/   1089-134686-0000_121-121726-0000.wav
            mix_single/ s1/ s2/ noise/   (not read)

Sample line of ``mixture_test_mix_both.csv`` (header
``mixture_ID,mixture_path,source_1_path,source_2_path,noise_path,length``; the
clean file has no ``noise_path``; paths are those of the machine that generated
the mixtures and are not used)::

    1089-134686-0000_121-121726-0000,/data/Libri2Mix/wav16k/max/test/mix_both/1089-134686-0000_121-121726-0000.wav,...,167920

Items: one per mixture and type; ``split`` the part (``test``), ``extra`` holds
``mixture`` (``mix_clean``/``mix_both``), ``sources`` (the two LibriSpeech
utterance ids) and ``speakers``. ``speaker`` stays empty: a mixture has two.
When both rates/modes are present, ``wav16k`` and ``max`` are preferred (pass
``rate=``/``mode=`` to choose). Ids: ``libri2mix/<rate>/<mode>/<part>/<mixture>/<mixture_ID>``.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from ..audio import PathLike
from ..errors import DatasetLayoutError
from .common import BadData, audio_items, finish, resolve_root, scan_audio, select_splits
from .manifest import ManifestItem

__all__ = [
    "NAME",
    "CATEGORY",
    "SUBSETS",
    "MIXTURES",
    "LICENSE",
    "SOURCE",
    "DESCRIPTION",
    "SIZE",
    "prepare_libri2mix",
]

logger = logging.getLogger(__name__)

NAME = "libri2mix"
CATEGORY = "speech"
SUBSETS: tuple[str, ...] = ("test", "dev", "train-100", "train-360")
MIXTURES: tuple[str, ...] = ("mix_clean", "mix_both")
LICENSE = "CC BY 4.0 (LibriSpeech) + CC BY-NC 4.0 (WHAM! noise)"
SOURCE = "https://github.com/JorisCos/LibriMix"
DESCRIPTION = "two-speaker mixtures, clean (mix_clean) and noisy (mix_both); test split"
SIZE = "test 3,000 mixtures per type / 4.2 h (wav16k max)"

_RATES = ("wav16k", "wav8k")
_MODES = ("max", "min")


def _pick(base: Path, choices: tuple[str, ...], wanted: str | None, what: str) -> str:
    """The first of ``choices`` present under ``base`` (or ``wanted``, which must be present)."""
    if wanted is not None:
        if not (base / wanted).is_dir():
            raise DatasetLayoutError(f"{NAME}: {what} '{wanted}' not found under '{base}'; get it from {SOURCE}")
        return wanted
    for c in choices:
        if (base / c).is_dir():
            return c
    raise DatasetLayoutError(f"{NAME}: none of {list(choices)} under '{base}'; generate it with {SOURCE}")


def prepare_libri2mix(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    rate: str | None = None,
    mode: str | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the Libri2Mix manifest (clean and noisy mixtures).

    Parameters
    ----------
    root : str or PathLike
        ``Libri2Mix/`` or the folder holding it.
    subset : {"test", "dev", "train-100", "train-360"}, optional
        ``None`` loads every part present.
    out : str or PathLike, optional
        Manifest to write (atomically).
    strict : bool
        Raise instead of skipping bad data.
    rate, mode : str, optional
        ``wav16k``/``wav8k`` and ``max``/``min``; default: the first present of each.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem

    Raises
    ------
    DatasetLayoutError
        No ``wav*/{max,min}/<part>/mix_*`` folder, or bad data under ``strict``.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=("wav16k", "wav8k"), top_folders=("Libri2Mix",))
    rate = _pick(base, _RATES, rate, "rate folder")
    mode = _pick(base / rate, _MODES, mode, "mode folder")
    mode_dir = base / rate / mode
    present = [p for p in SUBSETS if any((mode_dir / p / m).is_dir() for m in MIXTURES)]
    parts = select_splits(subset, known=SUBSETS, present=present, dataset=NAME, root=mode_dir, source=SOURCE)
    bad = BadData(NAME)
    specs = []
    for part in parts:
        for mixture in MIXTURES:
            folder = mode_dir / part / mixture
            meta = mode_dir / "metadata" / f"mixture_{part}_{mixture}.csv"
            if not folder.is_dir():
                logger.info("%s: no %s folder for %s", NAME, mixture, part)
                continue
            if meta.is_file():
                with meta.open(encoding="utf-8", newline="") as fh:
                    ids = [r["mixture_ID"].strip() for r in csv.DictReader(fh) if r.get("mixture_ID")]
                on_disk = {p.stem for p in scan_audio(folder, extensions=(".wav",), recursive=False)}
                for orphan in sorted(on_disk - set(ids)):
                    bad.add("unlabelled", folder / f"{orphan}.wav")
            else:
                logger.warning("%s: no '%s'; listing %s from the folder", NAME, meta, mixture)
                ids = [p.stem for p in scan_audio(folder, extensions=(".wav",), recursive=False)]
            for mix_id in ids:
                sources = mix_id.split("_")
                specs.append(
                    dict(path=folder / f"{mix_id}.wav", id=f"{NAME}/{rate}/{mode}/{part}/{mixture}/{mix_id}",
                         split=part,
                         extra={"mixture": mixture, "sources": sources,
                                "speakers": [s.split("-")[0] for s in sources]})
                )
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
