"""Assessment teams: a waiting list and the capacity that works through it.

Two kinds of team share the waiting list and the assessment logic (milestones, DNA, outcome):

* ``ClinicTeam`` (clinic-hours mode) keeps a ledger of hours left per staff group per week. Once a
  week it books children's assessments as whole packages, each step in the earliest week where
  every group it needs has the hours: the first within the booking horizon, each later one
  within the horizon from the day its gap allows. Children whose package must be rebooked (after
  a DNA) go first, then new starts in waiting-list order, stopping at the first child who cannot
  be booked; there are no new starts in a week in which a started assessment that is due could
  not be booked. Within its week, an appointment falls in the first five days (working days), by
  the child's own uniform, so waits are measured in days, not whole weeks. A joint step needs all
  its groups in the same week; a non-joint step books each group's part where it fits.
* ``CaseloadTeam`` (caseload mode) holds at most ``slots`` open cases; a case holds its slot for
  the elapsed time of its steps. With one exponential step this is an M/M/c queue.

A waiting child is an entry in a heap, not a live process; an entry whose case has left the
list (booked, withdrawn, transferred, gone) is skipped when it reaches the top. What a team knows
of a child (its place in the assessment, its bookings) is the child's :class:`Case`; when the
child leaves, the pathway calls :meth:`TeamRunner.close` and every event that refers to the case
becomes void.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from asdsim.model.case import BOOKED, CLOSED, STARTED, Booking, Case
from asdsim.model.child import Child
from asdsim.scenario.distributions import Sampler
from asdsim.scenario.schema import Step, Team

if TYPE_CHECKING:
    from asdsim.model.pathway import Pathway

EPS = 1e-9
WORKING_DAYS = 5.0
"""Days of each week on which clinics run: booked appointments are spread over them."""
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
    contact: bool
    first_appointment: bool
    assessment_started: bool
    outcome: bool
    hours: float
    scaled: tuple[tuple[int, float, float], ...]
    """(group, hours, least hours left that will do) for each group, for an hours factor of 1."""


def compile_steps(steps: tuple[Step, ...], groups: list[str], flag_first: bool,
                  flag_started: bool) -> tuple[CompiledStep, ...]:
    """Resolve steps; without flagged steps the first contact step is the first appointment
    and the first step starts the assessment."""
    out = []
    first_contact = next((i for i, s in enumerate(steps) if s.contact), 0)
    for i, s in enumerate(steps):
        needs = tuple((groups.index(g), h) for g, h in s.hours.items() if h > 0)
        out.append(CompiledStep(
            name=s.name, needs=needs, joint=s.joint or len(needs) <= 1, contact=s.contact,
            dna_probability=s.dna_probability if s.contact else 0.0,
            min_gap_days=s.min_gap_days, duration=s.duration_days.sampler(),
            first_appointment=s.first_appointment if flag_first else i == first_contact,
            assessment_started=s.assessment_started if flag_started else i == 0,
            outcome=s.outcome, hours=sum(h for _, h in needs),
            scaled=tuple((g, h, h - EPS) for g, h in needs),
        ))
    return tuple(out)


class WaitingList:
    """A team's waiting list of cases, ordered by its discipline."""

    def __init__(self, discipline: str):
        self.discipline = discipline
        self._by_priority = discipline == "priority"
        self._by_referral = discipline == "longest_wait"
        self._heap: list[tuple] = []
        self._seq = 0

    def push(self, case: Case) -> None:
        """Put a case on the list."""
        child = case.child
        self._seq += 1
        if self._by_priority:
            entry = (child.priority, child.list_join_day, self._seq, case)
        elif self._by_referral:
            entry = (0, child.first_referral_day, self._seq, case)
        else:
            entry = (0, child.list_join_day, self._seq, case)
        heapq.heappush(self._heap, entry)

    def head(self) -> Case | None:
        """The next waiting case in order, without removing it."""
        heap = self._heap
        while heap:
            case = heap[0][3]
            if case.waiting:
                return case
            heapq.heappop(heap)
        return None

    def pop(self) -> Case:
        """Remove and return the next case (after ``head`` found one)."""
        return heapq.heappop(self._heap)[3]

    def waiting(self) -> list[Case]:
        """Every waiting case, in no particular order."""
        return [entry[3] for entry in self._heap if entry[3].waiting]


