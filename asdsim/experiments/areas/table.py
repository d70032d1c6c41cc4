"""The areas table: one row an area, its scenario file and the fields it sets over it.

A CSV file (or a folder holding ``areas.csv``). Two columns are required: ``area`` (a unique
name) and ``scenario`` (the area's scenario file, relative to the table; many rows may name the
same base file). Every other column is a dotted scenario field, written as ``asdsim sweep`` writes
them (``demand.referrals_per_week``, ``initial_state.backlog[0].count``,
``teams.mdt.staff.psychologist.wte``); a row's cell sets that field over its scenario, through the
sweep's own field paths (:func:`asdsim.experiments.grid.point_data`), and an empty cell leaves it
as the file says. A cell is read as YAML reads a value; ``initial_state.csv`` is relative to the
table. Each row is checked as a scenario is, and every problem names the table, its line, the
column and what was expected. Areas are totalled over the same dates, so every area must have the
first area's start date, end date and ``reporting`` dates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from asdsim.errors import Problem, ScenarioError
from asdsim.experiments.grid import Point, _resolve, point_data
from asdsim.scenario import Scenario, load_scenario, scenario_from_dict, scenario_hash
from asdsim.scenario.paths import FieldPath, format_field, parse_field
from asdsim.scenario.yamlfile import MAX_FILE_BYTES, display_path, unreadable

TABLE_NAME = "areas.csv"
"""The areas table's file name when a folder is given."""
REQUIRED_COLUMNS = ("area", "scenario")


class AreasError(ScenarioError):
    """An areas table (or the scenario of one of its rows) is invalid; ``problems`` lists them."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        count = len(self.problems)
        self.args = (f"{count} problem{'s' if count != 1 else ''} in the areas table:\n"
                     + "\n".join(f"  {p}" for p in self.problems),)


class AreaRow(BaseModel):
    """The fixed columns of one row of an areas table."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    area: str = Field(min_length=1, max_length=120)
    """The area's name, unique in the table (an ICB, a place, a region)."""
    scenario: str = Field(min_length=1)
    """The area's scenario file, relative to the table."""


@dataclass(frozen=True)
class Area:
    """One validated area: its name, where it was given and its resolved scenario."""

    name: str
    line: int
    """The table's line of its row."""
    scenario_path: Path
    overrides: dict[str, Any]
    """Column (field path) -> the value set over the scenario file."""
    scenario: Scenario
    scenario_hash: str


@dataclass(frozen=True)
class AreaSet:
    """A validated areas table."""

    path: Path
    """The table file."""
    areas: tuple[Area, ...]
    fields: tuple[str, ...]
    """The override columns, in the table's order."""

    @property
    def files(self) -> list[Path]:
        """Every file the areas read: the table, each scenario file with its ``extends:`` chain
        and snapshots, and each snapshot a row names (for the output guard)."""
        from asdsim.scenario import scenario_files

        out = [self.path]
        for path in dict.fromkeys(a.scenario_path for a in self.areas):
            out.extend(Path(f) for f in scenario_files(path))
        out.extend(Path(a.overrides["initial_state.csv"]) for a in self.areas
                   if isinstance(a.overrides.get("initial_state.csv"), str))
        return list(dict.fromkeys(out))

    @property
    def name(self) -> str:
        """The table's name: its folder's name for ``areas.csv``, else the file's stem."""
        return self.path.resolve().parent.name if self.path.name == TABLE_NAME else self.path.stem

    @property
    def first(self) -> Scenario:
        """The first area's scenario, whose dates every area shares."""
        return self.areas[0].scenario


