"""Many areas in one run: an areas table, every area simulated alike, and totals taken the right way.

The areas table
---------------
A CSV file, one row an area (a folder holding ``areas.csv`` may be given instead). Two columns
are required: ``area`` (a unique name) and ``scenario`` (the area's scenario file, relative to
the table; many rows may name the same base file). Every other column is a dotted scenario
field, written as ``asdsim sweep`` writes them (``demand.referrals_per_week``,
``initial_state.backlog[0].count``, ``teams.mdt.staff.psychologist.wte``); a row's cell sets that
field over its scenario, and an empty cell leaves it as the file says. A cell is read as a YAML
scalar (``40``, ``0.8``, ``2024-06-30``, ``text``); ``initial_state.csv`` is relative to the
table. Each row is checked as a scenario is, and every problem names the table, its line, the
column and what was expected. Areas are totalled over the same dates, so every area must have
the first area's start date, horizon and ``reporting`` dates.

Running
-------
Every area runs with the same seed and replications, so replication ``r`` of each area (and of
each design of it) draws from the same random streams: common random numbers. One area is one
unit of work (all its replications, reduced in the worker), through the backends of
:mod:`asdsim.experiments.backends`, and stored as it finishes in a
:class:`~asdsim.experiments.sweep.PointStore` keyed by the area scenario's hash, seed and
replications, so an interrupted run resumes and a repeated one reuses every area.

Totals
------
Per replication, each area gives its KPI values as a numerator and, for shares, a denominator
(:func:`replication_tallies`). The total of a count (open referrals, children waiting over 13
weeks, funded cost) is the sum over areas within each replication; the total of a share (children
whose assessment started within 3 months) pools the children: numerators and denominators are
summed over areas within each replication, and the share is their ratio, so a large area
weighs as its children do, not as one area in 42. Only then is the 95% confidence interval taken,
across replications (:func:`total_table`). The interval is of the expected total; it allows for
whatever the areas' results share, since it is taken over each replication's total.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from asdsim.analysis import cohorts
from asdsim.analysis.definitions import split
from asdsim.analysis.kpis import WAIT_SHARES, kpi_table, replication_kpis, snapshot_days
from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.stats import mean_ci
from asdsim.errors import AsdsimError, Problem, ScenarioError
from asdsim.experiments.backends import Backend, TaskFailed
from asdsim.experiments.grid import Point, _resolve, point_data
from asdsim.experiments.runner import DEFAULT_SEED, run_replication
from asdsim.experiments.sweep import KPI_COLUMNS, PointStore
from asdsim.scenario import Scenario, load_scenario, scenario_from_dict, scenario_hash
from asdsim.scenario.paths import FieldPath, format_field, parse_field
from asdsim.scenario.yamlfile import MAX_FILE_BYTES, display_path, unreadable

TABLE_NAME = "areas.csv"
"""The areas table's file name when a folder is given."""
REQUIRED_COLUMNS = ("area", "scenario")
TALLY_COLUMNS = ("replication", "kpi", "unit", "numerator", "denominator")
ADDITIVE = frozenset({
    "open_referrals", "waiting_over_13_weeks", "waiting_over_52_weeks", "waiting_over_104_weeks",
    "referrals", "exit", "held_until_old_enough", "unmet_need", "started_within_3_months_count",
    "cost_total", "cost_outsourced", "funded_cost", "outsourcing_cost", "funded_cost_per_year",
    "cost_funded_total", "outsourcing_not_bought",
})
"""KPIs (by base name) whose total over areas is their sum: counts of children and money."""
POOLED = tuple(kpi for kpi, _, _ in WAIT_SHARES)
"""Shares (headline basis, the cohort and each period of referral) pooled over children."""
HEADLINE_BASES = ("assessment_started_within_3_months", "first_appointment_within_13_weeks",
                  "started_within_3_months_count", "referrals", "open_referrals",
                  "waiting_over_13_weeks", "waiting_over_52_weeks", "funded_cost_per_year",
                  "cost_funded_total", "cost_outsourced")
"""KPIs (by base name) written to ``areas.csv`` for each area."""


