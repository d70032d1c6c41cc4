"""The numbers a history match sets: capacity factors by period and team, and the referral rate.

A capacity factor from a date multiplies the WTE in force of every staff group of its team,
written as a dated capacity change (the base's own changes to the team within the period are
scaled by the same factor); the demand factor multiplies ``demand.referrals_per_week``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from asdsim.errors import AsdsimError
from asdsim.scenario.loading import scenario_from_dict
from asdsim.scenario.schema import Scenario
from asdsim.scenario.staffing import in_force

LOG_BOUNDS = (math.log(0.1), math.log(10.0))
"""Each factor is fitted between a tenth and ten times the base."""
Fit = Literal["capacity", "demand"]


@dataclass(frozen=True)
class Lever:
    """One number the fit may set."""

    kind: Fit
    """``capacity`` (a team's factor from ``start``) or ``demand`` (the referral rate)."""
    start: dt.date
    """First day the factor applies (for demand: the scenario start)."""
    team: str | None = None
    """The team whose capacity it scales."""

    @property
    def name(self) -> str:
        """How the lever is named in tables."""
        if self.kind == "demand":
            return "demand.referrals_per_week"
        return f"capacity {self.team} from {self.start}"


def period_starts(scenario: Scenario, periods: str | Sequence[dt.date],
                  last: dt.date) -> list[dt.date]:
    """First days of the capacity periods: the scenario start, then each date given, or the first
    day of each calendar quarter after the start up to ``last`` (``"quarterly"``), or none
    (``"single"``: one factor for the whole horizon)."""
    start = scenario.start_date
    if isinstance(periods, str):
        if periods == "single":
            return [start]
        if periods != "quarterly":
            raise AsdsimError(f"periods must be 'quarterly', 'single' or a list of dates, not "
                              f"{periods!r}")
        out = [start]
        year, month = start.year, 3 * ((start.month - 1) // 3) + 1
        while True:
            month += 3
            if month > 12:
                year, month = year + 1, month - 12
            day = dt.date(year, month, 1)
            if day > last:
                return out
            out.append(day)
    dates = sorted(set(periods))
    for day in dates:
        if not start < day <= scenario.end_date:
            raise AsdsimError(f"period start {day} is outside the scenario's horizon (after "
                              f"{start}, up to {scenario.end_date})")
    return [start, *dates]


def capacity_teams(scenario: Scenario, teams: Sequence[str] | None = None) -> list[str]:
    """Teams whose capacity can be fitted: clinic-hours teams (a factor on their WTE)."""
    names = list(scenario.teams) if teams is None else list(teams)
    for name in names:
        if name not in scenario.teams:
            raise AsdsimError(f"no team {name!r} in the scenario (teams: "
                              f"{', '.join(scenario.teams)})")
    return [n for n in names if scenario.teams[n].capacity_mode == "clinic_hours"]


def apply_factors(base: Scenario, levers: Sequence[Lever], factors: Sequence[float]) -> Scenario:
    """The base with each lever's factor applied.

    A capacity factor from a date multiplies the WTE in force of every staff group of its team
    (written as a capacity change on that date, and each of the base's own changes to the team
    in the period scaled by the same factor); the demand factor multiplies
    ``demand.referrals_per_week``.
    """
    return scenario_from_dict(factor_data(base, levers, factors)[0])


def factor_data(base: Scenario, levers: Sequence[Lever], factors: Sequence[float]
                 ) -> tuple[dict[str, Any], dict[int, int]]:
    """The data of :func:`apply_factors`' scenario, and for each of its capacity changes (by
    index) the lever (by index) that set it."""
    data = base.model_dump(mode="json")
    by_team: dict[str, list[tuple[dt.date, int]]] = {}
    for i, lever in enumerate(levers):
        if lever.kind == "demand":
            data["demand"]["referrals_per_week"] = base.demand.referrals_per_week * float(factors[i])
        elif lever.team is not None:
            by_team.setdefault(lever.team, []).append((lever.start, i))

    def lever_at(team: str, day: dt.date) -> int | None:
        found = None
        for start, i in sorted(by_team.get(team, [])):
            if start <= day:
                found = i
        return found

    changes: dict[tuple[str, str, str], tuple[dict[str, Any], int | None]] = {}
    for change in base.capacity_changes:
        entry = change.model_dump(mode="json", exclude_none=True)
        i = lever_at(change.team, change.date) if change.wte is not None else None
        if i is not None:
            entry["wte"] = change.wte * float(factors[i])  # type: ignore[operator]
        changes[(str(change.date), change.team, change.group or "")] = (entry, i)
    for team, starts in by_team.items():
        for start, i in starts:
            for group in base.teams[team].staff:
                key = (str(start), team, group)
                if key not in changes:
                    wte = in_force(base, team, start, group) * float(factors[i])
                    changes[key] = ({"date": str(start), "team": team, "group": group,
                                     "wte": wte}, i)
    ordered = sorted(changes.items(), key=lambda kv: kv[0])
    data["capacity_changes"] = [entry for _, (entry, _) in ordered]
    setters = {k: i for k, (_, (_, i)) in enumerate(ordered) if i is not None}
    return data, setters
