"""The replication's clock keeps SimPy's order, and waiting children's deadlines keep their times.

:class:`asdsim.model.runtime.Clock` schedules callbacks without a ``simpy.Timeout`` and steps
without ``Environment.step``; the pathway keeps the deadlines of waiting children (withdrawal,
age-out, transfer) in a heap and drops those of children who have started. Each is pinned
against the plain way (a SimPy timeout and SimPy's own loop; a timer for every deadline) on
scenarios that exercise them, by comparing every table.
"""

from __future__ import annotations

import heapq

import pandas as pd
import pytest
import simpy
from simpy.core import NORMAL

import asdsim
from asdsim.checks.scenarios import full_pathway_scenario, mmc_scenario
from asdsim.model import pathway as pathway_module
from asdsim.model.deadlines import Deadlines
from asdsim.model.runtime import Clock
from tests.conftest import BASE, deep_update

TABLES = ("patients", "weekly", "teams_weekly", "staff_weekly", "kpis")


def _scenarios() -> list[asdsim.Scenario]:
    clinic = asdsim.scenario_from_dict(deep_update(BASE, {
        "demand": {"referrals_per_week": 14},
        "teams": {"mdt": {"waiting_list": {"withdrawal_per_year": 0.5},
                          "on_age_boundary": "transfer", "max_age_years": 10}},
        "initial_state": {"kind": "generated", "backlog": [
            {"stage": "awaiting_assessment", "count": 80, "weeks_waited_max": 50},
            {"stage": "in_assessment", "count": 20, "steps_done": 1}]},
    }))
    return [clinic, mmc_scenario(5 / 7, 6, 7.0, 260), full_pathway_scenario(156)]


def _tables(scenario: asdsim.Scenario) -> dict[str, pd.DataFrame]:
    results = asdsim.simulate(scenario, replications=2, seed=11, jobs=1)
    return {name: getattr(results, name) for name in TABLES}


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


class _SimPyClock(simpy.Environment):
    """The plain way: SimPy's own environment, a timeout (or an event due at an exact time) for
    every callback, and SimPy's own loop."""

    def call_in(self, delay, callback):
        self.timeout(delay).callbacks.append(lambda _event: callback())

    def call_at(self, at, callback):
        event = self.event()
        event._ok, event._value = True, None
        event.callbacks.append(lambda _event: callback())
        heapq.heappush(self._queue, (at, NORMAL, next(self._eid), event))

    def run_until(self, until):
        self.run(until=until)


@pytest.mark.parametrize("index", range(3))
def test_the_clock_gives_the_tables_of_simpys_own_loop(index, monkeypatch):
    scenario = _scenarios()[index]
    fast = _tables(scenario)
    monkeypatch.setattr(pathway_module, "Clock", _SimPyClock)
    _assert_same(fast, _tables(scenario))
    assert len(fast["patients"]) > 100


@pytest.mark.parametrize("index", range(3))
def test_dropping_the_deadlines_of_started_children_changes_no_number(index, monkeypatch):
    scenario = _scenarios()[index]
    dropped = _tables(scenario)

    def timer_each(self, at, case, reason):  # a timer for every deadline, void or not
        self.env.call_at(at, lambda: self.expire(case, reason))

    monkeypatch.setattr(Deadlines, "add", timer_each)
    every = _tables(scenario)
    _assert_same(dropped, every)
    if index == 0:  # withdrawals and transfers did happen
        reasons = set(dropped["patients"].exit_reason)
        assert "withdrawn" in reasons
        assert dropped["patients"].transfers.sum() > 0


def test_callbacks_at_one_time_run_in_the_order_they_were_set_as_simpy_runs_them():
    seen: list[str] = []
    clock = Clock()
    clock.call_in(2.0, lambda: seen.append("a"))
    clock.timeout(2.0).callbacks.append(lambda _e: seen.append("b"))
    clock.call_at(2.0, lambda: seen.append("c"))
    clock.call_in(1.0, lambda: seen.append(f"first at {clock.now}"))
    clock.call_in(3.0, lambda: seen.append("at the end: not run"))
    clock.run_until(3.0)
    assert seen == ["first at 1.0", "a", "b", "c"]
    assert clock.now == 3.0


def test_simpys_own_run_on_the_clock_calls_callbacks_and_keeps_its_time():
    seen: list[tuple[str, float]] = []
    clock = Clock(2.0)
    assert clock.now == 2.0

    def weekly(env):
        while True:
            seen.append(("process", env.now))
            yield env.timeout(1.0)

    clock.process(weekly(clock))
    clock.call_in(0.5, lambda: seen.append(("call", clock.now)))
    clock.call_at(3.0, lambda: seen.append(("at", clock.now)))
    clock.run(until=4.5)
    # at 3.0 the callback set first (before the process's timeout was) runs first
    assert seen == [("process", 2.0), ("call", 2.5), ("at", 3.0), ("process", 3.0),
                    ("process", 4.0)]
    assert clock.now == 4.5


def test_processes_run_on_the_clock_as_on_simpy():
    def weekly(env, log):
        while True:
            log.append(env.now)
            yield env.timeout(7.0)

    logs = []
    for env in (Clock(), simpy.Environment()):
        log: list[float] = []
        env.process(weekly(env, log))
        if isinstance(env, Clock):
            env.run_until(30.0)
        else:
            env.run(until=30.0)
        logs.append(log)
    assert logs[0] == logs[1] == [0.0, 7.0, 14.0, 21.0, 28.0]


def test_the_clock_refuses_the_past_and_raises_a_failure_nobody_handled():
    clock = Clock()
    with pytest.raises(ValueError, match="negative delay"):
        clock.call_in(-1.0, lambda: None)
    clock.run_until(5.0)
    with pytest.raises(ValueError, match="past"):
        clock.call_at(4.0, lambda: None)
    with pytest.raises(ValueError, match="greater than"):
        clock.run_until(5.0)

    def failing(env):
        yield env.timeout(1.0)
        raise RuntimeError("broken")

    clock.process(failing(clock))
    with pytest.raises(RuntimeError, match="broken"):
        clock.run_until(10.0)
