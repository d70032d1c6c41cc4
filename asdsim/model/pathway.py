"""The pathway of one replication: referral, triage, routing, waiting lists and assessment.

``Pathway`` builds a SimPy environment from a scenario and runs it to the horizon. Children are
created up front (new referrals from the demand process, then the starting backlog), each with
its own pre-drawn uniforms for every activity, so the same child meets the same luck in every
scenario run with the same seed. SimPy processes run the activities that happen on a clock
(daily triage sessions, weekly booking, monthly outsourcing); a child's own events (a referral,
an appointment, a withdrawal) are single timeouts with a callback.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
from collections import deque
from collections.abc import Callable, Generator
from typing import cast

import numpy as np
import simpy

from asdsim.model.backlog import generate_backlog
from asdsim.model.capacity import hours_available, slot_changes
from asdsim.model.case import Case
from asdsim.model.caseload import CaseloadTeam
from asdsim.model.child import Child
from asdsim.model.clinic import ClinicTeam
from asdsim.model.demand import draw_children, referral_days
from asdsim.model.randomness import Draws, Streams
from asdsim.model.runtime import collector_paused
from asdsim.model.teams import TeamRunner
from asdsim.scenario.distributions import Sampler
from asdsim.scenario.schema import Scenario


class Pathway:
    """One replication of a scenario.

    Parameters
    ----------
    scenario
        The validated scenario.
    seed
        The run's seed.
    replication
        Replication number.
    """

    def __init__(self, scenario: Scenario, seed: int, replication: int):
        self.scenario = scenario
        self.env = simpy.Environment()
        self._generators: list[Generator] = []  # the processes' generators, closed by dispose
        self._dates: dict[int, dt.date] = {}
        self.horizon = scenario.horizon_days
        self.streams = streams = Streams(seed, replication)
        self.weeks = scenario.horizon_weeks
        self.rereferral_days: list[float] = []
        self.rereferral_gaps: list[tuple[int, float, float]] = []  # child, rejected, referred again
        self.triage_decisions: list[tuple[float, float]] = []  # (referral, its first decision)
        self.sources = list(scenario.demand.sources)
        self.localities = list(scenario.demand.localities)
        self.outsourced_cost_gbp = 0.0
        self.outsourcing_bought: list[tuple[float, float]] = []  # (day, price) of each purchase
        self.outsourcing_skipped: list[tuple[float, float]] = []  # (day, price not spent) by stop rules

        arrivals = referral_days(scenario.demand, scenario.start_date, self.horizon,
                                 streams["arrivals"])
        kids = draw_children(scenario, len(arrivals), streams["children"])
        backlog = generate_backlog(scenario, streams["backlog"])
        n_new, n = len(arrivals), len(arrivals) + len(backlog)
        self.draws = Draws.make(streams, n)
        children = [
            Child(i, age, source, locality, priority, factor, day, False)
            for i, (age, source, locality, priority, factor, day) in enumerate(zip(
                kids.age_years.tolist(), kids.source.tolist(), kids.locality.tolist(),
                kids.priority.tolist(), kids.hours_factor.tolist(), arrivals.tolist(),
                strict=True))
        ]
        order = np.argsort(backlog.referral_day, kind="stable")
        for j in order:
            children.append(Child(
                len(children), float(backlog.age_years[j]), int(backlog.source[j]),
                int(backlog.locality[j]), int(backlog.priority[j]),
                float(backlog.hours_factor[j]), float(backlog.referral_day[j]), True,
            ))
        self.children = children

        self.teams: dict[str, TeamRunner] = {}
        for name, team in scenario.teams.items():
            if team.capacity_mode == "caseload":
                self.teams[name] = CaseloadTeam(self, name, team,
                                                slot_changes(scenario, name, team),
                                                hours_available(scenario, name, self.weeks))
            else:
                weeks = self.weeks + team.booking_horizon_weeks
                self.teams[name] = ClinicTeam(self, name, team,
                                              hours_available(scenario, name, weeks))
        self._withdrawal_rate = {
            name: team.waiting_list.withdrawal_per_year / 365.25
            for name, team in scenario.teams.items()
        }
        self._review = {
            name: (team.review.under_years, team.review.duration_days.sampler())
            for name, team in scenario.teams.items() if team.review is not None
        }

        triage = scenario.triage
        self._triage_outcomes = {
            i: triage.outcomes_by_source.get(source, triage.outcomes)
            for i, source in enumerate(self.sources)
        }
        self._rereferral_delay = triage.rereferral_delay_days.sampler()
        self._information_wait = triage.information_wait_days.sampler()
        # children back for triage (returned information, re-referrals, the starting list's
        # untriaged), as (day received, child); new referrals wait in ``_new`` from ``_next_new``
        self._triage_queue: deque[tuple[float, Child]] = deque()
        self._age_out_years = scenario.routing.age_out_years
        self._dated_teams = any(t.opens_on is not None or t.closes_on is not None
                                for t in scenario.teams.values())
        self._transfer_age = {name: t.max_age_years if t.on_age_boundary == "transfer" else None
                              for name, t in scenario.teams.items()}
        self._routes = [
            tuple((t.min_age_years, t.max_age_years, name, t.opens_on, t.closes_on)
                  for name, t in scenario.teams.items() if t.serves(locality))
            for locality in self.localities
        ]
        self._triage_on_arrival = triage.capacity_per_week is None
        self.held: dict[int, tuple[Child, object]] = {}  # children held until a team covers them

        for k, j in enumerate(order):
            child = children[n_new + k]
            if backlog.stage[j] == 0:
                self._triage_queue.append((0.0, child))
                continue
            # already on a list: not triaged or routed again, and not turned away on day 0
            child.triage_day = child.accepted_day = child.referral_day
            child.list_join_day = child.referral_day  # keeps its place ahead of new joiners
            name = backlog.team[j] or self._starting_team(child)
            if name is None:
                self.route(child)
                continue
            done = 0 if backlog.steps_done is None else int(backlog.steps_done[j])
            if backlog.stage[j] == 2:
                self.teams[name].resume(child, done)
            else:
                self.join_list(child, name)
        self._new = children[:n_new]
        self._next_new = 0
        if triage.capacity_per_week is not None:
            # a triage session takes the referrals received by then, in the order received
            self.start(self._triage_sessions(triage.capacity_per_week / 7.0))
        else:
            self._arrive(0)
            for _, child in self._triage_queue:
                self._triage(child)
            self._triage_queue.clear()
        for block in scenario.outsourcing:
            self.start(self._outsourcing(block))
        for team in scenario.teams.values():
            if team.opens_on is not None and 0 < self.day(team.opens_on) < self.horizon:
                self.env.timeout(self.day(team.opens_on)).callbacks.append(self._team_opens)

    # -- running ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Run the replication to the horizon.

        Python's cyclic garbage collector is paused meanwhile (see
        :mod:`asdsim.model.runtime`).
        """
        with collector_paused():
            self.env.run(until=self.horizon)

    def start(self, generator: Generator) -> None:
        """Run a generator as a SimPy process (the clock's own activities: triage sessions,
        weekly booking, outsourcing)."""
        self._generators.append(generator)
        self.env.process(generator)

    def dispose(self) -> None:
        """Break the run's reference cycles (child and case, teams and the pathway, the event
        queue and the processes), so that its objects are freed at once by reference counting
        when the last reference goes, not by a pass of the cyclic garbage collector over them.
        The pathway cannot run again afterwards; its children keep their milestones."""
        for generator in self._generators:
            generator.close()
        self._generators = []
        for child in self.children:
            child.case = None
        for team in self.teams.values():
            team.dispose()
        self.held = {}
        # each event refers to the clock, and the clock's queue to each event still due
        queue = getattr(self.env, "_queue", None)
        if isinstance(queue, list):
            queue.clear()
        self.env = None  # type: ignore[assignment]

    def day(self, date: dt.date) -> float:
        """Days from the start to a date."""
        return float((date - self.scenario.start_date).days)

    def date(self, day: float) -> dt.date:
        """The calendar date of a model time."""
        whole = math.floor(day)
        date = self._dates.get(whole)
        if date is None:
            date = self._dates[whole] = self.scenario.start_date + dt.timedelta(days=whole)
        return date

    # -- referral and triage ---------------------------------------------------------------------

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
                env.timeout(delay).callbacks.append(functools.partial(self._arrived, i))
                return
            self._receive(child)
            i += 1

    def _arrived(self, i: int, _event: object) -> None:
        self._receive(self._new[i])
        self._arrive(i + 1)

    def _receive(self, child: Child) -> None:
        if self._triage_on_arrival:
            self._triage(child)
        else:
            self._triage_queue.append((self.env.now, child))

    def _next_for_triage(self, now: float) -> Child | None:
        """Take the referral received first of those waiting for triage (new ones, received on
        their referral day, and those back for triage), or None when none is waiting."""
        queue = self._triage_queue
        arrived = self._new_referral_by(now)
        if queue and (arrived is None or queue[0][0] <= arrived.referral_day):
            return queue.popleft()[1]
        if arrived is not None:
            self._next_new += 1
        return arrived

    def _new_referral_by(self, now: float) -> Child | None:
        """The next new referral not yet taken into triage, if it has been received by now."""
        if self._next_new < len(self._new):
            child = self._new[self._next_new]
            if child.referral_day <= now:
                return child
        return None

    def _triage_sessions(self, per_day: float):
        env = self.env
        queue = self._triage_queue
        credit = 0.0  # fractional referrals a day add up across days
        while True:
            now = env.now
            credit += per_day
            while credit >= 1.0:
                child = self._next_for_triage(now)
                if child is None:
                    break
                credit -= 1.0
                self._triage(child)
            if not queue and self._new_referral_by(now) is None:
                credit = min(credit, per_day)  # idle capacity is not banked
            yield env.timeout(1.0)

    def _triage(self, child: Child) -> None:
        now = self.env.now
        k = child.triage_count
        child.triage_count += 1
        if child.triage_day != child.triage_day:  # NaN: the first decision on this referral
            self.triage_decisions.append((child.referral_day, now))
        child.triage_day = now
        outcomes = self._triage_outcomes[child.source]
        u = self.uniform(self.draws.triage, child, k, "triage")
        if u < outcomes.accept:
            child.accepted_day = now
            self.route(child)
        elif u < outcomes.accept + outcomes.reject:
            self._comes_back(child, k, self.draws.rereferral, "rereferral",
                             self.scenario.triage.rereferral_probability, self._rereferral_delay,
                             self._rereferred, "rejected")
        else:
            self._comes_back(child, k, self.draws.information, "information",
                             self.scenario.triage.information_return_probability,
                             self._information_wait, self._receive, "information_not_returned")

    def _comes_back(self, child: Child, k: int, table: np.ndarray, activity: str,
                    probability: float, delay: Sampler, action: Callable[[Child], None],
                    otherwise: str) -> None:
        """With ``probability``, ``action`` the child after a drawn delay; else it exits."""
        if self.uniform_part(table, child, k, activity, 0) < probability:
            wait = delay(self.uniform_part(table, child, k, activity, 1))
            if activity == "rereferral":  # not an open referral until it comes back
                self.rereferral_gaps.append((child.id, self.env.now, self.env.now + wait))
            self._later(wait, action, child)
        else:
            self.release(child, otherwise, self.env.now)

    def _rereferred(self, child: Child) -> None:
        child.referral_day = self.env.now
        child.triage_day = math.nan  # milestones belong to the current referral
        child.referrals += 1
        self.rereferral_days.append(self.env.now)
        self._receive(child)

    # -- routing ---------------------------------------------------------------------------------

    def route(self, child: Child) -> None:
        """Send an accepted (or transferred, or held) child to the team for its age and place."""
        now = self.env.now
        age = child.age_at(now)
        if age >= self._age_out_years:
            self.release(child, "aged_out", now)
            return
        locality = self.localities[child.locality]
        # the date matters only where a team opens or closes on one (or no team covers the child)
        today = self.date(now) if self._dated_teams else self.scenario.start_date
        name = None
        # Scenario.team_for, with the locality's teams looked up once
        for low, high, team_name, opens, closes in self._routes[child.locality]:
            if low <= age < high and (opens is None or today >= opens) and (
                    closes is None or today < closes):
                name = team_name
                break
        if name is None:
            today = self.date(now)
            rule = self.scenario.uncovered_rule(locality)
            older = self._older_team_age(age, locality, today)
            if rule == "hold":
                opening = any(t.opens_on is not None and t.opens_on > today and t.serves(locality)
                              and t.min_age_years <= age < t.max_age_years
                              for t in self.scenario.teams.values())
                if older is not None or opening:
                    self._hold(child, None if older is None else (older - age) * 365.25 + 1e-6)
                    return
                rule = "no_pathway"
            if rule == "no_pathway":
                child.unmet_need_day = now
                p = self.scenario.routing.rereferred_when_eligible.get(locality, 0.0)
                if older is not None and p > 0 and float(self.draws.unmet[child.id]) < p:
                    # unmet need now, and demand later: referred again at the eligible age
                    wait = (older - age) * 365.25 + 1e-6
                    self.rereferral_gaps.append((child.id, now, now + wait))
                    self._later(wait, self._rereferred, child)
                    return
            self.release(child, rule, now)
            return
        review = self._review.get(name)
        if review is not None and age < review[0] and math.isnan(child.review_day):
            child.review_day = now
            self._later(review[1](float(self.draws.review[child.id])),
                        functools.partial(self.join_list, name=name), child)
            return
        self.join_list(child, name)

    def _starting_team(self, child: Child) -> str | None:
        """The list a child of the starting state is on: the team for its age and locality, or
        else the locality's team nearest its age (None: no team serves the locality)."""
        age = child.age_at(0.0)
        locality = self.localities[child.locality]
        name = self.scenario.team_for(age, locality, self.scenario.start_date)
        if name is not None:
            return name
        serving = [(max(t.min_age_years - age, age - t.max_age_years), n)
                   for n, t in self.scenario.teams.items() if t.serves(locality)]
        return min(serving)[1] if serving else None

    def _older_team_age(self, age: float, locality: str, today: dt.date) -> float | None:
        """The youngest age above ``age`` that a team serving the locality, not closed, takes."""
        ages = [t.min_age_years for t in self.scenario.teams.values()
                if t.serves(locality) and t.min_age_years > age
                and (t.closes_on is None or t.closes_on > today)]
        return min(ages) if ages else None

    def _hold(self, child: Child, wait: float | None) -> None:
        """Hold a child no team covers yet: until it is old enough (after ``wait`` days), or
        until a team that covers it opens (see :meth:`_team_opens`)."""
        if math.isnan(child.held_day):
            child.held_day = self.env.now
        ticket = object()  # a later hold, or an opening, makes this one's timer void
        self.held[child.id] = (child, ticket)
        if wait is not None:
            self._later(wait, lambda c: self._unhold(c, ticket), child)

    def _unhold(self, child: Child, ticket: object) -> None:
        held = self.held.get(child.id)
        if held is not None and held[1] is ticket:
            del self.held[child.id]
            self.route(child)

    def _team_opens(self, _event: object) -> None:
        """A team opens: every child held is routed again under the routing in force now."""
        held, self.held = list(self.held.values()), {}
        for child, _ in held:
            if not child.exited:
                self.route(child)

    def join_list(self, child: Child, name: str) -> None:
        """Put a child on a team's waiting list, with its withdrawal and age boundary."""
        now = self.env.now
        if child.list_join_day != child.list_join_day:  # NaN: first time on a list
            child.list_join_day = now
        if child.withdraw_day != child.withdraw_day:
            rate = self._withdrawal_rate[name]
            u = self.draws.withdrawal.item(child.id)
            child.withdraw_day = now - math.log1p(-u) / rate if rate > 0 else math.inf
        child.team = name
        born = child.first_referral_day - child.age_years * 365.25
        age_out_day = born + self._age_out_years * 365.25
        # a hair past the boundary, so the age computed then is surely in the next range
        max_age = self._transfer_age[name]
        boundary_day = born + max_age * 365.25 + 1e-6 if max_age is not None else math.inf
        # the earliest; on a tie aged_out, then transfer, then withdrawn
        when, reason = age_out_day, "aged_out"
        if boundary_day < when:
            when, reason = boundary_day, "transfer"
        if child.withdraw_day < when:
            when, reason = child.withdraw_day, "withdrawn"
        if when <= now and reason == "aged_out":
            self.release(child, "aged_out", now)
            return
        case = self.teams[name].join(child)
        if when < self.horizon:
            event = self.env.timeout(max(when - now, 0.0))
            event.callbacks.append(lambda _e: self._expire(case, reason))

    def _expire(self, case: Case, reason: str) -> None:
        """A child waiting (or booked, not yet seen) withdraws, ages out or crosses its team's age
        boundary; void once the case has started or closed."""
        if not case.not_started:
            return
        child = case.child
        if reason == "transfer":
            self.teams[case.team].close(case)
            child.case = None
            child.transfers += 1
            self.route(child)
        else:
            self.release(child, reason, self.env.now)

    # -- capacity outside the teams -------------------------------------------------------------

    def _outsourcing(self, block):
        env = self.env
        team = self.teams[block.team]
        date = block.start_date
        while date <= block.end_date:
            delay = self.day(date) - env.now
            if delay > 0:
                yield env.timeout(delay)
            now = env.now
            date = _add_month(date)
            if now >= self.horizon:
                return
            if self._skip_purchase(block, team, now):
                self.outsourcing_skipped.append((now, block.price_gbp * block.assessments_per_month))
                continue
            for case in team.take_longest_waiting(block.assessments_per_month):
                child = case.child
                child.outsourced = True
                child.first_appointment_day = now + block.first_appointment_after_days
                child.assessment_started_day = child.first_appointment_day
                done = now + block.turnaround_days
                child.outcome = team.definite_outcome(float(self.draws.outcome[child.id, 1]))
                child.diagnosis_day = done
                self.outsourced_cost_gbp += block.price_gbp
                self.outsourcing_bought.append((now, block.price_gbp))
                self.release(child, "assessed", done)

    @staticmethod
    def _skip_purchase(block, team: TeamRunner, now: float) -> bool:
        """Whether a block's stop rule says to buy nothing this month."""
        waiting = team.list.waiting()
        if block.skip_when_list_under is not None and len(waiting) < block.skip_when_list_under:
            return True
        if block.skip_when_longest_wait_under_weeks is not None:
            longest = max((now - c.child.referral_day for c in waiting), default=0.0)
            return longest < 7.0 * block.skip_when_longest_wait_under_weeks
        return False

    # -- bookkeeping -----------------------------------------------------------------------------

    def release(self, child: Child, reason: str, day: float) -> None:
        """The child leaves the pathway: the one exit path, whatever the reason.

        Closes the child's case with its team (hours it had booked go back, and every event that
        refers to the case becomes void) and records the exit. ``day`` may be later than now,
        for a caseload case whose whole course is known when it starts.

        Raises
        ------
        RuntimeError
            If the child had already left: an exit is final, so a second one is a model bug.
        """
        if child.exit_reason is not None:
            raise RuntimeError(f"child {child.id} left the pathway twice: {child.exit_reason} on day "
                               f"{child.exit_day:g}, then {reason} on day {day:g}")
        case = child.case
        if case is not None and not case.closed:
            # a child holds its case as an OpenCase (the child sits below the case); the teams
            # opened it, so it is a Case
            self.teams[case.team].close(cast(Case, case))
        child.exit_reason = reason
        child.exit_day = day

    def _later(self, delay: float, action: Callable[[Child], None], child: Child) -> None:
        """Do ``action(child)`` after ``delay`` days, unless the child has left by then."""
        event = self.env.timeout(max(delay, 0.0))
        event.callbacks.append(lambda _e: None if child.exited else action(child))

    def uniform(self, table: np.ndarray, child: Child, k: int, activity: str) -> float:
        """The child's k-th pre-drawn uniform of an activity (``table``: children by draws);
        past the pre-drawn ones, the activity's own stream."""
        try:
            return table.item(child.id, k)
        except IndexError:  # k past the pre-drawn ones
            return float(self.streams[activity].random())

    def uniform_part(self, table: np.ndarray, child: Child, k: int, activity: str,
                     j: int) -> float:
        """Part ``j`` of the child's k-th pre-drawn draw of an activity whose draws have parts
        (``table``: children by draws by parts); past the pre-drawn ones, the activity's own
        stream."""
        try:
            return table.item(child.id, k, j)
        except IndexError:
            return float(self.streams[activity].random())


def _add_month(date: dt.date) -> dt.date:
    year, month0 = divmod(date.year * 12 + date.month, 12)  # month0: next month, 0-based
    month = month0 + 1
    return dt.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))
