"""Referral and triage: referrals arriving, triage decisions, and the referrals that come back.

Without a triage capacity each referral is decided the moment it arrives. With one, a daily
session decides as many as its capacity allows (fractions add up from day to day while there is
a queue; idle capacity is not banked), taking the referral received first: new referrals, on
their referral day, and those back for triage (returned information, re-referrals, the starting
list's untriaged). A decision accepts (the pathway routes the child), rejects (some come back
as a re-referral after a drawn delay, with a new clock) or asks for more information (some come
back to triage after a drawn wait, with the same clock); a child who does not come back leaves.

:class:`Triage` reaches the pathway only through the :class:`TriageHost` it is handed.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Callable, Generator
from typing import Protocol

import numpy as np

from asdsim.model.child import Child
from asdsim.model.randomness import Draws
from asdsim.model.runtime import Clock
from asdsim.scenario.distributions import Sampler
from asdsim.scenario.schema import Triage as TriageRules


class TriageHost(Protocol):
    """What triage needs from the pathway that runs it."""

    env: Clock
    draws: Draws

    def start(self, generator: Generator) -> None:
        """Run a clock process for the whole replication (the daily triage sessions)."""

    def release(self, child: Child, reason: str, day: float) -> None:
        """The child leaves the pathway (turned down for good)."""

    def route(self, child: Child) -> None:
        """Send an accepted child to the team for its age and place."""

    def later(self, delay: float, action: Callable[[Child], None], child: Child) -> None:
        """Do ``action(child)`` after ``delay`` days, unless the child has left by then."""

    def uniform(self, table: np.ndarray, child: Child, k: int, activity: str) -> float:
        """The child's k-th uniform of an activity."""

    def uniform_part(self, table: np.ndarray, child: Child, k: int, activity: str,
                     j: int) -> float:
        """Part ``j`` of the child's k-th uniform of an activity whose draws have parts."""


