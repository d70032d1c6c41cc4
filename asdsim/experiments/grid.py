"""Grid files: a base scenario and the fields to vary, expanded into validated points.

A grid file (YAML) names a base scenario file and the fields to vary::

    base: base.yaml                                  # relative to the grid file
    replications: 5                                  # per point (default 10)
    seed: 12345                                      # one seed for every point
    vary:                                            # dotted field paths of the scenario
      teams.mdt.staff.psychologist.wte: [0.6, 0.8, 1.0]
      demand.annual_growth: {from: 0.0, to: 0.1, step: 0.05}
      outsourcing[0].assessments_per_month: {from: 0, to: 8, count: 3}

The points are every combination of the values, the first field varying slowest. A point's
scenario is the base with those fields set, validated like any scenario file, so a value the
scenario format does not allow is reported, naming the grid file, line and field, before anything
runs. A point keeps only its values and the hash of its resolved scenario; the scenario itself is
built again when the point is run, so a grid of many thousands of points stays small.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from asdsim.errors import Problem, ScenarioError
from asdsim.experiments.runner import DEFAULT_SEED
from asdsim.scenario import Scenario, load_scenario, scenario_files, scenario_from_dict, scenario_hash
from asdsim.scenario.paths import FieldPath, format_field, parse_field, short_names
from asdsim.scenario.yamlfile import MAX_FILE_BYTES, display_path, read_yaml, unreadable

MAX_POINTS = 1_000_000
MAX_RANGE_VALUES = 100_000
MAX_POINT_PROBLEMS = 20



class GridError(ScenarioError):
    """A grid file (or the scenario of one of its points) is invalid; ``problems`` lists them."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in grid"
        self.args = (head + ":\n" + "\n".join(f"  {p}" for p in self.problems),)


class _GridModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class ValueRange(_GridModel):
    """Evenly spaced values from ``from`` to ``to``, both included, by ``step`` or as ``count`` values."""

    start: int | float = Field(alias="from")
    """First value."""
    to: int | float
    """Last value (included when the steps land on it)."""
    step: Annotated[int | float, Field(gt=0)] | None = None
    """Distance between values; give this or ``count``."""
    count: Annotated[int, Field(ge=2)] | None = None
    """Number of values, spread evenly from ``from`` to ``to``; give this or ``step``."""

    @model_validator(mode="after")
    def _one_spacing(self) -> ValueRange:
        if (self.step is None) == (self.count is None):
            raise ValueError("give exactly one of step and count")
        if self.to < self.start:
            raise ValueError(f"to ({self.to:g}) must be at least from ({self.start:g})")
        if self.step is not None and (self.to - self.start) / self.step + 1 > MAX_RANGE_VALUES:
            raise ValueError(f"the range has more than {MAX_RANGE_VALUES:,} values; use a larger step")
        if self.count is not None and self.count > MAX_RANGE_VALUES:
            raise ValueError(f"count must be at most {MAX_RANGE_VALUES:,}")
        return self

    def values(self) -> list[int | float]:
        """The values, as whole numbers when ``from`` and ``step`` are whole numbers."""
        if self.step is not None:
            n = math.floor((self.to - self.start) / self.step + 1e-9) + 1
            if all(isinstance(v, int) for v in (self.start, self.step)):
                return [int(self.start + i * self.step) for i in range(n)]
            # rounding keeps 0.1 + 2 * 0.05 from becoming 0.20000000000000004 in the table
            return [round(self.start + i * self.step, 12) for i in range(n)]
        assert self.count is not None
        return [round(float(v), 12) for v in np.linspace(self.start, self.to, self.count)]


def _vary_kind(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict | ValueRange):
        return "range"
    return None


VaryValues = Annotated[
    Annotated[list[Any], Tag("list"), Field(min_length=1)] | Annotated[ValueRange, Tag("range")],
    Discriminator(
        _vary_kind, custom_error_type="vary_values",
        custom_error_message="expected a list of values, or a range {from, to, step} or {from, to, count}",
    ),
]


