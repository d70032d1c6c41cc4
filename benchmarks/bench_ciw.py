"""asdsim against Ciw on a plain M/M/6 queue, each as a whole process.

The queue: Poisson arrivals at 5 a week, 6 servers each finishing 1 a week on average
(exponential service, mean 7 days), first come first served, utilisation 5/6; 2,600 weeks and 20
replications, about 260,000 customers. asdsim runs it as a caseload team
(:func:`asdsim.checks.scenarios.mmc_scenario`, one process, ``jobs=1``) and Ciw
(https://github.com/CiwPython/Ciw, when installed: ``pip install ciw``; not a dependency of
asdsim) as a one-node network. Each side is a fresh Python process that imports its library,
simulates every replication, and takes every customer's wait from its records (asdsim's patient
table, Ciw's ``get_all_records``), so each pays for its start-up and its records as a user would.
The two are run alternately ``--rounds`` times; the median and the best wall time of each are
printed, and the ratio of each (on a shared machine the best is the steadier: the load average
is printed).

Run: ``python benchmarks/bench_ciw.py [--rounds N] [--weeks W] [--replications R]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time

ARRIVALS_PER_WEEK = 5.0
SERVICES_PER_WEEK = 1.0
SERVERS = 6

ASDSIM = """
import asdsim
from asdsim.checks.scenarios import mmc_scenario
scenario = mmc_scenario({arrivals_per_day!r}, {servers}, {mean_days!r}, {weeks})
patients = asdsim.simulate(scenario, replications={replications}, seed=1, jobs=1).patients
started = patients[patients.assessment_started_day.notna()]
waits = started.assessment_started_day - started.referral_day
print(len(patients), waits.mean())
"""

CIW = """
import ciw
network = ciw.create_network(
    arrival_distributions=[ciw.dists.Exponential(rate={arrivals_per_day!r})],
    service_distributions=[ciw.dists.Exponential(rate={service_rate!r})],
    number_of_servers=[{servers}])
customers = waited = 0
total = 0.0
for replication in range({replications}):
    ciw.seed(replication)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time({days!r})
    records = simulation.get_all_records()
    customers += len(records)
    total += sum(r.waiting_time for r in records)
    waited += len(records)
print(customers, total / waited)
"""


def run(code: str) -> tuple[float, str]:
    """Wall seconds of a fresh Python process running ``code``, and what it printed."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return time.perf_counter() - started, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side (default 3)")
    parser.add_argument("--weeks", type=int, default=2600, help="weeks simulated (default 2600)")
    parser.add_argument("--replications", type=int, default=20, help="replications (default 20)")
    args = parser.parse_args()
    values = {"arrivals_per_day": ARRIVALS_PER_WEEK / 7.0, "servers": SERVERS,
              "mean_days": 7.0 / SERVICES_PER_WEEK, "service_rate": SERVICES_PER_WEEK / 7.0,
              "weeks": args.weeks, "days": 7.0 * args.weeks, "replications": args.replications}
    sides = {"asdsim": ASDSIM.format(**values)}
    if importlib.util.find_spec("ciw") is not None:
        sides["ciw"] = CIW.format(**values)
    times: dict[str, list[float]] = {side: [] for side in sides}
    printed: dict[str, str] = {}
    for _ in range(args.rounds):
        for side, code in sides.items():
            seconds, printed[side] = run(code)
            times[side].append(seconds)
    print(f"M/M/{SERVERS}: {ARRIVALS_PER_WEEK:g} arrivals and {SERVICES_PER_WEEK:g} service a week "
          f"a server, {args.weeks:,} weeks, {args.replications} replications; whole processes, "
          f"median of {args.rounds} rounds run alternately (load average "
          f"{os.getloadavg()[0]:.1f})")
    for side, seconds in times.items():
        customers, wait = printed[side].split()
        print(f"  {side:7} {statistics.median(seconds):6.2f} s  (best {min(seconds):.2f} s; "
              f"{int(customers):,} customers, mean wait {float(wait):.2f} days)")
    if "ciw" in times:
        median = statistics.median(times["asdsim"]) / statistics.median(times["ciw"])
        best = min(times["asdsim"]) / min(times["ciw"])
        print(f"  asdsim / Ciw: {best:.2f} best against best, {median:.2f} median against median "
              "(below 1: asdsim is faster)")
    else:
        print("  Ciw is not installed (pip install ciw): asdsim alone")


if __name__ == "__main__":
    main()
