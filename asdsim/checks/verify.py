"""Verification of the simulator against queueing theory: ``asdsim verify``.

Each check runs the model as shipped on a scenario whose answer is known in closed form, and
compares the simulated mean (with its 95% confidence interval across replications) with theory:

* **Erlang C.** Caseload mode with Poisson referrals and one exponential step is an M/M/c
  queue: the mean wait for a slot and the chance of waiting at all follow Erlang's C formula.
* **Cobham.** The same queue with two priority classes served without preemption: each class's
  mean wait follows Cobham's formula.
* **Little's law.** On a full pathway (triage, two teams, under-4 review, DNAs, withdrawals,
  uncertain outcomes), the time-average number of open referrals equals throughput times the
  mean time in the system.
* **Fluid.** In clinic-hours mode with fixed hours per assessment, the waiting list grows or
  clears at demand minus capacity, and a starting backlog clears when the fluid calculation says.
* **Plan against Erlang C.** For an M/M/c queue, the least number of clinicians c for which
  P(wait <= t) >= p follows from Erlang C (P(W <= t) = 1 - C(c, a) e^{-(c mu - lambda) t});
  ``asdsim plan`` must return that c, in cases where it is and is not the smallest stable c.
* **The plan keeps its promise.** A plan for the NICE standard from a quarter, on a team with a
  starting list, then its recommended scenario run on fresh replications (another seed), as
  ``asdsim run`` runs it: the report's verdict ("meets the standard from QUARTER") must be that
  quarter or earlier, up to sampling error (no quarter from it may be below 90% with its whole
  95% interval).

A check passes when the simulated mean is within the stated tolerance of theory *and* its
confidence interval is no wider than the tolerance, so that a pass is evidence rather than noise.
Waits are measured after a warm-up (the queues start empty) and only for children referred long
enough before the horizon to have been seen; a child not seen by then counts with the wait it had
so far, so a broken model cannot hide behind missing values.

The formulas are in :mod:`asdsim.checks.theory` and the scenarios in :mod:`asdsim.checks.scenarios`.
Every replication runs in a worker process (:mod:`asdsim.experiments.backends`) and sends back
only a few numbers, so the whole suite needs little memory. The library returns a
:class:`VerifyReport`; ``asdsim verify`` (:mod:`asdsim.cli.verify`) prints it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from asdsim.checks.results import CheckResult, VerifyReport
from asdsim.checks.suite import (
    Check,
    Evaluate,
    Measure,
    PlanCheck,
    PromiseCheck,
    default_checks,
    default_plan_checks,
)
from asdsim.experiments.backends import TaskFailed, make_backend
from asdsim.experiments.runner import run_replication
from asdsim.scenario import Scenario

DEFAULT_SEED = 1
"""Seed of every check. Tolerances are about 2.5 standard errors or more, so another ``--seed``
passes too, but with a small chance (about 1% a quantity) of a false alarm."""

Progress = Callable[[int, int], None]

__all__ = [
    "DEFAULT_SEED",
    "Check",
    "CheckResult",
    "Evaluate",
    "Measure",
    "PlanCheck",
    "Progress",
    "PromiseCheck",
    "VerifyReport",
    "default_checks",
    "default_plan_checks",
    "run_checks",
]


# ------------------------------------------------------------------------------------ running


@dataclass(frozen=True)
class _Task:
    """One replication of one check: what a worker needs."""

    check_id: str
    scenario: Scenario
    measure: Measure
    seed: int
    replication: int


def _run_task(task: _Task) -> dict[str, float]:
    """Run one replication and measure it (in a worker: only a few numbers travel back)."""
    return task.measure(run_replication(task.scenario, task.seed, task.replication), task.scenario)


def run_checks(checks: Sequence[Check | PlanCheck | PromiseCheck] | None = None,
               only: Sequence[str] | None = None, seed: int = DEFAULT_SEED, jobs: int | None = 1,
               progress: Progress | None = None) -> VerifyReport:
    """Run verification checks and compare each with theory.

    Parameters
    ----------
    checks
        The checks to run (default: :func:`default_checks`, then :func:`default_plan_checks`).
    only
        Ids of the checks to keep (``erlang-c-5``, ``cobham``, ``little``, ``plan-erlang-c-9``,
        ...).
    seed
        Seed of every check's replications.
    jobs
        Worker processes (None: one per CPU); the results do not depend on it.
    progress
        Called as ``progress(done, total)`` after each replication.

    Returns
    -------
    VerifyReport
        One :class:`CheckResult` per compared quantity, in the order of the checks.
    """
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    suite = _selected(checks, only)
    started = time.perf_counter()
    measured, planned, workers = _run(suite, seed, jobs, progress)
    results: list[CheckResult] = []
    for check in suite:
        if isinstance(check, PlanCheck | PromiseCheck):
            results.extend(replace(r, check_id=check.id) for r in planned[check.id])
            continue
        rows = [measured[check.id, r] for r in range(check.replications)]  # in replication order
        columns = {key: np.array([row[key] for row in rows], dtype=float) for key in rows[0]}
        results.extend(replace(r, check_id=check.id) for r in check.evaluate(columns))
    return VerifyReport(results=results, seed=seed, jobs=workers,
                        wall_seconds=time.perf_counter() - started, checks=[c.id for c in suite])


def _selected(checks: Sequence[Check | PlanCheck | PromiseCheck] | None,
              only: Sequence[str] | None) -> list[Check | PlanCheck | PromiseCheck]:
    """The checks to run, in order: those given (default: every one), kept to ``only``."""
    suite: list[Check | PlanCheck | PromiseCheck] = list(
        [*default_checks(), *default_plan_checks()] if checks is None else checks)
    if only:
        known = {c.id for c in suite}
        unknown = [name for name in only if name not in known]
        if unknown:
            raise ValueError(f"no check {', '.join(map(repr, unknown))}; the checks are: "
                             f"{', '.join(c.id for c in suite)}")
        suite = [c for c in suite if c.id in set(only)]
    return suite


def _run(suite: list[Check | PlanCheck | PromiseCheck], seed: int, jobs: int | None,
         progress: Progress | None) -> tuple[dict[tuple[str, int], dict[str, float]],
                                             dict[str, list[CheckResult]], int]:
    """Every replication of the simulated checks (by check and replication), the results of the
    plan's checks (by check) and the number of workers that ran them."""
    simulated = [c for c in suite if isinstance(c, Check)]
    plans = [c for c in suite if isinstance(c, PlanCheck | PromiseCheck)]
    # the longest first, so workers finish together
    ordered = sorted(simulated, key=lambda c: -c.cost)
    tasks = (_Task(c.id, c.scenario, c.measure, seed, r) for c in ordered for r in range(c.replications))
    total = sum(c.replications for c in simulated) + len(plans)  # a plan counts as one
    measured: dict[tuple[str, int], dict[str, float]] = {}
    planned: dict[str, list[CheckResult]] = {}
    try:
        with make_backend(jobs) as backend:
            for task, values in backend.map_unordered(_run_task, tasks):
                measured[task.check_id, task.replication] = values
                if progress:
                    progress(len(measured), total)
            for check in plans:
                planned[check.id] = check.run(seed, backend)
                if progress:
                    progress(len(measured) + len(planned), total)
    except TaskFailed as exc:  # the error itself, as if the replication ran here
        raise exc.__cause__ from None  # type: ignore[misc]
    return measured, planned, backend.workers
