"""Every CSV file asdsim writes, written one way: safe to open in a spreadsheet, numbers at their
meaning.

* **No formulas.** A text cell (or column name) that starts with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return is read by spreadsheets as a formula, so it gets a leading apostrophe.
  Names come from scenario and CSV files, which anyone may write. Numbers are left as numbers.
* **Numbers at their meaning.** A float is written as the shortest text that reads back as the
  float rounded to :data:`DIGITS` significant digits: ``0.45``, not ``0.45000000000000007`` (the
  noise of binary arithmetic); integers and missing values (an empty cell) are unchanged.
* **One line per row.** A carriage return inside a text cell is written as a line break, so the
  cell is quoted and a reader never takes it for the end of a row.
* **All or nothing.** :func:`write_csv` replaces its file atomically (:mod:`asdsim.files`).

No module of asdsim calls ``DataFrame.to_csv`` but this one (a test checks).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asdsim.files import write_bytes_atomic

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is read as a formula by spreadsheets."""
DIGITS = 12
"""Significant digits a float keeps in a CSV file."""

__all__ = ["DIGITS", "FORMULA_STARTS", "csv_bytes", "csv_number", "csv_text", "safe_cell",
           "spreadsheet_frame", "write_csv"]


def csv_number(value: float) -> float | str:
    """A float as written: the shortest text of ``value`` rounded to :data:`DIGITS` significant
    digits (NaN and infinities are returned as they are, for pandas to write)."""
    value = float(value)
    if not math.isfinite(value):
        return value
    return repr(float(f"{value:.{DIGITS}g}"))


def safe_cell(value: Any) -> Any:
    """One cell as written: text that a spreadsheet would run gets a leading apostrophe, a float
    is rounded to its meaning (:func:`csv_number`), anything else is unchanged."""
    if isinstance(value, str):
        if value.startswith(FORMULA_STARTS):
            value = f"'{value}"
        # a carriage return inside a cell is a line break; written as one, the cell is quoted
        # (Python's CSV writer quotes only the line terminator's characters)
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, float | np.floating):
        return csv_number(value)
    return value


def spreadsheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` as it is written: every column name and cell through
    :func:`safe_cell` (integer, boolean and date columns are left to pandas)."""
    out = pd.DataFrame(index=frame.index)
    for i in range(frame.shape[1]):
        values = frame.iloc[:, i]
        name = safe_cell(str(frame.columns[i]))
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if pd.api.types.is_float_dtype(values) or values.dtype == object:
            values = pd.Series([safe_cell(v) for v in values], index=frame.index, dtype=object)
        elif pd.api.types.is_string_dtype(values):
            values = values.map(safe_cell)
        out.insert(i, name, values, allow_duplicates=True)
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index), made safe by :func:`spreadsheet_frame`."""
    return spreadsheet_frame(frame).to_csv(index=False, lineterminator="\n")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV bytes (for a download), made safe by :func:`spreadsheet_frame`."""
    return csv_text(frame).encode("utf-8")


def write_csv(frame: pd.DataFrame, path: str | Path, fsync: bool = False) -> Path:
    """Write ``frame`` to ``path`` as CSV, made safe (:func:`spreadsheet_frame`), atomically.

    ``fsync`` as in :func:`asdsim.files.open_atomic`; off by default, since most CSV files are
    written inside a folder that is renamed into place whole.
    """
    return write_bytes_atomic(path, csv_bytes(frame), fsync=fsync)
