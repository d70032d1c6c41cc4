"""How services manage their waiting lists beyond the list's order: clinical prioritisation,
children leaving for another provider (right to choose), and list validation.

Each mechanism is optional on a team's ``waiting_list`` (see
:mod:`asdsim.scenario.schema.listpolicy`); :class:`ListPolicies` is built only when some team
has one, so a run without them does no extra work per child. Each draws from its own named
stream ("prioritisation", "leaving", "validation"), created only when the mechanism is used, so
no other stream's draws shift.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np

from asdsim.model.case import Case
from asdsim.model.child import LIST_EXIT_REASONS, Child
from asdsim.model.randomness import Streams
from asdsim.model.runtime import Clock
from asdsim.model.teams import TeamRunner
from asdsim.scenario.schema import Scenario, Validation

LEFT, VALIDATED = LIST_EXIT_REASONS
"""Exit reasons: left the list for another provider; discharged when the list was validated."""


class PolicyHost(Protocol):
    """What the list policies need from the pathway that runs them."""

    env: Clock
    """The replication's clock."""
    horizon: float
    """Day the replication ends."""

    def release(self, child: Child, reason: str, day: float) -> None:
        """The child leaves the pathway."""


class ListPolicies:
    """The list policies of one replication.

    Parameters
    ----------
    host
        The pathway.
    scenario
        The validated scenario.
    streams
        The replication's named streams.
    n
        Number of children in the run (each has one uniform per mechanism).
    teams
        The teams by name.
    deadline
        ``deadline(at, case, reason)``: end a case not yet started with ``reason`` at day ``at``
        (the pathway's deadlines, shared with withdrawal and age-out).
    """

    def __init__(self, host: PolicyHost, scenario: Scenario, streams: Streams, n: int,
                 teams: dict[str, TeamRunner], deadline: Callable[[float, Case, str], None]):
        self.host = host
        self.deadline = deadline
        lists = {name: team.waiting_list for name, team in scenario.teams.items()}
        self.prioritisation = {name: wl.prioritisation for name, wl in lists.items()
                               if wl.prioritisation is not None}
        self.leaving = {name: wl.leaving for name, wl in lists.items() if wl.leaving is not None}
        self.u_urgent = streams["prioritisation"].random(n) if self.prioritisation else None
        self.u_leave = streams["leaving"].random(n) if self.leaving else None
        self.urgent_rank = 0  # the first (most urgent) priority class
        validating = [(name, wl.validation) for name, wl in lists.items() if wl.validation is not None]
        if validating:
            rng = streams["validation"]
            for name, rule in validating:
                days = _validation_days(rule, scenario, host.horizon)
                for day in days:
                    host.env.call_at(day, lambda t=teams[name], r=rule: self._validate(t, r, rng))

    def before_join(self, child: Child, name: str) -> None:
        """Clinical prioritisation as the child joins ``name``'s list: flagged urgent with the
        share for its age (once urgent, always urgent)."""
        rule = self.prioritisation.get(name)
        if rule is None or self.u_urgent is None:
            return
        share = rule.share_at(child.age_at(self.host.env.now))
        if share > 0 and self.u_urgent.item(child.id) < share:
            child.priority = min(child.priority, self.urgent_rank)

    def after_join(self, case: Case, name: str) -> None:
        """Right to choose: the day the child leaves for another provider, if it is still
        waiting then. Waited time counts from its first list; the hazard applies after
        ``after_weeks`` and the child's own uniform gives the exponential time past that."""
        rule = self.leaving.get(name)
        if rule is None or self.u_leave is None or not case.not_started:
            return
        child = case.child
        u = self.u_leave.item(child.id)
        at = child.list_join_day + 7.0 * rule.after_weeks - math.log1p(-u) / rule.per_year * 365.25
        if at < self.host.horizon:
            self.deadline(at, case, LEFT)

    def _validate(self, team: TeamRunner, rule: Validation, rng: np.random.Generator) -> None:
        """Contact every child waiting on ``team``'s list for over ``rule.over_weeks`` since
        referral, in child order, and discharge each with the rule's share."""
        now = self.host.env.now
        longest = 7.0 * rule.over_weeks
        due = sorted((c for c in team.list.waiting() if now - c.child.referral_day > longest),
                     key=lambda c: c.child.id)
        if not due:
            return
        u = rng.random(len(due))
        for case, draw in zip(due, u.tolist(), strict=True):
            if draw < rule.discharge_share:
                self.host.release(case.child, VALIDATED, now)


def _validation_days(rule: Validation, scenario: Scenario, horizon: float) -> list[float]:
    """Days within the horizon on which the list is validated."""
    if rule.every_weeks is not None:
        step = 7.0 * rule.every_weeks
        return [k * step for k in range(1, int(horizon // step) + 1) if k * step < horizon]
    days = sorted({float((d - scenario.start_date).days) for d in rule.dates})
    return [d for d in days if 0.0 <= d < horizon]
