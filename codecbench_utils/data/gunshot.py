"""Gunshot Triangulation: 22 shots from 7 firearms, each recorded by 4 phones (Cooper & Shaw, 2020).

The Zenodo release holds four long recordings, one per microphone (iPod
Touch devices at different positions), not clips. The task popularised by
HEAR 2021 predicts the microphone (``mic1``..``mic4``) from a 1.5 s clip of one
shot, with one fold per firearm. The recipe cuts the recordings into those
88 clips (22 shots x 4 mics) with the rule of the release's ``create_data.m``
(also used by HEAR's ``hearpreprocess``):

1. load each recording at 48 kHz and drop everything before
   ``offset[mic] - 48000`` samples (fixed per-mic offsets that align the four
   recordings);
2. on mic 1, a shot onset is the first sample with ``|x| >= 0.8`` that comes
   more than 25,000 samples (0.52 s) plus one after the previous onset; the
   first 22 onsets are kept;
3. every mic is cut at the same onsets: from ``onset - 6000`` samples (1/8 s
   before) for 72,000 samples (1.5 s);
4. shot ``k`` (0-based) was fired by firearm ``1`` if ``k == 0`` else
   ``(k - 1) // 3 + 1`` (4 shots of firearm 1, then 3 of each of firearms 2-7).

The constants live in :class:`ShotRule`.
Clips are written as 32-bit float WAV next to the manifest
(``<out stem>_shots/``), never into the corpus folder; a rerun reuses them.

License: CC BY 4.0. Source: https://zenodo.org/record/3997406

Native layout::

    gunshot_triangulation/
    ├── mic1raw.wav  mic2raw16b.wav  mic3raw.wav  mic4raw.wav
    └── create_data.m

A copy that is already cut (HEAR's ``small`` archive or a
``hearpreprocess`` output) is read as is::

    gunshot_triangulation/
    └── mic1_shot0_fid1.wav ... mic4_shot21_fid7.wav      # mic<m>_shot<k>_fid<f>.wav

Manifest: ``id = gunshot/mic<m>_shot<k>_fid<f>``, ``label = mic<m>``,
``fold`` = firearm id (1-7, HEAR's group split), ``split = "all"``; ``extra``
holds ``mic``, ``shot`` and ``firearm_id``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio import PathLike, load_audio, save_audio
from ..errors import DatasetLayoutError, InvalidAudioError, UnknownNameError
from .common import BadData, audio_items, finish, scan_audio
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "ShotRule", "find_shots",
           "firearm_of_shot", "cut_shots", "prepare_gunshot"]

logger = logging.getLogger(__name__)

NAME = "gunshot"
CATEGORY = "sound"
SUBSETS: tuple[str, ...] = ("all",)
LICENSE = "CC BY 4.0"
DESCRIPTION = ("gunshots recorded by 4 mics; release = 4 long recordings, cut into 88 x 1.5 s shots "
               "by the create_data.m rule (or read pre-cut mic<m>_shot<k>_fid<f>.wav)")
SIZE = "4 long recordings, cut into 88 x 1.5 s shots (create_data.m rule), 48 kHz"
SOURCE = "https://zenodo.org/record/3997406"
#: Recording file of each mic, in mic order.
MIC_FILES: tuple[str, ...] = ("mic1raw.wav", "mic2raw16b.wav", "mic3raw.wav", "mic4raw.wav")
_CLIP_RE = re.compile(r"^mic(?P<mic>\d+)_shot(?P<shot>\d+)_fid(?P<fid>\d+)$")


@dataclass(frozen=True)
class ShotRule:
    """Constants of the shot-cutting rule (defaults: the release's ``create_data.m``)."""

    sr: int = 48000
    mic_offsets: tuple[int, ...] = (15764451, 13764742, 9334032, 6794611)
    threshold: float = 0.8
    min_gap_samples: int = 25000
    n_shots: int = 22
    pre_s: float = 0.125
    clip_s: float = 1.5
    mic_files: tuple[str, ...] = field(default=MIC_FILES)

    def key(self) -> str:
        """Short fingerprint, so clips cut with another rule are never reused."""
        return hashlib.sha1(repr(self).encode()).hexdigest()[:8]


def find_shots(audio: np.ndarray, *, threshold: float, min_gap_samples: int, n_shots: int) -> list[int]:
    """Shot onsets (sample indices): samples with ``|x| >= threshold`` far enough from the previous onset.

    Equivalent to the sample loop of ``create_data.m``: after an onset at ``i0``
    the detector re-arms at sample ``i0 + min_gap_samples + 1``, so the next
    onset must satisfy ``i - i0 > min_gap_samples + 1``. At most ``n_shots``.
    """
    loud = np.flatnonzero(np.abs(np.asarray(audio)) >= threshold)
    onsets: list[int] = []
    for i in loud:
        if len(onsets) >= n_shots:
            break
        if not onsets or i - onsets[-1] > min_gap_samples + 1:
            onsets.append(int(i))
    return onsets


def firearm_of_shot(shot: int) -> int:
    """Firearm id (1-7) of 0-based shot ``shot``: 4 shots of firearm 1, then 3 of each."""
    return 1 if shot == 0 else (shot - 1) // 3 + 1


def cut_shots(recordings: Sequence[np.ndarray], rule: ShotRule) -> list[tuple[int, int, int, np.ndarray]]:
    """Cut aligned recordings into shots; returns ``(mic, shot, onset_sample, clip)`` tuples.

    ``recordings[m]`` is mic ``m + 1`` at ``rule.sr``, *before* the offset trim.

    Raises
    ------
    InvalidAudioError
        A recording is shorter than its offset, or a clip would start before 0.
    """
    sr = rule.sr
    aligned = []
    for m, (x, off) in enumerate(zip(recordings, rule.mic_offsets, strict=True)):
        start = off - sr
        if start < 0 or start >= len(x):
            raise InvalidAudioError(f"{NAME}: mic{m + 1} lasts {len(x)} samples, offset needs > {start}")
        aligned.append(x[start:])
    onsets = find_shots(aligned[0], threshold=rule.threshold, min_gap_samples=rule.min_gap_samples,
                        n_shots=rule.n_shots)
    pre, n = int(sr * rule.pre_s), int(round(sr * rule.clip_s))
    out = []
    for k, onset in enumerate(onsets):
        s = onset - pre
        if s < 0:
            raise InvalidAudioError(f"{NAME}: shot {k} at sample {onset} starts before the aligned recording")
        for m, x in enumerate(aligned):
            out.append((m + 1, k, onset, np.asarray(x[s : s + n], dtype=np.float32)))
    return out


def _find_base(root: Path) -> Path:
    """The folder holding the recordings or pre-cut clips (root, or one level down)."""
    if not root.is_dir():
        raise DatasetLayoutError(f"{NAME}: root folder not found at '{root}'; get the corpus from {SOURCE}")
    cands = [root] + sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "__MACOSX")))
    for c in cands:
        if (c / MIC_FILES[0]).is_file() or any(_CLIP_RE.match(p.stem) for p in c.glob("mic*_shot*_fid*.*")):
            return c
    for c in cands:  # pre-cut clips one level deeper (e.g. <task>/48000/)
        for p in scan_audio(c):
            if _CLIP_RE.match(p.stem):
                return p.parent
    raise DatasetLayoutError(
        f"{NAME}: neither {MIC_FILES[0]} nor mic<m>_shot<k>_fid<f>.wav clips under '{root}'; "
        f"get the recordings from {SOURCE}"
    )


