"""Running replications of a scenario, serially or in worker processes.

Each replication is independent: it builds its own ``Pathway`` from the scenario, the seed and
its number, so the tables are the same whichever process ran it, and ``jobs=2`` gives exactly
the tables of ``jobs=1``. Worker processes are those of :mod:`asdsim.experiments.backends`.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import simpy

from asdsim.analysis.record import ReplicationRecord, record
from asdsim.errors import AsdsimError
from asdsim.experiments.backends import TaskFailed, choose_workers, make_backend
from asdsim.model.pathway import Pathway
from asdsim.model.runtime import collector_paused
from asdsim.scenario.loading import load_scenario, scenario_hash
from asdsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from asdsim.analysis.results import Results

DEFAULT_SEED = 12345
Progress = Callable[[int, int], None]
Inputs = Literal["fixed", "drawn"]
"""How a run treats a scenario's ``uncertain:`` inputs: ``fixed`` runs every replication with
the numbers as written; ``drawn`` gives each replication its own draw of them."""


def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationRecord:
    """Run one replication and return its arrays."""
    started = time.perf_counter()
    with collector_paused():  # see asdsim.model.runtime
        pathway = Pathway(scenario, seed, replication)
        pathway.run()
        out = record(pathway, replication)
        pathway.dispose()  # no reference cycles left: freed here, before the collector is back
        del pathway
    out.wall_seconds = time.perf_counter() - started
    return out


def run_drawn_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationRecord:
    """Run one replication with its own draw of the scenario's uncertain inputs (see
    :mod:`asdsim.scenario.uncertainty`); the draw depends only on the seed, the replication and
    each input's path, so any process makes the same one."""
    from asdsim.scenario.uncertainty import replication_scenario  # pandas: only when drawn

    return run_replication(replication_scenario(scenario, seed, replication), seed, replication)


BYTES_PER_CHILD = 1024
"""Memory a simulated child costs once its replication's arrays and the patient table are built
(measured about 650 bytes in the core benchmark; rounded up)."""


def children_per_replication(scenario: Scenario) -> float:
    """An upper estimate of the children in one replication: referrals at the peak weekly rate
    (growth, seasonality and step changes included) over the horizon, plus the starting list."""
    demand = scenario.demand
    peak = demand.referrals_per_week * max(demand.monthly_factors, default=1.0)
    peak *= max([1.0] + [c.factor for c in demand.step_changes])
    peak *= max(1.0, (1.0 + demand.annual_growth) ** (scenario.horizon_weeks / 52.0))
    backlog = sum(group.count for group in scenario.initial_state.backlog)
    return peak * scenario.horizon_weeks + backlog


def memory_available() -> int | None:
    """Physical memory of this machine in bytes (None where it cannot be told)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_run_size(scenario: Scenario, replications: int, seed: int) -> None:
    """Refuse a run that cannot finish here: a negative seed, or replications whose estimated
    memory is more than three quarters of this machine's.

    Raises
    ------
    AsdsimError
        Saying what was asked, what it would need, and what to do instead.
    """
    if seed < 0:
        raise AsdsimError(f"the seed must be 0 or more, got {seed}")
    need = children_per_replication(scenario) * replications * BYTES_PER_CHILD
    have = memory_available()
    if have is not None and need > 0.75 * have:
        most = max(int(0.75 * have / (children_per_replication(scenario) * BYTES_PER_CHILD)), 1)
        raise AsdsimError(
            f"{replications:,} replications of {scenario.name!r} would need about "
            f"{need / 2**30:,.1f} GiB of memory (about {children_per_replication(scenario):,.0f} "
            f"children each); this machine has {have / 2**30:,.1f} GiB: use at most {most:,}")


SECONDS_PER_CHILD = 15e-6
"""CPU time a simulated child costs, its replication's arrays included (measured 10.5
microseconds on the standard benchmark scenario in one process, 16 in the illustrative England
through ``asdsim areas``, its tables included; the estimate leans to the higher): with
:func:`children_per_replication`, the estimate of a run's work that chooses its workers."""


def workers_for(scenario: Scenario, replications: int, jobs: int | None) -> int:
    """The worker processes a run uses: ``jobs`` (at most one per replication), or with None the
    number :func:`asdsim.experiments.backends.choose_workers` chooses for the estimated work
    (children a replication times replications times ``SECONDS_PER_CHILD``)."""
    if jobs is not None:
        return min(jobs, replications)
    work = children_per_replication(scenario) * replications * SECONDS_PER_CHILD
    return choose_workers(work, replications)