def _cell(text: str) -> Any:
    """A cell as YAML reads it: ``40`` is a number, ``2024-06-30`` a date, ``[1, 2]`` a list;
    anything else (a sentence with a colon in it, say) is text."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None or (isinstance(value, dict | list) and not text.startswith(("[", "{"))):
        return text
    return value


def _row_problems(file: str, line: int, exc: ValidationError) -> list[Problem]:
    out = []
    for error in exc.errors(include_url=False):
        field = format_field(tuple(error["loc"]))
        message = "this column is required in every row" if error["type"] in (
            "missing", "string_too_short") else str(error["msg"])
        out.append(Problem(file, line, field, message))
    return out


def _within(field: str, column: str) -> bool:
    """Whether a problem's field lies at or under a column's field path."""
    return field == column or field.startswith((column + ".", column + "["))


def _dates(scenario: Scenario) -> dict[str, str]:
    """The dates areas are totalled over, as shown in a message."""
    return {"start_date": str(scenario.start_date), "end date": str(scenario.end_date),
            "reporting.snapshot_dates": ", ".join(map(str, scenario.reporting.snapshot_dates)),
            "reporting.cohort_from_date": str(scenario.reporting.cohort_from_date or "")}


def _same_dates(area: Area, first: Area, file: str) -> list[Problem]:
    """Why an area cannot be totalled with the first (different dates), if it cannot."""
    mine, theirs = _dates(area.scenario), _dates(first.scenario)
    return [Problem(file, area.line, "scenario",
                    f"its {what} is {mine[what] or 'none'} but the first area's ({first.name}) is "
                    f"{theirs[what] or 'none'}: areas are totalled over the same dates, so every "
                    "area must share them")
            for what in mine if mine[what] != theirs[what]]


def table_path(path: str | Path) -> Path:
    """The areas table a path names: the file itself, or ``areas.csv`` in a folder."""
    path = Path(path)
    return path / TABLE_NAME if path.is_dir() else path


def load_areas(path: str | Path) -> AreaSet:
    """Read and check an areas table and the scenario of every row.

    Parameters
    ----------
    path
        The table (CSV), or a folder holding ``areas.csv``.

    Returns
    -------
    AreaSet
        Every area with its resolved scenario, in the table's order.

    Raises
    ------
    AreasError
        One :class:`~asdsim.errors.Problem` per problem, naming the table, line and column; a
        row whose scenario file is itself invalid adds that file's problems.
    """
    path = table_path(path)
    file = display_path(path)
    header, table_rows = _open_table(path, file)
    keys = _field_columns(file, header)
    problems: list[Problem] = []
    loaded: dict[Path, Scenario | None] = {}
    areas: list[Area] = []
    seen: dict[str, int] = {}
    rows = 0
    for line, cells in table_rows:
        rows += 1
        found = _fixed_columns(file, line, header, cells, seen, problems)
        if found is None:
            continue
        row, values = found
        area = _area(path, file, line, row, values, keys, loaded, problems)
        if area is not None:
            areas.append(area)
    if not rows and not problems:
        problems.append(Problem(file, 2, "", "the table has no areas: expected one row an area"))
    for area in areas[1:]:
        problems.extend(_same_dates(area, areas[0], file))
    if problems:
        raise AreasError(problems)
    return AreaSet(path=path, areas=tuple(areas), fields=tuple(keys))


def _open_table(path: Path, file: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header's stripped names, and the table's rows after it (see :func:`_rows`)."""
    why = unreadable(path, MAX_FILE_BYTES, "areas table")
    if why is not None:
        raise AreasError([Problem(file, None, "", why)])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AreasError([Problem(file, None, "", f"expected UTF-8 text ({exc.reason})")]) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise AreasError([Problem(file, 1, "", "the table is empty: expected a header row with "
                                                "area, scenario and the fields to set")])
    return [h.strip() for h in header], _rows(reader, file)


def _field_columns(file: str, header: list[str]) -> dict[str, FieldPath]:
    """The scenario field each column other than area and scenario sets, by column name."""
    problems = [Problem(file, 1, name, "this column is required")
                for name in REQUIRED_COLUMNS if name not in header]
    keys: dict[str, FieldPath] = {}
    for name in header:
        if name in REQUIRED_COLUMNS:
            continue
        if not name:
            problems.append(Problem(file, 1, "", "a column has no name"))
        elif header.count(name) > 1 or name in keys:
            problems.append(Problem(file, 1, name, "each column must appear once"))
        else:
            try:
                keys[name] = parse_field(name)
            except ValueError as exc:
                problems.append(Problem(file, 1, name, f"not a scenario field: {exc}"))
    if problems:
        raise AreasError(problems)
    return keys


