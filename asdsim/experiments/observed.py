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
from asdsim.scenario.csvfile import RowProblems
from asdsim.scenario.dates import DateRule, date_rule, parse_date
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
    problems, shown, name = table.problems, table.shown, Path(path).name
    reader = _RowReader(problems, table.columns, date_rule(dayfirst), scenario)
    points: list[ObservedPoint] = []
    lines: list[int] = []
    seen: dict[tuple[object, ...], int] = {}
    suppressed = 0
    for line, row in table.rows:
        if row["value"] == SUPPRESSED:
            suppressed += 1
            continue
        figure = reader.figure(line, row)
        if figure is None:
            continue
        key, value = figure
        if key in seen:
            problems.add(line, "", f"gives the same figure as line {seen[key]} (date, measure, "
                         "weeks, locality, age group and period); give each figure once")
            continue
        seen[key] = line
        point = _point(key, value, f"{name} line {line}")
        if isinstance(point, str):
            problems.add(line, "", point)
            continue
        points.append(point)
        lines.append(line)
    if problems.items:
        raise ScenarioError(problems.all())
    if not points:
        raise ScenarioError([Problem(shown, None, "value", "every row's count is suppressed (*); "
                                     "nothing to compare with")])
    return ObservedSeries(shown, tuple(points), tuple(lines), suppressed)


def _point(key: tuple, value: float, source: str) -> ObservedPoint | str:
    """The point of one checked row, or the scenario format's message where it refuses it."""
    day, measure, over, locality, age_group, period_start = key
    try:
        return ObservedPoint(
            date=day, measure=measure, value=value, over_weeks=over, locality=locality,
            age_group=age_group, period_start=period_start, use="calibration", source=source)
    except ValidationError as exc:  # a rule of the scenario format the row checks missed
        return str(exc.errors(include_url=False, include_input=False)[0]
                   .get("msg", "is not a valid figure"))


class _RowReader:
    """Reads the cells of one row of an observed series, adding a problem for each bad one."""

    def __init__(self, problems: RowProblems, have: frozenset[str], rule: DateRule,
                 scenario: Scenario):
        self.problems, self.have, self.rule = problems, have, rule
        self.names = scenario.demand.localities
        self.localities = {normal_name(loc): loc for loc in self.names}
        self.start, self.end = scenario.start_date, scenario.end_date

    def _given(self, row: dict[str, str], column: str) -> str:
        """The cell of an optional column, or "" where the header or the row has none."""
        return row[column] if column in self.have else ""

    def figure(self, line: int, row: dict[str, str]) -> tuple[tuple, float] | None:
        """The row's key (date, measure, weeks, locality, age group, period) and value.

        None where any cell of the row was bad (each such cell adds its problem), so a bad row
        is never taken as the first of two rows giving the same figure.
        """
        before = len(self.problems.items) + self.problems.more
        day = self.date(line, row, "date")
        measure, over = self.measure(line, row)
        value = self.value(line, row, measure)
        locality = self.locality(line, row)
        age_group = self.age_group(line, row)
        period_start = self.period_start(line, row, measure, day)
        if len(self.problems.items) + self.problems.more > before:
            return None
        return (day, measure, over, locality, age_group, period_start), value

    def date(self, line: int, row: dict[str, str], column: str) -> dt.date | None:
        """A date of the row within the scenario's horizon (None: a problem was added)."""
        text = row.get(column, "")
        day = parse_date(text, self.rule, switch=DATE_SWITCH) if text else \
            "is empty; expected a date"
        if isinstance(day, str):
            self.problems.add(line, column, day)
            return None
        if not self.start <= day <= self.end:
            self.problems.add(line, column, f"is outside the scenario's horizon ({self.start} to "
                              f"{self.end})")
            return None
        return day

    def measure(self, line: int, row: dict[str, str]) -> tuple[str, float | None]:
        """The measure ("" where bad) and its weeks, from its name or the over_weeks column."""
        found = _measure(row["measure"]) if row["measure"] else "is empty; expected a measure"
        if isinstance(found, str):
            self.problems.add(line, "measure", found)
            measure, over = "", None
        else:
            measure, over = found
        over = self.weeks(line, row, over)
        if measure.endswith("_over_weeks") and over is None:
            self.problems.add(line, "measure", f"{measure} needs its weeks: write the measure as "
                              f"{measure.removesuffix('_weeks')}_12_weeks or give an over_weeks "
                              "column")
        elif measure and not measure.endswith("_over_weeks") and over is not None:
            self.problems.add(line, "over_weeks", "goes only with the ..._over_weeks measures")
        return measure, over

    def weeks(self, line: int, row: dict[str, str], named: float | None) -> float | None:
        """The over_weeks cell where given (agreeing with the weeks in the measure's name)."""
        text = self._given(row, "over_weeks")
        if not text:
            return named
        weeks = _number(text)
        if weeks is None or weeks > 520:
            self.problems.add(line, "over_weeks", "expected a number of weeks from 0 to 520")
        elif named is not None and weeks != named:
            self.problems.add(line, "over_weeks", "differs from the weeks named in the measure")
        else:
            return weeks
        return named

    def value(self, line: int, row: dict[str, str], measure: str) -> float | None:
        """The figure: a whole number of children, or weeks for the longest wait."""
        value = _number(row["value"]) if row["value"] else None
        if value is None:
            self.problems.add(line, "value", "expected a number 0 or more (or * where the count "
                              "was suppressed)")
        elif measure != "longest_wait_weeks" and value != int(value):
            self.problems.add(line, "value", "expected a whole number of children (aggregate "
                              "counts only)")
        return value

    def locality(self, line: int, row: dict[str, str]) -> str | None:
        """The scenario's name of the row's locality (None: not given or unknown)."""
        text = self._given(row, "locality")
        if not text:
            return None
        locality = self.localities.get(normal_name(text))
        if locality is None:
            self.problems.add(line, "locality", f"expected one of {', '.join(self.names)} (case, "
                              f"spaces and hyphens ignored)"
                              f"{did_you_mean(normal_name(text), list(self.localities))}")
        return locality

    def age_group(self, line: int, row: dict[str, str]) -> str | None:
        """The age group, as 0-17 or 18+ (None: not given)."""
        text = self._given(row, "age_group")
        if not text:
            return None
        age_group = text.replace(" ", "")
        low, _, high = age_group.rstrip("+").partition("-")
        if _AGE_GROUP.fullmatch(age_group) is None or (high and int(high) < int(low)):
            self.problems.add(line, "age_group", "expected whole years as 0-17 (inclusive) or 18+")
        return age_group

    def period_start(self, line: int, row: dict[str, str], measure: str,
                     day: dt.date | None) -> dt.date | None:
        """A flow's first day (required for flows, refused for stocks)."""
        given = self._given(row, "period_start")
        if measure not in FLOW_MEASURES:
            if measure and given:
                self.problems.add(line, "period_start", f"goes only with the counts over a "
                                  f"period ({', '.join(FLOW_MEASURES)}); {measure} is counted "
                                  "on a date")
            return None
        if not given:
            self.problems.add(line, "period_start", f"is needed for {measure}, a count over a "
                              "period: its first day")
            return None
        period_start = self.date(line, row, "period_start")
        if period_start is not None and day is not None and period_start > day:
            self.problems.add(line, "period_start", "is after date; expected the period's first "
                              "day, on or before its last")
        return period_start
