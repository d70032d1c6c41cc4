"""The header row of an area's CSV file, checked one way for every reader.

A snapshot (:mod:`asdsim.scenario.snapshot`), calibration's referrals and activity files and an
observed series (:func:`asdsim.experiments.calibrate.read_table`) all match column names ignoring
case, surrounding spaces and a byte-order mark, refuse a column named twice, and name the columns
missing (with a hint when the header holds semicolons or tabs, the usual sign of a spreadsheet's
other separators).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence

from asdsim.errors import Problem, ScenarioError

_SEPARATORS = ((";", "semicolons"), ("\t", "tabs"))


def read_header(reader: Iterator[list[str]], shown: str, read: Sequence[str],
                required: Sequence[Sequence[str]], *, read_said: str = "the columns read are",
                one_column_separators: bool = False) -> tuple[list[str], frozenset[str]]:
    """Read and check the header row of a CSV file.

    Parameters
    ----------
    reader
        A :func:`csv.reader` positioned at the first row.
    shown
        How the file is named in messages.
    read
        The columns read (each may be named once).
    required
        Groups of columns of which the header must have at least one each; a missing group is
        named as its columns joined by "or".
    read_said
        The words before the list of columns read, in the message about missing columns.
    one_column_separators
        Refuse a one-column header holding semicolons or tabs as separated by them, before
        looking for the columns.

    Returns
    -------
    tuple
        The header's names as matched (stripped, lower case) and which of ``read`` it has.

    Raises
    ------
    ScenarioError
        For a header that is not valid CSV, names a column twice or lacks a required group.
    """
    try:
        cells = next(reader)
    except csv.Error:
        raise ScenarioError([Problem(shown, 1, "", "the header row is not valid CSV")]) from None
    header = [h.strip().lstrip("\ufeff").lower() for h in cells]
    if one_column_separators and len(header) == 1:
        for sep, name in _SEPARATORS:
            if sep in cells[0]:
                raise ScenarioError([Problem(shown, 1, "", (
                    f"the columns seem to be separated by {name}; expected commas (in Excel, "
                    "save as 'CSV UTF-8 (comma delimited)')"))])
    for column in read:
        if header.count(column) > 1:
            raise ScenarioError([Problem(shown, 1, column, "the header names this column "
                                         "more than once")])
    present = frozenset(c for c in read if c in header)
    missing = [" or ".join(group) for group in required if not any(c in present for c in group)]
    if missing:
        hint = next((f"; the header has {name} in it: columns must be separated by commas"
                     for sep, name in _SEPARATORS if any(sep in h for h in cells)), "")
        raise ScenarioError([Problem(shown, 1, "", (
            f"missing column(s): {', '.join(missing)} ({read_said} "
            f"{', '.join(read)}){hint}"))])
    return header, present
