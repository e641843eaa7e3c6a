"""CREMA-D: crowd-sourced emotional multimodal actors dataset (Cao et al., 2014).

7,442 clips from 91 actors (48 male, 43 female) speaking 12 sentences in six
emotions. CodecBench probes emotion recognition with the 6 labels below
(Table 2: CREMA-D 6).

License: Open Database License (ODbL) for the database, Database Contents License
for its contents. Source: https://github.com/CheyneyComputerScience/CREMA-D (audio
in git LFS; ``AudioWAV/`` holds 16 kHz mono wav).

Native layout::

    CREMA-D/
      AudioWAV/
        1001_DFA_ANG_XX.wav         <actor>_<sentence>_<emotion>_<intensity>.wav
        ...
      VideoDemographics.csv
      SentenceFilenames.csv
      AudioMP3/ VideoFlash/ ...     (not read)

Sample lines::

    VideoDemographics.csv: 1001,51,Male,Caucasian,Not Hispanic
                           (header: ActorID,Age,Sex,Race,Ethnicity)

Codes: emotion ANG anger, DIS disgust, FEA fear, HAP happy, NEU neutral, SAD sad
(the label names of the paper's fold file); intensity LO/MD/HI/XX (XX unspecified).
The sentence code gives ``text`` (e.g. DFA "Don't forget a jacket").

Items: ``label`` the emotion name, ``speaker`` the actor id, ``split`` ``all``
(the corpus has no official split), ``fold`` 1..5 stratified by emotion and
**speaker-disjoint** (the paper's fold file, which is not, can be imported with
``fold_file=``; the paper used its 1,117-clip subset). A file name that does not
follow the code is counted as invalid metadata. Ids: ``crema_d/<file stem>``.
"""

from __future__ import annotations

import csv
import logging

from ..audio import PathLike
from .common import BadData, audio_items, finish, require_dir, resolve_root, scan_audio, select_splits
from .folds import add_folds
from .manifest import ManifestItem

__all__ = [
    "NAME",
    "CATEGORY",
    "SUBSETS",
    "LICENSE",
    "SOURCE",
    "DESCRIPTION",
    "SIZE",
    "EMOTIONS",
    "SENTENCES",
    "prepare_crema_d",
]

logger = logging.getLogger(__name__)

NAME = "crema_d"
CATEGORY = "speech"
SUBSETS: tuple[str, ...] = ("all",)
LICENSE = "ODbL 1.0 / DbCL 1.0"
SOURCE = "https://github.com/CheyneyComputerScience/CREMA-D"
DESCRIPTION = "acted emotional speech, 91 actors, 6 emotions (emotion probe)"
SIZE = "7,442 clips / 5.3 h"

#: File-name emotion code -> label.
EMOTIONS: dict[str, str] = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
#: File-name sentence code -> the sentence spoken.
SENTENCES: dict[str, str] = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
_INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}


def _demographics(path) -> dict[str, dict[str, str]]:
    """ActorID -> {'sex', 'age'} from VideoDemographics.csv, when present."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {
            r["ActorID"].strip(): {"sex": r.get("Sex", "").strip(), "age": r.get("Age", "").strip()}
            for r in csv.DictReader(fh)
            if r.get("ActorID")
        }


def prepare_crema_d(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    fold_file: PathLike | None = None,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the CREMA-D manifest from ``AudioWAV/``.

    Parameters
    ----------
    root : str or PathLike
        The clone/unpacked folder (holding ``AudioWAV/``) or its parent.
    subset : {"all"}, optional
        The corpus has one split.
    out : str or PathLike, optional
        Manifest to write (atomically).
    strict : bool
        Raise instead of skipping bad data.
    fold_file : str or PathLike, optional
        A published fold file (e.g. the paper's ``crema_d_test.csv``: ``file,emotion,label,fold``)
        to use instead of the speaker-disjoint folds; items not in it keep ``fold=None``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem

    Raises
    ------
    DatasetLayoutError
        ``AudioWAV/`` not found, or bad data under ``strict``.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=("AudioWAV",), top_folders=("CREMA-D",))
    select_splits(subset, known=SUBSETS, present=SUBSETS, dataset=NAME, root=base, source=SOURCE)
    audio_dir = require_dir(base / "AudioWAV", dataset=NAME, source=SOURCE)
    demo = _demographics(base / "VideoDemographics.csv")
    bad = BadData(NAME)
    specs = []
    for path in scan_audio(audio_dir, extensions=(".wav",), recursive=False):
        parts = path.stem.split("_")
        if len(parts) != 4 or parts[2] not in EMOTIONS or parts[1] not in SENTENCES or not parts[0].isdigit():
            bad.add("invalid", path, "name is not <actor>_<sentence>_<emotion>_<intensity>")
            continue
        actor, sentence, emo, level = parts
        extra = {"sentence": sentence, "intensity": _INTENSITIES.get(level, level), **demo.get(actor, {})}
        specs.append(
            dict(path=path, id=f"{NAME}/{path.stem}", split="all", label=EMOTIONS[emo],
                 text=SENTENCES[sentence], speaker=actor, extra=extra)
        )
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    items = add_folds(items, group_key="speaker", fold_file=fold_file, strict=strict)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
