"""The ``mini`` recipe's entry point: generate the planned items under a root and write the manifest."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ...audio import PathLike, save_audio
from ..common import BadData, audio_item, finish
from ..manifest import ManifestItem
from .plan import _PLANNERS, DATASETS, NAME, SAMPLE_RATES, Size, _manifest_path, _scale, _subsets

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------- entry point
def prepare_mini(
    root: PathLike,
    *,
    subset: str | Sequence[str] | None = None,
    out: PathLike | None = None,
    size: Size = "small",
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Generate the synthetic corpus under ``root`` (reusing files already there) and build its manifest.

    Parameters
    ----------
    root : str or PathLike
        Folder to generate into (created if missing).
    subset : str or sequence of str, optional
        One or several of ``SUBSETS`` (``"speech,chord"`` also works); ``None``
        or ``"all"`` generates every part.
    out : str or PathLike, optional
        Manifest to write (JSONL, atomically). Paths are stored relative to its
        folder when the audio lies below it, else absolute.
    size : {"small", "medium", "large"} or int
        Scale: small (default, ~14 min of audio, 394 items), medium (x5), large
        (x20), or an integer factor. Larger sizes are supersets of smaller ones.
    strict : bool
        Accepted for the common recipe interface; generated audio has no bad data.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id; ``sample_rate``, ``duration`` and ``channels`` read back from the files.

    Raises
    ------
    UnknownNameError
        Unknown ``subset`` or ``size``.
    MissingDependencyError
        The speech, emotion or mix part is requested and espeak-ng cannot be
        loaded (``pip install espeakng-loader`` or ``apt install espeak-ng``).

    Notes
    -----
    Each item's audio depends only on its id (seeds come from the id, and each
    espeak-ng utterance runs in a fresh forked process), so the files, and a
    manifest written by this function, are the same on every run, for every
    size and every subset selection that includes the item.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     items = prepare_mini(d, subset="chord", progress=False)
    >>> len(items), items[0].dataset, items[0].label, items[0].sample_rate
    (24, 'mini_chord', 'major', 48000)
    """
    from tqdm import tqdm

    root = Path(root).expanduser().resolve()
    parts = _subsets(subset)
    scale = _scale(size)
    specs = [spec for part in parts for spec in _PLANNERS[part](scale)]
    out_dir = Path(out).expanduser().resolve().parent if out is not None else None
    logger.info("mini: %d items in %s (size %s) under %s", len(specs), ",".join(parts), size, root)
    bad = BadData(NAME)
    items = []
    made = reused = 0
    bar = tqdm(specs, desc="prepare mini", unit="item", total=len(specs), disable=not progress)
    for spec in bar:
        path = root / spec.rel
        if path.is_file():
            reused += 1
        else:
            save_audio(path, spec.make(), SAMPLE_RATES[spec.subset])
            made += 1
        dataset, category = DATASETS[spec.subset]
        item = audio_item(
            path,
            id=f"{NAME}/{Path(spec.rel).with_suffix('').as_posix()}",
            dataset=dataset,
            category=category,
            split=spec.split,
            label=spec.label,
            text=spec.text,
            speaker=spec.speaker,
            fold=spec.fold,
            extra=spec.extra,
        )
        if item is not None:
            items.append(replace(item, path=_manifest_path(path, out_dir)))
    logger.info("mini: generated %d files, reused %d", made, reused)
    return finish(items, out, bad=bad, strict=strict)
