"""One row of a snapshot (:mod:`asdsim.scenario.snapshot`): its values in the form kept, or
its problems by line and column."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from asdsim.scenario.csvfile import (
    _months_between,
    _Problems,
)
from asdsim.scenario.dates import SCENARIO_SWITCH, DateRule, parse_date
from asdsim.scenario.values import (
    ValueProblem,
    name_key,
    parse_number,
    parse_whole,
    spelling_problem,
)

STAGES = ("awaiting_triage", "awaiting_assessment", "in_assessment")
"""Stages a child in a snapshot can be at."""

@dataclass(frozen=True)
class SnapshotRow:
    """One child in a snapshot, as kept after reading (no other column, no date of birth)."""

    line: int
    """Line of the row in the file (for messages)."""
    referral_date: dt.date
    """Date of referral."""
    age_months: int
    """Whole months of age completed at referral."""
    age_column: str
    """The column the age came from (``age_years`` or ``date_of_birth``), for messages."""
    stage: str
    """One of :data:`STAGES`."""
    priority: str | None
    """Priority class as written, or None when empty or not given."""
    locality: str | None
    """Locality as written, or None when empty or not given."""
    steps_done: int = 0
    """For ``in_assessment``: steps of the assessment already done."""

    @property
    def age_years(self) -> float:
        """Age at referral used by the model: the middle of the month of age completed."""
        return (self.age_months + 0.5) / 12.0


def _age_problem(text: str) -> str | None:
    """Why a cell is not an age in years (read by :func:`values.parse_number`), or None."""
    try:
        years = parse_number(text)
    except ValueProblem as why:
        if text.strip().lower().lstrip("+-") in ("inf", "infinity", "nan"):
            return "expected a number of years, 0 or more"
        if "," in text:
            return "expected a number of years with a point for decimals, like 5.5"
        special = spelling_problem(text)
        return f"{special} (a number of years, like 5.5)" if special else \
            "expected a number of years, like 5.5" if str(why).startswith("expected a number,") \
            else f"{why} (a number of years, like 5.5)"
    return "expected a number of years, 0 or more" if years < 0 else None


def _normal_stage(text: str) -> str:
    return name_key(text)


def _parse_row(row: dict[str, str], line: int, problems: _Problems, dates: DateRule = "iso",
               switch: Mapping[DateRule, str] = SCENARIO_SWITCH) -> SnapshotRow | None:
    """One row's values in their kept form, or None after recording its problems."""
    ok = True
    referral = parse_date(row["referral_date"], dates, switch=switch) if row["referral_date"] \
        else "is empty; expected a date as " + _FORMS[dates]
    if isinstance(referral, str):
        problems.add(line, "referral_date", referral)
        ok = False
    column = "age_years" if row.get("age_years") else "date_of_birth"
    months, age_ok = _row_age(row, line, problems, referral, dates, switch)
    ok = ok and age_ok
    stage = _normal_stage(row["stage"])
    if stage not in STAGES:
        problems.add(line, "stage", f"expected one of {', '.join(STAGES)}"
                     + ("" if row["stage"] else " (the cell is empty)"))
        ok = False
    steps_done, steps_ok = _row_steps_done(row, line, stage, problems)
    ok = ok and steps_ok
    if not ok or months is None or not isinstance(referral, dt.date):
        return None
    return SnapshotRow(line=line, referral_date=referral, age_months=months, age_column=column,
                       stage=stage, priority=row.get("priority") or None,
                       locality=row.get("locality") or None, steps_done=steps_done)


def _row_age(row: dict[str, str], line: int, problems: _Problems, referral: dt.date | str,
             dates: DateRule, switch: Mapping[DateRule, str]) -> tuple[int | None, bool]:
    """Whole months of age at referral from ``age_years`` or ``date_of_birth`` (None when not
    known), and whether the row's age is free of problems (each recorded in ``problems``)."""
    if row.get("age_years"):
        why = _age_problem(row["age_years"])
        if why is not None:
            problems.add(line, "age_years", why)
            return None, False
        return math.floor(parse_number(row["age_years"]) * 12 + 1e-9), True
    if row.get("date_of_birth"):
        born = parse_date(row["date_of_birth"], dates, switch=switch)
        if isinstance(born, str):
            problems.add(line, "date_of_birth", born)
            return None, False
        if isinstance(referral, dt.date):
            if born > referral:
                problems.add(line, "date_of_birth", "is after referral_date; expected the date "
                             "of birth of a child referred after birth")
                return None, False
            return _months_between(born, referral), True
        return None, True
    problems.add(line, "age_years", "age_years or date_of_birth is needed; both are empty")
    return None, False


def _row_steps_done(row: dict[str, str], line: int, stage: str,
                    problems: _Problems) -> tuple[int, bool]:
    """Steps done of a child in assessment (0 when not given), and whether the cell is free of
    problems (each recorded in ``problems``)."""
    if not row.get("steps_done"):
        return 0, True
    try:
        done = parse_whole(row["steps_done"], 0, 50)
    except ValueProblem:
        problems.add(line, "steps_done", "expected a whole number of steps from 0 to 50")
        return 0, False
    if stage != "in_assessment":
        problems.add(line, "steps_done", "goes only with stage in_assessment")
        return 0, False
    return done, True


_FORMS: dict[DateRule, str] = {"iso": "YYYY-MM-DD", "day_first": "YYYY-MM-DD or DD/MM/YYYY",
                               "month_first": "YYYY-MM-DD or MM/DD/YYYY"}
