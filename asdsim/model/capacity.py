"""Clinician capacity over time: weekly clinic hours per staff group, and caseload slots.

Hours available in a week are the group's WTE in force at the week's start times its job-plan
share, hours per WTE week, the share of weeks not lost to leave, and the month's capacity factor
(taken at mid-week). Dated changes apply from the week containing the day they apply: their
date plus any recruitment lead time. Added WTE with a ramp reaches full productivity linearly
over ``ramp_weeks``: in the j-th week from the week it applies (j = 0, 1, ...) the added WTE
works at ``min(1, (j + 1/2) / ramp_weeks)`` of its hours, the ramp's value at mid-week, so a
ramp of R weeks loses R/2 weeks of the added WTE's hours. It is funded in full from the day
it applies (:func:`wte_by_day`).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from asdsim.scenario.schema import CapacityChange, Scenario, Team


def week_months(start_date: dt.date, weeks: int) -> np.ndarray:
    """Month index (0 = January) of the middle of each week."""
    mid = np.datetime64(start_date, "D") + 7 * np.arange(weeks) + 3
    return mid.astype("datetime64[M]").astype(int) % 12


def applies_day(scenario: Scenario, change: CapacityChange) -> int:
    """Days from the start to the day a change applies (its date plus the lead time)."""
    return (change.applies - scenario.start_date).days


def _in_order(scenario: Scenario, name: str, group: str | None) -> list[CapacityChange]:
    """A team's changes of one group's WTE (``group``) or of its clinicians (None), in the order
    they apply (ties in the order given)."""
    changes = [c for c in scenario.capacity_changes if c.team == name and (
        (group is not None and c.group == group and c.wte is not None)
        or (group is None and c.clinicians is not None))]
    return sorted(changes, key=lambda c: applies_day(scenario, c))


def productive_wte_by_week(scenario: Scenario, name: str, group_name: str, weeks: int) -> np.ndarray:
    """A staff group's WTE seeing children in each week: its dated changes from the week each
    applies, added WTE ramping up over its ``ramp_weeks``."""
    wte = np.full(weeks, scenario.teams[name].staff[group_name].wte, dtype=float)
    for change in _in_order(scenario, name, group_name):
        assert change.wte is not None
        first = max(applies_day(scenario, change) // 7, 0)
        if first >= weeks:
            continue
        before = float(wte[first])
        wte[first:] = change.wte
        if change.ramp_weeks and change.wte > before:
            span = min(math.ceil(change.ramp_weeks), weeks - first)
            share = np.minimum(1.0, (np.arange(span) + 0.5) / change.ramp_weeks)
            wte[first:first + span] = before + (change.wte - before) * share
    return wte


def hours_available(scenario: Scenario, name: str, weeks: int) -> np.ndarray:
    """Clinic hours available for autism assessment, shape (groups, weeks)."""
    team = scenario.teams[name]
    factors = np.asarray(team.monthly_capacity_factors)[week_months(scenario.start_date, weeks)]
    out = np.empty((len(team.staff), weeks))
    for g, (group_name, group) in enumerate(team.staff.items()):
        out[g] = productive_wte_by_week(scenario, name, group_name, weeks) * group.hours_per_wte * factors
    return out


def wte_by_day(scenario: Scenario, name: str, group_name: str, days: int) -> np.ndarray:
    """A staff group's funded WTE on each day from the start, with its dated changes (from the
    day each applies; a post ramping up is funded in full)."""
    wte = np.full(days, scenario.teams[name].staff[group_name].wte)
    for change in _in_order(scenario, name, group_name):
        wte[max(applies_day(scenario, change), 0):] = change.wte
    return wte


def slot_changes(scenario: Scenario, name: str, team: Team) -> list[tuple[float, int]]:
    """Caseload slots from each change day (days from the start), the first at day 0."""
    assert team.caseload is not None
    out = [(0.0, team.caseload.slots)]
    for change in _in_order(scenario, name, None):
        assert change.clinicians is not None
        slots = int(np.floor(change.clinicians * team.caseload.cases_per_clinician + 1e-9))
        out.append((float(applies_day(scenario, change)), slots))
    return out