def _default_clips_dir(base: Path, out: PathLike | None) -> Path:
    """Where cut clips go: ``<out stem>_shots/`` next to the manifest, else a temp-dir cache keyed by root."""
    if out is not None:
        o = Path(out)
        return o.parent / f"{o.stem}_shots"
    h = hashlib.sha1(str(base.resolve()).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / "codecbench" / f"gunshot_shots_{h}"


def prepare_gunshot(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    clips_dir: PathLike | None = None,
    rule: ShotRule | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the Gunshot Triangulation manifest, cutting the recordings into shots if needed.

    Parameters
    ----------
    root : str or PathLike
        Folder holding ``mic1raw.wav`` ... (or pre-cut ``mic<m>_shot<k>_fid<f>.wav``).
    subset : {"all"}, optional
        The only subset.
    out : str or PathLike, optional
        Manifest to write; cut clips go to ``<out stem>_shots/`` beside it.
    strict : bool
        Raise on bad data (a missing recording, fewer shots than expected).
    clips_dir : str or PathLike, optional
        Where to write cut clips (overrides the default).
    rule : ShotRule, optional
        Cutting constants; default :class:`ShotRule` (the release's ``create_data.m``).
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        88 items for the full release, sorted by id.

    Raises
    ------
    DatasetLayoutError
        Neither recordings nor clips found, or (strict) bad data.
    """
    if subset is not None and subset not in SUBSETS:
        raise UnknownNameError(f"{NAME}: unknown subset '{subset}'; known: {', '.join(SUBSETS)}")
    base = _find_base(Path(root).expanduser())
    rule = rule or ShotRule()
    bad = BadData(NAME)
    specs = []
    if (base / rule.mic_files[0]).is_file():
        missing = [f for f in rule.mic_files if not (base / f).is_file()]
        if missing:
            raise DatasetLayoutError(f"{NAME}: recordings {missing} not found in '{base}'; get them from {SOURCE}")
        dest = Path(clips_dir) if clips_dir is not None else _default_clips_dir(base, out)
        dest = dest / rule.key()
        marker = dest / ".complete"
        if not marker.is_file():
            recs = [load_audio(base / f, sr=rule.sr)[0] for f in rule.mic_files]
            clips = cut_shots(recs, rule)
            for mic, shot, _onset, clip in clips:
                save_audio(dest / f"mic{mic}_shot{shot}_fid{firearm_of_shot(shot)}.wav", clip, rule.sr,
                           subtype="FLOAT")
            marker.write_text(f"{len(clips)} clips\n")
            logger.info("%s: cut %d clips into %s", NAME, len(clips), dest)
        clip_dir = dest
    else:
        clip_dir = base
    for p in scan_audio(clip_dir, recursive=False):
        m = _CLIP_RE.match(p.stem)
        if m is None:
            bad.add("unlabelled", p, "name is not mic<m>_shot<k>_fid<f>")
            continue
        mic, shot, fid = int(m["mic"]), int(m["shot"]), int(m["fid"])
        specs.append({"path": p, "id": f"{NAME}/{p.stem}", "split": "all", "label": f"mic{mic}", "fold": fid,
                      "extra": {"mic": mic, "shot": shot, "firearm_id": fid}})
    n_expected = rule.n_shots * len(rule.mic_files)
    if len(specs) < n_expected:
        bad.add("invalid", clip_dir, f"{len(specs)} clips, the release gives {n_expected}")
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
