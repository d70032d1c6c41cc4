"""Clinic-hours mode: a team's weekly clinic hours per staff group, booked as whole packages.

See :class:`ClinicTeam`; what both capacity modes share is in :mod:`asdsim.model.teams`.
"""

from __future__ import annotations

import math
from functools import partial
from operator import attrgetter

import numpy as np

from asdsim.model.case import BOOKED, CLOSED, STARTED, Booking, Case
from asdsim.model.steps import EPS, CompiledStep
from asdsim.model.teams import WORKING_DAYS, Host, TeamRunner
from asdsim.scenario.schema import Team

_PENDING_ORDER = attrgetter("earliest_day", "child.id")
"""The order of cases waiting for a weekly pass: earliest day first, then child id."""


class ClinicTeam(TeamRunner):
    """Clinic-hours mode: assessments booked as packages into weekly hours per staff group.

    A child starts when its first step can be booked within the booking horizon and every later
    step within the horizon from its own earliest day (the previous step's day plus its minimum
    gap), each in the earliest week with the hours, so started children hold their hours. A DNA
    (or an uncertain outcome, which adds steps) gives back the rest of the package and books it
    again, ahead of new starts. A package settled in advance (no missed appointment, a definite
    outcome, by the child's pre-drawn uniforms) has one event, for its next appointment; the
    rest are attended together once it starts (:meth:`_finish`).
    """

    def __init__(self, host: Host, name: str, team: Team, available: np.ndarray):
        super().__init__(host, name, team)
        self.available = available
        self.remaining = [list(row) for row in available]
        self.weeks = available.shape[1]
        self.horizon_weeks = team.booking_horizon_weeks
        self.pending: list[Case] = []
        self._needs_cache: dict[tuple[int, float], tuple[tuple[int, float, float], ...]] = {}
        # (needs, joint, first week, last week) of first steps that found no hours there, since
        # hours were last given back: see _book
        self._no_hours: set[tuple[int, bool, int, int]] = set()
        host.start(self._weekly_booking())

    def _weekly_booking(self):
        env = self.env
        while True:
            now = env.now
            if self.pending:
                self._book_pending(now)
            # started assessments come first: no new starts while one that is due is unbooked
            overdue = any(c.pending and c.earliest_day < now + 7.0 for c in self.pending)
            head = self.list.head
            while not overdue and (case := head()) is not None:
                if not self._book(case, now, now):
                    break
                self.list.pop()
                case.state = BOOKED
            yield env.timeout(7.0)

    def _book_pending(self, now: float) -> None:
        """Book the cases waiting for a weekly pass, earliest day first (then child id).

        A case whose next step is known to find no hours in its window (see :meth:`_book`) is
        not searched again: it keeps its place among the cases still waiting.
        """
        waiting, self.pending = self.pending, []
        waiting.sort(key=_PENDING_ORDER)
        now_week = int(now // 7.0)
        last_week = min(now_week + self.horizon_weeks, self.weeks)
        no_hours, needs_cache, book, still = self._no_hours, self._needs_cache, self._book, []
        for case in waiting:
            if not case.pending:
                continue
            if no_hours:
                # the key of _book's first search, without calling it
                step = case.plan[case.step + len(case.booked)]
                factor = case.child.hours_factor
                needs = step.scaled if factor == 1.0 else needs_cache.get((id(step), factor))
                first_week = int(case.earliest_day // 7.0)
                if first_week < now_week:
                    first_week = now_week
                if needs is not None and (id(needs), step.joint, first_week, last_week) in no_hours:
                    still.append(case)
                    continue
            case.pending = False
            if not book(case, case.earliest_day, now):
                case.pending = True
                still.append(case)
        self.pending = still + self.pending  # (sorted at the next pass)

    def _book(self, case: Case, earliest: float, now: float) -> bool:
        """Book the case's next unbooked step within the booking horizon, and each step after
        it within the horizon from its own earliest day, all together or not at all.

        Later steps that find no hours in their window wait in ``pending`` (booked ahead of new
        starts). Returns whether anything was booked.

        Hours left only fall between give-backs, so a first step that found no hours in a window
        finds none there again until hours are given back: such a search is remembered in
        ``_no_hours`` (forgotten at the next give-back) and not repeated. Without it every
        started child waiting for hours would search the booking horizon again at every weekly
        pass.
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
        needs_cache = self._needs_cache
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
            needs = step.scaled if factor == 1.0 else (
                needs_cache.get((id(step), factor)) or self._needs(step, factor))
            if index == start:
                # needs are kept (by the step or the cache) for the run, so their id is theirs
                searched = (id(needs), step.joint, first_week, last_week)
                if searched in self._no_hours:
                    return False
            if len(needs) == 1:
                # one staff group (most steps): its first week with the hours (as _book_parts finds
                # it) and the hours taken, here without two calls per step
                g, hours, threshold = needs[0]
                row = remaining[g]
                last = first_week
                while last < last_week and row[last] < threshold:
                    last += 1
                if last < last_week:
                    row[last] -= hours
                    parts = [(g, last, hours)]
                else:
                    parts = []
            else:
                parts, last = _book_parts(remaining, needs, step.joint, first_week, last_week)
            if not parts:
                if index == start:  # nothing booked yet
                    self._no_hours.add(searched)
                    return False
                deferred = day
                break
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
                except IndexError:  # past the pre-drawn ones: the host draws from the stream
                    u = self.host.uniform(u_session, case.child, index, "session")
                day = low + (high - low) * u
            else:
                day = low
            bookings.append((index, parts, day, now + (day - now)))  # a Booking
        self._schedule(case, bookings, deferred, now)
        return True

    def _schedule(self, case: Case, bookings: list[Booking], deferred: float, now: float) -> None:
        """Set the events of new bookings and keep them with the case; with ``deferred`` (not
        NaN) the later steps wait for a weekly pass to be booked from that day."""
        # one event per appointment, except that a whole assessment settled in advance needs
        # only the event of its next appointment (see _finish)
        if deferred == deferred or not self._settled(case, case.booked + bookings):
            due = bookings
        else:
            due = [] if case.booked else bookings[:1]  # the earlier bookings have theirs
        call_in, attend = self.env.call_in, self._attend
        for booking in due:
            call_in(booking[2] - now, partial(attend, case, booking))  # at its day
        case.booked.extend(bookings)
        if deferred == deferred:  # not NaN: later steps wait for a weekly pass
            self._queue(case, deferred)

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
        """Give back the hours of ``bookings`` in weeks from ``current_week`` on."""
        remaining = self.remaining
        for _, parts, _, _ in bookings:
            for g, w, h in parts:
                if w >= current_week:
                    remaining[g][w] += h
                    self._no_hours.clear()  # hours rose: a search that failed may succeed

    def _give_back_all(self, case: Case) -> None:
        """Give back the hours of every step booked and not yet attended."""
        if case.booked:  # (most cases close with nothing booked)
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

    def _attend(self, case: Case, booking: Booking) -> None:
        if case.state == CLOSED or not case.booked or case.booked[0] is not booking:
            return
        case.booked.pop(0)
        now = self.env.now
        step = case.plan[case.step]
        if not self.attend_or_dna(case, step, now):
            if case.state != CLOSED:
                self._rebook_rest(case, case.earliest_day)
            return
        if case.state != STARTED:
            self.start(case)
        length = len(case.plan)
        if step.outcome or case.step == case.decide_at:  # (decide does nothing otherwise)
            self.decide(case, case.step, now)
        case.step += 1
        if case.step == len(case.plan):
            self.host.release(case.child, "assessed", now)
        elif len(case.plan) != length:  # uncertain: further steps inserted
            self._rebook_rest(case, now + case.plan[case.step].min_gap_days)
        elif len(case.booked) == len(case.plan) - case.step and self._settled(case, case.booked):
            self._finish(case)

    def _settled(self, case: Case, bookings: list[Booking]) -> bool:
        """Whether the case's next appointments ``bookings`` are decided in advance: every one
        attended (by the child's pre-drawn DNA uniforms) and the outcome definite (by its
        pre-drawn outcome uniform). Once the assessment has started and its rest is booked and
        settled, nothing in it can touch anyone else's hours or list.

        Each booking is judged on its own (the child's k-th appointment draws its k-th uniform),
        so what is left of settled bookings is settled too: the answer for bookings ending with
        the case's last judged booking is reused (a reused "no" only costs the shortcut).
        """
        if bookings and bookings[-1] is case.judged:
            return case.settled
        settled = self._judge(case, bookings)
        if bookings:
            case.judged, case.settled = bookings[-1], settled
        return settled

    def _judge(self, case: Case, bookings: list[Booking]) -> bool:
        child = case.child
        k, child_id = child.appointments, child.id
        dna = self.u_dna
        drawn = dna.shape[1]
        for offset, (index, _, _, at) in enumerate(bookings):
            step = case.plan[index]
            if step.dna_probability > 0:
                if k + offset >= drawn:
                    return False  # past the pre-drawn uniforms: drawn in clock order
                if dna.item(child_id, k + offset) < step.dna_probability:
                    return False
            if step.outcome:
                p = self.uncertain_probability
                if self.young is not None and child.age_at(at) < self.young.under_years:
                    p = self.young.uncertain_probability
                if p > 0 and self.u_outcome.item(child.id, 0) < p:
                    return False
        return True

    def _finish(self, case: Case) -> None:
        """Attend the rest of a started, settled assessment now, each appointment at the clock
        time its event would have had (a Booking's ``at``), none at or past the horizon, and release
        the child on the last: what the clock would have done later, one event at a time."""
        horizon = self.host.horizon
        at = self.env.now
        while case.booked:
            at = case.booked[0][3]  # the next booking's clock time
            if at >= horizon:  # beyond the horizon: the run ends first
                return
            case.booked.pop(0)
            step = case.plan[case.step]
            self.attend_or_dna(case, step, at)
            if step.outcome or case.step == case.decide_at:  # (decide does nothing otherwise)
                self.decide(case, case.step, at)
            case.step += 1
        self.host.release(case.child, "assessed", at)

    def hours_used(self) -> np.ndarray:
        """Hours booked per group and week, shape (groups, weeks)."""
        return self.available - np.array(self.remaining)

    def staff_ledger(self, weeks: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Hours available and booked per week over ``weeks``, by staff group."""
        used = self.hours_used()
        return {group: (self.available[g, :weeks].copy(), used[g, :weeks].copy())
                for g, group in enumerate(self.groups)}


def _book_parts(remaining: list[list[float]], needs: tuple[tuple[int, float, float], ...],
                joint: bool, first: int, last: int) -> tuple[list[tuple[int, int, float]], int]:
    """Book a step in weeks ``[first, last)``: each group in its first week with the hours, a
    joint step's groups in their first common week. Takes the hours from ``remaining`` and
    returns the parts (group, week, hours) and the latest week booked; ``([], -1)`` and nothing
    taken when some part finds no week (or the step needs no hours)."""
    if not needs:
        return [], -1  # a step that needs no hours books nothing (as the joint rule always did)
    if joint:
        week = _first_common_week(remaining, needs, first, last)
        if week < 0:
            return [], -1
        parts = []
        for g, hours, _ in needs:  # (a loop: a comprehension costs a call of its own)
            parts.append((g, week, hours))
            remaining[g][week] -= hours
        return parts, week
    parts = []
    latest = -1
    for g, hours, threshold in needs:
        week = _first_week(remaining[g], threshold, first, last)
        if week < 0:
            return [], -1
        parts.append((g, week, hours))
        if week > latest:
            latest = week
    for g, week, hours in parts:  # every part found its week: take them all
        remaining[g][week] -= hours
    return parts, latest


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
