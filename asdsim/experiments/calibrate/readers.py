"""The referrals and activity files of ``asdsim calibrate``, read against a base scenario.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asdsim.errors import Problem, ScenarioError
from asdsim.experiments.calibrate.table import _categories, _category, normal_name, read_table
from asdsim.scenario.csvfile import RowProblems, months_between
from asdsim.scenario.dates import DateRule, date_rule, parse_date
from asdsim.scenario.schema import Scenario
from asdsim.scenario.values import ValueProblem, parse_number

MAX_GAP_DAYS = 365
"""Longest run of days without a referral inside the history: a longer gap is a date typed
wrongly (a year decades out) or an extract missing a year, and a rate is not fitted across it."""


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


def _referral_day(row: dict[str, str], line: int, rule: DateRule, start: dt.date,
                  problems: RowProblems) -> tuple[dt.date | str, bool]:
    """A row's referral date (or what is wrong with its form), and whether it is free of
    problems (each recorded in ``problems``): a date on or after the start is read but not
    kept."""
    day = parse_date(row["referral_date"], rule, switch=DATE_SWITCH) if row["referral_date"] \
        else "is empty; " \
        "expected the date of referral"
    if isinstance(day, str):
        problems.add(line, "referral_date", day)
        return day, False
    if day >= start:
        problems.add(line, "referral_date", f"is on or after the base scenario's start_date "
                     f"({start}); set start_date to the day the data end (today's list)")
        return day, False
    return day, True


def _referral_age(row: dict[str, str], line: int, have: frozenset[str], rule: DateRule,
                  day: dt.date | str, limit: float, problems: RowProblems) -> tuple[int | None, bool]:
    """Whole months of age at referral from ``age_years`` or ``date_of_birth`` (None when not
    known), and whether the row's age is free of problems (each recorded in ``problems``)."""
    ok = True
    months: int | None = None
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
    return months, ok



def _referral_names(row: dict[str, str], line: int, have: frozenset[str], sources: dict[str, str],
                    localities: dict[str, str],
                    problems: RowProblems) -> tuple[str | None, str | None, str, bool]:
    """A row's source, locality (the base's names) and triage outcome ("" when not yet
    triaged), and whether they are free of problems (each recorded in ``problems``)."""
    ok = True
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
    return source, locality, outcome, ok



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
        day, ok = _referral_day(row, line, rule, start, problems)
        months: int | None = None
        if "age_years" in have or "date_of_birth" in have:
            months, age_ok = _referral_age(row, line, have, rule, day, limit, problems)
            ok = ok and age_ok
        source, locality, outcome, named_ok = _referral_names(row, line, have, sources, localities,
                                                             problems)
        ok = ok and named_ok
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


def _hours(text: str, unit: float) -> float | None:
    """An appointment's length in hours from a cell in ``unit`` per hour (60: minutes), or None
    when it is not a length above 0 and at most a day."""
    try:
        hours = parse_number(text, 0.0, 24.0 * unit) / unit
        if hours <= 0:
            raise ValueProblem("is 0")
    except ValueProblem:
        return None
    return hours



def _team_step(row: dict[str, str], line: int, has_team: bool, teams: dict[str, str],
               steps_of: dict[str, dict[str, str]], all_steps: dict[str, str],
               problems: RowProblems) -> tuple[str, str | None, bool]:
    """A row's team ("" without a team column) and step (a step of that team, or of any team),
    and whether they are free of problems (each recorded in ``problems``)."""
    ok = True
    team = ""
    if has_team:
        team = _category(row, "team", teams, line, problems, ", ".join(teams.values())) or ""
        ok = bool(team)
    names = steps_of[team] if team else all_steps
    step = _category(row, "step", names, line, problems, ", ".join(names.values()))
    return team, step, ok and step is not None



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
        team, step, ok = _team_step(row, line, "team" in have, teams, steps_of, all_steps, problems)
        attended = ATTENDED.get(normal_name(row["attended"])) if row["attended"] else None
        if attended is None:
            problems.add(line, "attended", "expected yes (attended) or no (did not attend)")
            ok = False
        hours = math.nan
        if duration in have and row[duration] and attended:
            read = _hours(row[duration], unit)
            hours = math.nan if read is None else read
            if read is None:
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
