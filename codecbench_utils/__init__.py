"""CodecBench helper package: everything the notebooks and the CLI call."""

from __future__ import annotations

__version__ = "0.1.0"
