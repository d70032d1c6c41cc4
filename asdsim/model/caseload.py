"""Caseload mode: a team holds at most ``slots`` open cases, each for its steps' elapsed time.

See :class:`CaseloadTeam`; what both capacity modes share is in :mod:`asdsim.model.teams`.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

import numpy as np

from asdsim.model.case import CLOSED, Case
from asdsim.model.child import Child
from asdsim.model.teams import Host, TeamRunner
from asdsim.scenario.schema import Team


class CaseloadTeam(TeamRunner):
    """Caseload mode: at most ``slots`` open cases, each held for its steps' elapsed time.

    A case's steps do not wait for capacity once it holds a slot, so its whole course (gaps,
    DNAs and rebooking, durations, outcome) is worked out when it starts and one event releases
    the slot at the end.
    """

    def __init__(self, host: Host, name: str, team: Team,
                 slot_changes: list[tuple[float, int]], available: np.ndarray):
        super().__init__(host, name, team)
        self.u_duration = host.draws.duration  # (only this mode draws step durations)
        self.slots = slot_changes[0][1]
        self.busy = 0
        self.cases: list[tuple[float, float]] = []
        self.slot_changes = slot_changes
        self.available = available
        self.hours_log: list[tuple[float, int, float]] = []
        for day, slots in slot_changes[1:]:
            self.env.call_in(day, self._resizer(slots))

    def _resizer(self, slots: int) -> Callable[[], None]:
        return lambda: self._resize(slots)

    def _resize(self, slots: int) -> None:
        self.slots = slots
        self._fill()

    def join(self, child: Child) -> Case:
        """Open a case on the list; it starts at once if a slot is free."""
        if self.busy < self.slots and self.list.head() is None:
            # nobody waiting and a slot free: the case would go on the list and off it again
            case = self.open(child)
            self._start(case)
            return case
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
        env = self.env
        now = env.now
        self.busy += 1
        self.start(case)
        child = case.child
        log, factor, durations = self.hours_log.append, child.hours_factor, self.u_duration
        day = now
        rebooked = False
        while case.step < len(case.plan):  # (an uncertain outcome lengthens the plan)
            step = case.plan[case.step]
            if not rebooked:  # a rebooked step waits for the rebook delay, not its gap again
                day += step.min_gap_days
            rebooked = False
            k = child.appointments
            for g, h in step.needs:
                log((day, g, h * factor))
            if not self.attend_or_dna(case, step, day):
                if case.state == CLOSED:  # discharged
                    break
                day, rebooked = case.earliest_day, True
                continue
            try:
                u = durations.item(child.id, k)
            except IndexError:  # past the pre-drawn ones: the host draws from the stream
                u = self.host.uniform(durations, child, k, "duration")
            day += step.duration(u)
            self.decide(case, case.step, day)
            case.step += 1
        if case.state != CLOSED:
            self.host.release(child, "assessed", day)
        self.cases.append((now, day))
        env.call_in(day - now, self._release)

    def _release(self) -> None:
        self.busy -= 1
        self._fill()

    def staff_ledger(self, weeks: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Hours available and used (on the days of each case's steps) per week, by group."""
        log = _rows(self.hours_log, 3)
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
    arr = _rows(cases, 2)
    times = np.concatenate([arr[:, 0], arr[:, 1]])
    steps = np.concatenate([np.ones(len(arr)), -np.ones(len(arr))])
    order = np.argsort(times, kind="stable")
    times, steps = times[order], steps[order]
    held = np.cumsum(steps)  # cases held just after each event
    integral = np.concatenate([[0.0], np.cumsum(held[:-1] * np.diff(times))])
    edges = 7.0 * np.arange(weeks + 1)
    at_edges = np.interp(edges, times, integral, left=0.0, right=integral[-1])
    return np.diff(at_edges) / 7.0


def _rows(rows: list[tuple[float, ...]], width: int) -> np.ndarray:
    """Tuples of ``width`` numbers as a float array of shape (len(rows), width), filled without
    converting a tuple at a time."""
    return np.fromiter(chain.from_iterable(rows), dtype=float,
                       count=width * len(rows)).reshape(len(rows), width)

