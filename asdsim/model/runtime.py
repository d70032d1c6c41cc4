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
without the :class:`simpy.Timeout` built around it, and :meth:`Clock.run_until` steps the clock
without a method call and an exception handler per event. Both keep SimPy's order exactly: an
entry ``(time, priority, event id, event)`` in the same queue, the id from the same counter,
processed as :meth:`simpy.Environment.step` processes it; processes (``yield env.timeout(7.0)``)
run as before. A test runs replications on this clock and on SimPy's own loop and compares
every table.
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


class _Call:
    """One callback due at one time: what the clock's loop needs of an event."""

    __slots__ = ("_ok", "_value", "callbacks")

    def __init__(self, callback: Callable[[object], None]):
        self.callbacks: list[Callable[[object], None]] | None = [callback]
        self._ok = True
        self._value = None


class Clock(simpy.Environment):
    """A SimPy environment with :meth:`call_in` and :meth:`run_until`."""

    def call_in(self, delay: float, callback: Callable[[object], None]) -> None:
        """Call ``callback(event)`` after ``delay`` days (as
        ``env.timeout(delay).callbacks.append(callback)`` would, in the same order).

        Raises
        ------
        ValueError
            If ``delay`` is negative.
        """
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), _Call(callback)))

    def call_at(self, at: float, callback: Callable[[object], None]) -> None:
        """Call ``callback(event)`` at time ``at`` (not before now), which the clock will show
        then exactly (``call_in(at - now)`` may round it)."""
        if at < self._now:
            raise ValueError(f"time {at} is past")
        heappush(self._queue, (at, NORMAL, next(self._eid), _Call(callback)))

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
            self._now, _, _, event = heappop(queue)  # never empty: ``stop`` is in it
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
