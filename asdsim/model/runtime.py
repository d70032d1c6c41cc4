"""Running a replication fast: its clock, and Python's cyclic garbage collector paused meanwhile.

A replication allocates hundreds of thousands of small objects (children, cases, events, heap
entries) that all live until it ends, so the collector's passes over them find nothing to free
and cost about a third of the run time. The collector is paused while a replication is built,
run and turned into arrays, and restored afterwards. Before it is restored,
:meth:`asdsim.model.pathway.Pathway.dispose` breaks the run's reference cycles (a child and its
case, the teams and the pathway, the clock and the events still due), so reference counting
frees the whole run at once and the collector, back on, has nothing of it to scan (a test
checks this).

The replication's clock (:class:`Clock`) is a SimPy environment with a cheaper way to call
something later. Most of the model's events are one callback at one time (a referral arrives,
an appointment happens, a caseload slot frees): :meth:`Clock.call_in` schedules such a callback
with no event at all (no :class:`simpy.Timeout`, no callback list), and :meth:`Clock.run_until`
steps the clock without a method call and an exception handler per event. Both keep SimPy's
order exactly: a callback's entry ``(time, CALL, event id, callback)`` sits in the same queue as
SimPy's ``(time, priority, event id, event)``, its id from the same counter and ``CALL`` equal to
SimPy's ``NORMAL``, so entries sort as SimPy's would; events are processed as
:meth:`simpy.Environment.step` processes them, and processes (``yield env.timeout(7.0)``) run
as before. The clock's ``now`` is a plain attribute, not SimPy's property. A test runs
replications on this clock and on SimPy's own loop and compares every table.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from heapq import heappop, heappush

import simpy
from simpy.core import NORMAL, URGENT


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block, if it was running, and restore it."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


CALL: float = float(NORMAL)
"""The priority of a :meth:`Clock.call_in` entry: equal to SimPy's ``NORMAL`` (so the queue's order
is SimPy's), but its own object, by which the clock's loop tells a plain callback from an event."""


class Clock(simpy.Environment):
    """A SimPy environment with :meth:`call_in`, :meth:`call_at` and :meth:`run_until`, whose
    ``now`` is a plain attribute (read tens of thousands of times a replication) kept equal to
    SimPy's own clock wherever the clock moves."""

    now: float = 0.0  # (an instance attribute, in place of SimPy's property)

    def __init__(self, initial_time: float = 0.0):
        super().__init__(initial_time)
        self.now = self._now

    def call_in(self, delay: float, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after ``delay`` days (when
        ``env.timeout(delay).callbacks.append(...)`` would, in the same order).

        Raises
        ------
        ValueError
            If ``delay`` is negative.
        """
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        heappush(self._queue, (self._now + delay, CALL, next(self._eid), callback))

    def call_at(self, at: float, callback: Callable[[], None]) -> None:
        """Call ``callback()`` at time ``at`` (not before now), which the clock will show then
        exactly (``call_in(at - now)`` may round it)."""
        if at < self._now:
            raise ValueError(f"time {at} is past")
        heappush(self._queue, (at, CALL, next(self._eid), callback))

    def step(self) -> None:
        """Process the next entry of the queue: a callback, or an event as SimPy does."""
        queue = self._queue
        if queue:
            self.now = queue[0][0]  # before any callback or process runs
            if queue[0][1] is CALL:
                self._now, _, _, callback = heappop(queue)
                callback()
                return
        super().step()

    def run_until(self, until: float) -> None:
        """Process every event before ``until`` (as ``run(until=until)`` does), and stop with
        the clock at ``until``.

        Raises
        ------
        ValueError
            If ``until`` is not later than now.
        """
        if until <= self._now:
            raise ValueError(f"until ({until}) must be greater than the current simulation time")
        stop = simpy.Event(self)
        stop._ok = True
        stop._value = None
        self.schedule(stop, URGENT, until - self._now)
        queue = self._queue
        while True:
            now, priority, _, event = heappop(queue)  # never empty: ``stop`` is in it
            self._now = self.now = now
            if priority is CALL:
                event()
                continue
            if event is stop:
                stop.callbacks = None
                return
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                # a failed event nobody handled: raise it, as SimPy's step does
                error = type(event._value)(*event._value.args)
                error.__cause__ = event._value
                raise error