def _rows(reader: Any, file: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every row with a non-blank cell left in a ``csv.reader``."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise AreasError([Problem(file, line, "", f"not valid CSV ({exc})")]) from None
        if any(c.strip() for c in cells):
            yield line, cells


def _fixed_columns(file: str, line: int, header: list[str], cells: list[str],
                   seen: dict[str, int], problems: list[Problem]
                   ) -> tuple[AreaRow, dict[str, str]] | None:
    """A row's area and scenario, and its cells by column; None after adding its problems."""
    if len(cells) != len(header):
        problems.append(Problem(file, line, "", f"expected {len(header)} cells as the header "
                                                f"has, got {len(cells)}"))
        return None
    values = {h: c.strip() for h, c in zip(header, cells, strict=True)}
    try:
        row = AreaRow(area=values["area"], scenario=values["scenario"])
    except ValidationError as exc:
        problems.extend(_row_problems(file, line, exc))
        return None
    if row.area in seen:
        problems.append(Problem(file, line, "area", f"each area must appear once; {row.area!r} "
                                                    f"is also on line {seen[row.area]}"))
        return None
    seen[row.area] = line
    return row, values


def _area(path: Path, file: str, line: int, row: AreaRow, values: dict[str, str],
          keys: dict[str, FieldPath], loaded: dict[Path, Scenario | None],
          problems: list[Problem]) -> Area | None:
    """One row's area, or None after adding its problems."""
    scenario_path = (path.parent / row.scenario).resolve()
    base = _base_scenario(path, file, line, row, scenario_path, loaded, problems)
    if base is None:
        return None
    data = base.model_dump(mode="json")
    overrides = _overrides(path, file, line, row, values, keys, data, problems)
    if overrides is None:
        return None
    data = point_data(data, [keys[c] for c in overrides], Point(0, overrides, ""))
    if "name" not in overrides:  # the area's name names its scenario, unless a column says
        data["name"] = row.area
    try:
        scenario = scenario_from_dict(data, name=file)
    except ScenarioError as exc:
        problems.extend(_scenario_problems(file, line, exc, overrides, values))
        return None
    return Area(row.area, line, scenario_path, overrides, scenario, scenario_hash(scenario))


def _base_scenario(path: Path, file: str, line: int, row: AreaRow, scenario_path: Path,
                   loaded: dict[Path, Scenario | None], problems: list[Problem]) -> Scenario | None:
    """The row's scenario file, loaded once for every row naming it; None after its problems."""
    if scenario_path not in loaded:
        why = unreadable(scenario_path, MAX_FILE_BYTES, "scenario file")
        if why is not None:
            problems.append(Problem(file, line, "scenario",
                                    f"{why} (looked for {display_path(path.parent / row.scenario)})",
                                    repr(row.scenario)))
            return None
        try:
            loaded[scenario_path] = load_scenario(scenario_path)
        except ScenarioError as exc:
            loaded[scenario_path] = None
            problems.append(Problem(file, line, "scenario", f"the scenario file {row.scenario} is "
                                                            "invalid (its problems follow)"))
            problems.extend(exc.problems)
            return None
    base = loaded[scenario_path]
    if base is None:
        problems.append(Problem(file, line, "scenario", f"the scenario file {row.scenario} is "
                                                        "invalid (see its problems above)"))
    return base


def _overrides(path: Path, file: str, line: int, row: AreaRow, values: dict[str, str],
               keys: dict[str, FieldPath], data: dict[str, Any],
               problems: list[Problem]) -> dict[str, Any] | None:
    """The values the row's non-empty cells set; None when a column is not a field of its file."""
    overrides: dict[str, Any] = {}
    for column, key in keys.items():
        if not values[column]:
            continue
        value = _cell(values[column])
        if column == "initial_state.csv" and isinstance(value, str):
            value = str((path.parent / value).resolve())  # relative to the table, as documented
        why = _resolve(data, key)
        if why is not None:
            problems.append(Problem(file, line, column, f"not a field of {row.scenario}: {why}"))
            continue
        overrides[column] = value
    if len(overrides) < sum(1 for c in keys if values[c]):
        return None
    return overrides


def _scenario_problems(file: str, line: int, exc: ScenarioError, overrides: dict[str, Any],
                       values: dict[str, str]) -> list[Problem]:
    """A row's scenario problems, each named by the column that set the field where one did."""
    problems = []
    for p in exc.problems:
        column = next((c for c in overrides if _within(p.field, c) or _within(c, p.field)),
                      None) if p.field else None
        shown = p.value if p.value is not None else (
            repr(values[column]) if column is not None else None)
        problems.append(Problem(file, line, column or p.field, p.message, shown))
    return problems