class AreasError(ScenarioError):
    """An areas table (or the scenario of one of its rows) is invalid; ``problems`` lists them."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        count = len(self.problems)
        self.args = (f"{count} problem{'s' if count != 1 else ''} in the areas table:\n"
                     + "\n".join(f"  {p}" for p in self.problems),)


class AreasRunError(AsdsimError):
    """An areas run could not finish: an area failed."""


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
    def name(self) -> str:
        """The table's name: its folder's name for ``areas.csv``, else the file's stem."""
        return self.path.parent.name if self.path.name == TABLE_NAME else self.path.stem

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


def _same_dates(area: Area, first: Area, file: str) -> list[Problem]:
    """Why an area cannot be totalled with the first (different dates), if it cannot."""
    mine, theirs = area.scenario, first.scenario
    out = []
    for what, get in (("start_date", lambda s: s.start_date), ("end date", lambda s: s.end_date),
                      ("reporting.snapshot_dates", lambda s: tuple(s.reporting.snapshot_dates)),
                      ("reporting.cohort_from_date", lambda s: s.reporting.cohort_from_date)):
        if get(mine) != get(theirs):
            shown = lambda v: ", ".join(map(str, v)) if isinstance(v, tuple) else str(v)  # noqa: E731
            out.append(Problem(file, area.line, "scenario",
                               f"its {what} is {shown(get(mine)) or 'none'} but the first area's "
                               f"({first.name}) is {shown(get(theirs)) or 'none'}: areas are "
                               "totalled over the same dates, so every area must share them"))
    return out


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
    header = [h.strip() for h in header]
    problems: list[Problem] = []
    for name in REQUIRED_COLUMNS:
        if name not in header:
            problems.append(Problem(file, 1, name, "this column is required"))
    keys: dict[str, FieldPath] = {}
    for name in header:
        if name in REQUIRED_COLUMNS:
            continue
        if not name:
            problems.append(Problem(file, 1, "", "a column has no name"))
            continue
        if header.count(name) > 1 or name in keys:
            problems.append(Problem(file, 1, name, "each column must appear once"))
            continue
        try:
            keys[name] = parse_field(name)
        except ValueError as exc:
            problems.append(Problem(file, 1, name, f"not a scenario field: {exc}"))
    if problems:
        raise AreasError(problems)

    loaded: dict[Path, Scenario | None] = {}
    areas: list[Area] = []
    seen: dict[str, int] = {}
    rows = 0
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise AreasError([Problem(file, line, "", f"not valid CSV ({exc})")]) from None
        if not any(c.strip() for c in cells):
            continue
        rows += 1
        if len(cells) != len(header):
            problems.append(Problem(file, line, "", f"expected {len(header)} cells as the header "
                                                    f"has, got {len(cells)}"))
            continue
        values = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        try:
            row = AreaRow(area=values["area"], scenario=values["scenario"])
        except ValidationError as exc:
            problems.extend(_row_problems(file, line, exc))
            continue
        if row.area in seen:
            problems.append(Problem(file, line, "area", f"each area must appear once; {row.area!r} "
                                                        f"is also on line {seen[row.area]}"))
            continue
        seen[row.area] = line
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


def _area(path: Path, file: str, line: int, row: AreaRow, values: dict[str, str],
          keys: dict[str, FieldPath], loaded: dict[Path, Scenario | None],
          problems: list[Problem]) -> Area | None:
    """One row's area, or None after adding its problems."""
    scenario_path = (path.parent / row.scenario).resolve()
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
        return None
    data = base.model_dump(mode="json")
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
    data = point_data(data, [keys[c] for c in overrides], Point(0, overrides, ""))
    data["name"] = row.area
    try:
        scenario = scenario_from_dict(data, name=file)
    except ScenarioError as exc:
        for p in exc.problems:
            column = next((c for c in overrides if p.field == c or p.field.startswith(c + ".")
                           or c.startswith(p.field + ".")), None) if p.field else None
            shown = p.value if p.value is not None else (
                repr(values[column]) if column is not None else None)
            problems.append(Problem(file, line, column or p.field, p.message, shown))
        return None
    return Area(row.area, line, scenario_path, overrides, scenario, scenario_hash(scenario))


# ---------------------------------------------------------------------------------- per replication


def window_counts(c: dict[str, np.ndarray], milestone: str, window: float, horizon: float,
                  members: np.ndarray) -> tuple[int, int]:
    """``(seen within the window, window closed)`` among ``members``: the numerator and
    denominator whose ratio is :func:`asdsim.analysis.cohorts.within_window`."""
    referral = c["referral_day"]
    closed = members & (referral + window <= horizon)
    met = (c[milestone] - referral) <= window
    return int((met & closed).sum()), int(closed.sum())


