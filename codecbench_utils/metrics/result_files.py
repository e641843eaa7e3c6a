"""Result files of the acoustic stage: written atomically, read back with the types they were written with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..atomic import write_frame
from ..audio import PathLike
from ..errors import InvalidAudioError

__all__ = ["write_results", "read_results"]

#: Columns of result files written before the renaming, read under their new names.
_OLD_COLUMNS = {"profile": "metric_profile"}


def write_results(df: Any, path: PathLike) -> Path:
    """Write a result table atomically (``.csv`` or ``.parquet``, by extension)."""
    if Path(path).suffix.lower() not in (".csv", ".parquet"):
        raise InvalidAudioError(f"results file must end in .csv or .parquet, got '{path}'")
    return write_frame(df, path)


def read_results(path: PathLike) -> Any:
    """Read a result table written by :func:`write_results` (``item`` stays a string)."""
    import pandas as pd

    path = Path(path)
    if path.suffix.lower() == ".csv":
        text = ("item", "status", "key", "codec", "codec_fingerprint", "dataset", "category", "sim_model",
                "metric_profile", "profile", "not_scored", "metric_versions")
        head = pd.read_csv(path, nrows=0).columns
        # an item may be called "nan" or "NA": only numeric columns get NaN parsing
        na = {c: ["", "nan", "NaN"] if c not in text else [""] for c in head}
        df = pd.read_csv(path, dtype={c: str for c in text if c in head}, keep_default_na=False, na_values=na)
    else:
        df = pd.read_parquet(path)
    return df.rename(columns={old: new for old, new in _OLD_COLUMNS.items() if new not in df.columns})