class GridSpec(_GridModel):
    """The content of a grid file."""

    base: str
    """Path of the base scenario file, relative to the grid file."""
    replications: Annotated[int, Field(ge=1, le=10_000)] = 10
    """Replications of every point."""
    seed: Annotated[int, Field(ge=0)] = DEFAULT_SEED
    """Seed of every point: the same for all, so the points share common random numbers."""
    vary: Annotated[dict[str, VaryValues], Field(min_length=1)]
    """Dotted path of a scenario field (``teams.mdt.staff.psychologist.wte``,
    ``outsourcing[0].assessments_per_month``) -> its values: a list, or a range."""
    description: str = ""
    """What the sweep is for."""


@dataclass(frozen=True)
class Point:
    """One combination of the varied values."""

    index: int
    """Position in the grid (0-based), the order of the final table."""
    params: dict[str, Any]
    """Field path -> value at this point."""
    scenario_hash: str
    """Content hash of the point's resolved scenario."""

    def label(self, names: dict[str, str] | None = None) -> str:
        """``psychologist.wte=0.8, annual_growth=0.05``: the point's values, for people."""
        names = names or short_names(list(self.params))
        return ", ".join(f"{names[k]}={_format_value(v)}" for k, v in self.params.items())


@dataclass(frozen=True)
class Grid:
    """A validated grid: the base scenario, the varied fields and every point."""

    path: Path
    """The grid file."""
    spec: GridSpec
    """The grid file's content (with any overrides of replications or seed applied)."""
    base_path: Path
    """The base scenario file."""
    base: Scenario
    """The base scenario."""
    fields: tuple[str, ...]
    """Varied field paths, in the grid file's order (written in the canonical form)."""
    values: tuple[tuple[Any, ...], ...]
    """The values of each field."""
    points: tuple[Point, ...] = field(repr=False)
    """Every point, the first field varying slowest."""

    @property
    def files(self) -> list[Path]:
        """Every file a sweep of this grid reads: the grid file, and the base scenario with its
        ``extends:`` chain and snapshot (:func:`asdsim.scenario.scenario_files`)."""
        return [self.path, *scenario_files(self.base_path)]

    @property
    def name(self) -> str:
        """The grid file's name without its suffix."""
        return self.path.stem

    def scenario(self, point: Point) -> Scenario:
        """The resolved scenario of a point (built again on demand, so points stay small)."""
        return scenario_from_dict(point_data(self.base.model_dump(mode="json"), self._keys(), point),
                                  name=str(self.path))

    def _keys(self) -> list[FieldPath]:
        return [parse_field(f) for f in self.fields]


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _line(lines: Mapping[FieldPath, int], key: FieldPath) -> int | None:
    for n in range(len(key), -1, -1):
        if key[:n] in lines:
            return lines[key[:n]]
    return None


def _read_spec(path: Path) -> tuple[GridSpec, Mapping[FieldPath, int]]:
    doc = read_yaml(path, what="grid file", error=GridError)
    file, data, lines = doc.name, doc.data, doc.lines
    if not isinstance(data, dict):
        raise GridError([Problem(file, 1, "", "a grid file must be a YAML mapping with base and vary")])
    try:
        return GridSpec.model_validate(data), lines
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(k for k in error["loc"] if k not in ("list", "range"))
            where = format_field(loc)
            if loc[0] == "vary" and len(loc) > 1:
                where = f"vary[{loc[1]}]" + "".join(f".{k}" for k in loc[2:])
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "this field is required"
            elif error["type"] == "extra_forbidden":
                message = "unknown key"
                known = ["from", "to", "step", "count"] if len(loc) > 2 else list(GridSpec.model_fields)
                close = difflib.get_close_matches(str(loc[-1]), known, n=1)
                message += f"; did you mean {close[0]!r}?" if close else \
                    f"; expected one of {', '.join(known)}"
            value = error.get("input")
            shown = None if error["type"] in ("missing", "extra_forbidden") or isinstance(
                value, dict | list) else repr(value)
            problems.append(Problem(file, _line(lines, loc), where, message, shown))
        raise GridError(problems) from None


