"""Assessment teams: a waiting list and the capacity that works through it.

Two kinds of team share the waiting list and the assessment logic (milestones, DNA, outcome):

* ``ClinicTeam`` (clinic-hours mode) keeps a ledger of hours left per staff group per week. Once a
  week it books children's assessments as whole packages, each step in the earliest week where
  every group it needs has the hours: the first within the booking horizon, each later one
  within the horizon from the day its gap allows. Children whose package must be rebooked (after
  a DNA) go first, then new starts in waiting-list order, stopping at the first child who cannot
  be booked; there are no new starts in a week in which a started assessment that is due could
  not be booked. A joint step needs all its groups in the same week; a non-joint step books each
  group's part where it fits.
* ``CaseloadTeam`` (caseload mode) holds at most ``slots`` open cases; a case holds its slot for
  the elapsed time of its steps. With one exponential step this is an M/M/c queue.

A waiting child is an entry in a heap, not a live process; entries made stale by a booking,
withdrawal or transfer are skipped when they reach the top.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from asdsim.model.child import Child
from asdsim.scenario.distributions import Sampler
from asdsim.scenario.schema import Step, Team

if TYPE_CHECKING:
    from asdsim.model.pathway import Pathway

EPS = 1e-9
DEFINITE_OUTCOMES = ("autism", "other_neurodevelopmental", "none")


@dataclass(frozen=True, slots=True)
class CompiledStep:
    """A step resolved to group indices and samplers, for the event loop."""

    name: str
    needs: tuple[tuple[int, float], ...]
    joint: bool
    dna_probability: float
    min_gap_days: float
    duration: Sampler
    first_appointment: bool
    assessment_started: bool
    outcome: bool
    hours: float


def compile_steps(steps: tuple[Step, ...], groups: list[str], flag_first: bool,
                  flag_started: bool) -> tuple[CompiledStep, ...]:
    """Resolve steps; without flagged steps the first contact step is the first appointment
    and the first step starts the assessment."""
    out = []
    first_contact = next((i for i, s in enumerate(steps) if s.contact), 0)
    for i, s in enumerate(steps):
        needs = tuple((groups.index(g), h) for g, h in s.hours.items() if h > 0)
        out.append(CompiledStep(
            name=s.name, needs=needs, joint=s.joint or len(needs) <= 1,
            dna_probability=s.dna_probability if s.contact else 0.0,
            min_gap_days=s.min_gap_days, duration=s.duration_days.sampler(),
            first_appointment=s.first_appointment if flag_first else i == first_contact,
            assessment_started=s.assessment_started if flag_started else i == 0,
            outcome=s.outcome, hours=sum(h for _, h in needs),
        ))
    return tuple(out)


class WaitingList:
    """A team's waiting list, ordered by its discipline."""

    def __init__(self, discipline: str):
        self.discipline = discipline
        self._heap: list[tuple] = []
        self._seq = 0

    def push(self, child: Child) -> None:
        """Put a child on the list."""
        if self.discipline == "priority":
            key: tuple = (child.priority, child.list_join_day)
        elif self.discipline == "longest_wait":
            key = (0, child.first_referral_day)
        else:
            key = (0, child.list_join_day)
        self._seq += 1
        heapq.heappush(self._heap, (*key, self._seq, child.token, child))

    def head(self) -> Child | None:
        """The next child in order, without removing it."""
        heap = self._heap
        while heap:
            entry = heap[0]
            child = entry[4]
            if entry[3] == child.token:
                return child
            heapq.heappop(heap)
        return None

    def pop(self) -> Child:
        """Remove and return the next child (after ``head`` found one)."""
        child = heapq.heappop(self._heap)[4]
        child.token += 1
        return child

    def waiting(self) -> list[Child]:
        """Every child on the list, in no particular order."""
        return [e[4] for e in self._heap if e[3] == e[4].token]