class TeamRunner:
    """What both capacity modes share: the list, the steps, attendance, milestones and outcomes."""

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
        self._outcome_edges = tuple(zip(DEFINITE_OUTCOMES, self.cumulative, strict=True))
        self.uncertain_probability = outcomes.uncertain
        self.young = team.young_child
        draws = pathway.draws
        self.u_dna, self.u_rebook = draws.dna, draws.rebook
        self.u_duration, self.u_outcome = draws.duration, draws.outcome
        self.u_session = draws.session
        self.visits: list[tuple[float, str, bool]] = []  # (day, step, missed) of each appointment

    # -- a child's case with this team ---------------------------------------------------------

    def join(self, child: Child) -> Case:
        """Open a case for a child and put it on the waiting list."""
        case = Case(child, self.name, self.steps)
        child.case = case
        child.team = self.name
        self.list.push(case)
        return case

    def resume(self, child: Child, steps_done: int) -> Case:
        """A child of the starting state part-way through assessment: its case starts at once
        from step ``steps_done`` (at most the outcome step), its earlier milestones at the start."""
        case = Case(child, self.name, self.steps)
        child.case = case
        child.team = self.name
        outcome_step = next((i for i, s in enumerate(self.steps) if s.outcome), len(self.steps) - 1)
        case.step = min(steps_done, outcome_step)
        child.first_appointment_day = child.assessment_started_day = 0.0  # at or before the start
        self._resume(case)
        return case

    def _resume(self, case: Case) -> None:
        raise NotImplementedError

    def dispose(self) -> None:
        """Forget the pathway and its clock (see :meth:`Pathway.dispose`)."""
        self.pathway = None  # type: ignore[assignment]
        self.env = None  # type: ignore[assignment]

    def start(self, case: Case) -> None:
        """The child's assessment has begun: no more withdrawal, age-out or transfer."""
        case.state = STARTED
        case.child.started_day = self.env.now

    def close(self, case: Case) -> None:
        """The child leaves this team (called by the pathway only): the case's events are void."""
        case.state = CLOSED

    def take_longest_waiting(self, n: int) -> list[Case]:
        """Take up to ``n`` waiting cases off the list, longest since referral first, as started."""
        chosen = sorted(self.list.waiting(),
                        key=lambda c: (c.child.first_referral_day, c.child.id))[:n]
        for case in chosen:
            self.start(case)
        return chosen

    # -- what happens at an appointment ----------------------------------------------------------

    def attend_or_dna(self, case: Case, step: CompiledStep, day: float) -> bool:
        """The child attends ``step`` on ``day``, or misses it; returns whether it attended.

        An attended step counts towards the child's milestones. A missed one (with the child's
        next pre-drawn DNA uniform) either discharges the child, after the team's
        ``discharge_after`` missed appointments, or sets ``case.earliest_day`` to the day from which
        the rest of the assessment can be booked again.
        """
        child = case.child
        k = child.appointments
        child.appointments += 1
        pathway = self.pathway
        missed = step.dna_probability > 0 and pathway.uniform(self.u_dna, child, k, "dna") < (
            step.dna_probability)
        if step.contact:
            self.visits.append((day, step.name, missed))
        if missed:
            child.dna_count += 1
            if child.dna_count >= self.discharge_after:
                # a decided outcome stands: a missed feedback appointment is not a discharge
                decided = not math.isnan(child.diagnosis_day)
                pathway.release(child, "assessed" if decided else "discharged_dna", day)
            else:
                u = pathway.uniform(self.u_rebook, child, child.dna_count - 1, "rebook")
                case.earliest_day = day + self.rebook(u)
            return False
        child.staff_hours += step.hours * child.hours_factor
        if step.first_appointment and child.first_appointment_day != child.first_appointment_day:
            child.first_appointment_day = day  # was NaN: the first
        if step.assessment_started and (
                child.assessment_started_day != child.assessment_started_day):
            child.assessment_started_day = day
        return True

    def definite_outcome(self, u: float) -> str:
        """One of the three definite outcomes for a uniform draw."""
        for name, edge in self._outcome_edges:
            if u < edge:
                return name
        return DEFINITE_OUTCOMES[-1]

    def decide(self, case: Case, index: int, day: float) -> None:
        """Outcome after step ``index``: at the outcome step, or after the uncertain steps."""
        step = case.plan[index]
        if not step.outcome and index != case.decide_at:
            return
        child = case.child
        if step.outcome:
            p = self.uncertain_probability
            if self.young is not None and child.age_at(day) < self.young.under_years:
                p = self.young.uncertain_probability
            if p > 0 and self.u_outcome.item(child.id, 0) < p:
                child.outcome = "uncertain"
                case.plan = case.plan[: index + 1] + self.uncertain + case.plan[index + 1:]
                case.decide_at = index + len(self.uncertain)
                return
        child.outcome = self.definite_outcome(self.u_outcome.item(child.id, 1))
        child.diagnosis_day = day

    def staff_ledger(self, weeks: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Hours available and used per week over ``weeks``, by staff group."""
        raise NotImplementedError


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
        self.pending: list[Case] = []
        self._needs_cache: dict[tuple[int, float], tuple[tuple[int, float, float], ...]] = {}
        pathway.start(self._weekly_booking())

    def _weekly_booking(self):
        env = self.env
        while True:
            now = env.now
            if self.pending:
                waiting, self.pending = self.pending, []
                waiting.sort(key=lambda c: (c.earliest_day, c.child.id))
                for case in waiting:
                    if case.pending:
                        case.pending = False
                        if not self._book(case, case.earliest_day, now):
                            self._queue(case, case.earliest_day)
            # started assessments come first: no new starts while one that is due is unbooked
            overdue = any(c.pending and c.earliest_day < now + 7.0 for c in self.pending)
            head = self.list.head
            while not overdue and (case := head()) is not None:
                if not self._book(case, now, now):
                    break
                self.list.pop()
                case.state = BOOKED
            yield env.timeout(7.0)

    def _book(self, case: Case, earliest: float, now: float) -> bool:
        """Book the case's next unbooked step within the booking horizon, and each step after
        it within the horizon from its own earliest day, all together or not at all.

        Later steps that find no hours in their window wait in ``pending`` (booked ahead of new
        starts). Returns whether anything was booked.
        """
        remaining = self.remaining
        now_week = int(now // 7.0)
        factor = case.child.hours_factor
        plan = case.plan
        start = case.step + len(case.booked)
        bookings: list[Booking] = []
        deferred = math.nan
        day = earliest
        horizon, weeks = self.horizon_weeks, self.weeks
        u_session, child_id = self.u_session, case.child.id
        for index in range(start, len(plan)):
            step = plan[index]
            if index > start:
                day += step.min_gap_days
            first_week = int(day // 7.0)
            if first_week < now_week:
                first_week = now_week
            # the first step within the horizon from now; each later one within the horizon
            # from its own earliest day, so a started assessment cannot be spread out forever
            last_week = (now_week if index == start else first_week) + horizon
            if last_week > weeks:
                last_week = weeks
            needs = step.scaled if factor == 1.0 else self._needs(step, factor)
            parts: list[tuple[int, int, float]] = []
            if not needs:
                pass  # a step that needs no hours books nothing (as the joint rule always did)
            elif len(needs) == 1:  # one group: its first week with the hours
                g, hours, threshold = needs[0]
                row = remaining[g]
                week = first_week
                while week < last_week and row[week] < threshold:
                    week += 1
                if week < last_week:
                    parts = [(g, week, hours)]
            elif step.joint:
                week = _first_common_week(remaining, needs, first_week, last_week)
                if week >= 0:
                    parts = [(g, week, hours) for g, hours, _ in needs]
            else:
                for g, hours, threshold in needs:
                    week = _first_week(remaining[g], threshold, first_week, last_week)
                    if week < 0:
                        parts = []
                        break
                    parts.append((g, week, hours))
            if not parts:
                if index == start:
                    self._give_back(bookings, -1)
                    return False
                deferred = day
                break
            last = -1
            for g, w, hours in parts:
                remaining[g][w] -= hours
                if w > last:
                    last = w
            # when in its week the step falls: spread over the week's working days (the first
            # five of the model's week), no earlier than its earliest day, by the child's uniform
            low = 7.0 * last
            if low < day:
                low = day
            if low < now:
                low = now
            high = 7.0 * last + WORKING_DAYS
            if low < high:
                try:
                    u = u_session.item(child_id, index)
                except IndexError:  # past the pre-drawn ones
                    u = float(self.pathway.streams["session"].random())
                day = low + (high - low) * u
            else:
                day = low
            bookings.append(Booking(index, parts, day, now + (day - now)))
        # one event per appointment, except that a whole assessment settled in advance needs
        # only the event of its next appointment (see _finish)
        if deferred == deferred or not self._settled(case, case.booked + bookings):
            due = bookings
        else:
            due = [] if case.booked else bookings[:1]  # the earlier bookings have theirs
        timeout, attend = self.env.timeout, self._attend
        for booking in due:
            timeout(booking.day - now).callbacks.append(partial(attend, case, booking))
        case.booked.extend(bookings)
        if deferred == deferred:  # not NaN: later steps wait for a weekly pass
            self._queue(case, deferred)
        return True

    def _needs(self, step: CompiledStep, factor: float) -> tuple[tuple[int, float, float], ...]:
        """(group, hours, least hours left that will do) of each group a step needs, for a
        child's hours factor; cached per step and factor."""
        key = (id(step), factor)
        needs = self._needs_cache.get(key)
        if needs is None:
            needs = tuple((g, h * factor, h * factor - EPS) for g, h in step.needs)
            self._needs_cache[key] = needs
        return needs

    def _resume(self, case: Case) -> None:
        """Book the rest of a started assessment at the first weekly pass, ahead of new starts."""
        self.start(case)
        self._queue(case, 0.0)

    def _queue(self, case: Case, earliest: float) -> None:
        """Wait for a weekly pass to book the case's next steps from ``earliest``."""
        case.earliest_day = earliest
        if not case.pending:
            case.pending = True
            self.pending.append(case)

    def _give_back(self, bookings: list[Booking], current_week: int) -> None:
        remaining = self.remaining
        for booking in bookings:
            for g, w, h in booking.parts:
                if w >= current_week:
                    remaining[g][w] += h

    def _give_back_all(self, case: Case) -> None:
        """Give back the hours of every step booked and not yet attended."""
        self._give_back(case.booked, int(self.env.now // 7.0))
        case.booked = []
        case.pending = False

    def close(self, case: Case) -> None:
        """The child leaves the team: hours it had booked go back, and nothing more is booked."""
        self._give_back_all(case)
        case.state = CLOSED

    def _rebook_rest(self, case: Case, earliest: float) -> None:
        """Give back the rest of a package and book it again from ``earliest``."""
        self._give_back_all(case)
        if not self._book(case, earliest, self.env.now):
            self._queue(case, earliest)

    def _attend(self, case: Case, booking: Booking, _event: object = None) -> None:
        if case.state == CLOSED or not case.booked or case.booked[0] is not booking:
            return
        case.booked.pop(0)
        now = self.env.now
        if not self.attend_or_dna(case, case.plan[case.step], now):
            if case.state != CLOSED:
                self._rebook_rest(case, case.earliest_day)
            return
        if case.state != STARTED:
            self.start(case)
        length = len(case.plan)
        self.decide(case, case.step, now)
        case.step += 1
        if case.step == len(case.plan):
            self.pathway.release(case.child, "assessed", now)
        elif len(case.plan) != length:  # uncertain: further steps inserted
            self._rebook_rest(case, now + case.plan[case.step].min_gap_days)
        elif len(case.booked) == len(case.plan) - case.step and self._settled(case, case.booked):
            self._finish(case)

    def _settled(self, case: Case, bookings: list[Booking]) -> bool:
        """Whether the case's next appointments ``bookings`` are decided in advance: every one
        attended (by the child's pre-drawn DNA uniforms) and the outcome definite (by its
        pre-drawn outcome uniform). Once the assessment has started and its rest is booked and
        settled, nothing in it can touch anyone else's hours or list."""
        child = case.child
        k = child.appointments
        dna = self.u_dna
        for offset, booking in enumerate(bookings):
            step = case.plan[booking.index]
            if step.dna_probability > 0:
                if k + offset >= dna.shape[1]:
                    return False  # past the pre-drawn uniforms: drawn in clock order
                if dna.item(child.id, k + offset) < step.dna_probability:
                    return False
            if step.outcome:
                p = self.uncertain_probability
                if self.young is not None and child.age_at(booking.at) < self.young.under_years:
                    p = self.young.uncertain_probability
                if p > 0 and self.u_outcome.item(child.id, 0) < p:
                    return False
        return True

    def _finish(self, case: Case) -> None:
        """Attend the rest of a started, settled assessment now, each appointment at the clock
        time its event would have had (``Booking.at``), none at or past the horizon, and release
        the child on the last: what the clock would have done later, one event at a time."""
        horizon = self.pathway.horizon
        at = self.env.now
        while case.booked:
            at = case.booked[0].at
            if at >= horizon:  # beyond the horizon: the run ends first
                return
            case.booked.pop(0)
            self.attend_or_dna(case, case.plan[case.step], at)
            self.decide(case, case.step, at)
            case.step += 1
        self.pathway.release(case.child, "assessed", at)

    def hours_used(self) -> np.ndarray:
        """Hours booked per group and week, shape (groups, weeks)."""
        return self.available - np.array(self.remaining)

    def staff_ledger(self, weeks: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Hours available and booked per week over ``weeks``, by staff group."""
        used = self.hours_used()
        return {group: (self.available[g, :weeks].copy(), used[g, :weeks].copy())
                for g, group in enumerate(self.groups)}


class CaseloadTeam(TeamRunner):
    """Caseload mode: at most ``slots`` open cases, each held for its steps' elapsed time.

    A case's steps do not wait for capacity once it holds a slot, so its whole course (gaps,
    DNAs and rebooking, durations, outcome) is worked out when it starts and one event releases
    the slot at the end.
    """

    def __init__(self, pathway: Pathway, name: str, team: Team,
                 slot_changes: list[tuple[float, int]], available: np.ndarray):
        super().__init__(pathway, name, team)
        self.slots = slot_changes[0][1]
        self.busy = 0
        self.cases: list[tuple[float, float]] = []
        self.slot_changes = slot_changes
        self.available = available
        self.hours_log: list[tuple[float, int, float]] = []
        for day, slots in slot_changes[1:]:
            self.env.timeout(day).callbacks.append(self._resizer(slots))

    def _resizer(self, slots: int) -> Callable[[object], None]:
        return lambda _event: self._resize(slots)

    def _resize(self, slots: int) -> None:
        self.slots = slots
        self._fill()

    def join(self, child: Child) -> Case:
        """Open a case on the list; it starts at once if a slot is free."""
        case = super().join(child)
        if self.busy < self.slots:
            self._fill()
        return case

    def _resume(self, case: Case) -> None:
        """A started case holds a slot from the start (even past the team's slots: it had one)."""
        self._start(case)

    def _fill(self) -> None:
        head = self.list.head
        while self.busy < self.slots and head() is not None:
            self._start(self.list.pop())

    def _start(self, case: Case) -> None:
        now = self.env.now
        self.busy += 1
        self.start(case)
        child = case.child
        day = now
        rebooked = False
        while case.step < len(case.plan):
            step = case.plan[case.step]
            if not rebooked:  # a rebooked step waits for the rebook delay, not its gap again
                day += step.min_gap_days
            rebooked = False
            k = child.appointments
            for g, h in step.needs:
                self.hours_log.append((day, g, h * child.hours_factor))
            if not self.attend_or_dna(case, step, day):
                if case.state == CLOSED:  # discharged
                    break
                day, rebooked = case.earliest_day, True
                continue
            day += step.duration(self.pathway.uniform(self.u_duration, child, k, "duration"))
            self.decide(case, case.step, day)
            case.step += 1
        if case.state != CLOSED:
            self.pathway.release(child, "assessed", day)
        self.cases.append((now, day))
        event = self.env.timeout(day - now)
        event.callbacks.append(self._release)

    def _release(self, _event: object) -> None:
        self.busy -= 1
        self._fill()

    def staff_ledger(self, weeks: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Hours available and used (on the days of each case's steps) per week, by group."""
        log = np.array(self.hours_log) if self.hours_log else np.zeros((0, 3))
        out = {}
        for g, group in enumerate(self.groups):
            mine = log[log[:, 1] == g]
            out[group] = (self.available[g, :weeks].copy(), _weekly_sum(mine[:, 0], mine[:, 2], weeks))
        return out

    def slot_ledger(self, weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Slots available at the start of each week, and slots held on average in it."""
        slot_days = np.array([s for _, s in self.slot_changes], dtype=float)
        change_days = np.array([d for d, _ in self.slot_changes])
        week_starts = 7.0 * np.arange(weeks)
        current = slot_days[np.searchsorted(change_days, week_starts, side="right") - 1]
        return current, _busy_per_week(self.cases, weeks)


def _first_week(row: list[float], threshold: float, first: int, last: int) -> int:
    """The first week in ``[first, last)`` whose hours left reach ``threshold``, or -1."""
    for w in range(first, last):
        if row[w] >= threshold:
            return w
    return -1


def _first_common_week(remaining: list[list[float]], needs: tuple[tuple[int, float, float], ...],
                       first: int, last: int) -> int:
    """The first week in ``[first, last)`` in which every group in ``needs`` has the hours, or -1.

    Each group in turn moves the candidate week on to its own next week with the hours; a
    candidate that no group moves is the answer.
    """
    week = first
    while week < last:
        for g, _, threshold in needs:
            row = remaining[g]
            if row[week] < threshold:
                week += 1
                while week < last and row[week] < threshold:
                    week += 1
                break
        else:
            return week
    return -1


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
