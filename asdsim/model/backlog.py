"""The starting state: a generated backlog, or a CSV snapshot of today's waiting list.

A snapshot has one row per child. Only these columns are read, and no other column ever reaches
an output: ``referral_date`` (YYYY-MM-DD), ``age_years`` or ``date_of_birth``, ``stage``
(``awaiting_triage`` or ``awaiting_assessment``), ``priority`` (optional; a priority class) and
``locality`` (optional where the scenario has one locality). Bad rows are reported by line number,
all of them at once.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asdsim.errors import Problem, ScenarioError
from asdsim.model.demand import DAYS_PER_YEAR, draw_children
from asdsim.scenario.schema import Scenario

STAGES = ("awaiting_triage", "awaiting_assessment")
COLUMNS = ("referral_date", "age_years", "date_of_birth", "stage", "priority", "locality")


@dataclass(frozen=True)
class Backlog:
    """Children waiting at the start, one array element per child."""

    referral_day: np.ndarray
    """Day of referral (negative: before the start)."""
    age_years: np.ndarray
    """Age at referral."""
    stage: np.ndarray
    """Index into ``STAGES``."""
    priority: np.ndarray
    """Priority rank."""
    locality: np.ndarray
    """Index into the scenario's localities."""
    source: np.ndarray
    """Index into the scenario's sources."""
    hours_factor: np.ndarray
    """Multiplier on assessment hours."""
    team: tuple[str | None, ...]
    """Team whose list the child is on (None: route by age)."""

    def __len__(self) -> int:
        return len(self.referral_day)


def _empty() -> Backlog:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    return Backlog(z, z, zi, zi, zi, zi, z, ())


def generate_backlog(scenario: Scenario, rng: np.random.Generator) -> Backlog:
    """Children of the scenario's generated backlog groups, or of its CSV snapshot."""
    state = scenario.initial_state
    if state.kind == "csv":
        return read_snapshot(scenario, rng)
    if state.kind == "empty":
        return _empty()
    parts = []
    for group in state.backlog:
        kids = draw_children(scenario, group.count, rng)
        weeks = group.weeks_waited_min + (
            group.weeks_waited_max - group.weeks_waited_min
        ) * rng.random(group.count)
        parts.append((kids, -7.0 * weeks, STAGES.index(group.stage), group.team))
    team: list[str | None] = []
    for kids, _, _, name in parts:
        team.extend([name] * len(kids.age_years))
    return Backlog(
        referral_day=np.concatenate([p[1] for p in parts]),
        age_years=np.concatenate([p[0].age_years for p in parts]),
        stage=np.concatenate([np.full(len(p[1]), p[2], dtype=np.int64) for p in parts]),
        priority=np.concatenate([p[0].priority for p in parts]),
        locality=np.concatenate([p[0].locality for p in parts]),
        source=np.concatenate([p[0].source for p in parts]),
        hours_factor=np.concatenate([p[0].hours_factor for p in parts]),
        team=tuple(team),
    )


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text.strip())


def read_snapshot(scenario: Scenario, rng: np.random.Generator | None = None) -> Backlog:
    """Read the scenario's CSV snapshot.

    Raises
    ------
    ScenarioError
        Listing every bad row by line number, or a missing file or column.
    """
    path = Path(scenario.initial_state.csv or "")
    file = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioError([Problem(file, None, "initial_state.csv",
                                     f"cannot read snapshot: {exc.strerror}")]) from None
    localities = list(scenario.demand.localities)
    problems: list[Problem] = []
    rows: list[tuple[float, float, int, int, int]] = []
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in ("referral_date", "stage") if c not in header]
        if "age_years" not in header and "date_of_birth" not in header:
            missing.append("age_years or date_of_birth")
        if "locality" not in header and len(localities) > 1:
            missing.append("locality (the scenario has several localities)")
        if missing:
            raise ScenarioError([Problem(file, 1, "", f"missing column(s): {', '.join(missing)}")])
        default_rank = len(scenario.priority_classes) - 1
        for record in reader:
            line = reader.line_num
            row = {c: (record.get(c) or "").strip() for c in COLUMNS if c in header}
            try:
                referral = _date(row["referral_date"])
            except ValueError:
                problems.append(Problem(file, line, "referral_date",
                                        "expected a date as YYYY-MM-DD", repr(row["referral_date"])))
                continue
            day = (referral - scenario.start_date).days
            if day > 0:
                problems.append(Problem(file, line, "referral_date",
                                        "is after the scenario's start_date", repr(str(referral))))
                continue
            age = None
            if row.get("age_years"):
                try:
                    age = float(row["age_years"])
                except ValueError:
                    problems.append(Problem(file, line, "age_years", "expected a number",
                                            repr(row["age_years"])))
                    continue
            elif row.get("date_of_birth"):
                try:
                    born = _date(row["date_of_birth"])
                except ValueError:
                    problems.append(Problem(file, line, "date_of_birth",
                                            "expected a date as YYYY-MM-DD",
                                            repr(row["date_of_birth"])))
                    continue
                age = (referral - born).days / DAYS_PER_YEAR
            if age is None or not 0 <= age < 25:
                problems.append(Problem(file, line, "age_years",
                                        "expected an age at referral from 0 to 25 years"
                                        if age is not None else "age_years or date_of_birth needed",
                                        None if age is None else f"{age:.2f}"))
                continue
            if row["stage"] not in STAGES:
                problems.append(Problem(file, line, "stage", f"expected one of {list(STAGES)}",
                                        repr(row["stage"])))
                continue
            rank = default_rank
            if row.get("priority"):
                if row["priority"] not in scenario.priority_classes:
                    problems.append(Problem(
                        file, line, "priority",
                        f"expected one of {list(scenario.priority_classes)}", repr(row["priority"])))
                    continue
                rank = scenario.priority_classes.index(row["priority"])
            loc = 0
            if row.get("locality") or len(localities) > 1:
                if row.get("locality") not in localities:
                    problems.append(Problem(file, line, "locality",
                                            f"expected one of {localities}",
                                            repr(row.get("locality"))))
                    continue
                loc = localities.index(row["locality"])
            rows.append((float(day), age, STAGES.index(row["stage"]), rank, loc))
    if problems:
        raise ScenarioError(problems)
    n = len(rows)
    if n == 0:
        return _empty()
    arr = np.array(rows, dtype=float)
    source = np.zeros(n, dtype=np.int64)
    if rng is not None:  # sources are not in a snapshot: draw them as for new referrals
        source = draw_children(scenario, n, rng).source
    return Backlog(
        referral_day=arr[:, 0], age_years=arr[:, 1], stage=arr[:, 2].astype(np.int64),
        priority=arr[:, 3].astype(np.int64), locality=arr[:, 4].astype(np.int64),
        source=source, hours_factor=np.ones(n), team=(None,) * n,
    )
