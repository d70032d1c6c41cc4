"""Clinician capacity over time: weekly clinic hours per staff group, and caseload slots.

Hours available in a week are the group's WTE in force at the week's start times its job-plan
share, hours per WTE week, the share of weeks not lost to leave, and the month's capacity factor
(taken at mid-week). Dated changes apply from the week containing their date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from asdsim.scenario.schema import Scenario, Team


def week_months(start_date: dt.date, weeks: int) -> np.ndarray:
    """Month index (0 = January) of the middle of each week."""
    mid = np.datetime64(start_date, "D") + 7 * np.arange(weeks) + 3
    return mid.astype("datetime64[M]").astype(int) % 12


def hours_available(scenario: Scenario, name: str, weeks: int) -> np.ndarray:
    """Clinic hours available for autism assessment, shape (groups, weeks)."""
    team = scenario.teams[name]
    factors = np.asarray(team.monthly_capacity_factors)[week_months(scenario.start_date, weeks)]
    out = np.empty((len(team.staff), weeks))
    for g, (group_name, group) in enumerate(team.staff.items()):
        wte = np.full(weeks, group.wte)
        for change in sorted(scenario.capacity_changes, key=lambda c: c.date):
            if change.team == name and change.group == group_name and change.wte is not None:
                wte[max((change.date - scenario.start_date).days // 7, 0):] = change.wte
        out[g] = wte * group.hours_per_wte * factors
    return out


def wte_by_day(scenario: Scenario, name: str, group_name: str, days: int) -> np.ndarray:
    """A staff group's funded WTE on each day from the start, with its dated changes."""
    wte = np.full(days, scenario.teams[name].staff[group_name].wte)
    for change in sorted(scenario.capacity_changes, key=lambda c: c.date):
        if change.team == name and change.group == group_name and change.wte is not None:
            wte[max((change.date - scenario.start_date).days, 0):] = change.wte
    return wte


def slot_changes(scenario: Scenario, name: str, team: Team) -> list[tuple[float, int]]:
    """Caseload slots from each change day (days from the start), the first at day 0."""
    assert team.caseload is not None
    out = [(0.0, team.caseload.slots)]
    for change in sorted(scenario.capacity_changes, key=lambda c: c.date):
        if change.team == name and change.clinicians is not None:
            slots = int(np.floor(change.clinicians * team.caseload.cases_per_clinician + 1e-9))
            out.append((float((change.date - scenario.start_date).days), slots))
    return out
