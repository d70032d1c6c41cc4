"""Reading the named columns of an area's CSV file, safely: the one table reader of
:mod:`asdsim.experiments.calibrate` and :mod:`asdsim.experiments.observed`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from asdsim.errors import Problem, ScenarioError
from asdsim.scenario.csvfile import (
    RowProblems,
    csv_field_limit,
    decode_text,
    did_you_mean,
    width_problem,
)
from asdsim.scenario.csvheader import read_header
from asdsim.scenario.snapshot import MAX_SNAPSHOT_BYTES
from asdsim.scenario.values import name_key
from asdsim.scenario.yamlfile import display_path, read_limited


def normal_name(text: str) -> str:
    """A category as compared (:func:`asdsim.scenario.values.name_key`): NFC, case folded, with
    runs of spaces, hyphens and underscores as one underscore."""
    return name_key(text)


@dataclass
class Table:
    """The read columns of a CSV file, row by row, with line numbers."""

    shown: str
    """How the file is named in messages."""
    columns: frozenset[str]
    """Which of the columns asked for the header has."""
    rows: list[tuple[int, dict[str, str]]]
    """(line, column -> stripped cell) of each non-empty row of the right width."""
    repeated: int
    """Rows repeating an earlier row in every column (read or not)."""
    problems: RowProblems
    """Problems found so far, by line and column."""


def read_table(path: str | Path, what: str, read: Sequence[str],
               required: Sequence[Sequence[str]]) -> Table:
    """Read the named columns of a CSV file, safely (see the module docstring).

    Parameters
    ----------
    path
        The file.
    what
        What it is, for messages (``"referrals file"``).
    read
        The columns read; any other is split off and dropped unread.
    required
        Groups of columns of which the header must have at least one each.

    Raises
    ------
    ScenarioError
        For a file that cannot be read as such a table (missing, encoding, header, no rows).
    """
    shown = display_path(path)
    raw = read_limited(path, MAX_SNAPSHOT_BYTES, what=what, shown=shown)
    text, _ = decode_text(raw, shown)
    problems = RowProblems(shown)
    if not text.strip():
        raise ScenarioError([Problem(shown, None, "", f"the {what} is empty: expected a header "
                                     f"naming the columns ({', '.join(read)}) and one row each")])
    import csv

    with csv_field_limit(len(text) + 1):
        reader = csv.reader(io.StringIO(text, newline=""), strict=False)
        header, present = read_header(reader, shown, read, required)
        index = {c: header.index(c) for c in present}
        rows: list[tuple[int, dict[str, str]]] = []
        seen: set[bytes] = set()
        repeated = 0
        line = reader.line_num + 1
        try:
            for cells in reader:
                start, line = line, reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue
                misfit = width_problem(cells, len(header))
                if misfit is not None:
                    problems.add(start, "", misfit)
                    continue
                key = hashlib.sha256("\x1f".join(c.strip() for c in cells).encode()).digest()
                repeated += key in seen
                seen.add(key)
                rows.append((start, {c: cells[i].strip() for c, i in index.items()}))
        except csv.Error:
            problems.add(line, "", "the row is not valid CSV (check its double quotes)")
    if not rows and not problems.items:
        raise ScenarioError([Problem(shown, None, "", f"the {what} has a header but no rows")])
    return Table(shown, present, rows, repeated, problems)


def _categories(names: Sequence[str]) -> dict[str, str]:
    return {normal_name(n): n for n in names}


def _category(row: dict[str, str], column: str, names: dict[str, str], line: int,
              problems: RowProblems, allowed: str) -> str | None:
    text = row.get(column, "")
    if not text:
        problems.add(line, column, f"is empty; expected one of {allowed}")
        return None
    found = names.get(normal_name(text))
    if found is None:
        hint = did_you_mean(normal_name(text), list(names))
        problems.add(line, column, f"expected one of {allowed} (case, spaces and hyphens "
                     f"ignored){hint}")
    return found
