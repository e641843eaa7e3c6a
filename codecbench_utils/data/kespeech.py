"""KeSpeech: Mandarin and 8 Chinese subdialects (Tang et al., NeurIPS 2021 Datasets and Benchmarks).

1,542 hours from 27,237 speakers in 34 cities, 16 kHz wav, with transcripts,
speaker ids and subdialect labels: Mandarin, Beijing, Jiang-Huai, Jiao-Liao,
Ji-Lu, Lan-Yin, Northeastern, Southwestern, Zhongyuan.

License: KeSpeech is released for non-commercial research under an agreement
signed with its publisher (no public download, so no ``download`` here).
Source: https://github.com/KeSpeech/KeSpeech

Native layout (Kaldi-style task lists; paths in ``wav.scp`` are relative to the
corpus root)::

    KeSpeech/
      Audio/<speaker>/phase1/<utt>.wav
      Metadata/                        (not read)
      Tasks/
        ASR/
          test/                        and train_phase1, train_phase2, dev_phase1, dev_phase2
            wav.scp  text  utt2spk  utt2subdialect

Sample lines (format; one utterance per line, the id first)::

    wav.scp:         <utt> Audio/<speaker>/phase1/<utt>.wav
    text:            <utt> <Chinese transcript, no spaces>
    utt2spk:         <utt> <speaker>
    utt2subdialect:  <utt> Southwestern

Items: ``text`` the transcript as released (including tags such as
``<SPOKEN_NOISE>``), ``speaker``, ``label`` the subdialect, ``split`` the task
part. Ids: ``kespeech/<part>/<utt>``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..audio import PathLike
from .common import BadData, audio_items, finish, read_text_lines, require_file, resolve_root, select_splits
from .manifest import ManifestItem

__all__ = [
    "NAME",
    "CATEGORY",
    "SUBSETS",
    "SUBDIALECTS",
    "LICENSE",
    "SOURCE",
    "DESCRIPTION",
    "SIZE",
    "prepare_kespeech",
]

logger = logging.getLogger(__name__)

NAME = "kespeech"
CATEGORY = "speech"
SUBSETS: tuple[str, ...] = ("train_phase1", "train_phase2", "dev_phase1", "dev_phase2", "test")
SUBDIALECTS: tuple[str, ...] = (
    "Mandarin", "Beijing", "Jiang-Huai", "Jiao-Liao", "Ji-Lu", "Lan-Yin", "Northeastern", "Southwestern",
    "Zhongyuan",
)
LICENSE = "non-commercial research agreement"
SOURCE = "https://github.com/KeSpeech/KeSpeech"
DESCRIPTION = "Mandarin and 8 subdialects with transcripts, speakers and subdialect labels"
SIZE = "1,542 h / 27,237 speakers; test 19,723 utterances"

_FILES = ("wav.scp", "text", "utt2spk", "utt2subdialect")


def _kaldi_map(path: Path) -> dict[str, str]:
    """``<utt> <value>`` lines as a dict (the value may hold spaces, or be empty)."""
    out = {}
    for line in read_text_lines(path):
        key, _, value = line.strip().partition(" ")
        out[key] = value.strip()
    return out


def prepare_kespeech(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the KeSpeech manifest from ``Tasks/ASR/<part>/``.

    Parameters
    ----------
    root : str or PathLike
        ``KeSpeech/`` or the folder holding it.
    subset : str, optional
        One of :data:`SUBSETS`; ``None`` loads every part present.
    out : str or PathLike, optional
        Manifest to write (atomically).
    strict : bool
        Raise instead of skipping bad data.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem

    Raises
    ------
    DatasetLayoutError
        ``Tasks/ASR`` or one of its list files missing, or bad data under ``strict``.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=("Tasks/ASR",), top_folders=("KeSpeech",))
    tasks = base / "Tasks" / "ASR"
    present = [p for p in SUBSETS if (tasks / p).is_dir()]
    parts = select_splits(subset, known=SUBSETS, present=present, dataset=NAME, root=tasks, source=SOURCE)
    bad = BadData(NAME)
    specs = []
    for part in parts:
        maps = {f: _kaldi_map(require_file(tasks / part / f, dataset=NAME, source=SOURCE)) for f in _FILES}
        wavs, texts, spks, dialects = (maps[f] for f in _FILES)
        for utt, rel in wavs.items():
            if utt not in texts or utt not in spks or not rel:
                bad.add("invalid", f"{tasks / part}/wav.scp:{utt}", "no transcript or speaker for it")
                continue
            path = Path(rel) if Path(rel).is_absolute() else base / rel
            specs.append(
                dict(path=path, id=f"{NAME}/{part}/{utt}", split=part, text=texts[utt], speaker=spks[utt],
                     label=dialects.get(utt) or None)
            )
        for utt in sorted(set(texts) - set(wavs)):
            bad.add("missing", f"{tasks / part}/text:{utt}", "no wav.scp entry")
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
