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

from asdsim.scenario.schema import Scenario, Team, TriageOutcomes

DAYS_PER_YEAR = 365.25


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


def _rate(scenario: Scenario, day: float) -> float:
    demand = scenario.demand
    rate = demand.referrals_per_week * (1.0 + demand.annual_growth) ** (day / DAYS_PER_YEAR)
    when = scenario.start_date + dt.timedelta(days=day)
    for change in demand.step_changes:
        if change.date <= when:
            rate *= change.factor
    return rate


def _shares(scenario: Scenario) -> tuple[float, float, float]:
    """Accept, reject and more-information shares, weighted over the sources."""
    triage = scenario.triage
    total = sum(scenario.demand.sources.values()) or 1.0
    accept = reject = more = 0.0
    for source, share in scenario.demand.sources.items():
        outcomes: TriageOutcomes = triage.outcomes_by_source.get(source, triage.outcomes)
        accept += share / total * outcomes.accept
        reject += share / total * outcomes.reject
        more += share / total * outcomes.more_information
    return accept, reject, more


def _per_referral(scenario: Scenario) -> tuple[float, float]:
    """Referrals a child makes, and triage decisions a referral needs."""
    _, reject, more = _shares(scenario)
    triage = scenario.triage
    referrals = 1.0 / max(1.0 - reject * triage.rereferral_probability, 1e-9)
    decisions = 1.0 / max(1.0 - more * triage.information_return_probability, 1e-9)
    return referrals, decisions


def triage_load(scenario: Scenario, day: float = 0.0) -> float:
    """Triage decisions needed a week, ``day`` days after ``start_date``."""
    referrals, decisions = _per_referral(scenario)
    return _rate(scenario, day) * referrals * decisions


def _age_share(scenario: Scenario, low: float, high: float) -> float:
    bands = scenario.demand.age_bands
    total = sum(b.weight for b in bands) or 1.0
    share = 0.0
    for b in bands:
        width = b.max_years - b.min_years
        inside = max(0.0, min(high, b.max_years) - max(low, b.min_years))
        share += b.weight / total * (inside / width if width > 0 else float(low <= b.min_years < high))
    return share


def _covered_share(scenario: Scenario, team: Team) -> float:
    localities = scenario.demand.localities
    total = sum(localities.values()) or 1.0
    covered = (1.0 if team.localities is None
               else sum(v for k, v in localities.items() if k in team.localities) / total)
    return covered * _age_share(scenario, team.min_age_years, team.max_age_years)


def _hours_factor(scenario: Scenario) -> float:
    factor = 1.0
    for flag in scenario.demand.flags.values():
        factor *= 1.0 + flag.probability * (flag.hours_factor - 1.0)
    return factor


def team_hours(scenario: Scenario, name: str) -> dict[str, tuple[float, float]]:
    """Each staff group of a clinic-hours team: (hours needed, hours available) a week at
    ``start_date``; empty for a caseload team."""
    team = scenario.teams[name]
    if team.capacity_mode != "clinic_hours":
        return {}
    referrals, _ = _per_referral(scenario)
    accept, _, _ = _shares(scenario)
    children = _rate(scenario, 0.0) * referrals * accept * _covered_share(scenario, team)
    factor = _hours_factor(scenario)
    months = sum(team.monthly_capacity_factors) / len(team.monthly_capacity_factors)
    out = {}
    for group, staff in team.staff.items():
        per_child = sum(step.hours.get(group, 0.0)
                        / (max(1.0 - step.dna_probability, 1e-9) if step.contact else 1.0)
                        for step in team.steps)
        available = (staff.wte * staff.hours_per_wte_week * staff.autism_share
                     * (52.0 - staff.weeks_lost_per_year) / 52.0 * months)
        out[group] = (children * per_child * factor, available)
    return out


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
