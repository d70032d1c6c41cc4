"""A warm start: the children a running service has part-way through assessment at day 0.

A scenario that starts from a list (``initial_state.warm: true``) also starts with each team's
assessments in progress, as a service that was running before the start date has them; without
it nobody is part-way through, and the first diagnosis waits until a child taken off the list at
day 0 has been through every step up to the outcome.

The rule, for each team open at the start date:

* **How many: Little's law.** Children in assessment = the rate the team starts assessments times
  the mean time from the first step to the outcome step. The rate is the team's assessment
  capacity in force at the start date, or the children it is sent a week if that is lower: a
  running service starts what it is sent, up to its capacity (one working through a list with
  capacity to spare may start more: the count is then a floor). Capacity, clinic-hours mode: for
  each staff group with hours in the assessment, its hours a week at the WTE in force at the start
  date (dated changes applied) and the start month's capacity factor, over the group's hours an
  assessment needs (a contact step booked ``1 / (1 - dna_probability)`` times, times the mean
  hours factor of the flags); the least of these. Caseload mode: the slots in force over the weeks
  a case holds one (every step's minimum gap and mean duration). The children sent a week are
  those accepted whose age at referral and locality the team covers
  (:func:`asdsim.scenario.load.children_per_week`).
* **In which steps: time spent there.** A child with ``k`` steps done (``k`` from 1 to the outcome
  step) is between step ``k - 1`` and step ``k``; the time there is step ``k``'s minimum gap (and,
  in caseload mode, step ``k - 1``'s mean duration). The children are split over ``k`` in
  proportion to that time, by largest remainders so the parts add up to the rounded total.
* **Waits already spent.** Each waited on the list as long as the longest wait of the team's
  starting list waiting for assessment (a first-come list starts its longest waiting; the
  scenario's generated groups for that team or routed by age, or a snapshot's rows waiting for
  assessment; none: no wait on the list), then
  the steps' time before step ``k - 1`` and a uniform share of the time between ``k - 1`` and
  ``k``.
* **Who.** Ages at referral and localities are drawn from the referral mix within the team's
  age range and localities.

The mean time counts the minimum gaps only: a step also waits for a week with hours, and a
missed appointment for its rebooking, so a running service has at least this many in progress.
Children past the outcome step (feedback, follow-up) and the steps an uncertain outcome adds are
not counted: they make no diagnosis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asdsim.scenario.load import (
    children_per_week,
    hours_per_assessment,
    mean_hours_factor,
    weekly_hours,
)
from asdsim.scenario.schema import AgeBand, Scenario, Team
from asdsim.scenario.snapshot import scenario_snapshot
from asdsim.scenario.staffing import in_force


@dataclass(frozen=True)
class WarmTeam:
    """The children a team has part-way through assessment at the start of a warm start."""

    team: str
    """The team's name."""
    capacity_per_week: float
    """Assessments the team can start a week at the start date (inf: its steps need no hours)."""
    demand_per_week: float
    """Children the team is sent a week at the start date."""
    weeks_to_outcome: float
    """Mean weeks from the first step to the outcome step, as the steps' gaps define them."""
    step_days: tuple[float, ...]
    """Days between step ``k - 1`` and step ``k``, for ``k`` = 1 .. the outcome step."""
    counts: tuple[int, ...]
    """Children with ``k`` steps done, for ``k`` = 1 .. the outcome step."""
    list_weeks: float
    """Weeks each waited on the list before its first step."""
    age_bands: tuple[AgeBand, ...]
    """The referral mix of ages within the team's range (ages at referral)."""
    localities: dict[str, float] | None
    """The referral mix of the team's localities (None: every locality, as referred)."""

    @property
    def starts_per_week(self) -> float:
        """The rate the team starts assessments: the lower of capacity and demand."""
        return min(self.capacity_per_week, self.demand_per_week)

    @property
    def total(self) -> int:
        """Children in assessment."""
        return sum(self.counts)

    def weeks_waited(self, steps_done: int) -> tuple[float, float]:
        """Shortest and longest time since referral, in weeks, of a child with ``steps_done``
        steps done (uniform in between)."""
        before = sum(self.step_days[:steps_done - 1])
        return (self.list_weeks + before / 7.0,
                self.list_weeks + (before + self.step_days[steps_done - 1]) / 7.0)


def outcome_index(team: Team) -> int:
    """Index of the team's outcome step (its last step where none is marked)."""
    return next((i for i, s in enumerate(team.steps) if s.outcome), len(team.steps) - 1)