def _resolve(data: Any, keys: FieldPath) -> str | None:
    """Why ``keys`` is not a field of ``data``, or None when it is."""
    node = data
    for depth, key in enumerate(keys):
        here = format_field(keys[:depth]) or "the scenario"
        if isinstance(node, dict):
            if key not in node:
                close = difflib.get_close_matches(str(key), [str(k) for k in node], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    f"; it has {', '.join(map(str, node)) or 'no fields'}"
                return f"{here} has no field {key!r}{hint}"
        elif isinstance(node, list):
            if not isinstance(key, int):
                return f"{here} is a list: give an index, like {here}[0]"
            if key >= len(node):
                return f"{here} has {len(node)} item{'s' if len(node) != 1 else ''}, so no [{key}]"
        elif node is None:
            return f"{here} is not set in the base scenario, so it has no field {key!r}; vary {here} itself"
        else:
            return f"{here} is a single value ({node!r}), not a mapping or list"
        node = node[key]
    return None


def _with(data: Any, keys: FieldPath, value: Any) -> Any:
    """A copy of ``data`` with the value at ``keys`` replaced (only the containers on the path are copied)."""
    if not keys:
        return value
    head, rest = keys[0], keys[1:]
    if isinstance(data, list):
        out_list = list(data)
        assert isinstance(head, int)
        out_list[head] = _with(data[head], rest, value)
        return out_list
    out = dict(data)
    out[head] = _with(data[head], rest, value)
    return out


def point_data(base: dict[str, Any], keys: list[FieldPath], point: Point) -> dict[str, Any]:
    """The plain data of a point's scenario: ``base`` (a dumped scenario) with the point's values set."""
    data = base
    for key, value in zip(keys, point.params.values(), strict=True):
        data = _with(data, key, value)
    return data


def _with_settings(spec: GridSpec, file: str, replications: int | None,
                   seed: int | None) -> GridSpec:
    """The grid with the command line's replications and seed, where given."""
    overrides: dict[str, int] = {}
    for name, value, low in (("replications", replications, 1), ("seed", seed, 0)):
        if value is not None:
            if value < low:
                raise GridError([Problem(file, None, name, f"expected a whole number >= {low}", repr(value))])
            overrides[name] = value
    return spec.model_copy(update=overrides)


def _varied_fields(spec: GridSpec, file: str, lines: Mapping[FieldPath, int], base_data: dict[str, Any],
                   problems: list[Problem]) -> list[FieldPath]:
    """The field path of each ``vary`` entry that names one, adding a problem for each that does not."""
    keys: list[FieldPath] = []
    fields: list[str] = []
    for text in spec.vary:
        where = f"vary[{text}]"
        line = lines.get(("vary", text))
        try:
            key = parse_field(text)
        except ValueError as exc:
            problems.append(Problem(file, line, where, str(exc)))
            continue
        why = _resolve(base_data, key)
        if why is not None:
            problems.append(Problem(file, line, where, f"not a field of the base scenario: {why}"))
        if format_field(key) in fields:
            problems.append(Problem(file, line, where, f"the same field as {format_field(key)}, given twice"))
        outer = next((k for k in keys if _nested(k, key)), None)
        if outer is not None:
            problems.append(Problem(file, line, where, f"overlaps {format_field(outer)}: one field lies "
                                    "inside the other, so only one of them may be varied"))
        keys.append(key)
        fields.append(format_field(key))
    return keys


def _nested(a: FieldPath, b: FieldPath) -> bool:
    """Whether one of two different field paths lies inside the other (``demand`` and
    ``demand.referrals_per_week``): a point could not set both."""
    short, long = sorted((a, b), key=len)
    return a != b and long[:len(short)] == short


def _varied_values(spec: GridSpec, file: str, lines: Mapping[FieldPath, int],
                   problems: list[Problem]) -> list[tuple[Any, ...]]:
    """The values of each ``vary`` entry, adding a problem for each that repeats a value."""
    values: list[tuple[Any, ...]] = []
    for text, spec_values in spec.vary.items():
        vals = spec_values.values() if isinstance(spec_values, ValueRange) else list(spec_values)
        shown = [json.dumps(v, sort_keys=True, default=str) for v in vals]
        repeated = sorted({s for s in shown if shown.count(s) > 1})
        if repeated:
            problems.append(Problem(file, lines.get(("vary", text)), f"vary[{text}]",
                                    f"each value must appear once; repeated: {', '.join(repeated)}"))
        values.append(tuple(vals))
    return values


def _points(spec: GridSpec, file: str, lines: Mapping[FieldPath, int], base_data: dict[str, Any],
            keys: list[FieldPath], fields: list[str], values: list[tuple[Any, ...]]) -> list[Point]:
    """Every point of the grid with the hash of its scenario; one problem per distinct failure."""
    points: list[Point] = []
    failures: dict[tuple[str, str], list[Point]] = {}
    for index, combo in enumerate(itertools.product(*values)):
        params = dict(zip(fields, combo, strict=True))
        draft = Point(index, params, "")
        try:
            scenario = scenario_from_dict(point_data(base_data, keys, draft), name=file)
        except ScenarioError as exc:
            for p in exc.problems:
                failures.setdefault((p.field, p.message), []).append(draft)
            continue
        points.append(Point(index, params, scenario_hash(scenario)))
    if not failures:
        return points
    names = short_names(fields)
    problems = []
    for (where, message), bad in list(failures.items())[:MAX_POINT_PROBLEMS]:
        involved = [f for f in fields if f.startswith(where) or where.startswith(f)] if where else []
        line = lines.get(("vary", list(spec.vary)[fields.index(involved[0])])) if involved else \
            lines.get(("vary",))
        at = f"at {len(bad)} point{'s' if len(bad) != 1 else ''}, first {bad[0].label(names)}"
        problems.append(Problem(file, line, where, f"{message} ({at})"))
    raise GridError(problems)


def load_grid(path: str | Path, replications: int | None = None, seed: int | None = None) -> Grid:
    """Read and check a grid file, its base scenario and the scenario of every point.

    Parameters
    ----------
    path
        The grid file (YAML).
    replications, seed
        Replace the grid file's values (the command line's ``--replications`` and ``--seed``).

    Returns
    -------
    Grid
        Every point with its values and the hash of its resolved scenario.

    Raises
    ------
    GridError
        One :class:`~asdsim.errors.Problem` per problem, naming the grid file, line and field; a
        point whose scenario is invalid is named by its values.
    ScenarioError
        When the base scenario file itself is invalid (its problems name that file).
    """
    path = Path(path)
    file = display_path(path)
    spec, lines = _read_spec(path)
    spec = _with_settings(spec, file, replications, seed)
    base_path = path.parent / spec.base
    why = unreadable(base_path, MAX_FILE_BYTES, "base scenario file")
    if why is not None:
        raise GridError([Problem(file, lines.get(("base",)), "base",
                                 f"{why} (looked for {display_path(base_path)})", repr(spec.base))])
    base = load_scenario(base_path)
    base_data = base.model_dump(mode="json")
    problems: list[Problem] = []
    keys = _varied_fields(spec, file, lines, base_data, problems)
    fields = [format_field(key) for key in keys]
    values = _varied_values(spec, file, lines, problems)
    if problems:
        raise GridError(problems)
    count = math.prod(len(v) for v in values)
    if count > MAX_POINTS:
        raise GridError([Problem(file, lines.get(("vary",)), "vary",
                                 f"the grid has {count:,} points; at most {MAX_POINTS:,} are allowed")])
    points = _points(spec, file, lines, base_data, keys, fields, values)
    return Grid(path=path, spec=spec, base_path=base_path, base=base, fields=tuple(fields),
                values=tuple(values), points=tuple(points))
