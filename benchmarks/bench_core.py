"""Speed and memory of the core simulator, against a bare-SimPy M/M/c baseline.

Prints, for the standard scenario (benchmarks/standard.yaml: 5 years, ~2,500 referrals a year,
clinic-hours MDT pathway):

* children simulated per second of CPU time on one core (``jobs=1``, patient, weekly and KPI
  tables not built), and the same for a bare SimPy M/M/c loop over the same number of children
  (one process per child, a ``simpy.Resource``): the ratio says how close the full pathway runs
  to SimPy's own ceiling (target: at least 0.7). Both are timed in CPU seconds of this process,
  alternately, and the best of three rounds is kept, so other load on the machine counts less
  (not all of it: on a busy machine the full pathway, with far more memory per child, loses more
  to the other processes than the bare loop does, so the load average is printed with it);
* wall time of 100 replications with ``jobs=2`` (target: at most 60 s on 2 cores);
* peak memory of a run of about one million children, patient table built (target: < 1 GiB),
  measured in a fresh process so nothing else is counted;
* one replication of benchmarks/mid_assessment.yaml (2,741 children started before day 0 who
  wait for hours): CPU seconds;
* what a local worker process costs before it is useful (the figure behind
  ``asdsim.experiments.backends.WORKER_START_SECONDS``): the wall time to start two workers,
  give each a task that does nothing and stop them, per worker; and the extra CPU time two
  workers spend on 10 one-year replications of the standard scenario over this process alone,
  per worker.

Run: ``python benchmarks/bench_core.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import simpy

import asdsim

HERE = Path(__file__).parent
STANDARD = HERE / "standard.yaml"


def bare_simpy_mmc(children: int, servers: int = 10, seed: int = 1) -> float:
    """CPU seconds to run ``children`` through a bare SimPy M/M/c queue at utilisation 0.8."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0, children)
    services = rng.exponential(0.8 * servers, children)
    env = simpy.Environment()
    clinic = simpy.Resource(env, capacity=servers)
    waits = np.empty(children)

    def child(i: int):
        arrived = env.now
        with clinic.request() as request:
            yield request
            waits[i] = env.now - arrived
            yield env.timeout(services[i])

    def arrivals():
        for i in range(children):
            yield env.timeout(gaps[i])
            env.process(child(i))

    env.process(arrivals())
    started = time.process_time()
    env.run()
    return time.process_time() - started


def _nothing(item: int) -> int:
    return item


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process, and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def worker_start(rounds: int = 5) -> tuple[float, float]:
    """Seconds a worker costs: (wall time to start and stop one with nothing to do, best of
    ``rounds``; extra CPU time of each worker's first replications over this process's)."""
    from asdsim.experiments.backends import ProcessBackend

    empty = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        with ProcessBackend(2) as backend:
            list(backend.map_unordered(_nothing, range(2)))
        empty = min(empty, (time.perf_counter() - started) / 2)
    year = asdsim.load_scenario(STANDARD).model_copy(update={"horizon_weeks": 52})
    asdsim.simulate(year, replications=1, seed=1, jobs=1)
    before = _cpu_seconds()
    asdsim.simulate(year, replications=10, seed=1, jobs=1)
    middle = _cpu_seconds()
    asdsim.simulate(year, replications=10, seed=1, jobs=2)
    after = _cpu_seconds()
    serial = middle[0] - before[0]
    parallel = (after[0] - middle[0]) + (after[1] - middle[1])
    return empty, (parallel - serial) / 2


def memory_child(replications: int) -> None:
    """Run in a fresh process: simulate, build the patient table, print peak RSS."""
    scenario = asdsim.load_scenario(STANDARD)
    results = asdsim.simulate(scenario, replications=replications, seed=1, jobs=2)
    rows = len(results.patients)
    _ = results.weekly, results.kpis
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{rows} {own:.0f} {workers:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer replications, no memory run")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    scenario = asdsim.load_scenario(STANDARD)
    reps = 4 if args.quick else 10
    asdsim.simulate(scenario, replications=1, seed=1, jobs=1)  # imports and caches warm
    serial = base_seconds = float("inf")
    for _ in range(3):
        started = time.process_time()
        results = asdsim.simulate(scenario, replications=reps, seed=1, jobs=1)
        serial = min(serial, time.process_time() - started)
        children = results.provenance["children_simulated"]
        base_seconds = min(base_seconds, bare_simpy_mmc(children))
    per_rep = children / reps
    rate = children / serial
    base_rate = children / base_seconds
    print(f"standard scenario: {per_rep:,.0f} children a replication")
    print(f"asdsim, jobs=1:    {rate:,.0f} children/s of CPU time ({serial:.2f} s, {reps} reps; "
          "best of 3)")
    print(f"bare SimPy M/M/c:  {base_rate:,.0f} children/s of CPU time ({base_seconds:.2f} s; "
          "best of 3)")
    print(f"ratio asdsim / bare SimPy: {rate / base_rate:.2f} (target: >= 0.7; "
          f"load average {os.getloadavg()[0]:.1f})")

    mid = asdsim.load_scenario(HERE / "mid_assessment.yaml")
    mid_seconds = float("inf")
    for _ in range(3):
        started = time.process_time()
        asdsim.simulate(mid, replications=1, seed=1, jobs=1)
        mid_seconds = min(mid_seconds, time.process_time() - started)
    print(f"mid-assessment list (benchmarks/mid_assessment.yaml), one replication: "
          f"{mid_seconds:.2f} s of CPU time (best of 3)")

    empty, first = worker_start()
    print(f"a worker process: {empty:.3f} s wall to start and stop with nothing to do; "
          f"{first:.3f} s more CPU on its first replications than this process "
          f"(load average {os.getloadavg()[0]:.1f})")

    hundred = 20 if args.quick else 100
    started = time.perf_counter()
    asdsim.simulate(scenario, replications=hundred, seed=1, jobs=2)
    wall = time.perf_counter() - started
    print(f"{hundred} replications, jobs=2: {wall:.1f} s wall "
          f"({hundred * per_rep / wall:,.0f} children/s; target for 100: <= 60 s)")

    if not args.quick:
        reps_million = int(np.ceil(1_000_000 / per_rep))
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(reps_million)],
            check=True, capture_output=True, text=True,
        ).stdout.split()
        rows, own, workers = int(out[0]), float(out[1]), float(out[2])
        print(f"peak memory, {rows:,} children ({reps_million} reps, patient table built): "
              f"{own:,.0f} MiB main process, {workers:,.0f} MiB largest worker "
              f"(target: < 1024 MiB)")


if __name__ == "__main__":
    main()