def step_days(team: Team) -> tuple[float, ...]:
    """Days a child spends with ``k`` steps done, for ``k`` = 1 .. the outcome step: step ``k``'s
    minimum gap, plus step ``k - 1``'s mean duration in caseload mode."""
    steps = team.steps
    caseload = team.capacity_mode == "caseload"
    return tuple(steps[k].min_gap_days + (steps[k - 1].duration_days.mean if caseload else 0.0)
                 for k in range(1, outcome_index(team) + 1))


def capacity_per_week(scenario: Scenario, name: str) -> float:
    """Assessments the team can start a week at the start date (see the module docstring)."""
    team = scenario.teams[name]
    start = scenario.start_date
    if team.capacity_mode == "caseload":
        assert team.caseload is not None  # the schema requires it in caseload mode
        slots = math.floor(in_force(scenario, name, start) * team.caseload.cases_per_clinician + 1e-9)
        held = sum(s.min_gap_days + s.duration_days.mean for s in team.steps) / 7.0
        return slots / held if held > 0 else math.inf
    month = team.monthly_capacity_factors[start.month - 1]
    factor = mean_hours_factor(scenario)
    rates = [weekly_hours(staff, in_force(scenario, name, start, group), month) / (hours * factor)
             for group, staff in team.staff.items()
             if (hours := hours_per_assessment(team, group)) > 0]
    return min(rates, default=math.inf)


def split(total: float, weights: tuple[float, ...]) -> tuple[int, ...]:
    """``round(total)`` split in proportion to ``weights`` by largest remainders (ties to the
    earlier part); all zero where the weights are."""
    whole = round(total)
    weight_sum = sum(weights)
    if whole <= 0 or weight_sum <= 0:
        return (0,) * len(weights)
    exact = np.array(weights, dtype=float) * whole / weight_sum
    parts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - parts), kind="stable")
    parts[order[:whole - int(parts.sum())]] += 1
    return tuple(int(p) for p in parts)


def _age_bands(scenario: Scenario, team: Team) -> tuple[AgeBand, ...]:
    """The referral mix of ages cut to the team's range."""
    out = []
    for band in scenario.demand.age_bands:
        low, high = max(band.min_years, team.min_age_years), min(band.max_years, team.max_age_years)
        width = band.max_years - band.min_years
        if high > low and width > 0:
            out.append(AgeBand(min_years=low, max_years=high,
                               weight=band.weight * (high - low) / width))
    return tuple(out)


def _localities(scenario: Scenario, team: Team) -> dict[str, float] | None:
    if team.localities is None:
        return None
    mine = {k: v for k, v in scenario.demand.localities.items() if k in team.localities}
    total = sum(mine.values())
    return {k: v / total for k, v in mine.items()} if total > 0 else None


def _list_weeks(scenario: Scenario, name: str) -> float:
    """The longest wait, in weeks, of the starting list waiting for this team's assessment: the
    generated groups for the team or routed by age, or every such row of a CSV snapshot."""
    state = scenario.initial_state
    if state.kind == "csv":
        snapshot = scenario_snapshot(scenario)
        rows = () if snapshot is None else snapshot.rows
        return max(((scenario.start_date - r.referral_date).days / 7.0 for r in rows
                    if r.stage == "awaiting_assessment"), default=0.0)
    return max((g.weeks_waited_max for g in state.backlog
                if g.stage == "awaiting_assessment" and g.team in (None, name)), default=0.0)


def running_service(scenario: Scenario) -> tuple[WarmTeam, ...]:
    """Each open team's children part-way through assessment by the warm-start rule (whether or
    not the scenario turns it on).

    Parameters
    ----------
    scenario
        The scenario.

    Returns
    -------
    tuple of WarmTeam
        One per team taking children at the start date, in the scenario's order of teams.
    """
    out = []
    for name, team in scenario.teams.items():
        if not team.open_on(scenario.start_date):
            continue
        days = step_days(team)
        capacity = capacity_per_week(scenario, name)
        demand = children_per_week(scenario, team)
        weeks = sum(days) / 7.0
        bands = _age_bands(scenario, team)
        counts = split(min(capacity, demand) * weeks, days) if bands else (0,) * len(days)
        out.append(WarmTeam(name, capacity, demand, weeks, days, counts,
                            _list_weeks(scenario, name), bands, _localities(scenario, team)))
    return tuple(out)


def warm_start_children(scenario: Scenario) -> int:
    """Children the warm start adds (0 where the scenario does not turn it on)."""
    if not scenario.initial_state.warm:
        return 0
    return sum(t.total for t in running_service(scenario))


__all__ = ["WarmTeam", "capacity_per_week", "outcome_index", "running_service", "split",
           "step_days", "warm_start_children"]
