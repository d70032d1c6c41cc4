"""An area's observed series as data: a long CSV of published counts into ``observed:`` points.

One row per figure, aggregate counts only (never a row per child). Columns, matched ignoring
case and surrounding spaces, read as :func:`asdsim.experiments.calibrate.read_table` reads every
CSV of an area (encodings, quoting, line numbers; any other column is dropped unread):

* ``date`` -- the day a stock was counted, or the last day of a flow's period;
* ``measure`` -- a stock on the date: ``open_referrals``, ``awaiting_assessment``,
  ``waiting_over_N_weeks`` and ``awaiting_assessment_over_N_weeks`` (or the names without
  ``_N_weeks`` suffix and an ``over_weeks`` column), ``longest_wait_weeks``; or a flow over the
  period: ``referrals_received``, ``assessments_started``, ``first_contacts_within_13_weeks``
  (case, spaces and hyphens ignored); see :mod:`asdsim.analysis.validation` for how the model
  counts each;
* ``value`` -- the figure: a whole number of children, or weeks for ``longest_wait_weeks``;
  ``*`` (a count suppressed for being small, as national statistics publish them) skips the row;
* optional ``over_weeks``, ``locality`` (a name in the scenario's ``demand.localities``),
  ``age_group`` (``0-17``, ``18+``: whole years at referral) and ``period_start`` (the first day
  of a flow's period; required for flows).

Dates are read by the rule of every other file of an area (:mod:`asdsim.scenario.dates`):
YYYY-MM-DD, or with ``dayfirst`` (the default) DD/MM/YYYY. A figure must fall within the
scenario's horizon, and one figure (date, measure, weeks, locality, age group, period) may be
given once. Every problem names the file, line, column and rule; no message repeats a cell.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from asdsim.errors import Problem, ScenarioError
from asdsim.experiments.calibrate import DATE_SWITCH, normal_name, read_table
from asdsim.scenario.dates import date_rule, parse_date
from asdsim.scenario.schema import FLOW_MEASURES, ObservedPoint, Scenario
from asdsim.scenario.snapshot import did_you_mean

COLUMNS = ("date", "measure", "value", "over_weeks", "locality", "age_group", "period_start")
"""The only columns read."""
STOCKS = ("open_referrals", "awaiting_assessment", "waiting_over_weeks",
          "awaiting_assessment_over_weeks", "longest_wait_weeks")
"""Measures counted on a date."""
MEASURES = (*STOCKS, *FLOW_MEASURES)
_OVER = re.compile(r"(waiting|awaiting_assessment)_over_(\d+(?:\.\d+)?)_weeks")
_AGE_GROUP = re.compile(r"\d{1,2}(?:-\d{1,2}|\+)")
SUPPRESSED = "*"
"""A value published as suppressed (a small count); the row is skipped."""


@dataclass(frozen=True)
class ObservedSeries:
    """The points of an observed-series file, in file order."""

    shown: str
    """The file, as named in messages."""
    points: tuple[ObservedPoint, ...]
    """One point per row read (``use: calibration``; ``source`` names the file and line)."""
    lines: tuple[int, ...]
    """The line of each point in the file."""
    suppressed: int
    """Rows skipped because their value was suppressed (``*``)."""


def _measure(text: str) -> tuple[str, float | None] | str:
    """The measure and its N of 'over N weeks' (None: not given in the name), or why not."""
    name = normal_name(text)
    over = _OVER.fullmatch(name)
    if over is not None:
        return f"{over.group(1)}_over_weeks", float(over.group(2))
    if name in MEASURES:
        return name, None
    return f"expected one of {', '.join(MEASURES)} (or awaiting_assessment_over_12_weeks and " \
           f"the like){did_you_mean(name, list(MEASURES))}"


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "")) if re.fullmatch(r"[\d,]*\.?\d+", text) else None
    except ValueError:
        return None
    return value


def read_observed(path: str | Path, scenario: Scenario, dayfirst: bool = True) -> ObservedSeries:
    """Read an observed-series file against a scenario's horizon and localities.

    Parameters
    ----------
    path
        The CSV file (see the module docstring).
    scenario
        The scenario the points are for: each date must fall within its horizon.
    dayfirst
        Read ``03/04/2024`` as 3 April (the default); False reads it as 4 March.

    Returns
    -------
    ObservedSeries
        The points, their lines, and how many rows were suppressed.

    Raises
    ------
    ScenarioError
        Naming the file, line and column of every bad row (first 50), never a cell's content.
    """
    table = read_table(path, "observed series", COLUMNS, [("date",), ("measure",), ("value",)])
    problems, have = table.problems, table.columns
    shown, name = table.shown, Path(path).name
    rule = date_rule(dayfirst)
    localities = {normal_name(loc): loc for loc in scenario.demand.localities}
    start, end = scenario.start_date, scenario.end_date
    points: list[ObservedPoint] = []
    lines: list[int] = []
    seen: dict[tuple[object, ...], int] = {}
    suppressed = 0

    def date_in(line: int, column: str) -> dt.date | None:
        text = row.get(column, "")
        day = parse_date(text, rule, switch=DATE_SWITCH) if text else "is empty; expected a date"
        if isinstance(day, str):
            problems.add(line, column, day)
            return None
        if not start <= day <= end:
            problems.add(line, column, f"is outside the scenario's horizon ({start} to {end})")
            return None
        return day

    for line, row in table.rows:
        if row["value"] == SUPPRESSED:
            suppressed += 1
            continue
        ok = True
        day = date_in(line, "date")
        found = _measure(row["measure"]) if row["measure"] else "is empty; expected a measure"
        if isinstance(found, str):
            problems.add(line, "measure", found)
            measure, over = "", None
            ok = False
        else:
            measure, over = found
        if "over_weeks" in have and row["over_weeks"]:
            weeks = _number(row["over_weeks"])
            if weeks is None or weeks > 520:
                problems.add(line, "over_weeks", "expected a number of weeks from 0 to 520")
                ok = False
            elif over is not None and weeks != over:
                problems.add(line, "over_weeks", "differs from the weeks named in the measure")
                ok = False
            else:
                over = weeks
        if measure.endswith("_over_weeks") and over is None:
            problems.add(line, "measure", f"{measure} needs its weeks: write the measure as "
                         f"{measure.removesuffix('_weeks')}_12_weeks or give an over_weeks column")
            ok = False
        elif measure and not measure.endswith("_over_weeks") and over is not None:
            problems.add(line, "over_weeks", "goes only with the ..._over_weeks measures")
            ok = False
        value = _number(row["value"]) if row["value"] else None
        if value is None:
            problems.add(line, "value", "expected a number 0 or more (or * where the count was "
                         "suppressed)")
            ok = False
        elif measure != "longest_wait_weeks" and value != int(value):
            problems.add(line, "value", "expected a whole number of children (aggregate counts "
                         "only)")
            ok = False
        locality = None
        if "locality" in have and row["locality"]:
            locality = localities.get(normal_name(row["locality"]))
            if locality is None:
                problems.add(line, "locality", f"expected one of "
                             f"{', '.join(scenario.demand.localities)} (case, spaces and hyphens "
                             f"ignored){did_you_mean(normal_name(row['locality']), list(localities))}")
                ok = False
        age_group = None
        if "age_group" in have and row["age_group"]:
            age_group = row["age_group"].replace(" ", "")
            low, _, high = age_group.rstrip("+").partition("-")
            if _AGE_GROUP.fullmatch(age_group) is None or (high and int(high) < int(low)):
                problems.add(line, "age_group", "expected whole years as 0-17 (inclusive) or 18+")
                ok = False
        period_start = None
        if measure in FLOW_MEASURES:
            if "period_start" not in have or not row["period_start"]:
                problems.add(line, "period_start", f"is needed for {measure}, a count over a "
                             "period: its first day")
                ok = False
            else:
                period_start = date_in(line, "period_start")
                ok = ok and period_start is not None
                if period_start is not None and day is not None and period_start > day:
                    problems.add(line, "period_start", "is after date; expected the period's "
                                 "first day, on or before its last")
                    ok = False
        elif measure and "period_start" in have and row["period_start"]:
            problems.add(line, "period_start", f"goes only with the counts over a period "
                         f"({', '.join(FLOW_MEASURES)}); {measure} is counted on a date")
            ok = False
        if not ok or day is None or value is None:
            continue
        key = (day, measure, over, locality, age_group, period_start)
        if key in seen:
            problems.add(line, "", f"gives the same figure as line {seen[key]} (date, measure, "
                         "weeks, locality, age group and period); give each figure once")
            continue
        seen[key] = line
        try:
            points.append(ObservedPoint(
                date=day, measure=measure, value=value, over_weeks=over, locality=locality,  # type: ignore[arg-type]
                age_group=age_group, period_start=period_start, use="calibration",
                source=f"{name} line {line}"))
        except ValidationError as exc:  # a rule of the scenario format the checks above missed
            problems.add(line, "", str(exc.errors(include_url=False, include_input=False)[0]
                                       .get("msg", "is not a valid figure")))
            continue
        lines.append(line)
    if problems.items:
        raise ScenarioError(problems.all())
    if not points:
        raise ScenarioError([Problem(shown, None, "value", "every row's count is suppressed (*); "
                                     "nothing to compare with")])
    return ObservedSeries(shown, tuple(points), tuple(lines), suppressed)