class TeamRunner:
    """What both capacity modes share: the list, the steps, milestones and outcomes."""

    def __init__(self, pathway: Pathway, name: str, team: Team):
        self.pathway = pathway
        self.env = pathway.env
        self.name = name
        self.team = team
        self.groups = list(team.staff)
        self.list = WaitingList(team.waiting_list.discipline)
        flag_first = any(s.first_appointment for s in team.steps)
        flag_started = any(s.assessment_started for s in team.steps)
        self.steps = compile_steps(team.steps, self.groups, flag_first, flag_started)
        self.uncertain = compile_steps(team.uncertain_steps, self.groups, True, True)
        self.discharge_after = team.dna.discharge_after
        self.rebook = team.dna.rebook_after_days.sampler()
        outcomes = team.outcomes
        definite = np.array([outcomes.autism, outcomes.other_neurodevelopmental, outcomes.none])
        self.cumulative = tuple(np.cumsum(definite / definite.sum()))
        self.uncertain_probability = outcomes.uncertain
        self.young = team.young_child
        draws = pathway.draws
        self.u_dna, self.u_rebook = draws.dna, draws.rebook
        self.u_duration, self.u_outcome = draws.duration, draws.outcome
        self.hours_log: list[tuple[float, int, float]] = []

    # -- shared helpers ------------------------------------------------------------------------

    def definite_outcome(self, u: float) -> str:
        """One of the three definite outcomes for a uniform draw."""
        for name, edge in zip(DEFINITE_OUTCOMES, self.cumulative, strict=True):
            if u < edge:
                return name
        return DEFINITE_OUTCOMES[-1]

    def mark(self, child: Child, step: CompiledStep, day: float) -> None:
        """Record what an attended step means for the child's milestones and outcome."""
        child.staff_hours += step.hours * child.hours_factor
        if step.first_appointment and math.isnan(child.first_appointment_day):
            child.first_appointment_day = day
        if step.assessment_started and math.isnan(child.assessment_started_day):
            child.assessment_started_day = day

    def decide(self, child: Child, index: int, day: float) -> None:
        """Outcome after step ``index``: at the outcome step, or after the uncertain steps."""
        step = child.plan[index]
        if step.outcome:
            p = self.uncertain_probability
            if self.young is not None and child.age_at(day) < self.young.under_years:
                p = self.young.uncertain_probability
            if p > 0 and float(self.u_outcome[child.id, 0]) < p:
                child.outcome = "uncertain"
                child.plan = child.plan[: index + 1] + self.uncertain + child.plan[index + 1:]
                child.decide_at = index + len(self.uncertain)
                return
        elif index != child.decide_at:
            return
        child.outcome = self.definite_outcome(float(self.u_outcome[child.id, 1]))
        child.diagnosis_day = day

    def start_plan(self, child: Child) -> None:
        """Give a child the team's assessment from its first step."""
        child.plan = self.steps
        child.step = 0
        child.decide_at = -1

    def take_longest_waiting(self, n: int) -> list[Child]:
        """Remove up to ``n`` children from the list, longest since referral first."""
        chosen = sorted(self.list.waiting(), key=lambda c: (c.first_referral_day, c.id))[:n]
        for child in chosen:
            child.token += 1
        return chosen

    def remove(self, child: Child) -> None:
        """Take a waiting child off this team (withdrawal, age-out, transfer)."""
        child.token += 1

    def join(self, child: Child) -> None:
        """A child joins the waiting list."""
        raise NotImplementedError


@dataclass(slots=True)
class Booking:
    """Hours held for one step: (group, week, hours) for each part, on a day."""

    index: int
    parts: list[tuple[int, int, float]]
    day: float


