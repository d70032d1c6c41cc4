"""A CSV snapshot of today's waiting list: read once, when the scenario is loaded.

A snapshot has a header row and one row per child waiting. Only these columns are read; every
other column is skipped unread, never kept and never shown:

* ``referral_date`` -- a date, by the scenario's ``initial_state.dates`` rule
  (:mod:`asdsim.scenario.dates`): YYYY-MM-DD (``iso``, the default; a time of midnight after it
  is allowed), or also DD/MM/YYYY (``day_first``, as Excel writes UK dates) or MM/DD/YYYY
  (``month_first``);
* ``age_years`` (age at referral, in years) or ``date_of_birth`` (a date, by the same rule);
* ``stage`` -- ``awaiting_triage``, ``awaiting_assessment`` or ``in_assessment`` (part-way
  through; case, spaces and hyphens ignored);
* ``steps_done`` -- optional, for ``in_assessment``: steps of the team's assessment already done
  (a whole number; empty: 0);
* ``priority`` -- optional; a name in the scenario's ``priority_classes`` (empty: the last);
* ``locality`` -- a name in ``demand.localities``, matched ignoring case, spaces and hyphens
  (``Eastern`` is ``eastern``); optional where the scenario has one locality.

Header names are matched ignoring case and surrounding spaces. The file is read once, when the
scenario is loaded: the rows are kept with the scenario (only the columns above, and the age as
whole months, see below) together with the SHA-256 of the bytes read and the date rule, so
replications, worker processes and grid points never read the file again, and the scenario's hash
covers the data and how its dates were read.

**Privacy.** A date of birth is never kept: the age at referral is reduced to whole months
completed (``floor``), and the model uses the middle of that month, ``(months + 0.5) / 12``
years; an ``age_years`` value is reduced the same way. With the referral date, an output age
therefore places the date of birth only within a month. Error messages name the file, line,
column and expected form, and never repeat a cell's content.

**Encodings.** UTF-8 (with or without the byte-order mark Excel writes for "CSV UTF-8"), UTF-16
with a byte-order mark (Excel's "Unicode text") and Windows-1252 (Excel's plain "CSV" on Windows)
are read. The delimiter must be a comma; a file that uses semicolons or tabs gets a hint.

**Refused.** An empty file, a header with no rows (use ``kind: empty``), a row whose number of
cells differs from the header's (usually a comma in an unquoted cell), a row that repeats an
earlier row in every column (a child listed twice would be simulated twice; if two children
really match in every column, add a column telling them apart, such as an id, which is not
read), ages of 18 or more (``routing.age_out_years``) at referral or at the scenario start (the
pathway is for children), a date of birth after the referral date, and a referral after the
scenario's ``start_date``. Empty lines, and rows whose cells are all empty, are skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from asdsim.errors import Problem, ScenarioError
from asdsim.scenario import csvfile
from asdsim.scenario.csvfile import (
    _decode,
    _field_limit,
    _months_between,
    _near,
    _Problems,
)
from asdsim.scenario.csvheader import read_header
from asdsim.scenario.dates import SCENARIO_SWITCH, DateRule
from asdsim.scenario.snapshot_rows import SnapshotRow, _parse_row
from asdsim.scenario.values import (
    name_key,
)
from asdsim.scenario.yamlfile import display_path, read_limited

COLUMNS = ("referral_date", "age_years", "date_of_birth", "stage", "priority", "locality",
           "steps_done")
"""The only columns read from a snapshot."""
MAX_SNAPSHOT_BYTES = 50_000_000
"""Largest snapshot file read (50 MB)."""
MAX_SNAPSHOT_ROWS = 200_000
"""Most children in a snapshot."""

@dataclass(frozen=True)
class Snapshot:
    """The rows of a snapshot and the SHA-256 of the bytes they were read from."""

    file_name: str
    """The file's name, without its folder (written in outputs in place of its path)."""
    shown: str
    """How the file is named in messages."""
    sha256: str
    """SHA-256 of the bytes read, in hex."""
    columns: frozenset[str]
    """Which of :data:`COLUMNS` the header has."""
    rows: tuple[SnapshotRow, ...]
    """The children, in file order."""
    dates: DateRule = "iso"
    """How the file's dates were read (``initial_state.dates``)."""


