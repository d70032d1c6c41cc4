"""Reading scenario files: bounded YAML, ``extends:`` inheritance, and errors people can act on.

Files are read by :mod:`asdsim.scenario.yamlfile` (regular files of at most 1 MB, bounded nesting
and alias expansion); a CSV snapshot named in ``initial_state.csv`` is read once, here, by
:mod:`asdsim.scenario.snapshot` and kept with the scenario.

A scenario file may name a base file in ``extends:`` (a path relative to itself). The base is read
first and the file's own keys are merged over it: mappings merge key by key, anything else
(numbers, strings, lists) replaces the base value, and ``null`` removes a key. Every value keeps
the file and line it came from, so an error points at the line to fix even when the bad value was
inherited.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from asdsim.errors import Problem, ScenarioError
from asdsim.scenario.base import FieldProblems
from asdsim.scenario.dates import DATE_RULES
from asdsim.scenario.library import resolve_scenario
from asdsim.scenario.schema import Scenario
from asdsim.scenario.snapshot import (
    Snapshot,
    SnapshotError,
    attach_snapshot,
    check_snapshot,
    read_snapshot,
    scenario_snapshot,
)
from asdsim.scenario.values import name_clashes
from asdsim.scenario.yamlfile import MAX_FILE_BYTES, display_path, dotted, read_yaml, unreadable
from asdsim.scenario.yamlfile import resolved as resolve_path

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class _Origin:
    file: str
    line: int


def _compose(path: Path, named_by: tuple[str, int | None, str] | None = None,
             ) -> tuple[dict[str, Any], dict[PathKey, _Origin]]:
    """Parse one YAML file into plain data and a map from key path to file and line.

    ``named_by`` is the file, line and field that named this file (its ``extends:``), which a
    file that cannot be read at all is reported against.
    """
    if named_by is not None:
        why = unreadable(path, MAX_FILE_BYTES, "base file")
        if why is not None:
            file, line, field = named_by
            raise ScenarioError([Problem(file, line, field, f"{why} (looked for {display_path(path)})")])
    doc = read_yaml(path)
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError([Problem(doc.name, 1, "", "a scenario must be a YAML mapping")])
    origins = {key: _Origin(doc.name, line) for key, line in doc.lines.items()}
    return data, origins


def _merge(
    base: dict[str, Any], over: dict[str, Any], base_origins: dict[PathKey, _Origin],
    prefix: PathKey = (),
) -> dict[str, Any]:
    """Merge ``over`` onto ``base``, dropping the origins of base values it replaces."""
    out = dict(base)
    for key, value in over.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, base_origins, path)
            continue
        _drop(base_origins, path)
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _drop(origins: dict[PathKey, _Origin], path: PathKey) -> None:
    for key in [k for k in origins if k[: len(path)] == path]:
        del origins[key]


MAX_EXTENDS = 20
"""Longest chain of ``extends:`` files."""


def _read(path: Path, chain: tuple[Path, ...],
          named_by: tuple[str, int | None, str] | None = None,
          ) -> tuple[dict[str, Any], dict[PathKey, _Origin]]:
    resolved = resolve_path(path)
    if resolved in chain:
        cycle = " -> ".join(display_path(p) for p in (*chain, resolved))
        file, line, field = named_by or (display_path(path), None, "extends")
        raise ScenarioError([Problem(file, line, field, f"extends cycle: {cycle}")])
    if len(chain) > MAX_EXTENDS:
        file, line, field = named_by or (display_path(path), None, "extends")
        raise ScenarioError([Problem(file, line, field,
                                     f"more than {MAX_EXTENDS} files extend one another")])
    data, origins = _compose(path, named_by)
    name = display_path(path)
    parent = data.pop("extends", None)
    line = origins.pop(("extends",), _Origin(name, 1)).line
    if parent is None:
        return data, origins
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([Problem(
            name, line, "extends", "expected the path of a base scenario file, relative to this file",
            repr(parent) if not isinstance(parent, dict | list) else None,
        )])
    base_path = Path(os.path.normpath(resolved.parent / parent))
    base, base_origins = _read(base_path, (*chain, resolved), (name, line, "extends"))
    merged = _merge(base, data, base_origins)
    return merged, {**base_origins, **origins}


def scenario_files(path: str | Path) -> list[Path]:
    """Every file reading a scenario reads: the file, each file of its ``extends:`` chain (as
    parsed, so any YAML spelling of the key counts) and every CSV snapshot named in the chain.

    A file that cannot be read ends the chain (loading it reports why); the list is what an
    output must never be, hold, or sit inside (:func:`asdsim.files.guard_output`).
    """
    files: list[Path] = []
    seen: set[Path] = set()
    current: Path | None = Path(path)
    while current is not None and len(seen) <= MAX_EXTENDS:
        files.append(current)
        try:
            real = resolve_path(current)
            if real in seen:
                break
            seen.add(real)
            data, _ = _compose(current)
        except (ScenarioError, OSError, ValueError, RecursionError):
            break
        here = real.parent
        state = data.get("initial_state")
        if isinstance(state, dict) and isinstance(state.get("csv"), str) and state["csv"].strip():
            # read beside the file as named (a symlink's folder); its target's folder too, to be safe
            files += dict.fromkeys(Path(os.path.normpath(folder / state["csv"]))
                                   for folder in (current.absolute().parent, here))
        parent = data.get("extends")
        current = Path(os.path.normpath(here / parent)) \
            if isinstance(parent, str) and parent.strip() else None
    return files


_dotted = dotted


def _unwrap(tp: Any) -> Any:
    """Strip ``Optional`` and ``Annotated`` from a type."""
    while get_origin(tp) in (Union, UnionType, Annotated):
        args = [a for a in get_args(tp) if a is not type(None)]
        if get_origin(tp) is Annotated:
            args = args[:1]
        if len(args) != 1:
            break
        tp = args[0]
    return tp


def _model_at(path: PathKey) -> type[BaseModel] | None:
    """The scenario model class whose fields live at ``path`` (for "did you mean")."""
    tp: Any = Scenario
    for key in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if key not in tp.model_fields:
                return None
            tp = tp.model_fields[key].annotation
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif get_origin(tp) is tuple:
            tp = get_args(tp)[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _bound(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) >= 10_000:
        return f"{int(value):,}"
    return str(value)


def _expected(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if isinstance(value, bool) and kind in {"string_type", "date_type", "literal_error"}:
        return ("expected text, not true/false (YAML reads yes, no, on and off as true/false; "
                "write it in quotes)")
    messages = {
        "missing": "this field is required",
        "extra_forbidden": "unknown key",
        "float_parsing": "expected a number",
        "float_type": "expected a number",
        "finite_number": "expected a finite number (not .inf or .nan)",
        "int_parsing": "expected a whole number",
        "int_parsing_size": "expected a whole number of a sensible size",
        "int_type": "expected a whole number",
        "int_from_float": "expected a whole number",
        "bool_parsing": "expected true or false",
        "bool_type": "expected true or false",
        "string_type": "expected text",
        "date_type": "expected a date as YYYY-MM-DD",
        "dict_type": "expected a mapping of names to values",
        "tuple_type": "expected a list",
        "list_type": "expected a list",
        "model_type": "expected a mapping",
        "model_attributes_type": "expected a mapping",
    }
    if kind in messages:
        return messages[kind]
    if kind == "date_from_datetime_inexact":
        return "expected a date as YYYY-MM-DD, without a time of day"
    if kind in {"date_parsing", "date_from_datetime_parsing"}:
        reason = ctx.get("error")
        return "expected a date in the calendar as YYYY-MM-DD" + (f" ({reason})" if reason else "")
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
              "less_than": "<"}[kind]
        bound = next(iter(ctx.values()))
        return f"expected a number {op} {_bound(bound)}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '')}"
    if kind == "union_tag_invalid":
        return f"unknown distribution {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "expected a number, or a mapping with 'dist' (fixed, exponential, uniform, " \
               "lognormal, gamma, triangular)"
    msg = str(error.get("msg", ""))
    return msg.removeprefix("Value error, ")


_DIST_TAGS = {"fixed", "exponential", "uniform", "lognormal", "gamma", "triangular"}


def _shown(value: Any) -> str | None:
    if isinstance(value, dict | list | tuple) or value is None:
        return None
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problems(exc: ValidationError, origins: dict[PathKey, _Origin], file: str) -> list[Problem]:
    problems: list[Problem] = []

    def origin_of(loc: PathKey) -> _Origin | None:
        for n in range(len(loc), -1, -1):
            found = origins.get(loc[:n])
            if found is not None:
                return found
        return None

    def add(loc: PathKey, message: str, shown: str | None = None) -> None:
        origin = origin_of(loc)
        problems.append(Problem(origin.file if origin else file, origin.line if origin else None,
                                _dotted(loc), message, shown))

    for error in exc.errors(include_url=False):
        loc: PathKey = tuple(k for k in error["loc"]
                             if not (isinstance(k, str) and k in _DIST_TAGS))
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblems):
            for sub, message in cause.items:
                add((*loc, *sub), message)
            continue
        expected = _expected(error)
        if error["type"] == "extra_forbidden":
            model = _model_at(loc[:-1])
            if model is not None:
                close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
                if close:
                    expected = f"unknown key; did you mean {close[0]!r}?"
                else:
                    expected = f"unknown key; expected one of: {', '.join(model.model_fields)}"
            add(loc, expected)
            continue
        if error["type"] == "value_error" and "\n" in expected:
            for part in expected.split("\n"):
                add(loc, part)
            continue
        add(loc, expected, None if error["type"] == "missing" else _shown(error.get("input")))
    return problems


def _name_sets(scenario: Scenario) -> list[tuple[PathKey, list[str]]]:
    """Every set of names a scenario defines, each with the path of the mapping or list."""
    sets: list[tuple[PathKey, list[str]]] = [
        (("demand", "sources"), list(scenario.demand.sources)),
        (("demand", "localities"), list(scenario.demand.localities)),
        (("teams",), list(scenario.teams)),
        (("priority_classes",), list(scenario.priority_classes)),
    ]
    for name, team in scenario.teams.items():
        sets.append((("teams", name, "staff"), list(team.staff)))
        sets.append((("teams", name, "steps"), [step.name for step in team.steps]))
    return sets


def _name_clashes(scenario: Scenario, origins: dict[PathKey, _Origin], file: str) -> list[Problem]:
    """Two names of one kind that are one name once compared (:func:`values.name_key`: case,
    Unicode form, spaces, hyphens and underscores): a CSV cell could not say which it means."""
    problems = []
    for where, names in _name_sets(scenario):
        for first, later in name_clashes(names):
            origin = origins.get((*where, later)) or origins.get(where) or _Origin(file, 1)
            problems.append(Problem(origin.file, origin.line, _dotted(where), (
                f"{later!r} and {first!r} are the same name once case, accents' Unicode form, "
                "spaces, hyphens and underscores are set aside; rename one of them")))
    return problems


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge and validate a scenario file.

    Parameters
    ----------
    path
        A YAML scenario file, possibly naming a base file in ``extends:``, or the name of a
        shipped scenario (``"nice_mdt"``; a file of that name in the working folder wins).

    Returns
    -------
    Scenario
        The validated, immutable scenario. A CSV snapshot named in ``initial_state.csv`` (relative
        to the file that names it) is read here, once, checked row by row, and kept with the
        scenario (see :mod:`asdsim.scenario.snapshot`).

    Raises
    ------
    ScenarioError
        With one :class:`~asdsim.errors.Problem` per error, each naming the file, line, field
        path, value and what was expected.
    """
    path = resolve_scenario(path)
    data, origins = _read(path, ())
    problems: list[Problem] = []
    snapshot: Snapshot | None = None
    state = data.get("initial_state")
    if isinstance(state, dict) and state.get("kind") == "csv" and isinstance(state.get("csv"), str) \
            and state["csv"].strip() and state.get("dates", "iso") in DATE_RULES:
        origin = origins.get(("initial_state", "csv"), _Origin(display_path(path), 1))
        csv_path = Path(os.path.abspath(Path(origin.file).parent / state["csv"]))
        data["initial_state"] = {**state, "csv": str(csv_path)}
        try:
            snapshot = read_snapshot(csv_path, named_by=(origin.file, origin.line),
                                     dates=state.get("dates", "iso"))
        except SnapshotError as exc:
            problems.extend(exc.problems)
            snapshot = exc.partial
        except ScenarioError as exc:
            problems.extend(exc.problems)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, origins, display_path(path)) + problems) from None
    problems.extend(_name_clashes(scenario, origins, display_path(path)))
    if snapshot is not None:
        problems.extend(check_snapshot(snapshot, scenario))
    if problems:
        problems.sort(key=lambda p: (p.file, p.line if p.line is not None else 1 << 30))
        raise ScenarioError(problems)
    if snapshot is not None:
        attach_snapshot(scenario, snapshot)
    return scenario


