"""The areas table: one row an area, its scenario file and the fields it sets over it.

A CSV file, or a YAML file (``.yaml``/``.yml``) listing one mapping an area, optionally under
``areas:``; or a folder holding ``areas.csv`` or ``areas.yaml``. Two columns (keys) are required:
``area`` (a unique name) and ``scenario`` (the area's scenario file, relative to the table; many
rows may name the same base file). Every other column is a dotted scenario field, written as
``asdsim sweep`` writes them (``demand.referrals_per_week``, ``initial_state.backlog[0].count``,
``teams.mdt.staff.psychologist.wte``); a row's value sets that field over its scenario, through
the sweep's own field paths (:func:`asdsim.experiments.grid.point_data`), and an empty cell (a key
left out, in YAML) leaves it as the file says. A CSV cell is read as YAML reads a value;
``initial_state.csv`` is relative to the table. Each row is checked as a scenario is, and every
problem names the table, its line, the column and what was expected. Areas are totalled over the
same dates, so every area must have the first area's start date, end date and ``reporting``
dates.
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
from asdsim.scenario.yamlfile import MAX_FILE_BYTES, display_path, read_yaml, unreadable

TABLE_NAME = "areas.csv"
"""The areas table's file name when a folder is given (or :data:`YAML_TABLE_NAME`)."""
YAML_TABLE_NAME = "areas.yaml"
"""The areas table's file name, as YAML, when a folder is given."""
REQUIRED_COLUMNS = ("area", "scenario")

Row = tuple[int, dict[str, Any] | None, dict[str, str]]
"""A row of the table: its line, its values by column (the area and scenario as written, every
other column as the value it sets; a column left empty is absent; None for a row that could not
be read, its problem already given) and how each value is written, for messages."""


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
        """The table's name: its folder's name for ``areas.csv`` or ``areas.yaml``, else the
        file's stem."""
        named = self.path.name in (TABLE_NAME, YAML_TABLE_NAME)
        return self.path.resolve().parent.name if named else self.path.stem

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
    """The areas table a path names: the file itself, or ``areas.csv`` (else ``areas.yaml``) in a
    folder.

    Raises
    ------
    AreasError
        When the folder holds both, so which one is meant cannot be told.
    """
    path = Path(path)
    if not path.is_dir():
        return path
    csv_table, yaml_table = path / TABLE_NAME, path / YAML_TABLE_NAME
    if csv_table.exists() and yaml_table.exists():
        raise AreasError([Problem(display_path(path), None, "",
                                  f"holds both {TABLE_NAME} and {YAML_TABLE_NAME}: keep one, or "
                                  "name the table's file")])
    return yaml_table if yaml_table.exists() else csv_table


def _is_yaml(path: Path) -> bool:
    return path.suffix.lower() in (".yaml", ".yml")


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
    problems: list[Problem] = []
    if _is_yaml(path):
        header, column_lines, table_rows = _open_yaml(path, file)
        empty_line = 1
    else:
        header, cells = _open_table(path, file)
        column_lines, table_rows = {}, _csv_rows(file, header, cells, problems)
        empty_line = 2
    keys = _field_columns(file, header, column_lines)
    loaded: dict[Path, Scenario | None] = {}
    areas: list[Area] = []
    seen: dict[str, int] = {}
    rows = 0
    for line, values, shown in table_rows:
        rows += 1
        row = None if values is None else _fixed_columns(file, line, values, seen, problems)
        if row is None:
            continue
        area = _area(path, file, line, row, (values, shown), keys, loaded, problems)
        if area is not None:
            areas.append(area)
    if not rows and not problems:
        problems.append(Problem(file, empty_line, "",
                                "the table has no areas: expected one row an area"))
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


def _field_columns(file: str, header: list[str],
                   lines: dict[str, int | None]) -> dict[str, FieldPath]:
    """The scenario field each column other than area and scenario sets, by column name
    (``lines``: where a column is first given, when not the header's line 1)."""
    problems = [Problem(file, 1, name, "this column is required")
                for name in REQUIRED_COLUMNS if name not in header]
    keys: dict[str, FieldPath] = {}
    for name in header:
        if name in REQUIRED_COLUMNS:
            continue
        line = lines.get(name, 1)
        if not name:
            problems.append(Problem(file, line, "", "a column has no name"))
        elif header.count(name) > 1 or name in keys:
            problems.append(Problem(file, line, name, "each column must appear once"))
        else:
            try:
                keys[name] = parse_field(name)
            except ValueError as exc:
                problems.append(Problem(file, line, name, f"not a scenario field: {exc}"))
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


