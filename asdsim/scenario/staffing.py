"""Staffing in force on a date: a team's stated WTE or clinicians with its dated changes applied.

One definition for every part of the tool that changes staffing from a date (the plan's levers,
sensitivity's staff inputs, history matching's capacity factors), so that they agree on what is
in post when a change is made: a dated change counts from the day it applies (its date plus its
recruitment lead time).
"""

from __future__ import annotations

import datetime as dt

from asdsim.scenario.schema import Scenario


def in_force(scenario: Scenario, team: str, on: dt.date, group: str | None = None) -> float:
    """The WTE of a staff group, or with ``group=None`` a caseload team's clinicians, in force on
    a date.

    Parameters
    ----------
    scenario
        The scenario.
    team
        The team's name.
    on
        The date; a dated change counts from the day it applies (``CapacityChange.applies``).
    group
        The staff group; ``None`` for a caseload team's clinicians.
    """
    spec = scenario.teams[team]
    if group is not None:
        value = spec.staff[group].wte
    else:
        if spec.caseload is None:
            raise ValueError(f"team {team!r} has no caseload, so no clinicians")
        value = spec.caseload.clinicians
    for change in sorted(scenario.capacity_changes, key=lambda c: c.applies):
        if change.team != team or change.applies > on:
            continue
        if group is not None and change.group == group and change.wte is not None:
            value = change.wte
        elif group is None and change.clinicians is not None:
            value = change.clinicians
    return float(value)