def replication_tallies(rec: ReplicationRecord, scenario: Scenario,
                        values: dict[str, tuple[str, float]] | None = None) -> list[tuple[Any, ...]]:
    """One replication's additive KPIs and pooled shares as ``(replication, kpi, unit,
    numerator, denominator)``; the denominator is NaN for a count.

    ``values`` is the replication's KPIs (``{kpi: (unit, value)}``) where already computed.
    """
    if values is None:
        values = {kpi: (unit, value) for kpi, unit, value in replication_kpis(rec, scenario)}
    r = rec.replication
    rows: list[tuple[Any, ...]] = [(r, kpi, unit, value, math.nan) for kpi, (unit, value)
                                   in values.items() if split(kpi)[0] in ADDITIVE]
    c = rec.columns
    horizon = scenario.horizon_days
    referral = c["referral_day"]
    basis = cohorts.bases(rec, horizon)["not_rejected"]
    groups = {"": (referral >= cohorts.cohort_start_day(scenario)) & basis}
    for period, members in cohorts.referral_periods(scenario, referral).items():
        groups[f"[{period}]"] = members & basis
    for kpi, milestone, window in WAIT_SHARES:
        for suffix, members in groups.items():
            met, closed = window_counts(c, milestone, window, horizon, members)
            rows.append((r, kpi + suffix, "share", float(met), float(closed)))
    return rows


def total_table(tallies: Sequence[pd.DataFrame], level: float = 0.95) -> pd.DataFrame:
    """The KPIs of all areas together, each a mean with its confidence interval.

    Parameters
    ----------
    tallies
        Each area's tallies (columns :data:`TALLY_COLUMNS`, from :func:`replication_tallies`),
        over the same replications.
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Columns ``kpi, mean, ci_low, ci_high, unit, n``: a count summed over areas within each
        replication, a share pooled over children (numerators and denominators summed within each
        replication, then divided), and then the mean and Student-t interval across
        replications. A KPI some area lacks is left out (it would be under-counted); a pooled
        share whose denominator is zero in a replication has no value there.
    """
    frames = [t.assign(area=i) for i, t in enumerate(tallies)]
    if not frames:
        return pd.DataFrame(columns=list(KPI_COLUMNS))
    long = pd.concat(frames, ignore_index=True)
    everywhere = long.groupby("kpi", sort=False)["area"].nunique() == len(frames)
    long = long[long["kpi"].map(everywhere)]
    sums = long.groupby(["kpi", "unit", "replication"], sort=False)[["numerator", "denominator"]] \
        .sum(min_count=1)
    rows = []
    for (kpi, unit), group in sums.groupby(level=["kpi", "unit"], sort=False):
        num, den = group["numerator"].to_numpy(float), group["denominator"].to_numpy(float)
        if unit == "share":
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        else:
            values = num
        mean, low, high, n = mean_ci(values, level)
        low, high = max(low, 0.0), (min(high, 1.0) if unit == "share" else high)
        rows.append({"kpi": kpi, "mean": mean, "ci_low": low, "ci_high": high, "unit": unit, "n": n})
    return pd.DataFrame(rows, columns=list(KPI_COLUMNS))


# ---------------------------------------------------------------------------------------- running


@dataclass(frozen=True)
class AreaTask:
    """What a worker needs to run one area."""

    key: str
    scenario: Scenario
    seed: int
    replications: int


@dataclass(frozen=True)
class AreaResult:
    """A finished area: its KPI table and its per-replication tallies (reduced in the worker)."""

    key: str
    kpis: pd.DataFrame
    tallies: pd.DataFrame
    seconds: float


def run_area(task: AreaTask) -> AreaResult:
    """Run every replication of one area and reduce them (in a worker)."""
    started = time.perf_counter()
    records = [run_replication(task.scenario, task.seed, r) for r in range(task.replications)]
    rows = [row for rec in records for row in replication_tallies(rec, task.scenario)]
    table = kpi_table(records, task.scenario)
    tallies = pd.DataFrame(rows, columns=list(TALLY_COLUMNS))
    return AreaResult(task.key, table, tallies, time.perf_counter() - started)


