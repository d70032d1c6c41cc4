"""Stated demand and capacity of a scenario, from its fields alone (no simulation).

What ``asdsim validate``'s utilisation check (:mod:`asdsim.analysis.utilisation`) and the warm
start (:mod:`asdsim.scenario.warm`) both read from a scenario: referrals a week on a day, the
triage shares, the children a team is sent a week, the hours an assessment needs of a staff
group and the hours the group has a week.
"""

from __future__ import annotations

import datetime as dt

from asdsim.scenario.schema import Scenario, StaffGroup, Team, TriageOutcomes

DAYS_PER_YEAR = 365.25


def referral_rate(scenario: Scenario, day: float) -> float:
    """Referrals a week ``day`` days after ``start_date``: the base rate with compound growth
    and the step changes in force (seasonality averages 1)."""
    demand = scenario.demand
    rate = demand.referrals_per_week * (1.0 + demand.annual_growth) ** (day / DAYS_PER_YEAR)
    when = scenario.start_date + dt.timedelta(days=day)
    for change in demand.step_changes:
        if change.date <= when:
            rate *= change.factor
    return rate


def triage_shares(scenario: Scenario) -> tuple[float, float, float]:
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


def per_referral(scenario: Scenario) -> tuple[float, float]:
    """Referrals a child makes (rejected ones referred again), and triage decisions a referral
    needs (requests for more information answered)."""
    _, reject, more = triage_shares(scenario)
    triage = scenario.triage
    referrals = 1.0 / max(1.0 - reject * triage.rereferral_probability, 1e-9)
    decisions = 1.0 / max(1.0 - more * triage.information_return_probability, 1e-9)
    return referrals, decisions


def age_share(scenario: Scenario, low: float, high: float) -> float:
    """Share of referrals aged ``[low, high)`` at referral (uniform within each age band)."""
    bands = scenario.demand.age_bands
    total = sum(b.weight for b in bands) or 1.0
    share = 0.0
    for b in bands:
        width = b.max_years - b.min_years
        inside = max(0.0, min(high, b.max_years) - max(low, b.min_years))
        share += b.weight / total * (inside / width if width > 0 else float(low <= b.min_years < high))
    return share


def covered_share(scenario: Scenario, team: Team) -> float:
    """Share of referrals whose age at referral and locality the team covers."""
    localities = scenario.demand.localities
    total = sum(localities.values()) or 1.0
    covered = (1.0 if team.localities is None
               else sum(v for k, v in localities.items() if k in team.localities) / total)
    return covered * age_share(scenario, team.min_age_years, team.max_age_years)


def mean_hours_factor(scenario: Scenario) -> float:
    """Mean multiplier on assessment hours over the flags' prevalence."""
    factor = 1.0
    for flag in scenario.demand.flags.values():
        factor *= 1.0 + flag.probability * (flag.hours_factor - 1.0)
    return factor


def children_per_week(scenario: Scenario, team: Team, day: float = 0.0) -> float:
    """Children accepted a week whom the team covers, ``day`` days after ``start_date``."""
    referrals, _ = per_referral(scenario)
    accept, _, _ = triage_shares(scenario)
    return referral_rate(scenario, day) * referrals * accept * covered_share(scenario, team)


def hours_per_assessment(team: Team, group: str) -> float:
    """A staff group's hours over an assessment's steps, a contact step booked
    ``1 / (1 - dna_probability)`` times (before the flags' hours factor)."""
    return sum(step.hours.get(group, 0.0)
               / (max(1.0 - step.dna_probability, 1e-9) if step.contact else 1.0)
               for step in team.steps)


def weekly_hours(staff: StaffGroup, wte: float, month_factor: float) -> float:
    """Clinic hours a week of a staff group at ``wte`` WTE: contracted hours times the autism
    share, less the weeks lost a year, times a month's capacity factor."""
    return (wte * staff.hours_per_wte_week * staff.autism_share
            * (52.0 - staff.weeks_lost_per_year) / 52.0 * month_factor)


__all__ = ["age_share", "children_per_week", "covered_share", "hours_per_assessment",
           "mean_hours_factor", "per_referral", "referral_rate", "triage_shares", "weekly_hours"]
