"""Turning a finished replication into plain arrays (cheap to pickle and to concatenate).

Anything dated after the horizon has not happened yet as far as the outputs go: such a milestone
is NaN, never a sentinel, and a child whose exit lies beyond the horizon is still ``waiting`` or
``in_assessment``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asdsim.model.capacity import hours_available
from asdsim.model.child import MILESTONES
from asdsim.model.pathway import Pathway
from asdsim.model.teams import CaseloadTeam, ClinicTeam


@dataclass
class ReplicationRecord:
    """Everything the tables and KPIs need from one replication."""

    replication: int
    columns: dict[str, np.ndarray]
    """Patient columns, one element per child."""
    rereferral_days: np.ndarray
    """Days of re-referrals (new referrals of children rejected earlier)."""
    staff: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]
    """(team, group) -> (hours available, hours used) per week over the horizon."""
    slots: dict[str, tuple[np.ndarray, np.ndarray]]
    """Caseload team -> (slots available, slots busy on average) per week."""
    outsourced_cost_gbp: float
    wall_seconds: float = 0.0


def _weekly_sum(days: np.ndarray, values: np.ndarray, weeks: int) -> np.ndarray:
    index = (days // 7.0).astype(np.int64)
    keep = (index >= 0) & (index < weeks)
    return np.bincount(index[keep], weights=values[keep], minlength=weeks)[:weeks]


def _busy_per_week(cases: list[tuple[float, float]], weeks: int) -> np.ndarray:
    """Average number of cases held during each week.

    The number held is a step function changing at starts (+1) and ends (-1); its running
    integral is linear between those events, so interpolating it at the week edges gives each
    week's case-days in time linear in cases plus weeks.
    """
    if not cases:
        return np.zeros(weeks)
    arr = np.asarray(cases, dtype=float)
    times = np.concatenate([arr[:, 0], arr[:, 1]])
    steps = np.concatenate([np.ones(len(arr)), -np.ones(len(arr))])
    order = np.argsort(times, kind="stable")
    times, steps = times[order], steps[order]
    held = np.cumsum(steps)  # cases held just after each event
    integral = np.concatenate([[0.0], np.cumsum(held[:-1] * np.diff(times))])
    edges = 7.0 * np.arange(weeks + 1)
    at_edges = np.interp(edges, times, integral, left=0.0, right=integral[-1])
    return np.diff(at_edges) / 7.0


def record(pathway: Pathway, replication: int) -> ReplicationRecord:
    """Collect a finished replication's results as arrays."""
    horizon = pathway.horizon
    kids = pathway.children
    scenario = pathway.scenario
    cols: dict[str, np.ndarray] = {}
    for name in (*MILESTONES, "started_day"):
        values = np.fromiter((getattr(c, name) for c in kids), float, len(kids))
        values[values > horizon] = np.nan
        cols[name] = values
    exit_day = cols["exit_day"]
    reasons = np.array([c.exit_reason or "" for c in kids], dtype=object)
    started = ~np.isnan(cols["started_day"])
    open_now = np.isnan(exit_day)
    reasons[open_now & started] = "in_assessment"
    reasons[open_now & ~started] = "waiting"
    cols["exit_reason"] = reasons
    outcome = np.array([c.outcome for c in kids], dtype=object)
    outcome[np.isnan(cols["diagnosis_day"])] = None
    cols["outcome"] = outcome
    cols["team"] = np.array([c.team for c in kids], dtype=object)
    cols["age_at_referral_years"] = np.fromiter((c.age_years for c in kids), float, len(kids))
    sources = np.array(pathway.sources, dtype=object)
    localities = np.array(pathway.localities, dtype=object)
    classes = np.array(scenario.priority_classes, dtype=object)
    cols["source"] = sources[np.fromiter((c.source for c in kids), np.int64, len(kids))]
    cols["locality"] = localities[np.fromiter((c.locality for c in kids), np.int64, len(kids))]
    cols["priority"] = classes[np.fromiter((c.priority for c in kids), np.int64, len(kids))]
    for name, kind in (("from_backlog", bool), ("outsourced", bool), ("referrals", np.int64),
                       ("transfers", np.int64), ("dna_count", np.int64),
                       ("staff_hours", float)):
        cols[name] = np.fromiter((getattr(c, name) for c in kids), kind, len(kids))
    cols["hours_factor"] = np.fromiter((c.hours_factor for c in kids), float, len(kids))

    weeks = pathway.weeks
    staff: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    slots: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, team in pathway.teams.items():
        if isinstance(team, ClinicTeam):
            used = team.hours_used()
            for g, group in enumerate(team.groups):
                staff[(name, group)] = (team.available[g, :weeks].copy(), used[g, :weeks].copy())
        else:
            assert isinstance(team, CaseloadTeam)
            available = hours_available(scenario, name, weeks)
            log = np.array(team.hours_log) if team.hours_log else np.zeros((0, 3))
            for g, group in enumerate(team.groups):
                mine = log[log[:, 1] == g] if len(log) else log
                used = _weekly_sum(mine[:, 0], mine[:, 2], weeks) if len(mine) else np.zeros(weeks)
                staff[(name, group)] = (available[g], used)
            slot_days = np.array([s for _, s in team.slot_changes], dtype=float)
            change_days = np.array([d for d, _ in team.slot_changes])
            week_starts = 7.0 * np.arange(weeks)
            current = slot_days[np.searchsorted(change_days, week_starts, side="right") - 1]
            slots[name] = (current, _busy_per_week(team.cases, weeks))
    return ReplicationRecord(
        replication=replication, columns=cols,
        rereferral_days=np.array(pathway.rereferral_days, dtype=float),
        staff=staff, slots=slots, outsourced_cost_gbp=pathway.outsourced_cost_gbp,
    )
