"""Stand-in upstream checkouts for the repository-codec tests: write them, import from them, forget them.

The helpers reach the tests through the ``checkouts`` fixture (this folder cannot be a
package: it would be named ``codecs`` and shadow the standard library's).
"""

from __future__ import annotations

import contextlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from codecbench_utils.codecs.checkout import _on_sys_path


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Write ``{relative path: source}`` under ``root``, sources dedented, folders made."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def forget_modules(*packages: str) -> None:
    """Drop the named top-level packages and all their submodules from ``sys.modules``."""
    for name in [m for m in sys.modules if m.split(".")[0] in packages]:
        del sys.modules[name]


@contextlib.contextmanager
def importable(*folders: Path, packages: tuple[str, ...] = ()) -> Iterator[None]:
    """Import from ``folders`` inside the block (to build stand-in weights); ``packages`` are
    forgotten before and after, and sys.path is left as it was (the adapter's own helper)."""
    forget_modules(*packages)
    try:
        with contextlib.ExitStack() as stack:
            for folder in folders:
                stack.enter_context(_on_sys_path(folder))
            yield
    finally:
        forget_modules(*packages)


@pytest.fixture
def checkouts() -> SimpleNamespace:
    return SimpleNamespace(write_tree=write_tree, forget_modules=forget_modules, importable=importable)