class Triage:
    """The triage of one replication.

    Parameters
    ----------
    host
        The pathway.
    rules
        The scenario's triage section.
    sources
        The scenario's referral sources, in order (a child's ``source`` indexes them).
    """

    def __init__(self, host: TriageHost, rules: TriageRules, sources: list[str]):
        self.host = host
        self.env = host.env
        self.rules = rules
        self._outcomes = {i: rules.outcomes_by_source.get(source, rules.outcomes)
                          for i, source in enumerate(sources)}
        # per source, the uniform below which a decision accepts, and below which it rejects
        # (summed once here, as decide would sum them for every referral)
        self._edges = [(o.accept, o.accept + o.reject) for o in self._outcomes.values()]
        self._u_triage = host.draws.triage
        self._rereferral_delay = rules.rereferral_delay_days.sampler()
        self._information_wait = rules.information_wait_days.sampler()
        self.on_arrival = rules.capacity_per_week is None
        self.queue: deque[tuple[float, Child]] = deque()
        """Children back for triage, as (day received, child)."""
        self._new: list[Child] = []  # new referrals, by referral day, taken from ``_next_new``
        self._next_new = 0
        self.decisions: list[tuple[float, float]] = []
        """(referral, its first decision) of every referral decided."""
        self.starting_list_decisions: list[tuple[float, float]] = []
        """Those of :attr:`decisions` that decided a starting-list child's own referral (made
        before the run, so not one of its arrivals)."""
        self.rereferral_days: list[float] = []
        """Days of re-referrals."""
        self.rereferral_gaps: list[tuple[int, float, float]] = []
        """(child, turned down, referred again): the child is not an open referral in between."""

    def start(self, new: list[Child]) -> None:
        """Start triage with the run's new referrals (by referral day): daily sessions with a
        capacity; otherwise decide the queue now and each new referral as it arrives."""
        self._new = new
        self._next_new = 0
        if not self.on_arrival:
            # a triage session takes the referrals received by then, in the order received
            self.host.start(self._sessions(self.rules.capacity_per_week / 7.0))
        else:
            self._arrive(0)
            for _, child in self.queue:
                self.decide(child)
            self.queue.clear()

    def dispose(self) -> None:
        """Forget the host and its clock (see :meth:`asdsim.model.pathway.Pathway.dispose`)."""
        self.host = None  # type: ignore[assignment]
        self.env = None  # type: ignore[assignment]

    def _arrive(self, i: int) -> None:
        """Without a triage capacity: triage new referrals from the ``i``-th on, up to the first
        one still to come, and set an event for that one (one at a time, so the event queue
        stays short). With a capacity, triage sessions take new referrals as they come."""
        children = self._new
        env = self.env
        while i < len(children):
            child = children[i]
            delay = child.referral_day - env.now
            if delay > 0:
                env.call_in(delay, functools.partial(self._arrived, i))
                return
            self.receive(child)
            i += 1

    def _arrived(self, i: int) -> None:
        self.receive(self._new[i])
        self._arrive(i + 1)

    def receive(self, child: Child) -> None:
        """A referral (new, back with information, or a re-referral) reaches triage."""
        if self.on_arrival:
            self.decide(child)
        else:
            self.queue.append((self.env.now, child))

    def _new_referral_by(self, now: float) -> Child | None:
        """The next new referral not yet taken into triage, if it has been received by now."""
        if self._next_new < len(self._new):
            child = self._new[self._next_new]
            if child.referral_day <= now:
                return child
        return None

    def _sessions(self, per_day: float):
        env = self.env
        queue = self.queue
        new, n_new = self._new, len(self._new)
        decide = self.decide
        credit = 0.0  # fractional referrals a day add up across days
        while True:
            now = env.now
            credit += per_day
            while credit >= 1.0:
                # the referral received first of those waiting: the next new one (received on
                # its referral day) or the first back for triage
                i = self._next_new
                arrived = new[i] if i < n_new and new[i].referral_day <= now else None
                if queue and (arrived is None or queue[0][0] <= arrived.referral_day):
                    child = queue.popleft()[1]
                elif arrived is not None:
                    self._next_new = i + 1
                    child = arrived
                else:
                    break
                credit -= 1.0
                decide(child)
            if not queue and self._new_referral_by(now) is None:
                credit = min(credit, per_day)  # idle capacity is not banked
            yield env.timeout(1.0)

    def decide(self, child: Child) -> None:
        """Triage a child's referral now: accept, reject or ask for more information."""
        host = self.host
        now = self.env.now
        k = child.triage_count
        child.triage_count = k + 1
        if child.triage_day != child.triage_day:  # NaN: the first decision on this referral
            self.decisions.append((child.referral_day, now))
            if child.from_backlog and child.referrals == 1:
                self.starting_list_decisions.append((child.referral_day, now))
        child.triage_day = now
        accept, reject = self._edges[child.source]
        try:  # host.uniform, without its call for the pre-drawn ones
            u = self._u_triage.item(child.id, k)
        except IndexError:
            u = host.uniform(self._u_triage, child, k, "triage")
        if u < accept:
            child.accepted_day = now
            host.route(child)
        elif u < reject:
            self._comes_back(child, k, host.draws.rereferral, "rereferral",
                             self.rules.rereferral_probability, self._rereferral_delay,
                             self.rereferred, "rejected")
        else:
            self._comes_back(child, k, host.draws.information, "information",
                             self.rules.information_return_probability,
                             self._information_wait, self.receive, "information_not_returned")

    def _comes_back(self, child: Child, k: int, table: np.ndarray, activity: str,
                    probability: float, delay: Sampler, action: Callable[[Child], None],
                    otherwise: str) -> None:
        """With ``probability``, ``action`` the child after a drawn delay; else it exits."""
        host = self.host
        if host.uniform_part(table, child, k, activity, 0) < probability:
            wait = delay(host.uniform_part(table, child, k, activity, 1))
            if activity == "rereferral":  # not an open referral until it comes back
                self.rereferral_gaps.append((child.id, self.env.now, self.env.now + wait))
            host.later(wait, action, child)
        else:
            host.release(child, otherwise, self.env.now)

    def rereferred(self, child: Child) -> None:
        """The child is referred again: a new referral, with its own clock and triage record."""
        child.referral_day = self.env.now
        child.triage_day = math.nan  # milestones belong to the current referral
        child.referrals += 1
        self.rereferral_days.append(self.env.now)
        self.receive(child)
