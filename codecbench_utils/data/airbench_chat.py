"""AIR-Bench Chat: the open-ended audio QA half of AIR-Bench (Yang et al., ACL 2024).

About 2,000 questions on speech, sound, music and mixed audio drawn from public
corpora (Fisher, SpokenWOZ, IEMOCAP, Common Voice, Clotho, AudioCaps,
MusicCaps, ...), with GPT-4-checked reference answers.

License: see the dataset card (the audio keeps the licences of its source
corpora). Source: https://huggingface.co/datasets/qyang1021/AIR-Bench-Dataset
(folder ``Chat/``; ``hf download qyang1021/AIR-Bench-Dataset
--repo-type dataset --include "Chat/*"``).

Native layout::

    AIR-Bench-Dataset/
    └── Chat/
        ├── Chat_meta.json
        ├── speech_dialogue_QA_fisher/             # <task_name>_<dataset_name>/
        │   └── fe_03_00040_0.wav                  # <path>
        ├── sound_QA_clotho/ ...
        ├── music_QA_musiccaps/ ...
        └── speech_and_sound_QA_common_voice_..._audioset/ ...

``Chat_meta.json`` (a list)::

    [{"meta_info": "...", "question": "What did the second speaker say about ...?",
      "answer_gt": "...", "path": "fe_03_00040_0.wav", "task_name": "speech_dialogue_QA",
      "dataset_name": "fisher", "uniq_id": 0}, ...]

Manifest: one item per audio file, ``id = airbench_chat/<task>_<dataset>/<path
stem>``, ``split`` = the subject (``speech``, ``sound``, ``music``, ``mix``),
``extra`` = ``task_name``, ``dataset_name`` and ``qa`` (``[{uniq_id, question,
answer_gt}]``; a file asked about several times has several entries). The
subject rule is HELM's: task names starting ``speech_and`` are ``mix``, others
take their first ``_`` token.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..audio import PathLike
from .common import BadData, audio_items, finish, rel_id, resolve_root, scan_audio, select_splits
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "subject_of",
           "prepare_airbench_chat"]

logger = logging.getLogger(__name__)

NAME = "airbench_chat"
CATEGORY = "general"
SUBSETS: tuple[str, ...] = ("speech", "sound", "music", "mix")
LICENSE = "see dataset card (audio: source-corpus licences)"
DESCRIPTION = "AIR-Bench chat: open-ended QA on speech, sound, music and mixed audio"
SIZE = "~2,000 questions, wav/mp3, 16 kHz"
SOURCE = "https://huggingface.co/datasets/qyang1021/AIR-Bench-Dataset"


def subject_of(task_name: str) -> str | None:
    """``speech_and_*`` -> mix; otherwise the first token if it is speech/sound/music."""
    parts = task_name.split("_")
    if parts[:2] == ["speech", "and"]:
        return "mix"
    return parts[0] if parts[0] in SUBSETS[:3] else None


def prepare_airbench_chat(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the AIR-Bench Chat manifest.

    Parameters
    ----------
    root : str or PathLike
        The dataset snapshot (holding ``Chat/``) or the ``Chat`` folder.
    subset : {"speech", "sound", "music", "mix"}, optional
        One subject; ``None`` loads every subject present.
    out : str or PathLike, optional
        Manifest to write.
    strict : bool
        Raise on bad data instead of counting and skipping it.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ManifestItem
        Sorted by id.

    Raises
    ------
    DatasetLayoutError
        ``Chat_meta.json`` missing, or (strict) bad data.
    """
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=("Chat/Chat_meta.json", "Chat_meta.json"),
                        top_folders=("AIR-Bench-Dataset",))
    chat = base / "Chat" if (base / "Chat" / "Chat_meta.json").is_file() else base
    rows = json.loads((chat / "Chat_meta.json").read_text(encoding="utf-8"))
    bad = BadData(NAME)
    entries: dict[Path, dict] = {}
    for k, row in enumerate(rows):
        try:
            task, ds, rel = str(row["task_name"]), str(row["dataset_name"]), str(row["path"])
        except (KeyError, TypeError):
            bad.add("invalid", f"Chat_meta.json entry {k}", "no task_name/dataset_name/path")
            continue
        subj = subject_of(task)
        if subj is None:
            bad.add("invalid", f"Chat_meta.json entry {k}", f"task '{task}' has no subject")
            continue
        path = chat / f"{task}_{ds}" / rel
        e = entries.setdefault(path, {"split": subj, "task_name": task, "dataset_name": ds, "qa": []})
        e["qa"].append({"uniq_id": row.get("uniq_id"), "question": row.get("question"),
                        "answer_gt": row.get("answer_gt")})
    splits = select_splits(subset, known=SUBSETS, present={e["split"] for e in entries.values()}, dataset=NAME,
                           root=chat, source=SOURCE)
    listed = set(entries)
    for p in scan_audio(chat):
        if p not in listed:
            bad.add("unlabelled", p)
    specs = [{"path": p, "id": rel_id(NAME, p, chat), "split": e["split"],
              "extra": {"task_name": e["task_name"], "dataset_name": e["dataset_name"], "qa": e["qa"]}}
             for p, e in entries.items() if e["split"] in splits]
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
