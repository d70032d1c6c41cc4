"""The pathway of one replication: children referred, triaged, routed to a team's list, and out.

``Pathway`` builds a SimPy environment from a scenario and runs it to the horizon. Children are
created up front (new referrals from the demand process, then the starting backlog), each with
its own pre-drawn uniforms for every activity, so the same child meets the same luck in every
scenario run with the same seed. SimPy processes run the activities that happen on a clock
(daily triage sessions, weekly booking, monthly outsourcing); a child's own events (a referral,
an appointment, a withdrawal) are single timeouts with a callback.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
from collections.abc import Callable, Generator
from typing import cast

import numpy as np

from asdsim.model.backlog import Backlog, generate_backlog
from asdsim.model.capacity import hours_available, slot_changes
from asdsim.model.case import Case
from asdsim.model.caseload import CaseloadTeam
from asdsim.model.child import Child
from asdsim.model.clinic import ClinicTeam
from asdsim.model.deadlines import Deadlines
from asdsim.model.demand import draw_children, referral_days
from asdsim.model.listpolicy import ListPolicies
from asdsim.model.outsourcing import Purchases, buy_outsourced
from asdsim.model.randomness import Draws, Streams
from asdsim.model.runtime import Clock, collector_paused
from asdsim.model.teams import TeamRunner
from asdsim.model.triage import Triage
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
        self.env = Clock()
        self._generators: list[Generator] = []  # the processes' generators, closed by dispose
        self._dates: dict[int, dt.date] = {}
        self.horizon = scenario.horizon_days
        self.streams = streams = Streams(seed, replication)
        self.weeks = scenario.horizon_weeks
        self.sources = list(scenario.demand.sources)
        self.localities = list(scenario.demand.localities)
        self.purchases = Purchases()  # what the outsourced blocks bought

        n_new, backlog, order = self._make_children(scenario, streams)
        self.teams = self._make_teams(scenario)
        self._withdrawal_rate = {
            name: team.waiting_list.withdrawal_per_year / 365.25
            for name, team in scenario.teams.items()
        }
        self._review = {
            name: (team.review.under_years, team.review.duration_days.sampler())
            for name, team in scenario.teams.items() if team.review is not None
        }

        self.triage = Triage(self, scenario.triage, self.sources)
        # the records of every referral and re-referral, read when the run is recorded
        self.rereferral_days = self.triage.rereferral_days
        self.rereferral_gaps = self.triage.rereferral_gaps  # (child, rejected, referred again)
        self.triage_decisions = self.triage.decisions  # (referral, its first decision)
        self.starting_list_decisions = self.triage.starting_list_decisions
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
        self.held: dict[int, tuple[Child, object]] = {}  # children held until a team covers them
        # a transferred child's time on each list: (child, team, joined, left) of each list it
        # left by a transfer, and the day it joined its current list since its last transfer
        self.left_lists: list[tuple[int, str, float, float]] = []
        self.rejoined: dict[int, float] = {}

        self._deadlines = Deadlines(self.env, self._expire)
        # prioritisation, leaving for another provider, list validation: only when some team has one
        self._policies = ListPolicies(self, scenario, streams, len(self.children), self.teams,
                                      self._end_at) if any(
            t.waiting_list.has_policies for t in scenario.teams.values()) else None
        self._place_starting_list(backlog, order, n_new)
        self._start_clock(scenario, n_new)

    def _make_children(self, scenario: Scenario, streams: Streams
                       ) -> tuple[int, Backlog, np.ndarray]:
        """Every child of the run, with its uniforms: new referrals first, then the starting
        list by referral day. Returns the number of new referrals, the starting list and its
        order."""
        arrivals = referral_days(scenario.demand, scenario.start_date, self.horizon,
                                 streams["arrivals"])
        kids = draw_children(scenario, len(arrivals), streams["children"])
        backlog = generate_backlog(scenario, streams["backlog"])
        n_new, n = len(arrivals), len(arrivals) + len(backlog)
        self.draws = Draws.make(streams, n)
        # (map calls Child with each child's fields straight from the lists, no tuple unpacked)
        children = list(map(Child, range(n_new), kids.age_years.tolist(), kids.source.tolist(),
                            kids.locality.tolist(), kids.priority.tolist(),
                            kids.hours_factor.tolist(), arrivals.tolist(),
                            itertools.repeat(False, n_new)))
        order = np.argsort(backlog.referral_day, kind="stable")
        for j in order:
            children.append(Child(
                len(children), float(backlog.age_years[j]), int(backlog.source[j]),
                int(backlog.locality[j]), int(backlog.priority[j]),
                float(backlog.hours_factor[j]), float(backlog.referral_day[j]), True,
            ))
        self.children = children
        # what no event changes, in child order, as arrays: read by the record from here rather
        # than child by child
        self.fixed = {
            "age_years": np.concatenate([kids.age_years, backlog.age_years[order]]).astype(float),
            "hours_factor": np.concatenate([kids.hours_factor,
                                            backlog.hours_factor[order]]).astype(float),
            "source": np.concatenate([kids.source, backlog.source[order]]).astype(np.int64),
            "locality": np.concatenate([kids.locality, backlog.locality[order]]).astype(np.int64),
            "from_backlog": np.arange(n) >= n_new,
        }
        return n_new, backlog, order

    def _make_teams(self, scenario: Scenario) -> dict[str, TeamRunner]:
        """Each team in its capacity mode, handed this pathway as its host."""
        teams: dict[str, TeamRunner] = {}
        for name, team in scenario.teams.items():
            if team.capacity_mode == "caseload":
                teams[name] = CaseloadTeam(self, name, team, slot_changes(scenario, name, team),
                                           hours_available(scenario, name, self.weeks))
            else:
                weeks = self.weeks + team.booking_horizon_weeks
                teams[name] = ClinicTeam(self, name, team, hours_available(scenario, name, weeks))
        return teams

    def _place_starting_list(self, backlog: Backlog, order: np.ndarray, n_new: int) -> None:
        """Put the children of the starting state where they are: waiting for triage, on a
        list, or part-way through an assessment."""
        for k, j in enumerate(order):
            child = self.children[n_new + k]
            if backlog.stage[j] == 0:
                self.triage.queue.append((0.0, child))
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

    def _start_clock(self, scenario: Scenario, n_new: int) -> None:
        """Triage (sessions, or each referral as it arrives), outsourced blocks, team openings."""
        self.triage.start(self.children[:n_new])
        for block in scenario.outsourcing:
            self.start(buy_outsourced(self, block, self.teams[block.team], scenario.start_date,
                                      self.purchases))
        for team in scenario.teams.values():
            if team.opens_on is not None and 0 < self.day(team.opens_on) < self.horizon:
                self.env.call_in(self.day(team.opens_on), self._team_opens)

    # -- running ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Run the replication to the horizon.

        Python's cyclic garbage collector is paused meanwhile (see
        :mod:`asdsim.model.runtime`).
        """
        with collector_paused():
            self.env.run_until(self.horizon)

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
        self.triage.dispose()
        self._deadlines.dispose()
        self._policies = None
        self.held = {}
        # each event refers to the clock, and the clock's queue to each event still due
        queue = getattr(self.env, "_queue", None)
        if isinstance(queue, list):
            queue.clear()
        self.env = None  # type: ignore[assignment]

    @property
    def outsourced_cost_gbp(self) -> float:
        """Money spent on outsourced assessments."""
        return self.purchases.cost_gbp

    @property
    def outsourcing_bought(self) -> list[tuple[float, float]]:
        """(day, price) of each outsourced assessment bought."""
        return self.purchases.bought

    @property
    def outsourcing_skipped(self) -> list[tuple[float, float]]:
        """(day, money not spent) of each month an outsourced block's stop rule skipped."""
        return self.purchases.skipped

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

    # -- routing ---------------------------------------------------------------------------------

    def route(self, child: Child) -> None:
        """Send an accepted (or transferred, or held) child to the team for its age and place."""
        now = self.env.now
        age = child.age_years + (now - child.first_referral_day) / 365.25  # child.age_at(now)
        if age >= self._age_out_years:
            self.release(child, "aged_out", now)
            return
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
            self._uncovered(child, age, self.localities[child.locality], now)
            return
        review = self._review.get(name)
        if review is not None and age < review[0] and math.isnan(child.review_day):
            child.review_day = now
            self.later(review[1](float(self.draws.review[child.id])),
                       functools.partial(self.join_list, name=name), child)
            return
        self.join_list(child, name)

    def _uncovered(self, child: Child, age: float, locality: str, now: float) -> None:
        """No team covers the child now: hold it until one does, or record unmet need (maybe
        referred again when old enough), or refer it out of area, as the scenario says."""
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
                self.later(wait, self.triage.rereferred, child)
                return
        self.release(child, rule, now)

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
            self.later(wait, lambda c: self._unhold(c, ticket), child)

    def _unhold(self, child: Child, ticket: object) -> None:
        held = self.held.get(child.id)
        if held is not None and held[1] is ticket:
            del self.held[child.id]
            self.route(child)

    def _team_opens(self) -> None:
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
        elif child.transfers:
            self.rejoined[child.id] = now
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
        policies = self._policies
        if policies is not None:
            policies.before_join(child, name)
        case = self.teams[name].join(child)
        if policies is not None:
            policies.after_join(case, name)
        # a case started at once (a free caseload slot) can no longer withdraw, age out or
        # transfer: its deadline would pass void, so it is not kept
        if when < self.horizon and case.not_started:
            if when > now:
                self._deadlines.add(now + (when - now), case, reason)  # the time a timer would show
            else:
                self.env.call_in(0.0, lambda: self._expire(case, reason))

    def _end_at(self, at: float, case: Case, reason: str) -> None:
        """End a case not yet started with ``reason`` on day ``at`` (at once if that has passed)."""
        now = self.env.now
        if at > now:
            self._deadlines.add(now + (at - now), case, reason)
        else:
            self.env.call_in(0.0, lambda: self._expire(case, reason))

    def _expire(self, case: Case, reason: str) -> None:
        """A child waiting (or booked, not yet seen) withdraws, ages out or crosses its team's age
        boundary; void once the case has started or closed."""
        if not case.not_started:
            return
        child = case.child
        if reason == "transfer":
            self.teams[case.team].close(case)
            joined = self.rejoined.pop(child.id, child.list_join_day)
            self.left_lists.append((child.id, case.team, joined, self.env.now))
            child.case = None
            child.transfers += 1
            self.route(child)
        else:
            self.release(child, reason, self.env.now)

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

    def later(self, delay: float, action: Callable[[Child], None], child: Child) -> None:
        """Do ``action(child)`` after ``delay`` days, unless the child has left by then."""
        self.env.call_in(max(delay, 0.0), lambda: None if child.exited else action(child))

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
