"""Fitting a scenario to an area's own data: ``asdsim calibrate``.

Inputs are CSV files of people's records, read as safely as a snapshot
(:mod:`asdsim.scenario.snapshot`, whose helpers this module uses): only the named columns are
read (header names matched ignoring case and surrounding spaces), UTF-8 with or without a
byte-order mark, UTF-16 with one, or Windows-1252; and every bad row is reported by line and
column without repeating a cell.

* ``referrals.csv``, one row per referral: ``referral_date`` (required), ``age_years`` or
  ``date_of_birth``, ``source``, ``locality``, ``triage_outcome`` (each optional: what is missing
  is not fitted). Dates are YYYY-MM-DD or, with ``dayfirst`` (the UK default), DD/MM/YYYY (with
  ``/``, ``.`` or ``-``); ``dayfirst=False`` reads MM/DD/YYYY. A time of day after a date is
  ignored. Sources and localities are matched to the base scenario's names ignoring case, spaces
  and hyphens ("Health visitor" is ``health_visitor``).
* ``waiting_list.csv``: today's list in the snapshot format, its dates read by the same rule
  (:func:`asdsim.scenario.dates.parse_date`), which becomes the calibrated scenario's starting
  state (``initial_state: {kind: csv, dates: day_first}``, or ``month_first`` without
  ``dayfirst``, so the scenario reads the file the same way when it is loaded again).
* ``activity.csv``, one row per booked appointment: ``step`` (a step name of the base scenario),
  ``attended`` (yes or no), and optionally ``team`` and ``duration_minutes`` (or
  ``duration_hours``).

The fits
--------
**Referrals.** The days from the first to the last referral date are split into pieces within
which the week, the calendar month and the step changes in force are all constant (a week
across two months gives two pieces). The count in each piece is modelled as Poisson with mean
``exposure * exp(b0 + b_trend * t + g_month + sum b_step)``, where ``t`` is the piece's midpoint
in years, ``exposure`` its number of days (weighted by the day-of-week mix of referrals when
that mix is clearly uneven, so a piece of two weekend days is not expected to hold two sevenths
of a week's referrals), ``g_month`` a month-of-year effect and ``b_step`` the effect of each
dated step change (``step_changes``, in force from its date). This is the model's own referral
process (:mod:`asdsim.model.demand`) summed over the pieces, fitted by maximum likelihood as a
Poisson GLM (statsmodels). Then ``annual_growth = exp(b_trend) - 1``; the monthly factors are
``exp(g_month)`` scaled to a mean of 1 (the format's convention); a step change's factor is
``exp(b_step)``; and ``referrals_per_week`` is the fitted weekly rate before seasonality at the
scenario's ``start_date``, extrapolated from the data by the trend, with every step change in
force. Intervals are 95%: Wald intervals of the coefficients, transformed (growth, step
factors), or percentiles of coefficients drawn from their fitted normal distribution (monthly
factors, the rate at the start).

**Over-dispersion.** Poisson counts have variance equal to the mean. The Pearson chi-squared
statistic over its residual degrees of freedom estimates the ratio; when the chi-squared test
rejects a ratio of 1 (p < 0.05) the referrals are more variable than Poisson (clusters of
referrals, unmodelled changes), the fit says so, and the intervals are widened by the ratio
(quasi-Poisson). The simulation's referrals stay Poisson, so its spread then understates the
real one.

**Mixes.** Shares of age bands (the base scenario's bands, the outer ends widened to the ages
seen), sources, localities and triage outcomes are the proportions in the data, each with a
Wilson 95% interval. An age comes from ``age_years`` or ``date_of_birth`` as whole months at
referral, like a snapshot's.

**Activity.** A step's DNA probability is the share of its booked appointments not attended
(Wilson interval); its hours are scaled so the longest group's hours equal the mean length of
attended appointments (t interval).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import itertools
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from asdsim.analysis.utilisation import over_capacity
from asdsim.errors import AsdsimError, Problem, ScenarioError
from asdsim.scenario.dates import DateRule, date_rule, parse_date
from asdsim.scenario.loading import load_scenario, scenario_files, scenario_from_dict
from asdsim.scenario.schema import Scenario
from asdsim.scenario.snapshot import (
    MAX_SNAPSHOT_BYTES,
    STAGES,
    RowProblems,
    Snapshot,
    csv_field_limit,
    decode_text,
    did_you_mean,
    months_between,
    read_snapshot,
)
from asdsim.scenario.values import ValueProblem, name_key, parse_number
from asdsim.scenario.yamlfile import display_path, read_limited

LEVEL = 0.95
"""Confidence level of every interval."""
MIN_DAYS = 56
"""Fewest days of referrals fitted (eight weeks)."""
SEASONAL_DAYS = 365
"""Fewest days of referrals for month-of-year factors (otherwise the base's are kept)."""
GROWTH_DAYS = 365
"""Fewest days of referrals for the annual growth (otherwise the base's is kept, as assumed)."""
MAX_GAP_DAYS = 365
"""Longest run of days without a referral inside the history: a longer gap is a date typed
wrongly (a year decades out) or an extract missing a year, and a rate is not fitted across it."""
DISPERSION_P = 0.05
"""Significance level of the over-dispersion test."""
WEEKDAY_P = 0.001
"""Significance level at which the day-of-week mix of referrals is taken as uneven."""
DRAWS = 4000
"""Coefficient draws for the intervals of the monthly factors and the rate at the start."""
WAIT_BANDS = (0, 4, 13, 26, 52, 104)
"""Lower ends, in weeks, of the bands of time waited in the waiting-list summary."""
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

DATE_SWITCH: dict[DateRule, str] = {"iso": "YYYY-MM-DD dates", "day_first": "--dayfirst (day first)",
                                    "month_first": "--no-dayfirst (month first)"}
"""How a user of ``asdsim calibrate`` asks for each date rule (named in messages about dates)."""
_DATE_FORMS: dict[DateRule, str] = {"iso": "", "day_first": "DD/MM/YYYY",
                                    "month_first": "MM/DD/YYYY"}
TRIAGE_NAMES = {"accept": "accept", "accepted": "accept", "reject": "reject", "rejected": "reject",
                "declined": "reject", "more_information": "more_information",
                "more_info": "more_information", "information_requested": "more_information",
                "more_information_requested": "more_information"}
"""Triage outcomes as written (case, spaces and hyphens ignored) and the outcome each is."""
ATTENDED = {"yes": True, "y": True, "true": True, "1": True, "attended": True, "seen": True,
            "no": False, "n": False, "false": False, "0": False, "dna": False,
            "did_not_attend": False, "was_not_brought": False, "not_attended": False}
"""Values of ``attended`` (case, spaces and hyphens ignored)."""


# ---------------------------------------------------------------------------------- reading


def normal_name(text: str) -> str:
    """A category as compared (:func:`asdsim.scenario.values.name_key`): NFC, case folded, with
    runs of spaces, hyphens and underscores as one underscore."""
    return name_key(text)


@dataclass
class Table:
    """The read columns of a CSV file, row by row, with line numbers."""

    shown: str
    """How the file is named in messages."""
    columns: frozenset[str]
    """Which of the columns asked for the header has."""
    rows: list[tuple[int, dict[str, str]]]
    """(line, column -> stripped cell) of each non-empty row of the right width."""
    repeated: int
    """Rows repeating an earlier row in every column (read or not)."""
    problems: RowProblems
    """Problems found so far, by line and column."""


def read_table(path: str | Path, what: str, read: Sequence[str],
               required: Sequence[Sequence[str]]) -> Table:
    """Read the named columns of a CSV file, safely (see the module docstring).

    Parameters
    ----------
    path
        The file.
    what
        What it is, for messages (``"referrals file"``).
    read
        The columns read; any other is split off and dropped unread.
    required
        Groups of columns of which the header must have at least one each.

    Raises
    ------
    ScenarioError
        For a file that cannot be read as such a table (missing, encoding, header, no rows).
    """
    shown = display_path(path)
    raw = read_limited(path, MAX_SNAPSHOT_BYTES, what=what, shown=shown)
    text, _ = decode_text(raw, shown)
    problems = RowProblems(shown)
    if not text.strip():
        raise ScenarioError([Problem(shown, None, "", f"the {what} is empty: expected a header "
                                     f"naming the columns ({', '.join(read)}) and one row each")])
    import csv

    with csv_field_limit(len(text) + 1):
        reader = csv.reader(io.StringIO(text, newline=""), strict=False)
        try:
            cells = next(reader)
        except csv.Error:
            raise ScenarioError([Problem(shown, 1, "", "the header row is not valid CSV")]) from None
        header = [h.strip().lstrip("\ufeff").lower() for h in cells]
        for column in read:
            if header.count(column) > 1:
                raise ScenarioError([Problem(shown, 1, column, "the header names this column "
                                             "more than once")])
        present = frozenset(c for c in read if c in header)
        missing = [" or ".join(group) for group in required if not any(c in present for c in group)]
        if missing:
            hint = next((f"; the header has {name} in it: columns must be separated by commas"
                         for sep, name in ((";", "semicolons"), ("\t", "tabs"))
                         if any(sep in h for h in cells)), "")
            raise ScenarioError([Problem(shown, 1, "", (
                f"missing column(s): {', '.join(missing)} (the columns read are "
                f"{', '.join(read)}){hint}"))])
        index = {c: header.index(c) for c in present}
        rows: list[tuple[int, dict[str, str]]] = []
        seen: set[bytes] = set()
        repeated = 0
        line = reader.line_num + 1
        try:
            for cells in reader:
                start, line = line, reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(header) and not (
                        len(cells) > len(header) and not any(c.strip() for c in cells[len(header):])):
                    problems.add(start, "", f"the row has {len(cells)} cells but the header has "
                                 f"{len(header)} columns (a comma inside a cell must be within "
                                 "double quotes)")
                    continue
                key = hashlib.sha256("\x1f".join(c.strip() for c in cells).encode()).digest()
                repeated += key in seen
                seen.add(key)
                rows.append((start, {c: cells[i].strip() for c, i in index.items()}))
        except csv.Error:
            problems.add(line, "", "the row is not valid CSV (check its double quotes)")
    if not rows and not problems.items:
        raise ScenarioError([Problem(shown, None, "", f"the {what} has a header but no rows")])
    return Table(shown, present, rows, repeated, problems)


def _categories(names: Sequence[str]) -> dict[str, str]:
    return {normal_name(n): n for n in names}


def _category(row: dict[str, str], column: str, names: dict[str, str], line: int,
              problems: RowProblems, allowed: str) -> str | None:
    text = row.get(column, "")
    if not text:
        problems.add(line, column, f"is empty; expected one of {allowed}")
        return None
    found = names.get(normal_name(text))
    if found is None:
        hint = did_you_mean(normal_name(text), list(names))
        problems.add(line, column, f"expected one of {allowed} (case, spaces and hyphens "
                     f"ignored){hint}")
    return found


@dataclass(frozen=True)
class Referrals:
    """Referrals as read: one array element per referral (only the columns read)."""

    shown: str
    """The file, for messages and the report."""
    day: np.ndarray
    """Referral dates as ``datetime64[D]``."""
    age_months: np.ndarray | None
    """Whole months of age at referral (None when the file has no age column)."""
    source: np.ndarray | None
    """The base scenario's source name of each referral (None without a source column)."""
    locality: np.ndarray | None
    """The base scenario's locality of each referral (None without a locality column)."""
    triage: np.ndarray | None
    """Triage outcome, or "" where not yet triaged (None without a triage_outcome column)."""
    repeated: int
    """Rows repeating an earlier row in every column."""
    line: np.ndarray | None = None
    """The file's line of each referral (for messages)."""


def _check_gaps(read: Referrals) -> None:
    """Refuse a history with a gap longer than :data:`MAX_GAP_DAYS`, naming the lines of the
    referrals on the smaller side of it (a year typed wrongly puts one there), never a date."""
    if len(read.day) < 2:
        return
    order = np.argsort(read.day, kind="stable")
    days = read.day[order]
    gaps = np.diff(days).astype(int)
    widest = int(np.argmax(gaps))
    if gaps[widest] <= MAX_GAP_DAYS:
        return
    before, after = order[: widest + 1], order[widest + 1:]
    side = before if len(before) <= len(after) else after
    lines = sorted(int(read.line[i]) for i in side) if read.line is not None else []
    where = "before" if side is before else "after"
    shown = ", ".join(str(n) for n in lines[:10]) + (f" and {len(lines) - 10} more"
                                                     if len(lines) > 10 else "")
    raise ScenarioError([Problem(read.shown, lines[0] if lines else None, "referral_date", (
        f"{len(side)} referral{'s' if len(side) != 1 else ''} (line{'s' if len(side) != 1 else ''} "
        f"{shown}) {'are' if len(side) != 1 else 'is'} more than {MAX_GAP_DAYS} days {where} every "
        "other referral: check the year; a rate is not fitted across a gap of a year with no "
        "referrals (remove rows outside the period the extract covers)"))])


def read_referrals(path: str | Path, base: Scenario, dayfirst: bool = True) -> Referrals:
    """Read a referrals file against a base scenario's sources, localities and ages.

    Raises
    ------
    ScenarioError
        Naming the line and column of every bad row (first 50), never a cell's content.
    """
    columns = ("referral_date", "age_years", "date_of_birth", "source", "locality", "triage_outcome")
    table = read_table(path, "referrals file", columns, [("referral_date",)])
    problems, have = table.problems, table.columns
    sources, localities = _categories(list(base.demand.sources)), _categories(list(base.demand.localities))
    limit, start = base.routing.age_out_years, base.start_date
    days: list[dt.date] = []
    ages: list[int] = []
    srcs: list[str] = []
    locs: list[str] = []
    triage: list[str] = []
    lines: list[int] = []
    rule = date_rule(dayfirst)
    for line, row in table.rows:
        ok = True
        day = parse_date(row["referral_date"], rule, switch=DATE_SWITCH) if row["referral_date"] \
            else "is empty; " \
            "expected the date of referral"
        if isinstance(day, str):
            problems.add(line, "referral_date", day)
            ok = False
        elif day >= start:
            problems.add(line, "referral_date", f"is on or after the base scenario's start_date "
                         f"({start}); set start_date to the day the data end (today's list)")
            ok = False
        months: int | None = None
        if "age_years" in have or "date_of_birth" in have:
            if row.get("age_years"):
                try:
                    months = math.floor(parse_number(row["age_years"], 0.0) * 12 + 1e-9)
                except ValueProblem as why:
                    problems.add(line, "age_years", f"{why} (a number of years, 0 or more, like 5.5)")
                    ok = False
            elif row.get("date_of_birth"):
                born = parse_date(row["date_of_birth"], rule, switch=DATE_SWITCH)
                if isinstance(born, str):
                    problems.add(line, "date_of_birth", born)
                    ok = False
                elif isinstance(day, dt.date):
                    if born > day:
                        problems.add(line, "date_of_birth", "is after referral_date")
                        ok = False
                    else:
                        months = months_between(born, day)
            else:
                problems.add(line, "age_years" if "age_years" in have else "date_of_birth",
                             "age_years or date_of_birth is needed; both are empty")
                ok = False
            if months is not None and months / 12.0 >= limit:
                problems.add(line, "age_years" if row.get("age_years") else "date_of_birth",
                             f"gives an age at referral of {limit:g} or more; the pathway is for "
                             "children")
                ok = False
        source = locality = None
        if "source" in have:
            source = _category(row, "source", sources, line, problems, ", ".join(sources.values()))
            ok = ok and source is not None
        if "locality" in have:
            locality = _category(row, "locality", localities, line, problems,
                                 ", ".join(localities.values()))
            ok = ok and locality is not None
        outcome = ""
        if "triage_outcome" in have and row["triage_outcome"]:
            outcome = TRIAGE_NAMES.get(normal_name(row["triage_outcome"]), "")
            if not outcome:
                problems.add(line, "triage_outcome", "expected accept, reject or more information, "
                             "or empty while not yet triaged")
                ok = False
        if ok and isinstance(day, dt.date):
            lines.append(line)
            days.append(day)
            ages.append(-1 if months is None else months)
            srcs.append(source or "")
            locs.append(locality or "")
            triage.append(outcome)
    if problems.items:
        raise ScenarioError(problems.all())
    age_column = "age_years" in have or "date_of_birth" in have
    return Referrals(
        shown=table.shown, day=np.array(days, dtype="datetime64[D]"),
        age_months=np.array(ages, dtype=np.int64) if age_column else None,
        source=np.array(srcs) if "source" in have else None,
        locality=np.array(locs) if "locality" in have else None,
        triage=np.array(triage) if "triage_outcome" in have else None,
        repeated=table.repeated, line=np.array(lines, dtype=np.int64))


@dataclass(frozen=True)
class Activity:
    """Booked appointments as read."""

    shown: str
    """The file."""
    team: np.ndarray
    """Team of each appointment ("" where the file has no team column)."""
    step: np.ndarray
    """Step name as in the base scenario."""
    attended: np.ndarray
    """True where attended, False for a DNA."""
    hours: np.ndarray
    """Length of an attended appointment in hours (NaN where not given or not attended)."""


def read_activity(path: str | Path, base: Scenario) -> Activity:
    """Read an activity file against a base scenario's teams and steps.

    Raises
    ------
    ScenarioError
        Naming the line and column of every bad row (first 50), never a cell's content.
    """
    columns = ("team", "step", "attended", "duration_minutes", "duration_hours")
    table = read_table(path, "activity file", columns, [("step",), ("attended",)])
    problems, have = table.problems, table.columns
    teams = _categories(list(base.teams))
    steps_of = {name: _categories([s.name for s in team.steps]) for name, team in base.teams.items()}
    all_steps = _categories([s.name for team in base.teams.values() for s in team.steps])
    unit = 60.0 if "duration_minutes" in have else 1.0
    duration = "duration_minutes" if "duration_minutes" in have else "duration_hours"
    out: dict[str, list[Any]] = {"team": [], "step": [], "attended": [], "hours": []}
    for line, row in table.rows:
        ok = True
        team = ""
        if "team" in have:
            team = _category(row, "team", teams, line, problems, ", ".join(teams.values())) or ""
            ok = bool(team)
        names = steps_of[team] if team else all_steps
        step = _category(row, "step", names, line, problems, ", ".join(names.values()))
        ok = ok and step is not None
        attended = ATTENDED.get(normal_name(row["attended"])) if row["attended"] else None
        if attended is None:
            problems.add(line, "attended", "expected yes (attended) or no (did not attend)")
            ok = False
        hours = math.nan
        if duration in have and row[duration] and attended:
            try:
                hours = parse_number(row[duration], 0.0, 24.0 * unit) / unit
                if hours <= 0:
                    raise ValueProblem("is 0")
            except ValueProblem:
                problems.add(line, duration, "expected a length above 0 and at most a day, like "
                             + ("60" if unit == 60.0 else "1.5"))
                ok = False
        if ok:
            for key, value in (("team", team), ("step", step), ("attended", attended), ("hours", hours)):
                out[key].append(value)
    if problems.items:
        raise ScenarioError(problems.all())
    return Activity(table.shown, np.array(out["team"], dtype=str), np.array(out["step"], dtype=str),
                    np.array(out["attended"], dtype=bool), np.array(out["hours"], dtype=float))


# ---------------------------------------------------------------------------------- fitting


def wilson(count: float, total: float, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion ``count / total``."""
    if total <= 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = count / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ReferralFit:
    """The Poisson GLM of referral counts and what it gives the scenario."""

    first_day: dt.date
    """First day of the data."""
    last_day: dt.date
    """Last day of the data."""
    start_date: dt.date
    """Date the rate is extrapolated to (the scenario's start)."""
    referrals: int
    """Referrals fitted."""
    coefficients: pd.DataFrame
    """term, estimate, std_error, ci_low, ci_high (log scale), from the GLM."""
    parameters: pd.DataFrame
    """parameter, value, ci_low, ci_high: referrals_per_week, annual_growth,
    monthly_factors[i] and one ``step_change[DATE]`` per step change."""
    weekly: pd.DataFrame
    """week_start, days, observed, fitted, trend (fitted without seasonality)."""
    dispersion: float
    """Pearson chi-squared over residual degrees of freedom (1 for Poisson)."""
    dispersion_p: float
    """p-value of the chi-squared test of a ratio of 1."""
    overdispersed: bool
    """Whether the counts are more variable than Poisson (the intervals then use quasi-Poisson)."""
    seasonal: bool
    """Whether month-of-year factors were fitted."""
    weekday_weighted: bool
    """Whether pieces of weeks were weighted by an uneven day-of-week mix."""
    growth_fitted: bool = True
    """Whether the annual growth was fitted (False: the history is shorter than
    :data:`GROWTH_DAYS`, and the assumed growth given was kept)."""
    warnings: tuple[str, ...] = ()
    """Kinds of the warnings the model fit raised (``ConvergenceWarning``, ...), for a note:
    they are never printed as they come (a message names no data, and is one line)."""

    def value(self, parameter: str) -> float:
        """The fitted value of a parameter."""
        return float(self.parameters.set_index("parameter").loc[parameter, "value"])


def fit_referrals(days: np.ndarray, start_date: dt.date, step_changes: Sequence[dt.date] = (),
                  seed: int = 0, assumed_growth: float = 0.0) -> ReferralFit:
    """Fit the referral process to referral dates (:func:`_fit_referrals`), collecting the
    numerical warnings of the fit into :attr:`ReferralFit.warnings`."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        fit = _fit_referrals(days, start_date, step_changes, seed, assumed_growth)
    kinds = tuple(sorted({w.category.__name__ for w in caught}))
    return dataclasses.replace(fit, warnings=kinds) if kinds else fit


def _fit_referrals(days: np.ndarray, start_date: dt.date, step_changes: Sequence[dt.date] = (),
                   seed: int = 0, assumed_growth: float = 0.0) -> ReferralFit:
    """Fit the referral process to referral dates (see the module docstring).

    Parameters
    ----------
    days
        Referral dates (anything ``numpy.datetime64[D]`` accepts), one per referral.
    start_date
        Date to extrapolate the weekly rate to: the scenario's start, after the data.
    step_changes
        Dates from which a lasting change in the rate is fitted; each within the data.
    seed
        Seed of the coefficient draws for intervals (for reproducible output).
    assumed_growth
        The annual growth kept when the history is shorter than :data:`GROWTH_DAYS`: the trend
        is then fixed at it, not fitted (a few weeks cannot tell growth from noise).

    Raises
    ------
    AsdsimError
        With fewer than :data:`MIN_DAYS` days of data, or a step change outside the data.
    """
    import statsmodels.api as sm

    day = np.sort(np.asarray(days, dtype="datetime64[D]"))
    # messages give counts and spans, never a date from the file (one referral's date is a child's)
    if len(day) == 0:
        raise AsdsimError("no referrals to fit")
    first, last = day[0], day[-1]
    n_days = int((last - first).astype(int)) + 1
    first_date, last_date = first.astype(dt.date), last.astype(dt.date)
    if n_days < MIN_DAYS:
        raise AsdsimError(f"the {len(day)} referral{'s cover' if len(day) != 1 else ' covers'} "
                          f"{n_days} day{'s' if n_days != 1 else ''}; at least {MIN_DAYS} days "
                          "(eight weeks) of referrals are needed to fit a rate")
    changes = sorted(set(step_changes))
    for change in changes:
        if not first_date < change <= last_date:
            side = "before the first" if change <= first_date else "after the last"
            raise AsdsimError(f"step change {change} is {side} referral: a change needs referrals "
                              "on both sides of it")
    counts = np.bincount((day - first).astype(int), minlength=n_days).astype(float)
    calendar = first + np.arange(n_days)
    month = calendar.astype("datetime64[M]").astype(int) % 12
    weekday = (calendar.astype(int) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    offset = np.arange(n_days)
    week = offset // 7
    in_force = (calendar[:, None] >= np.array(changes, dtype="datetime64[D]")[None, :]).astype(float)

    # Day-of-week: a clearly uneven mix (referrals made on working days) weights partial weeks.
    per_weekday = np.bincount(weekday, weights=counts, minlength=7)
    days_per_weekday = np.bincount(weekday, minlength=7).astype(float)
    expected = days_per_weekday / days_per_weekday.sum() * counts.sum()
    weekday_p = float(stats.chisquare(per_weekday, expected).pvalue) if counts.sum() > 0 else 1.0
    weighted = weekday_p < WEEKDAY_P
    weight = np.ones(7)
    if weighted:
        rate = per_weekday / days_per_weekday
        weight = rate / rate.mean()
    exposure_day = weight[weekday]

    seasonal = n_days >= SEASONAL_DAYS
    growth_fitted = n_days >= GROWTH_DAYS
    slope = math.log1p(assumed_growth)  # the trend's log-slope a year when it is not fitted
    keys = np.column_stack([week, month if seasonal else np.zeros(n_days, int), in_force])
    _, piece = np.unique(keys, axis=0, return_inverse=True)
    piece = piece.ravel()
    pieces = piece.max() + 1
    y = np.bincount(piece, weights=counts, minlength=pieces)
    exposure = np.bincount(piece, weights=exposure_day, minlength=pieces)
    size = np.bincount(piece, minlength=pieces)
    t_mid = np.bincount(piece, weights=offset + 0.5, minlength=pieces) / size / 365.25
    piece_month = np.zeros(pieces, dtype=int)
    piece_month[piece] = month
    piece_force = np.zeros((pieces, len(changes)))
    piece_force[piece] = in_force
    keep = exposure > 0
    columns = {"intercept": np.ones(pieces), "trend": t_mid}
    if not growth_fitted:
        del columns["trend"]
    months_seen = sorted(set(piece_month[keep].tolist())) if seasonal else []
    for m in months_seen[1:]:
        columns[f"month[{MONTHS[m]}]"] = (piece_month == m).astype(float)
    for j, change in enumerate(changes):
        columns[f"step_change[{change}]"] = piece_force[:, j]
    X = pd.DataFrame(columns)[keep]
    fixed = 0.0 if growth_fitted else slope * t_mid[keep]
    model = sm.GLM(y[keep], X, family=sm.families.Poisson(),
                   offset=np.log(exposure[keep]) + fixed)
    with np.errstate(all="ignore"):
        result = model.fit()
    df_resid = float(result.df_resid)
    pearson = float(result.pearson_chi2)
    dispersion = pearson / df_resid if df_resid > 0 else math.nan
    dispersion_p = float(stats.chi2.sf(pearson, df_resid)) if df_resid > 0 else math.nan
    overdispersed = bool(dispersion > 1 and dispersion_p < DISPERSION_P)
    if overdispersed:
        result = model.fit(scale="X2")  # quasi-Poisson: the same estimates, wider intervals
    beta = np.asarray(result.params, dtype=float)
    cov = np.asarray(result.cov_params(), dtype=float)
    ci = np.asarray(result.conf_int(alpha=1 - LEVEL), dtype=float)
    names = list(X.columns)
    coefficients = pd.DataFrame({"term": names, "estimate": beta,
                                 "std_error": np.asarray(result.bse, dtype=float),
                                 "ci_low": ci[:, 0], "ci_high": ci[:, 1]})

    # Derived quantities from the estimates and from coefficient draws.
    draws = np.random.default_rng(seed).multivariate_normal(beta, cov, size=DRAWS, method="eigh")
    month_terms = [names.index(f"month[{MONTHS[m]}]") for m in months_seen[1:]]
    t_start = (start_date - first_date).days / 365.25

    def per_week(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weekly rate before seasonality at the start, and the twelve factors (mean 1)."""
        b = np.atleast_2d(b)
        g = np.zeros((len(b), 12))
        for m, i in zip(months_seen[1:], month_terms, strict=True):
            g[:, m] = b[:, i]
        level = np.exp(g).mean(axis=1)
        steps = b[:, len(names) - len(changes):].sum(axis=1) if changes else 0.0
        trend = b[:, names.index("trend")] if growth_fitted else slope
        rate = 7.0 * np.exp(b[:, 0] + trend * t_start + steps) * level
        return rate, np.exp(g) / level[:, None]

    rate, factors = per_week(beta)
    rate_draws, factor_draws = per_week(draws)
    tail = (1 - LEVEL) / 2 * 100
    rows: list[tuple[str, float, float, float]] = []
    rows.append(("referrals_per_week", float(rate[0]), *np.percentile(rate_draws, [tail, 100 - tail])))
    if growth_fitted:
        rows.append(("annual_growth", math.expm1(beta[1]), math.expm1(ci[1, 0]), math.expm1(ci[1, 1])))
    if seasonal:
        for m in range(12):
            low, high = np.percentile(factor_draws[:, m], [tail, 100 - tail])
            rows.append((f"monthly_factors[{m}]", float(factors[0, m]), float(low), float(high)))
    for change in changes:
        i = names.index(f"step_change[{change}]")
        rows.append((f"step_change[{change}]", math.exp(beta[i]), math.exp(ci[i, 0]), math.exp(ci[i, 1])))
    parameters = pd.DataFrame(rows, columns=["parameter", "value", "ci_low", "ci_high"])

    # Weekly totals for the chart: observed, fitted, and fitted without the month effects.
    linear = X.to_numpy() @ beta + fixed
    fitted = np.zeros(pieces)
    fitted[keep] = np.exp(linear) * exposure[keep]
    no_season = linear.copy()
    for i in month_terms:
        no_season -= X.iloc[:, i].to_numpy() * beta[i]
    g_full = np.zeros(12)
    for m, i in zip(months_seen[1:], month_terms, strict=True):
        g_full[m] = beta[i]
    g_level = float(np.exp(g_full).mean())
    trend = np.zeros(pieces)
    trend[keep] = np.exp(no_season) * exposure[keep] * g_level
    piece_week = np.zeros(pieces, dtype=int)
    piece_week[piece] = week
    weeks = int(week.max()) + 1
    weekly = pd.DataFrame({
        "week_start": pd.to_datetime(first + 7 * np.arange(weeks)),
        "days": np.bincount(week, minlength=weeks),
        "observed": np.bincount(week, weights=counts, minlength=weeks),
        "fitted": np.bincount(piece_week, weights=fitted, minlength=weeks),
        "trend": np.bincount(piece_week, weights=trend, minlength=weeks),
    })
    return ReferralFit(first_day=first_date, last_day=last_date, start_date=start_date,
                       referrals=len(day), coefficients=coefficients, parameters=parameters,
                       weekly=weekly, dispersion=dispersion, dispersion_p=dispersion_p,
                       overdispersed=overdispersed, seasonal=seasonal, weekday_weighted=weighted,
                       growth_fitted=growth_fitted)


# ------------------------------------------------------------------------------ the scenario

Path_ = tuple[str | int, ...]


def dotted_path(keys: Path_) -> str:
    """``("teams", "mdt", "steps", 0)`` -> ``teams.mdt.steps[0]``."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _set(data: Any, keys: Path_, value: Any) -> None:
    for key in keys[:-1]:
        data = data.setdefault(key, {}) if isinstance(data, dict) else data[key]
    data[keys[-1]] = value


def _get(data: Any, keys: Path_) -> Any:
    for key in keys:
        data = data[key]
    return data


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def rounded_shares(shares: dict[str, float], decimals: int = 4) -> dict[str, float]:
    """Shares rounded to ``decimals`` places that still sum to exactly 1 (the largest absorbs
    the rounding)."""
    out = {k: round(v, decimals) for k, v in shares.items()}
    largest = max(out, key=lambda k: out[k])
    out[largest] = round(1.0 - math.fsum(v for k, v in out.items() if k != largest), decimals)
    return out


@dataclass
class Calibration:
    """A scenario fitted to an area's data, with the fits behind each number.

    The tables are tidy (one row per thing measured) for the report and for checking by hand.
    """

    base_file: str
    """The base scenario file, as named in messages."""
    inputs: dict[str, str]
    """The data files read, by kind (referrals, waiting_list, activity)."""
    scenario: Scenario
    """The calibrated scenario, validated (its starting list attached)."""
    data: dict[str, Any]
    """The calibrated scenario's plain data (the starting list by its absolute path)."""
    referral_fit: ReferralFit
    """The Poisson GLM of referral counts."""
    parameters: pd.DataFrame
    """One row per number set from the data: parameter (dotted path in the scenario), value (as
    written), estimate, ci_low, ci_high, base_value, fit (how it was fitted)."""
    mixes: pd.DataFrame
    """kind (age_band, source, locality, triage_outcome), category, count, share, ci_low,
    ci_high, base_share."""
    activity: pd.DataFrame | None
    """team, step, booked, dna, dna_share, dna_ci_low, dna_ci_high, timed, mean_hours,
    hours_ci_low, hours_ci_high (None without an activity file)."""
    waiting_list: pd.DataFrame | None
    """stage, weeks_waited (a band), children: today's list (None without one)."""
    notes: list[str] = field(default_factory=list)
    """What a reader of the fit should know (over-dispersion, columns missing, repeated rows)."""
    comments: dict[Path_, str] = field(default_factory=dict, repr=False)
    """Comment for the YAML line of each scenario path set from the data."""
    above: dict[Path_, list[str]] = field(default_factory=dict, repr=False)
    """Comment lines written above a scenario path."""
    files: list[Path] = field(default_factory=list, repr=False)
    """Every file read (data files, and the base scenario with its ``extends:`` chain and
    snapshot): what an output must never be, hold or sit inside."""

    def _base_shown(self, out: str | Path) -> str:
        base = Path(self.base_file)
        if self.base_file.startswith("scenario '") or not base.exists():
            return self.base_file
        return Path(os.path.relpath(base.absolute(), Path(out).absolute().parent)).as_posix()

    def yaml_text(self, out: str | Path) -> str:
        """The calibrated scenario as YAML, with a comment on every number from the data.

        Parameters
        ----------
        out
            Where the file will be written: the starting list's path is written relative to
            its folder.
        """
        data = _json_copy(self.data)
        state = data.get("initial_state", {})
        if state.get("csv"):
            state["csv"] = Path(os.path.relpath(state["csv"], Path(out).absolute().parent)).as_posix()
        head = [
            f"{CALIBRATED_MARK} on {dt.date.today().isoformat()} over the base "
            f"scenario {self._base_shown(out)},",
            "# from " + ", ".join(f"{name} ({kind.replace('_', ' ')})"
                                  for kind, name in self.inputs.items()) + ".",
            "# A number with a '# fitted' comment comes from the data (the comment names the fit and",
            "# its 95% interval); every other number is copied from the base as it was: see that file",
            "# for where it came from. The fit report (report.html) shows each fit against the data.",
        ]
        text = "\n".join(head) + "\n" + emit_yaml(data, self.comments, self.above)
        check = yaml.safe_load(text)
        if check != data:  # the emitter must write exactly the data
            raise AssertionError("calibrated YAML does not read back as the data it was made from")
        return text


def _json_copy(data: Any) -> Any:
    import json

    return json.loads(json.dumps(data))


# ------------------------------------------------------------------------------- YAML text


def _flow(value: Any) -> str:
    """A value in YAML flow style, safe inside or outside a flow collection."""
    return yaml.safe_dump([value], default_flow_style=True, width=1_000_000, sort_keys=False,
                          allow_unicode=True).strip()[1:-1]


def emit_yaml(data: dict[str, Any], comments: dict[Path_, str],
              above: dict[Path_, list[str]] | None = None) -> str:
    """YAML for plain data, block style at the top, with a comment after the line of any path
    in ``comments`` and comment lines above any path in ``above``.

    A mapping or list with no comment below it is written on one line (flow style) when short;
    a list of numbers always is.
    """
    above = above or {}
    lines: list[str] = []
    under = {p[:n] for p in comments for n in range(len(p))}

    def inline(value: Any, path: Path_) -> bool:
        if not isinstance(value, dict | list) or not value:
            return True
        if path in under:
            return False
        if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
            return True
        return len(_flow(value)) <= 100

    def note(path: Path_) -> str:
        return f"  # {comments[path]}" if path in comments else ""

    def block(value: dict[str, Any] | list[Any], path: Path_, indent: int) -> None:
        pad = " " * indent
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            here = (*path, key)
            lines.extend(f"{pad}# {line}" for line in above.get(here, []))
            lead = f"{pad}{_flow(key)}:" if isinstance(value, dict) else f"{pad}-"
            if inline(item, here):
                lines.append(f"{lead} {_flow(item)}{note(here)}")
            elif isinstance(value, list) and isinstance(item, dict):
                lines.extend(f"{pad}# {comments[here]}" for _ in [0] if here in comments)
                start = len(lines)
                block(item, here, indent + 2)
                lines[start] = f"{pad}- " + lines[start][indent + 2:]
            else:
                lines.append(f"{lead}{note(here)}")
                block(item, here, indent + 2)

    block(data, (), 0)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- calibrate


def _mix_rows(kind: str, counts: dict[str, int], base: dict[str, float]) -> list[dict[str, Any]]:
    total = sum(counts.values())
    rows = []
    for name, count in counts.items():
        low, high = wilson(count, total)
        rows.append({"kind": kind, "category": name, "count": count,
                     "share": count / total if total else math.nan, "ci_low": low, "ci_high": high,
                     "base_share": base.get(name, math.nan)})
    return rows


def _share_comment(row: dict[str, Any], total: int, what: str) -> str:
    return (f"fitted: {row['count']} of {total} {what} ({_pct(row['share'])}, 95% CI "
            f"{_pct(row['ci_low'])} to {_pct(row['ci_high'])}, Wilson)")


def _load_base(base: str | Path) -> Scenario:
    """The base scenario; each problem in loading it (its own file, the files it extends, its
    waiting list) says it arose while reading the base, so a bad list is not taken for the
    ``--waiting-list`` being fitted."""
    try:
        return load_scenario(base)
    except ScenarioError as exc:
        context = f"while reading the base scenario {display_path(Path(base))}: "
        raise ScenarioError([dataclasses.replace(p, message=context + p.message)
                             for p in exc.problems]) from None


def calibrate(referrals: str | Path, base: str | Path | Scenario, *,
              waiting_list: str | Path | None = None, activity: str | Path | None = None,
              step_changes: Sequence[dt.date] = (), dayfirst: bool = True,
              seed: int = 0) -> Calibration:
    """Fit a scenario's demand, mixes, triage and steps to an area's data.

    Parameters
    ----------
    referrals
        The referrals file (see the module docstring for its columns and date forms).
    base
        The scenario to start from (a file or a loaded scenario): everything not fitted is
        copied from it, and its ``start_date`` is the date the fitted rate is extrapolated to
        (the date of today's list; every referral must be before it).
    waiting_list
        Today's list in the snapshot format; it becomes the starting state.
    activity
        Booked appointments, for DNA probabilities and step hours.
    step_changes
        Dates of lasting changes in the referral rate to fit (a new referral route).
    dayfirst
        Read dates like 03/04/2024 as 3 April (the UK form); False reads them as 4 March.
    seed
        Seed of the coefficient draws behind some intervals.

    Returns
    -------
    Calibration
        The calibrated scenario and the tables of every fit. With ``waiting_list``, its
        ``initial_state.dates`` is ``day_first`` (``month_first`` without ``dayfirst``).

    Raises
    ------
    ScenarioError
        When a file cannot be read or has bad rows (each by line and column, never a cell), or
        the calibrated scenario is invalid.
    AsdsimError
        When the data cannot be fitted (too few days, a step change outside the data).
    """
    scenario = base if isinstance(base, Scenario) else _load_base(base)
    base_file = f"scenario {scenario.name!r}" if isinstance(base, Scenario) else str(Path(base))
    inputs = {"referrals": Path(referrals).name}
    full = scenario.model_dump(mode="json")
    data = scenario.model_dump(mode="json", exclude_defaults=True)  # what the file would say
    comments: dict[Path_, str] = {}
    above: dict[Path_, list[str]] = {}
    params: list[dict[str, Any]] = []
    notes: list[str] = []

    def fitted(keys: Path_, value: float, estimate: float, low: float, high: float, fit: str,
               comment: str | None = None) -> None:
        params.append({"parameter": dotted_path(keys), "value": value, "estimate": estimate,
                       "ci_low": low, "ci_high": high, "base_value": _get(full, keys), "fit": fit})
        _set(data, keys, value)
        if comment is not None:
            comments[keys] = comment

    read = read_referrals(referrals, scenario, dayfirst)
    start = scenario.start_date
    _check_gaps(read)
    fit = fit_referrals(read.day, start, step_changes, seed,
                        assumed_growth=scenario.demand.annual_growth)
    p = fit.parameters.set_index("parameter")
    how = "quasi-Poisson GLM" if fit.overdispersed else "Poisson GLM"
    span = f"{fit.referrals} referrals {fit.first_day} to {fit.last_day}"
    r = p.loc["referrals_per_week"]
    fitted(("demand", "referrals_per_week"), round(float(r.value), 2), float(r.value), r.ci_low,
           r.ci_high, how, f"fitted: {how} of weekly counts ({span}), rate before seasonality "
           f"at start_date by the trend; 95% CI {r.ci_low:.2f} to {r.ci_high:.2f}")
    if fit.growth_fitted:
        g = p.loc["annual_growth"]
        fitted(("demand", "annual_growth"), round(float(g.value), 4), float(g.value), g.ci_low,
               g.ci_high, how, f"fitted: log-linear trend of the {how}, exp(b)-1; 95% CI "
               f"{_pct(g.ci_low)} to {_pct(g.ci_high)} a year")
    else:
        notes.append(f"The referrals cover {(fit.last_day - fit.first_day).days + 1} days, less "
                     f"than {GROWTH_DAYS}: too few to tell growth from chance, so "
                     "demand.annual_growth is not fitted and the base's "
                     f"({_pct(scenario.demand.annual_growth)} a year) is kept (assumed); the rate "
                     "is fitted with that growth.")
    if fit.seasonal:
        values = [round(float(p.loc[f"monthly_factors[{m}]", "value"]), 3) for m in range(12)]
        for m in range(12):
            row = p.loc[f"monthly_factors[{m}]"]
            params.append({"parameter": f"demand.monthly_factors[{m}]", "value": values[m],
                           "estimate": float(row.value), "ci_low": row.ci_low, "ci_high": row.ci_high,
                           "base_value": scenario.demand.monthly_factors[m], "fit": how})
        _set(data, ("demand", "monthly_factors"), values)
        comments[("demand", "monthly_factors")] = f"fitted: month-of-year effects of the {how}, mean 1"
        above[("demand", "monthly_factors")] = ["95% CIs of the monthly factors: " + ", ".join(
            f"{MONTHS[m]} {p.loc[f'monthly_factors[{m}]', 'ci_low']:.2f}-"
            f"{p.loc[f'monthly_factors[{m}]', 'ci_high']:.2f}" for m in range(6)),
            "  " + ", ".join(f"{MONTHS[m]} {p.loc[f'monthly_factors[{m}]', 'ci_low']:.2f}-"
                             f"{p.loc[f'monthly_factors[{m}]', 'ci_high']:.2f}" for m in range(6, 12))]
    else:
        notes.append(f"The referrals cover {(fit.last_day - fit.first_day).days + 1} days, less than "
                     "a year: no monthly factors were fitted, and the base's are kept (assumed).")
    for change in sorted(set(step_changes)):
        row = p.loc[f"step_change[{change}]"]
        params.append({"parameter": f"step_change[{change}]", "value": float(row.value),
                       "estimate": float(row.value), "ci_low": row.ci_low, "ci_high": row.ci_high,
                       "base_value": math.nan, "fit": how})
    if step_changes:
        data["demand"].setdefault("step_changes", [])
        above.setdefault(("demand", "step_changes"), []).append(
            "fitted step changes before start_date are in referrals_per_week: " + "; ".join(
                f"from {c} x{p.loc[f'step_change[{c}]', 'value']:.2f} (95% CI "
                f"{p.loc[f'step_change[{c}]', 'ci_low']:.2f} to {p.loc[f'step_change[{c}]', 'ci_high']:.2f})"
                for c in sorted(set(step_changes))))
    if fit.overdispersed:
        notes.append(f"Referrals are more variable than Poisson: Pearson chi-squared / df = "
                     f"{fit.dispersion:.2f} (p = {fit.dispersion_p:.3g}). The intervals are widened "
                     "by that ratio (quasi-Poisson); the simulated referrals stay Poisson, so the "
                     "simulation's spread understates the real one.")
    else:
        notes.append(f"Referrals are consistent with Poisson variation: Pearson chi-squared / df = "
                     f"{fit.dispersion:.2f} (p = {fit.dispersion_p:.3g}).")
    if fit.warnings:
        notes.append(f"The referral model's fit warned ({', '.join(fit.warnings)}): its intervals "
                     "may not hold; check the weekly chart in the fit report against the data.")
    if fit.weekday_weighted:
        notes.append("Referrals are uneven across the days of the week; parts of weeks are weighted "
                     "by the day-of-week mix.")
    if read.repeated:
        notes.append(f"{read.repeated} rows of {read.shown} repeat an earlier row in every column: "
                     "if the extract lists a referral twice, the rate is too high.")

    mixes: list[dict[str, Any]] = []
    n = len(read.day)
    if read.age_months is not None:
        bands = [dict(b) for b in data["demand"]["age_bands"]]
        bands.sort(key=lambda b: b["min_years"])
        ages = (read.age_months + 0.5) / 12.0
        limit = scenario.routing.age_out_years
        bands[0]["min_years"] = float(min(bands[0]["min_years"], math.floor(ages.min())))
        bands[-1]["max_years"] = float(max(bands[-1]["max_years"], min(math.ceil(ages.max() + 1e-9), limit)))
        lows = np.array([b["min_years"] for b in bands])
        index = np.clip(np.searchsorted(lows, ages, side="right") - 1, 0, len(bands) - 1)
        counts = np.bincount(index, minlength=len(bands))
        names = [f"{b['min_years']:g}-{b['max_years']:g}" for b in bands]
        base_w = {nm: b.weight / sum(x.weight for x in scenario.demand.age_bands)
                  for nm, b in zip(names, sorted(scenario.demand.age_bands, key=lambda b: b.min_years),
                                   strict=True)}
        rows = _mix_rows("age_band", dict(zip(names, counts.tolist(), strict=True)), base_w)
        mixes += rows
        shares = rounded_shares({nm: row["share"] for nm, row in zip(names, rows, strict=True)})
        data["demand"]["age_bands"] = bands
        for i, (nm, row) in enumerate(zip(names, rows, strict=True)):
            fitted(("demand", "age_bands", i, "weight"), shares[nm], row["share"], row["ci_low"],
                   row["ci_high"], "share of referrals (Wilson)")
            comments[("demand", "age_bands", i)] = _share_comment(row, n, "referrals")
    for kind, column, key in (("source", read.source, "sources"), ("locality", read.locality, "localities")):
        if column is None:
            notes.append(f"{read.shown} has no {kind} column: demand.{key} is kept from the base.")
            continue
        names = list(full["demand"][key])
        values, counts_ = np.unique(column, return_counts=True)
        found = dict(zip(values.tolist(), counts_.tolist(), strict=True))
        rows = _mix_rows(kind, {nm: int(found.get(nm, 0)) for nm in names}, full["demand"][key])
        mixes += rows
        # a category with no referrals cannot be told from one the extract leaves out: keep its
        # assumed share, and share the rest out as the data say
        unseen = [row["category"] for row in rows if row["count"] == 0]
        kept = math.fsum(full["demand"][key][nm] for nm in unseen)
        if unseen and kept >= 1.0:
            unseen, kept = [], 0.0  # every category with a share is unseen: nothing to keep
        shares = rounded_shares({row["category"]: full["demand"][key][row["category"]]
                                 if row["category"] in unseen else row["share"] * (1.0 - kept)
                                 for row in rows})
        for row in rows:
            if row["category"] in unseen:
                _set(data, ("demand", key, row["category"]), shares[row["category"]])
                comments[("demand", key, row["category"])] = (
                    f"assumed: kept from the base; no referrals in the data name this {kind}")
                continue
            fitted(("demand", key, row["category"]), shares[row["category"]], row["share"],
                   row["ci_low"], row["ci_high"], "share of referrals (Wilson)",
                   _share_comment(row, n, "referrals"))
        if unseen:
            notes.append(f"No referrals in {read.shown} name the {kind} "
                         f"{', '.join(repr(u) for u in unseen)}: its share of demand.{key} cannot "
                         "be estimated, so the base's is kept (assumed) and the others share the "
                         "rest as the data say. Check that the extract covers it.")
    if read.age_months is None:
        notes.append(f"{read.shown} has no age_years or date_of_birth column: demand.age_bands are "
                     "kept from the base.")
    if read.triage is not None:
        decided = read.triage[read.triage != ""]
        if len(decided):
            counts_t = {o: int((decided == o).sum()) for o in ("accept", "reject", "more_information")}
            rows = _mix_rows("triage_outcome", counts_t, full["triage"]["outcomes"])
            mixes += rows
            shares = rounded_shares({row["category"]: row["share"] for row in rows})
            for row in rows:
                fitted(("triage", "outcomes", row["category"]), shares[row["category"]], row["share"],
                       row["ci_low"], row["ci_high"], "share of triaged referrals (Wilson)",
                       _share_comment(row, len(decided), "triaged"))
            if scenario.triage.outcomes_by_source:
                notes.append("triage.outcomes_by_source is kept from the base (not fitted).")

    activity_table = None
    if activity is not None:
        inputs["activity"] = Path(activity).name
        activity_table = _fit_activity(read_activity(activity, scenario), scenario, data, params,
                                       comments, notes)
    list_table = None
    if waiting_list is not None:
        inputs["waiting_list"] = Path(waiting_list).name
        rule = date_rule(dayfirst)
        snapshot = read_snapshot(waiting_list, dates=rule, switch=DATE_SWITCH)
        data["initial_state"] = {"kind": "csv", "csv": str(Path(waiting_list).absolute()),
                                 "dates": rule}
        comments[("initial_state",)] = (f"today's list, read from {Path(waiting_list).name} "
                                        f"(dates YYYY-MM-DD or {_DATE_FORMS[rule]})")
        list_table = _list_table(snapshot, start)
    elif data.get("initial_state", {}).get("csv"):
        data["initial_state"]["csv"] = str(Path(data["initial_state"]["csv"]).absolute())

    done = {row["parameter"] for row in params}
    data["assumed"] = [a for a in data.get("assumed", []) if a not in done]
    data["name"] = f"{scenario.name} calibrated"
    data["assumptions"] = [*data.get("assumptions", []), (
        f"Referral rate, growth and seasonality fitted to {inputs['referrals']} ({span}); "
        "shares fitted where the data have them; see the comments and the fit report.")]
    calibrated = scenario_from_dict(data, name="calibrated scenario")
    for over in over_capacity(calibrated):  # e.g. a template's triage capacity beside the fitted rate
        notes.append(f"Warning: {over.message}.")
        if over.field == "triage.capacity_per_week":
            above.setdefault(("triage", "capacity_per_week"), []).append(f"WARNING: {over.message}.")
    table = pd.DataFrame(params, columns=["parameter", "value", "estimate", "ci_low", "ci_high",
                                          "base_value", "fit"])
    mix_table = pd.DataFrame(mixes, columns=["kind", "category", "count", "share", "ci_low",
                                             "ci_high", "base_share"])
    return Calibration(base_file=base_file, inputs=inputs, scenario=calibrated, data=data,
                       referral_fit=fit, parameters=table, mixes=mix_table, activity=activity_table,
                       waiting_list=list_table, notes=notes, comments=comments, above=above,
                       files=[Path(f) for f in (referrals, waiting_list, activity) if f is not None]
                       + ([] if isinstance(base, Scenario) else scenario_files(base)))


def _fit_activity(act: Activity, scenario: Scenario, data: dict[str, Any],
                  params: list[dict[str, Any]], comments: dict[Path_, str],
                  notes: list[str]) -> pd.DataFrame:
    """DNA shares and appointment lengths per team and step, set into ``data``."""
    rows = []
    for team_name, team in scenario.teams.items():
        for i, step in enumerate(team.steps):
            mask = (act.step == step.name) & ((act.team == team_name) | (act.team == ""))
            booked = int(mask.sum())
            if not booked:
                continue
            dna = int((~act.attended[mask]).sum())
            low, high = wilson(dna, booked)
            lengths = act.hours[mask & act.attended]
            lengths = lengths[~np.isnan(lengths)]
            mean = h_low = h_high = math.nan
            if len(lengths):
                mean = float(lengths.mean())
                if len(lengths) > 1:
                    half = float(stats.t.ppf(0.5 + LEVEL / 2, len(lengths) - 1)
                                 * lengths.std(ddof=1) / math.sqrt(len(lengths)))
                    h_low, h_high = mean - half, mean + half
            rows.append({"team": team_name, "step": step.name, "booked": booked, "dna": dna,
                         "dna_share": dna / booked, "dna_ci_low": low, "dna_ci_high": high,
                         "timed": len(lengths), "mean_hours": mean, "hours_ci_low": h_low,
                         "hours_ci_high": h_high})
            path: Path_ = ("teams", team_name, "steps", i)
            said = []
            if step.contact:
                value = round(dna / booked, 4)
                params.append({"parameter": dotted_path((*path, "dna_probability")), "value": value,
                               "estimate": dna / booked, "ci_low": low, "ci_high": high,
                               "base_value": step.dna_probability, "fit": "share not attended (Wilson)"})
                _set(data, (*path, "dna_probability"), value)
                said.append(f"dna_probability: {dna} of {booked} booked not attended (95% CI "
                            f"{_pct(low)} to {_pct(high)}, Wilson)")
            elif dna:
                notes.append(f"{act.shown}: {dna} DNAs of '{step.name}' ({team_name}), which is not "
                             "a contact step in the scenario; not used.")
            longest = max(step.hours.values(), default=0.0)
            if len(lengths) and longest > 0:
                scale = mean / longest
                for group, hours in step.hours.items():
                    value = round(hours * scale, 3)
                    params.append({"parameter": dotted_path((*path, "hours", group)), "value": value,
                                   "estimate": hours * scale, "ci_low": hours / longest * h_low,
                                   "ci_high": hours / longest * h_high, "base_value": hours,
                                   "fit": "mean length of attended appointments (t)"})
                    _set(data, (*path, "hours", group), value)
                interval = f"95% CI {h_low:.2f} to {h_high:.2f} h" if len(lengths) > 1 else "one only"
                said.append(f"hours: mean of {len(lengths)} attended appointments {mean:.2f} h "
                            f"({interval}), longest group's hours set to it")
            if said:
                comments[path] = "fitted: " + "; ".join(said)
    columns = ["team", "step", "booked", "dna", "dna_share", "dna_ci_low", "dna_ci_high", "timed",
               "mean_hours", "hours_ci_low", "hours_ci_high"]
    return pd.DataFrame(rows, columns=columns)


def _list_table(snapshot: Snapshot, start: dt.date) -> pd.DataFrame:
    """Children on today's list by stage and weeks waited since referral."""
    bands = [*WAIT_BANDS, math.inf]
    labels = [f"{lo}-{hi}" if hi != math.inf else f"{lo}+" for lo, hi in itertools.pairwise(bands)]
    counts = {(stage, label): 0 for stage in STAGES for label in labels}
    for row in snapshot.rows:
        weeks = (start - row.referral_date).days / 7.0
        band = max(i for i, lo in enumerate(WAIT_BANDS) if weeks >= lo) if weeks >= 0 else 0
        counts[(row.stage, labels[band])] += 1
    return pd.DataFrame([{"stage": s, "weeks_waited": w, "children": c}
                         for (s, w), c in counts.items()])


CALIBRATED_MARK = "# Calibrated by asdsim calibrate"
"""The first line of every calibrated scenario starts so: ``--force`` replaces only such a file."""


def written_by_calibrate(path: Path) -> bool:
    """Whether ``path`` is a regular file whose first line starts with :data:`CALIBRATED_MARK`."""
    if not path.is_file() or path.is_symlink():
        return False
    try:
        with open(path, "rb") as handle:
            return handle.read(len(CALIBRATED_MARK)) == CALIBRATED_MARK.encode()
    except OSError:
        return False


def check_scenario_output(out: Path, folder: Path, inputs: Sequence[str | Path], force: bool) -> None:
    """The rules for writing a fitted scenario and its report folder, before any work: neither
    is, holds or sits inside an input (:func:`asdsim.files.guard_output`); OUT is not a folder,
    and an existing OUT is replaced only with ``force`` and only if asdsim calibrate wrote it (its
    first line starts with :data:`CALIBRATED_MARK`); the folder as
    :func:`asdsim.reporting.outputs.check_destination`.

    Raises
    ------
    AsdsimError
        Naming what is in the way and what to do.
    """
    from asdsim.files import guard_output
    from asdsim.reporting.outputs import check_destination

    guard_output(out, inputs)
    guard_output(folder, [*inputs, out], "--report")
    if out.is_dir():
        raise AsdsimError(f"{out} is a folder; expected the path of a scenario file to write")
    if out.exists() or out.is_symlink():
        if not force:
            raise AsdsimError(f"{out} exists; choose another --out or add --force to replace it")
        if not written_by_calibrate(out):
            raise AsdsimError(f"{out} was not written by asdsim calibrate (its first line is not "
                              f"'{CALIBRATED_MARK}...'); --force replaces only a calibrated scenario, "
                              "so choose another --out")
    check_destination(folder, force, inputs)


def report_folder(out: str | Path) -> Path:
    """Default folder of the fit report beside a calibrated scenario: ``<name>_fit``."""
    out = Path(out)
    return out.with_name(f"{out.stem}_fit")


def write_calibration(calibration: Calibration, out: str | Path, report: str | Path | None = None,
                      force: bool = False) -> tuple[Path, Path]:
    """Write the calibrated scenario (YAML with comments) and its fit report.

    Parameters
    ----------
    calibration
        From :func:`calibrate`.
    out
        The scenario file to write.
    report
        The report folder (default :func:`report_folder` of ``out``).
    force
        Replace an existing scenario file and report folder.

    Returns
    -------
    tuple of Path
        The scenario file and the report folder.

    Raises
    ------
    AsdsimError
        When ``out`` exists (or the report folder is not empty) and ``force`` is false.
    """
    from asdsim.files import write_text_atomic
    from asdsim.reporting.calibration_report import write_calibration_report

    out = Path(out)
    folder = Path(report) if report is not None else report_folder(out)
    check_scenario_output(out, folder, calibration.files, force)
    text = calibration.yaml_text(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_calibration_report(calibration, folder, force)
    write_text_atomic(out, text)
    return out, folder
