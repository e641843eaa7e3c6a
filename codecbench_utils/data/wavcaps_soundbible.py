"""WavCaps SoundBible: the 1,232 SoundBible.com sound effects of WavCaps, with ChatGPT captions (Mei et al., 2023).

License: WavCaps is for academic use only; each SoundBible clip keeps its own
licence (mostly CC BY 3.0 / public domain, see ``download_link``). Source:
https://huggingface.co/datasets/cvssp/WavCaps (``json_files/SoundBible/sb_final.json``
and ``Zip_files/SoundBible/SoundBible.zip``).

Native layout (the zip keeps the authors' absolute path inside; any depth works)::

    WavCaps/
    ├── json_files/SoundBible/sb_final.json
    └── Zip_files/SoundBible/                 # unzipped here, or anywhere under the root
        └── mnt/fast/nobackup/.../waveforms/SoundBible_flac/
            ├── 1725.flac                     # <id>.flac
            └── ...

``sb_final.json``::

    {"num_captions_per_audio": 1, "data": [{"title": "Hoo Doo Magical Chant",
      "description": "...", "author": "Mike Koenig", "href": "4-Hoo-Doo-Magical-Chant-2116.html",
      "caption": "A man chants a magical spell.", "id": "2116", "duration": 18.3,
      "audio": "wav_path", "download_link": "http://soundbible.com/grab.php?id=2116&type=wav"}, ...]}

Clips are matched to entries by file stem == ``id``; when some audio lies in a
folder whose name contains ``SoundBible``, only such audio is considered. Manifest:
``id = wavcaps_soundbible/<id>``, ``split = "all"``, ``extra`` = ``caption``,
``title``, ``author``.
"""

from __future__ import annotations

import json
import logging

from ..audio import PathLike
from ..errors import DatasetLayoutError, UnknownNameError
from .common import BadData, audio_items, finish, resolve_root, scan_audio
from .manifest import ManifestItem

__all__ = ["NAME", "CATEGORY", "SUBSETS", "LICENSE", "DESCRIPTION", "SIZE", "SOURCE", "prepare_wavcaps_soundbible"]

logger = logging.getLogger(__name__)

NAME = "wavcaps_soundbible"
CATEGORY = "general"
SUBSETS: tuple[str, ...] = ("all",)
LICENSE = "academic use (WavCaps); clips: SoundBible licences"
DESCRIPTION = "SoundBible part of WavCaps: sound effects with ChatGPT-written captions"
SIZE = "1,232 clips, 32 kHz FLAC"
SOURCE = "https://huggingface.co/datasets/cvssp/WavCaps"
JSON_PATHS: tuple[str, ...] = ("json_files/SoundBible/sb_final.json", "SoundBible/sb_final.json", "sb_final.json")


def prepare_wavcaps_soundbible(
    root: PathLike,
    *,
    subset: str | None = None,
    out: PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
) -> list[ManifestItem]:
    """Build the WavCaps-SoundBible manifest.

    Parameters
    ----------
    root : str or PathLike
        WavCaps folder holding ``json_files/SoundBible/sb_final.json`` and the
        unzipped SoundBible audio (anywhere below it).
    subset : {"all"}, optional
        The only subset.
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
        ``sb_final.json`` missing, no clip found, or (strict) bad data.
    """
    if subset is not None and subset not in SUBSETS:
        raise UnknownNameError(f"{NAME}: unknown subset '{subset}'; known: {', '.join(SUBSETS)}")
    base = resolve_root(root, dataset=NAME, source=SOURCE, markers=JSON_PATHS, top_folders=("WavCaps",))
    meta = next(base / p for p in JSON_PATHS if (base / p).is_file())
    data = json.loads(meta.read_text(encoding="utf-8"))
    rows = data["data"] if isinstance(data, dict) else data
    bad = BadData(NAME)
    files = {}
    found = scan_audio(base, extensions=(".flac", ".wav", ".mp3"))
    # other WavCaps parts (FreeSound, BBC, AudioSet_SL) may sit under the same root: keep SoundBible's
    sb = [p for p in found if any("soundbible" in q.lower() for q in p.relative_to(base).parts[:-1])]
    for p in sb or found:
        if p.stem in files:
            bad.add("invalid", p, f"second clip for id {p.stem}")
            continue
        files[p.stem] = p
    if not files:
        raise DatasetLayoutError(f"{NAME}: no audio under '{base}'; unzip Zip_files/SoundBible/SoundBible.zip there "
                                 f"(from {SOURCE})")
    specs, listed = [], set()
    for k, row in enumerate(rows):
        ident = str(row.get("id", "")).strip()
        if not ident or ident in listed:
            bad.add("invalid", f"{meta.name} entry {k}", "no id" if not ident else f"duplicate id {ident}")
            continue
        listed.add(ident)
        extra = {key: row[key] for key in ("caption", "title", "author") if key in row}
        specs.append({"path": files.get(ident, meta.parent / f"{ident}.flac"), "id": f"{NAME}/{ident}",
                      "split": "all", "extra": extra})
    for stem, p in files.items():
        if stem not in listed:
            bad.add("unlabelled", p)
    items = audio_items(specs, dataset=NAME, category=CATEGORY, bad=bad, progress=progress)
    return finish(items, out, bad=bad, strict=strict, source=SOURCE)