def run_replications(scenario: Scenario, replications: int, seed: int, jobs: int | None = 1,
                     progress: Progress | None = None,
                     inputs: Inputs = "fixed") -> list[ReplicationRecord]:
    """Run replications ``0 .. replications-1``, in ``jobs`` processes (None: chosen from the
    work, see :func:`workers_for`), in replication order (with ``inputs="drawn"``, each with its
    own draw of the uncertain inputs)."""
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    check_run_size(scenario, replications, seed)
    records: dict[int, ReplicationRecord] = {}
    try:
        run = run_drawn_replication if inputs == "drawn" and scenario.uncertain else run_replication
        one = partial(run, scenario, seed)
        with make_backend(workers_for(scenario, replications, jobs)) as backend:
            for r, rec in backend.map_unordered(one, range(replications)):
                records[r] = rec
                if progress:
                    progress(len(records), replications)
    except TaskFailed as exc:  # the error itself, as if the replication ran here
        raise exc.__cause__ from None  # type: ignore[misc]
    return [records[r] for r in range(replications)]


def simulate(scenario: Scenario | str | Path, replications: int = 10,
             seed: int = DEFAULT_SEED, jobs: int | None = 1,
             progress: Progress | None = None, inputs: Inputs = "fixed") -> Results:
    """Simulate a scenario.

    Parameters
    ----------
    scenario
        A :class:`~asdsim.Scenario`, or the path of a scenario file.
    replications
        Independent replications; KPIs get 95% confidence intervals across them.
    seed
        Seed of every random stream. The same seed gives the same tables, and two scenarios run
        with the same seed share common random numbers.
    jobs
        Worker processes; None chooses them from the estimated work (this process for a small
        run, one per CPU for a long one). The tables do not depend on it.
    progress
        Called as ``progress(done, total)`` after each replication (the CLI draws a bar).
    inputs
        ``"fixed"`` (the default): the scenario's numbers as written. ``"drawn"``: each
        replication draws the scenario's ``uncertain:`` inputs (seeded by the seed, the
        replication and each input's path), so the tables reflect what is not known as well as
        run-to-run randomness; the same replications are also run with fixed inputs, to state
        the two apart (``Results.uncertainty``), and the draws are in ``Results.inputs``. A
        scenario with nothing uncertain runs as with ``"fixed"``.

    Returns
    -------
    Results
        Patient, weekly and KPI tables, the scenario and the run's provenance.

    Raises
    ------
    ValueError
        When ``inputs`` is neither ``"fixed"`` nor ``"drawn"``.
    """
    import pandas as pd  # the tables' libraries, imported when there is something to tabulate
    import scipy

    from asdsim import __version__
    from asdsim.analysis.results import Results
    from asdsim.scenario.uncertainty import inputs_table, replication_scenario

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if inputs not in ("fixed", "drawn"):
        raise ValueError(f"inputs must be 'fixed' or 'drawn', got {inputs!r}")
    drawn = inputs == "drawn" and bool(scenario.uncertain)
    started = time.perf_counter()
    fixed_kpis = None
    if drawn:  # both runs share the seed: the same children and luck, fixed then drawn inputs
        def half(offset: int) -> Progress:
            def update(done: int, _total: int) -> None:
                if progress:
                    progress(offset + done, 2 * replications)
            return update

        fixed = Results(scenario=scenario, provenance={},
                        records=run_replications(scenario, replications, seed, jobs, half(0)))
        fixed_kpis = fixed.kpis_by_replication
        del fixed
        records = run_replications(scenario, replications, seed, jobs, half(replications), "drawn")
    else:
        records = run_replications(scenario, replications, seed, jobs, progress)
    provenance = {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": int(seed),
        "replications": int(replications),
        "jobs": int(jobs) if jobs is not None else workers_for(scenario, replications, None),
        "asdsim_version": __version__,
        "wall_seconds": round(time.perf_counter() - started, 3),
        "children_simulated": int(sum(len(r.columns["referral_day"]) for r in records)),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__,
        "simpy": simpy.__version__, "cpu_count": os.cpu_count(),
    }
    if not drawn:
        return Results(scenario=scenario, provenance=provenance, records=records)
    provenance["inputs"] = "drawn"
    provenance["uncertain_inputs"] = list(scenario.uncertain)
    return Results(scenario=scenario, provenance=provenance, records=records,
                   inputs=inputs_table(scenario, seed, replications),
                   fixed_kpis_by_replication=fixed_kpis,
                   replication_scenarios={r: replication_scenario(scenario, seed, r)
                                          for r in range(replications)})
