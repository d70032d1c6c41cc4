"""Stated capacity against stated demand, from a scenario's fields alone (no simulation).

A quick check of a scenario before it runs, so that a capacity left at a template's value
beside a fitted demand several times larger is caught by ``asdsim validate`` and
``asdsim calibrate`` rather than by a run that ends with thousands stuck in one queue.

**Triage.** Decisions needed a week are the referral rate (base weekly rate, times compound
growth and the step changes in force; seasonality averages 1) times the referrals each child
makes, ``1 / (1 - reject * rereferral_probability)``, times the decisions each referral needs,
``1 / (1 - more_information * information_return_probability)``; the shares are weighted over
the sources where ``outcomes_by_source`` gives them. Capacity is ``capacity_per_week``.

**A clinic-hours team's staff group.** Hours needed a week are the children accepted a week
whose age at referral (uniform within each age band) and locality the team covers, times the
group's hours over the steps (a contact step booked ``1 / (1 - dna_probability)`` times, joint
steps counted for every group in them), times the mean hours factor of the flags. Hours
available are ``wte * hours_per_wte_week * autism_share * (52 - weeks_lost_per_year) / 52``
times the mean monthly capacity factor. Caseload teams, dated staffing changes and outsourcing
are not included (a run measures them).

Both are stated at ``start_date`` and, for triage, at the end of the run (growth and step
changes then in force). Utilisation over 100% means the queue must grow.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from asdsim.scenario.load import (
    children_per_week,
    hours_per_assessment,
    mean_hours_factor,
    per_referral,
    referral_rate,
    weekly_hours,
)
from asdsim.scenario.schema import Scenario


@dataclass(frozen=True)
class Utilisation:
    """One stage's stated demand against its stated capacity."""

    stage: str
    """``triage``, or the team's name for a team's staff group."""
    group: str | None
    """The staff group (None for triage)."""
    field: str
    """The capacity's field path (``triage.capacity_per_week``)."""
    date: dt.date
    """When the demand is stated."""
    demand_per_week: float
    """Decisions (triage) or hours (a staff group) needed a week."""
    capacity_per_week: float
    """Decisions or hours available a week."""
    unit: str
    """``referrals`` (triage) or ``hours``."""

    @property
    def utilisation(self) -> float:
        """Demand over capacity (inf when there is no capacity)."""
        if self.capacity_per_week <= 0:
            return math.inf if self.demand_per_week > 0 else 0.0
        return self.demand_per_week / self.capacity_per_week

    @property
    def message(self) -> str:
        """The warning in words, with the figures."""
        what = "triage decisions" if self.group is None else f"{self.group} hours"
        used = ("no capacity" if math.isinf(self.utilisation)
                else f"utilisation {100 * self.utilisation:.0f}%")
        where = ("triage" if self.group is None
                 else f"the {self.stage} waiting list (or mid-assessment)")
        return (f"{self.field} gives {self.capacity_per_week:.1f} {what} a week, but the scenario's "
                f"demand needs about {self.demand_per_week:.1f} a week on {self.date.isoformat()} "
                f"({used}): children will pile up in {where} unless it is raised")


def triage_load(scenario: Scenario, day: float = 0.0) -> float:
    """Triage decisions needed a week, ``day`` days after ``start_date``."""
    referrals, decisions = per_referral(scenario)
    return referral_rate(scenario, day) * referrals * decisions


def team_hours(scenario: Scenario, name: str) -> dict[str, tuple[float, float]]:
    """Each staff group of a clinic-hours team: (hours needed, hours available) a week at
    ``start_date``; empty for a caseload team."""
    team = scenario.teams[name]
    if team.capacity_mode != "clinic_hours":
        return {}
    children = children_per_week(scenario, team)
    factor = mean_hours_factor(scenario)
    months = sum(team.monthly_capacity_factors) / len(team.monthly_capacity_factors)
    return {group: (children * hours_per_assessment(team, group) * factor,
                    weekly_hours(staff, staff.wte, months))
            for group, staff in team.staff.items()}


def stated_utilisation(scenario: Scenario) -> list[Utilisation]:
    """Triage (at the start and the end of the run) and every clinic-hours staff group open at
    the start: stated demand against stated capacity (see the module docstring)."""
    out = []
    capacity = scenario.triage.capacity_per_week
    if capacity is not None:
        for day in (0.0, float(scenario.horizon_days)):
            out.append(Utilisation("triage", None, "triage.capacity_per_week",
                                   scenario.start_date + dt.timedelta(days=day),
                                   triage_load(scenario, day), capacity, "referrals"))
    for name, team in scenario.teams.items():
        if (team.opens_on is not None and team.opens_on > scenario.start_date) or (
                team.closes_on is not None and team.closes_on <= scenario.start_date):
            continue
        for group, (needed, available) in team_hours(scenario, name).items():
            out.append(Utilisation(name, group, f"teams.{name}.staff.{group}.wte",
                                   scenario.start_date, needed, available, "hours"))
    return out


def over_capacity(scenario: Scenario, limit: float = 1.0) -> list[Utilisation]:
    """The stages whose stated utilisation is over ``limit``; for triage, the earliest date it
    is over (the start, or else the end of the run)."""
    over = [u for u in stated_utilisation(scenario) if u.utilisation > limit]
    triage = [u for u in over if u.group is None]
    return triage[:1] + [u for u in over if u.group is not None]


__all__ = ["Utilisation", "over_capacity", "stated_utilisation", "team_hours", "triage_load"]