class ClinicTeam(TeamRunner):
    """Clinic-hours mode: assessments booked as packages into weekly hours per staff group.

    A child starts when its first step can be booked within the booking horizon and every later
    step within the horizon from its own earliest day (the previous step's day plus its minimum
    gap), each in the earliest week with the hours, so started children hold their hours. A DNA
    (or an uncertain outcome, which adds steps) gives back the rest of the package and books it
    again, ahead of new starts.
    """

    def __init__(self, pathway: Pathway, name: str, team: Team, available: np.ndarray):
        super().__init__(pathway, name, team)
        self.available = available
        self.remaining = [list(row) for row in available]
        self.weeks = available.shape[1]
        self.horizon_weeks = team.booking_horizon_weeks
        self.pending: list[Child] = []
        self.env.process(self._weekly_booking())

    def join(self, child: Child) -> None:
        """A child joins the list; bookings are made at the next weekly pass."""
        self.start_plan(child)
        self.list.push(child)

    def _weekly_booking(self):
        env = self.env
        while True:
            now = env.now
            if self.pending:
                waiting, self.pending = self.pending, []
                waiting.sort(key=lambda c: (c.earliest_day, c.id))
                for child in waiting:
                    if child.pending:
                        child.pending = False
                        if not self._book(child, child.earliest_day, now):
                            self._queue(child, child.earliest_day)
            # started assessments come first: no new starts while one that is due is unbooked
            overdue = any(c.pending and c.earliest_day < now + 7.0 for c in self.pending)
            head = self.list.head
            while not overdue and (child := head()) is not None:
                if not self._book(child, now, now):
                    break
                self.list.pop()
            yield env.timeout(7.0)

    def _book(self, child: Child, earliest: float, now: float) -> bool:
        """Book the child's next unbooked step within the booking horizon, and each step after
        it within the horizon from its own earliest day, all together or not at all.

        Later steps that find no hours in their window wait in ``pending`` (booked ahead of new
        starts). Returns whether anything was booked.
        """
        remaining = self.remaining
        now_week = int(now // 7.0)
        factor = child.hours_factor
        plan = child.plan
        held = child.booking or []
        start = child.step + len(held)
        bookings: list[Booking] = []
        deferred = math.nan
        day = earliest
        for index in range(start, len(plan)):
            step = plan[index]
            if index > start:
                day += step.min_gap_days
            first_week = max(now_week, int(day // 7.0))
            # the first step within the horizon from now; each later one within the horizon
            # from its own earliest day, so a started assessment cannot be spread out forever
            last_week = min((now_week if index == start else first_week) + self.horizon_weeks,
                            self.weeks)
            parts: list[tuple[int, int, float]] = []
            if step.joint:
                for w in range(first_week, last_week):
                    if all(remaining[g][w] >= h * factor - EPS for g, h in step.needs):
                        parts = [(g, w, h * factor) for g, h in step.needs]
                        break
            else:
                for g, h in step.needs:
                    row = remaining[g]
                    for w in range(first_week, last_week):
                        if row[w] >= h * factor - EPS:
                            parts.append((g, w, h * factor))
                            break
                    else:
                        parts = []
                        break
            if not parts:
                if index == start:
                    self._give_back(bookings, -1)
                    return False
                deferred = day
                break
            for g, w, h in parts:
                remaining[g][w] -= h
            day = max(max(7.0 * w for _, w, _ in parts), day, now)
            bookings.append(Booking(index, parts, day))
        child.booking = held + bookings
        for booking in bookings:
            self.env.timeout(booking.day - now).callbacks.append(self._attender(child, booking))
        if math.isnan(deferred):
            child.pending = False
        else:
            self._queue(child, deferred)
        return True

    def _queue(self, child: Child, earliest: float) -> None:
        """Wait for a weekly pass to book the child's next steps from ``earliest``."""
        child.earliest_day = earliest
        if not child.pending:
            child.pending = True
            self.pending.append(child)

    def _attender(self, child: Child, booking: Booking) -> Callable[[object], None]:
        return lambda _event: self._attend(child, booking)

    def _give_back(self, bookings: list[Booking], current_week: int) -> None:
        remaining = self.remaining
        for booking in bookings:
            for g, w, h in booking.parts:
                if w >= current_week:
                    remaining[g][w] += h

    def remove(self, child: Child) -> None:
        """Take a waiting child off the team, giving back hours it had booked."""
        child.token += 1
        child.pending = False
        if child.booking:
            self._give_back(child.booking, int(self.env.now // 7.0))
        child.booking = None

    def _rebook_rest(self, child: Child, earliest: float) -> None:
        """Give back the rest of a package and book it again from ``earliest``."""
        now = self.env.now
        if child.booking:
            self._give_back(child.booking, int(now // 7.0))
        child.booking = None
        if not self._book(child, earliest, now):
            self._queue(child, earliest)

    def _attend(self, child: Child, booking: Booking) -> None:
        bookings = child.booking
        if not bookings or bookings[0] is not booking:
            return
        bookings.pop(0)
        now = self.env.now
        step = child.plan[child.step]
        k = child.bookings
        child.bookings += 1
        if step.dna_probability > 0 and self.pathway.uniform(self.u_dna, child, k, "dna") < (
            step.dna_probability
        ):
            child.dna_count += 1
            if child.dna_count >= self.discharge_after:
                self._give_back(bookings, int(now // 7.0))
                child.booking = None
                self.pathway.exit(child, "discharged_dna", now)
                return
            delay = self.rebook(self.pathway.uniform(self.u_rebook, child, child.dna_count - 1, "rebook"))
            self._rebook_rest(child, now + delay)
            return
        if not child.started:
            self.pathway.started(child)
        self.mark(child, step, now)
        length = len(child.plan)
        self.decide(child, child.step, now)
        child.step += 1
        if child.step == len(child.plan):
            child.booking = None
            self.pathway.exit(child, "assessed", now)
        elif len(child.plan) != length:  # uncertain: further steps inserted
            self._rebook_rest(child, now + child.plan[child.step].min_gap_days)

    def hours_used(self) -> np.ndarray:
        """Hours booked per group and week, shape (groups, weeks)."""
        return self.available - np.array(self.remaining)


class CaseloadTeam(TeamRunner):
    """Caseload mode: at most ``slots`` open cases, each held for its steps' elapsed time.

    A case's steps do not wait for capacity once it holds a slot, so its whole course (gaps,
    DNAs and rebooking, durations, outcome) is worked out when it starts and one event releases
    the slot at the end.
    """

    def __init__(self, pathway: Pathway, name: str, team: Team,
                 slot_changes: list[tuple[float, int]]):
        super().__init__(pathway, name, team)
        self.slots = slot_changes[0][1]
        self.busy = 0
        self.cases: list[tuple[float, float]] = []
        self.slot_changes = slot_changes
        for day, slots in slot_changes[1:]:
            self.env.timeout(day).callbacks.append(self._resizer(slots))

    def _resizer(self, slots: int) -> Callable[[object], None]:
        return lambda _event: self._resize(slots)

    def _resize(self, slots: int) -> None:
        self.slots = slots
        self._fill()

    def join(self, child: Child) -> None:
        """A child joins the list and starts at once if a slot is free."""
        self.start_plan(child)
        self.list.push(child)
        if self.busy < self.slots:
            self._fill()

    def _fill(self) -> None:
        head = self.list.head
        while self.busy < self.slots and head() is not None:
            self._start(self.list.pop())

    def _start(self, child: Child) -> None:
        now = self.env.now
        self.busy += 1
        self.pathway.started(child)
        day = now
        reason = "assessed"
        while child.step < len(child.plan):
            step = child.plan[child.step]
            day += step.min_gap_days
            k = child.bookings
            child.bookings += 1
            for g, h in step.needs:
                self.hours_log.append((day, g, h * child.hours_factor))
            if step.dna_probability > 0 and self.pathway.uniform(self.u_dna, child, k, "dna") < (
                step.dna_probability
            ):
                child.dna_count += 1
                if child.dna_count >= self.discharge_after:
                    reason = "discharged_dna"
                    break
                day += self.rebook(self.pathway.uniform(self.u_rebook, child, child.dna_count - 1, "rebook"))
                continue
            self.mark(child, step, day)
            day += step.duration(self.pathway.uniform(self.u_duration, child, k, "duration"))
            self.decide(child, child.step, day)
            child.step += 1
        self.pathway.exit(child, reason, day)
        self.cases.append((now, day))
        event = self.env.timeout(day - now)
        event.callbacks.append(self._release)

    def _release(self, _event: object) -> None:
        self.busy -= 1
        self._fill()