# ------------------------------------------------------------------------------------- reading


def locality_index(text: str | None, localities: Sequence[str]) -> int | None:
    """The position among ``localities`` of a row's locality, matched by :func:`name_key`; 0
    for an empty cell (the scenario's only locality), None when none matches."""
    if not text:
        return 0
    keys = [name_key(name) for name in localities]
    key = name_key(text)
    return keys.index(key) if key in keys else None


class SnapshotError(ScenarioError):
    """Rows of a snapshot are invalid; ``partial`` holds the rows that were read well."""

    def __init__(self, problems: list[Problem], partial: Snapshot | None = None):
        super().__init__(problems)
        self.partial = partial
        """The snapshot without its bad rows (so they can still be checked against a scenario)."""


def parse_snapshot(raw: bytes, shown: str, file_name: str = "", *, dates: DateRule = "iso",
                   switch: Mapping[DateRule, str] = SCENARIO_SWITCH) -> Snapshot:
    """Parse the bytes of a snapshot, checking every row's form (not yet against a scenario).

    Parameters
    ----------
    raw
        The file's bytes.
    shown
        How to name the file in messages.
    file_name
        The file's name without its folder (default: the last part of ``shown``).
    dates
        How the file's dates are written (:mod:`asdsim.scenario.dates`).
    switch
        How the reader asks for another date rule, named in messages about a date that rule
        would read (default: the scenario's ``initial_state.dates``).

    Returns
    -------
    Snapshot
        The rows, with only the columns read, and the SHA-256 of ``raw``.

    Raises
    ------
    SnapshotError
        Naming the line and column of every problem in a row, and the form expected, never a
        cell's content; its ``partial`` snapshot holds the rows read well.
    ScenarioError
        For a file that cannot be read as a snapshot at all (encoding, header, no rows).
    """
    sha = hashlib.sha256(raw).hexdigest()
    text, _encoding = _decode(raw, shown)
    problems = _Problems(shown)
    if not text.strip():
        raise ScenarioError([Problem(shown, None, "", (
            "the snapshot is empty: expected a header row naming the columns "
            f"({', '.join(COLUMNS)}) and one row per child"))])
    with _field_limit(len(text) + 1):
        reader = csv.reader(io.StringIO(text, newline=""), strict=False)
        header, present = read_header(
            reader, shown, COLUMNS, [("referral_date",), ("stage",), ("age_years", "date_of_birth")],
            read_said="the header names the columns; those read are", one_column_separators=True)
        index = {c: header.index(c) for c in present}
        rows: list[SnapshotRow] = []
        seen: dict[bytes, int] = {}
        line = reader.line_num + 1
        try:
            for cells in reader:
                start, line = line, reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue
                if len(rows) >= MAX_SNAPSHOT_ROWS:
                    raise ScenarioError([Problem(shown, start, "", (
                        f"more than {MAX_SNAPSHOT_ROWS:,} children; at most that many are read"))])
                misfit = csvfile.width_problem(cells, len(header))
                if misfit is not None:
                    problems.add(start, "", misfit)
                    continue
                key = hashlib.sha256("\x1f".join(c.strip() for c in cells).encode()).digest()
                if key in seen:
                    problems.add(start, "", (
                        f"the row repeats line {seen[key]} in every column: a child listed twice "
                        "would be simulated twice (if they are two children, add a column that "
                        "tells them apart, such as an id, which is not read)"))
                    continue
                seen[key] = start
                row = _parse_row({c: cells[i].strip() for c, i in index.items()}, start, problems,
                                 dates, switch)
                if row is not None:
                    rows.append(row)
        except csv.Error:
            problems.add(line, "", "the row is not valid CSV (check its double quotes)")
    snapshot = Snapshot(file_name=file_name or Path(shown).name, shown=shown, sha256=sha,
                        columns=present, rows=tuple(rows), dates=dates)
    if problems.items:
        raise SnapshotError(problems.all(), snapshot)
    if not rows:
        raise ScenarioError([Problem(shown, None, "", (
            "the snapshot has a header but no rows; for an empty list use "
            "initial_state.kind: empty"))])
    return snapshot