class TallyStore(PointStore):
    """Each area's per-replication tallies, one Parquet file each, beside its KPI table."""

    columns = TALLY_COLUMNS


@dataclass(frozen=True)
class AreaDone:
    """Progress: one area is finished (computed now, or found already stored)."""

    area: Area
    done: int
    total: int
    reused: bool
    seconds: float


@dataclass
class AreasResult:
    """Every area's KPIs and the totals."""

    areas: AreaSet
    kpis: dict[str, pd.DataFrame]
    """Each area's KPI table (``kpi, mean, ci_low, ci_high, unit, n``), by area name."""
    tallies: dict[str, pd.DataFrame]
    """Each area's per-replication tallies, by area name."""
    total: pd.DataFrame
    """The KPIs of all areas together (:func:`total_table`)."""
    seed: int
    replications: int
    backend: str
    computed: int
    reused: int
    wall_seconds: float

    def table(self) -> pd.DataFrame:
        """``areas.csv``: each area's headline KPIs, one row an area and KPI."""
        frames = []
        for name, kpis in self.kpis.items():
            chosen = kpis[kpis["kpi"].map(lambda k: split(k)[0] in HEADLINE_BASES)]
            frames.append(chosen.assign(area=name))
        table = pd.concat(frames, ignore_index=True)
        return table[["area", *KPI_COLUMNS]]


def _key(area: Area, seed: int, replications: int) -> str:
    return PointStore.key(area.scenario_hash, seed, replications)


def run_areas(areas: AreaSet, store_dir: str | Path, replications: int = 10,
              seed: int = DEFAULT_SEED, backend: Backend | None = None,
              progress: Callable[[AreaDone], None] | None = None) -> AreasResult:
    """Run every area not already stored, then gather the tables and the totals.

    Parameters
    ----------
    areas
        From :func:`load_areas`.
    store_dir
        Where finished areas are kept (``points/`` under it), for resuming.
    replications, seed
        The same for every area (common random numbers).
    backend
        Where areas run; this process when None. The caller closes it.
    progress
        Called with an :class:`AreaDone` after each area.

    Raises
    ------
    AreasRunError
        When an area fails (areas finished before it stay stored).
    """
    from asdsim import __version__

    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    if seed < 0:
        raise ValueError(f"the seed must be 0 or more, got {seed}")
    started = time.perf_counter()
    backend = backend or Backend()
    kpi_store = PointStore(store_dir, version=__version__)
    tally_store = TallyStore(store_dir, version=__version__)
    kpi_store.folder.mkdir(parents=True, exist_ok=True)
    kpi_store.clean_temporary()
    by_key: dict[str, list[Area]] = {}
    for area in areas.areas:
        by_key.setdefault(_key(area, seed, replications), []).append(area)
    total, done = len(areas.areas), 0
    pending: dict[str, Area] = {}
    for key, group in by_key.items():
        if kpi_store.load(key) is None or tally_store.load(key + "-tallies") is None:
            pending[key] = group[0]
            continue
        for area in group:
            done += 1
            if progress:
                progress(AreaDone(area, done, total, True, 0.0))
    reused = done

    def tasks() -> Iterator[AreaTask]:
        for key, area in pending.items():
            yield AreaTask(key, area.scenario, seed, replications)

    stamp = {"seed": seed, "replications": replications}
    try:
        for task, result in backend.map_unordered(run_area, tasks()):
            tally_store.save(task.key + "-tallies", result.tallies, stamp)
            kpi_store.save(task.key, result.kpis, stamp)
            for area in by_key[task.key]:
                done += 1
                if progress:
                    progress(AreaDone(area, done, total, False, result.seconds))
    except TaskFailed as exc:
        area = by_key[exc.item.key][0]
        raise AreasRunError(f"area {area.name} (line {area.line}) failed: {exc}") from exc.__cause__
    kpis: dict[str, pd.DataFrame] = {}
    tallies: dict[str, pd.DataFrame] = {}
    for area in areas.areas:
        key = _key(area, seed, replications)
        table, tally = kpi_store.load(key), tally_store.load(key + "-tallies")
        if table is None or tally is None:
            raise AreasRunError(f"the stored result of area {area.name} changed while the run "
                                "worked; run it again")
        kpis[area.name], tallies[area.name] = table, tally
    return AreasResult(areas, kpis, tallies, total_table(list(tallies.values())), seed,
                       replications, backend.describe(), len(pending), reused,
                       round(time.perf_counter() - started, 3))