def scenario_from_dict(data: dict[str, Any], name: str = "<dict>") -> Scenario:
    """Validate a scenario given as a plain mapping (as a parsed YAML file would be).

    A CSV snapshot in ``initial_state.csv`` (absolute, or relative to the working folder) is the
    one this process already read from that path, if any (so a scenario rebuilt from
    ``scenario.model_dump()`` keeps its data), and is otherwise read now.

    Raises
    ------
    ScenarioError
        As :func:`load_scenario`, with ``name`` in place of the file.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, {}, name)) from None
    scenario_snapshot(scenario)
    return scenario


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of the scenario format, for editors that check YAML as it is typed.

    ``extends`` is allowed at the top level of a file; the schema describes a file after merging,
    so it also lists ``extends``.
    """
    schema = Scenario.model_json_schema(mode="validation")
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Path of a base scenario file, relative to this file, to merge over.",
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "asdsim scenario"
    return schema


def scenario_hash(scenario: Scenario) -> str:
    """A short stable hash of a scenario's content, and of its CSV snapshot's bytes, if any.

    The snapshot enters by the SHA-256 of the bytes read when the scenario was loaded, not by
    its path, so the same data in another folder gives the same hash.
    """
    data = scenario.model_dump(mode="json")
    snapshot = scenario_snapshot(scenario)
    if snapshot is not None:
        data["initial_state"]["csv"] = f"sha256:{snapshot.sha256}"
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def scenario_to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario (after ``extends:``) as YAML.

    A CSV snapshot is written by its file name alone (never its folder), with the SHA-256 of the
    bytes read in a comment.
    """
    data = scenario.model_dump(mode="json")
    head = ""
    snapshot = scenario_snapshot(scenario)
    if snapshot is not None:
        data["initial_state"]["csv"] = snapshot.file_name
        head = (f"# initial_state.csv: the snapshot read had SHA-256 {snapshot.sha256}; its folder "
                "is not recorded\n")
    elif scenario.initial_state.csv:
        data["initial_state"]["csv"] = Path(scenario.initial_state.csv).name
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