def _csv_rows(file: str, header: list[str], cells: Iterator[tuple[int, list[str]]],
              problems: list[Problem]) -> Iterator[Row]:
    """The CSV table's rows: each cell but the area and scenario read as YAML reads a value
    (:func:`_cell`), an empty one left out; a row with more or fewer cells than the header is
    a problem."""
    for line, row in cells:
        if len(row) != len(header):
            problems.append(Problem(file, line, "", f"expected {len(header)} cells as the header "
                                                    f"has, got {len(row)}"))
            yield line, None, {}
            continue
        text = {h: c.strip() for h, c in zip(header, row, strict=True)}
        values: dict[str, Any] = {name: text[name] for name in REQUIRED_COLUMNS}
        values.update({h: _cell(t) for h, t in text.items() if t and h not in REQUIRED_COLUMNS})
        yield line, values, {h: repr(t) for h, t in text.items()}


def _open_yaml(path: Path, file: str) -> tuple[list[str], dict[str, int | None], Iterator[Row]]:
    """A YAML table's columns (every key of any area, in the order first given), the line each
    is first given on, and its rows (each value as YAML reads it; a key left out is empty)."""
    parsed = read_yaml(path, what="areas table", error=AreasError)
    data, where = parsed.data, ()
    if isinstance(data, dict) and list(data) == ["areas"]:
        data, where = data["areas"], ("areas",)
    if not isinstance(data, list) or not data:
        what = "has no areas" if data in ([], None) else "is not a list of areas"
        raise AreasError([Problem(file, parsed.line(where) or 1, "", (
            f"the table {what}: expected a list (or one under areas:) of one mapping an area, "
            "with area:, scenario: and the fields it sets"))])
    header = list(REQUIRED_COLUMNS)
    lines: dict[str, int | None] = {}
    rows: list[Row] = []
    problems: list[Problem] = []
    for i, item in enumerate(data):
        line = parsed.line((*where, i)) or 1
        if not isinstance(item, dict):
            problems.append(Problem(file, line, "", "expected a mapping of area:, scenario: and "
                                                    "the fields the area sets"))
            continue
        for key in item:
            if key not in header:
                header.append(key)
                lines[key] = parsed.line((*where, i, key))
        problems.extend(
            Problem(file, parsed.line((*where, i, key)), key,
                    "expected text, and YAML reads this as another kind of value (a number, "
                    "date, true/false or list): write it in quotes",
                    repr(item[key]))
            for key in REQUIRED_COLUMNS if item.get(key) is not None and not isinstance(item[key], str))
        values = {key: "" if value is None and key in REQUIRED_COLUMNS else value
                  for key, value in item.items()}
        rows.append((line, values, {key: repr(value) for key, value in item.items()}))
    if problems:
        raise AreasError(problems)
    return header, lines, iter(rows)


def _fixed_columns(file: str, line: int, values: dict[str, Any], seen: dict[str, int],
                   problems: list[Problem]) -> AreaRow | None:
    """A row's area and scenario; None after adding its problems."""
    try:
        row = AreaRow(area=values.get("area", ""), scenario=values.get("scenario", ""))
    except ValidationError as exc:
        problems.extend(_row_problems(file, line, exc))
        return None
    if row.area in seen:
        problems.append(Problem(file, line, "area", f"each area must appear once; {row.area!r} "
                                                    f"is also on line {seen[row.area]}"))
        return None
    seen[row.area] = line
    return row


def _area(path: Path, file: str, line: int, row: AreaRow,
          cells: tuple[dict[str, Any], dict[str, str]], keys: dict[str, FieldPath],
          loaded: dict[Path, Scenario | None], problems: list[Problem]) -> Area | None:
    """One row's area (``cells``: its values and how each is written), or None after adding its
    problems."""
    values, shown = cells
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
        problems.extend(_scenario_problems(file, line, exc, overrides, shown))
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


def _overrides(path: Path, file: str, line: int, row: AreaRow, values: dict[str, Any],
               keys: dict[str, FieldPath], data: dict[str, Any],
               problems: list[Problem]) -> dict[str, Any] | None:
    """The values the row's non-empty cells set; None when a column is not a field of its file."""
    overrides: dict[str, Any] = {}
    for column, key in keys.items():
        if column not in values:
            continue
        value = values[column]
        if column == "initial_state.csv" and isinstance(value, str):
            value = str((path.parent / value).resolve())  # relative to the table, as documented
        why = _resolve(data, key)
        if why is not None:
            problems.append(Problem(file, line, column, f"not a field of {row.scenario}: {why}"))
            continue
        overrides[column] = value
    if len(overrides) < sum(1 for c in keys if c in values):
        return None
    return overrides


def _scenario_problems(file: str, line: int, exc: ScenarioError, overrides: dict[str, Any],
                       written: dict[str, str]) -> list[Problem]:
    """A row's scenario problems, each named by the column that set the field where one did
    (``written``: how each of the row's values is written)."""
    problems = []
    for p in exc.problems:
        column = next((c for c in overrides if _within(p.field, c) or _within(c, p.field)),
                      None) if p.field else None
        shown = p.value if p.value is not None else (
            written[column] if column is not None else None)
        problems.append(Problem(file, line, column or p.field, p.message, shown))
    return problems