def end_label(scenario: Scenario) -> str:
    """The last reporting date as KPI names carry it (``open_referrals[2023-09-30]``)."""
    return snapshot_days(scenario)[-1][0]


def store_path(out: str | Path) -> Path:
    """Where an areas run keeps finished areas until its output folder is written: a hidden
    folder beside it, ``.DIR.areas``, so an interrupted run resumes from it."""
    out = Path(out)
    return out.parent / f".{out.name}.areas"


def write_areas(result: AreasResult, out: str | Path, force: bool = False,
                level: float = 0.9, command: Sequence[str] | None = None) -> Path:
    """Write ``areas.csv``, ``total.csv``, ``ranking.csv``, ``ranked.png``, ``report.html``,
    ``provenance.json`` and the finished areas (``points/``) into a folder, all at once.

    The folder is written beside ``out`` and renamed into place at the end (see
    :func:`asdsim.reporting.outputs.atomic_folder`); a non-empty ``out`` is replaced only with
    ``force``, and only when it is an earlier results folder. The store of finished areas
    (:func:`store_path`) moves into the folder as ``points/``.
    """
    from asdsim import __version__
    from asdsim.reporting.areas_report import ranked_chart, ranking, render_areas_report, summarise_areas
    from asdsim.reporting.outputs import atomic_folder, spreadsheet_safe

    out = Path(out)
    areas = result.areas
    scenario = areas.first
    end = end_label(scenario)
    summary = summarise_areas(result.kpis, result.total, scenario, end, level)
    ranked = ranking(result.kpis, summary)
    inputs = [areas.path, *{a.scenario_path for a in areas.areas}]
    headline = result.total[result.total["kpi"].map(lambda k: split(k)[0] in HEADLINE_BASES)]
    provenance = {
        "asdsim_version": __version__, "command": list(command or []),
        "areas_table": str(areas.path.resolve()), "areas": len(areas.areas),
        "fields": list(areas.fields), "seed": result.seed, "replications": result.replications,
        "level": level, "backend": result.backend, "computed": result.computed,
        "reused": result.reused, "wall_seconds": result.wall_seconds,
        "scenario_hashes": {a.name: a.scenario_hash for a in areas.areas},
    }
    method = {"areas": len(areas.areas), "replications": result.replications, "seed": result.seed,
              "start": scenario.start_date.isoformat(), "end": scenario.end_date.isoformat()}
    with atomic_folder(out, force, inputs) as folder:
        spreadsheet_safe(result.table()).to_csv(folder / "areas.csv", index=False)
        result.total.to_csv(folder / "total.csv", index=False)
        spreadsheet_safe(ranked).to_csv(folder / "ranking.csv", index=False)
        figure = ranked_chart(ranked, level)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110)
        (folder / "ranked.png").write_bytes(buffer.getvalue())
        html = render_areas_report(areas.name, summary, ranked, headline, buffer.getvalue(),
                                   provenance, method)
        (folder / "report.html").write_text(html, encoding="utf-8")
        (folder / "summary.txt").write_text("\n".join(summary.sentences) + "\n", encoding="utf-8")
        (folder / "provenance.json").write_text(json.dumps(provenance, indent=2, default=str) + "\n",
                                                encoding="utf-8")
        store = store_path(out)
        if (store / "points").is_dir():
            (store / "points").rename(folder / "points")
    shutil.rmtree(store_path(out), ignore_errors=True)
    return out


def resume_store(out: str | Path) -> Path:
    """The store for a run into ``out``: :func:`store_path`, seeded with the finished areas of an
    earlier results folder at ``out`` (copied, so that folder is untouched until replaced)."""
    store = store_path(out)
    earlier = Path(out) / "points"
    if earlier.is_dir():
        (store / "points").mkdir(parents=True, exist_ok=True)
        for item in earlier.glob("[!.]*.parquet"):
            target = store / "points" / item.name
            if not target.exists():
                shutil.copy2(item, target)
    return store


__all__ = [
    "ADDITIVE",
    "Area",
    "AreaDone",
    "AreaSet",
    "AreasError",
    "AreasResult",
    "AreasRunError",
    "load_areas",
    "replication_tallies",
    "resume_store",
    "run_areas",
    "store_path",
    "total_table",
    "window_counts",
    "write_areas",
]
