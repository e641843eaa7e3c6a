"""Listening widgets for notebooks: original and resynthesized audio side by side."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path

__all__ = ["listening_table", "png_img"]


def png_img(png: bytes, *, style: str = "max-width:100%") -> str:
    """An ``<img>`` tag holding PNG bytes inline, so notebooks and reports stay self-contained."""
    return f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" style="{style}"/>'


def _audio_tag(path: Path, max_seconds: float) -> str:
    import soundfile as sf

    from .audio import load_audio

    if not path.is_file():
        return "<i>missing</i>"
    wav, sr = load_audio(path)
    wav = wav[: int(max_seconds * sr)]
    buf = io.BytesIO()
    sf.write(buf, wav, sr, format="WAV", subtype="PCM_16")
    b64 = base64.b64encode(buf.getvalue()).decode()
    return f'<audio controls preload="none" src="data:audio/wav;base64,{b64}"></audio>'


def listening_table(rows: Sequence[tuple[str, str | Path, str | Path]], *, max_seconds: float = 10.0,
                    headers: tuple[str, str] = ("original", "resynthesized")):
    """An HTML table of players: one row per ``(label, ref_path, est_path)``.

    Audio is embedded (base64 WAV, first ``max_seconds``) so an executed
    notebook plays back without the files next to it.
    """
    from IPython.display import HTML

    body = "".join(
        f"<tr><td>{html.escape(str(label))}</td><td>{_audio_tag(Path(ref), max_seconds)}</td>"
        f"<td>{_audio_tag(Path(est), max_seconds)}</td></tr>"
        for label, ref, est in rows
    )
    head = f"<tr><th>item</th><th>{headers[0]}</th><th>{headers[1]}</th></tr>"
    return HTML(f"<table>{head}{body}</table>")
