"""Reading any CSV file of people's records an area gives (a snapshot, calibration's inputs):
its text in UTF-8, UTF-16 or Windows-1252, cells of any length, problems by line and column,
the nearest allowed name, and whole months of age."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
from collections.abc import Iterator
from contextlib import contextmanager

from asdsim.errors import Problem, ScenarioError

MAX_ROW_PROBLEMS = 50
"""Problems listed one by one before the rest are counted."""


def _decode(raw: bytes, shown: str) -> tuple[str, str]:
    """The text of a snapshot and the encoding it was read in."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), encoding
            except UnicodeDecodeError:
                raise ScenarioError([Problem(shown, None, "", (
                    f"starts as {encoding.upper()} but is not valid {encoding.upper()} text"))]) \
                    from None
    if b"\x00" in raw:
        raise ScenarioError([Problem(shown, None, "", (
            "contains NUL bytes: expected a text file in UTF-8, UTF-16 with a byte-order mark, "
            "or Windows-1252 (save it from Excel as 'CSV UTF-8 (comma delimited)')"))])
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(shown, line, "", (
            "is not text in UTF-8, UTF-16 or Windows-1252 (save it from Excel as "
            "'CSV UTF-8 (comma delimited)')"))]) from None


@contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    """Let the csv module read cells up to ``limit`` characters (a skipped column may be long)."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, limit))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _months_between(born: dt.date, day: dt.date) -> int:
    """Whole months completed from ``born`` to ``day``."""
    months = (day.year - born.year) * 12 + (day.month - born.month)
    return months - 1 if day.day < born.day else months


def _near(text: str, names: list[str]) -> str:
    close = difflib.get_close_matches(text, names, n=1)
    if not close:
        folded = [n for n in names if n.casefold() == text.casefold()]
        close = folded[:1]
    return f"; did you mean {close[0]!r}?" if close else ""


class _Problems:
    """Row problems, listed up to :data:`MAX_ROW_PROBLEMS` and counted after that."""

    def __init__(self, shown: str):
        self.shown = shown
        self.items: list[Problem] = []
        self.more = 0

    def add(self, line: int | None, column: str, message: str) -> None:
        if len(self.items) < MAX_ROW_PROBLEMS:
            self.items.append(Problem(self.shown, line, column, message))
        else:
            self.more += 1

    def all(self) -> list[Problem]:
        items = list(self.items)
        if self.more:
            items.append(Problem(self.shown, None, "", f"and {self.more} more problems in "
                                 "other rows (fix these first)"))
        return items


def width_problem(cells: list[str], columns: int) -> str | None:
    """Why a row does not fit a header of ``columns`` columns (None: it fits; empty cells past
    the last column, as spreadsheets write them, are allowed)."""
    if len(cells) == columns or (
            len(cells) > columns and not any(c.strip() for c in cells[columns:])):
        return None
    return (f"the row has {len(cells)} cells but the header has {columns} columns (a comma "
            "inside a cell must be within double quotes)")


# public names for every reader of people's CSV files
decode_text = _decode
"""``decode_text(raw, shown) -> (text, encoding)``: UTF-8 (with or without BOM), UTF-16 with a
BOM or Windows-1252, as for a snapshot."""
csv_field_limit = _field_limit
"""Context manager letting the csv module read cells up to a length (a skipped cell may be long)."""
months_between = _months_between
"""``months_between(born, day) -> int``: whole months completed from ``born`` to ``day``."""
did_you_mean = _near
"""``did_you_mean(text, names) -> str``: "; did you mean 'x'?" naming an allowed name, or ""."""
RowProblems = _Problems
"""Problems by line and column, listed up to :data:`MAX_ROW_PROBLEMS` and counted after that."""
