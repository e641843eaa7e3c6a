"""Write a thin stage notebook from a list of cells (outputs empty, parameters cell tagged).

Usage from Python: ``write_notebook(path, title_md, params_src, [code cells...])``.
Keeping notebooks generated from this one helper keeps their metadata uniform.
"""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: str | Path, title_md: str, params_src: str, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(title_md.strip()))
    p = nbformat.v4.new_code_cell(params_src.strip())
    p.metadata["tags"] = ["parameters"]
    nb.cells.append(p)
    nb.cells.extend(nbformat.v4.new_code_cell(c.strip()) for c in cells)
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i:02d}"
    path = Path(path)
    nbformat.write(nb, path)
    return path