class _Localities(Protocol):
    @property
    def localities(self) -> Mapping[str, float]: ...


class _AgeOut(Protocol):
    @property
    def age_out_years(self) -> float: ...


class _ListSource(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def csv(self) -> str | None: ...
    @property
    def dates(self) -> DateRule: ...


class StartingList(Protocol):
    """What this module reads of a scenario, and where it keeps the snapshot a scenario starts
    from: a :class:`asdsim.scenario.schema.Scenario` is one. The snapshot reader so needs no
    import of the scenario format, which holds a snapshot (the import-linter contract "The
    snapshot reader knows nothing of the scenario format" keeps it so)."""

    @property
    def start_date(self) -> dt.date: ...
    @property
    def priority_classes(self) -> Sequence[str]: ...
    @property
    def demand(self) -> _Localities: ...
    @property
    def routing(self) -> _AgeOut: ...
    @property
    def initial_state(self) -> _ListSource: ...

    _snapshot: Snapshot | None


_CHECKED: OrderedDict[tuple[object, ...], tuple[Problem, ...]] = OrderedDict()


def check_snapshot(snapshot: Snapshot, scenario: StartingList) -> list[Problem]:
    """Problems of a snapshot's rows against a scenario (dates, ages, priorities, localities).

    Parameters
    ----------
    snapshot
        A parsed snapshot.
    scenario
        The scenario it starts.

    Returns
    -------
    list of Problem
        Empty when every row fits the scenario. No problem repeats a cell's content.
    """
    key = (snapshot.sha256, snapshot.dates, snapshot.shown, scenario.start_date,
           tuple(scenario.priority_classes),
           tuple(scenario.demand.localities), scenario.routing.age_out_years)
    if key not in _CHECKED:  # a grid checks each of its points: check each form once
        _CHECKED[key] = tuple(_check(snapshot, scenario))
        while len(_CHECKED) > 64:
            _CHECKED.popitem(last=False)
    return list(_CHECKED[key])


def _check(snapshot: Snapshot, scenario: StartingList) -> list[Problem]:
    problems = _Problems(snapshot.shown)
    localities = list(scenario.demand.localities)
    classes = list(scenario.priority_classes)
    limit = scenario.routing.age_out_years
    if "locality" not in snapshot.columns and len(localities) > 1:
        return [Problem(snapshot.shown, 1, "locality", (
            f"missing column: the scenario has several localities ({', '.join(localities)})"))]
    start = scenario.start_date
    for row in snapshot.rows:
        if row.referral_date > start:
            problems.add(row.line, "referral_date", f"is after the scenario's start_date ({start}); "
                         "expected children referred by then")
        elif row.age_months / 12.0 >= limit:
            problems.add(row.line, row.age_column, (
                f"gives an age at referral of {limit:g} or more; the pathway is for children "
                f"(routing.age_out_years is {limit:g})"))
        elif (row.age_months + _months_between(row.referral_date, start)) / 12.0 >= limit:
            problems.add(row.line, row.age_column, (
                f"gives an age of {limit:g} or more by start_date ({start}); the pathway is for "
                f"children (routing.age_out_years is {limit:g}): remove the row"))
        if row.priority is not None and row.priority not in classes:
            problems.add(row.line, "priority", f"expected one of {', '.join(classes)}, or empty "
                         f"for {classes[-1]}{_near(row.priority, classes)}")
        if row.locality is None and len(localities) > 1:
            problems.add(row.line, "locality", f"is empty; expected one of {', '.join(localities)}")
        elif row.locality is not None and locality_index(row.locality, localities) is None:
            problems.add(row.line, "locality", f"expected one of {', '.join(localities)}"
                         f"{_near(row.locality, localities)}")
    return problems.all()


# ------------------------------------------------------------------ once per process, by path

_LOADED: OrderedDict[tuple[str, DateRule], Snapshot] = OrderedDict()
_KEEP = 8


def _remember(path: tuple[str, DateRule], snapshot: Snapshot) -> None:
    _LOADED[path] = snapshot
    _LOADED.move_to_end(path)
    while len(_LOADED) > _KEEP:
        _LOADED.popitem(last=False)


def read_snapshot(path: str | Path, *, named_by: tuple[str, int | None] | None = None,
                  reuse: bool = False, dates: DateRule = "iso",
                  switch: Mapping[DateRule, str] = SCENARIO_SWITCH) -> Snapshot:
    """Read and parse a snapshot file.

    Parameters
    ----------
    path
        The CSV file (absolute, or relative to the working folder).
    named_by
        File and line of the ``initial_state.csv`` that named it: a file that cannot be read
        is reported there.
    reuse
        Return the snapshot this process last read from the same path by the same date rule,
        if any, without reading the file again (a scenario rebuilt from its dumped form keeps
        the data it was loaded with).
    dates
        How the file's dates are written (``initial_state.dates``; :mod:`asdsim.scenario.dates`).
    switch
        How the reader asks for another date rule, named in messages (default: the scenario's
        ``initial_state.dates``; ``asdsim calibrate`` names its ``--dayfirst`` options).

    Returns
    -------
    Snapshot
        The rows and the SHA-256 of the bytes read.

    Raises
    ------
    ScenarioError
        Naming the file, line and column of every problem.
    """
    key = (str(Path(path).absolute()), dates)
    if reuse and key in _LOADED:
        return _LOADED[key]
    shown = display_path(path)
    if named_by is None:
        raw = read_limited(path, MAX_SNAPSHOT_BYTES, what="snapshot", field="initial_state.csv",
                           shown=shown)
    else:
        try:
            raw = read_limited(path, MAX_SNAPSHOT_BYTES, what="snapshot", shown=shown)
        except ScenarioError as exc:
            file, line = named_by
            raise ScenarioError([Problem(file, line, "initial_state.csv",
                                         f"{p.message} (looked for {shown})")
                                 for p in exc.problems]) from None
    snapshot = parse_snapshot(raw, shown, Path(path).name, dates=dates, switch=switch)
    _remember(key, snapshot)
    return snapshot


def attach_snapshot(scenario: StartingList, snapshot: Snapshot) -> None:
    """Keep a checked snapshot with its scenario (pickled with it to worker processes).

    Raises
    ------
    ScenarioError
        When a row does not fit the scenario (see :func:`check_snapshot`), or the snapshot's
        dates were read by another rule than the scenario's ``initial_state.dates``.
    """
    if snapshot.dates != scenario.initial_state.dates:
        raise ScenarioError([Problem(snapshot.shown, None, "initial_state.dates", (
            f"the snapshot was read with dates {snapshot.dates} but the scenario says "
            f"{scenario.initial_state.dates}"))])
    problems = check_snapshot(snapshot, scenario)
    if problems:
        raise ScenarioError(problems)
    scenario._snapshot = snapshot


def scenario_snapshot(scenario: StartingList) -> Snapshot | None:
    """The snapshot a scenario starts from (None unless ``initial_state.kind`` is ``csv``).

    A scenario loaded from a file carries its snapshot. One built in code from the dumped form of
    another reuses the snapshot this process read from the same path; otherwise the file is
    read now, once, and kept with the scenario.

    Raises
    ------
    ScenarioError
        When the file cannot be read or a row is invalid.
    """
    if scenario.initial_state.kind != "csv" or not scenario.initial_state.csv:
        return None
    if scenario._snapshot is None:
        attach_snapshot(scenario, read_snapshot(scenario.initial_state.csv, reuse=True,
                                                dates=scenario.initial_state.dates))
    return scenario._snapshot


# The readers of people's CSV files that import these from the snapshot module keep working;
# they live in asdsim.scenario.csvfile.
MAX_ROW_PROBLEMS = csvfile.MAX_ROW_PROBLEMS
decode_text = _decode
csv_field_limit = _field_limit
months_between = _months_between
did_you_mean = _near
RowProblems = _Problems
