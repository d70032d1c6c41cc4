"""Speed of ``asdsim plan``: a three-group plan on the NICE MDT design.

The question: the cheapest extra school-age paediatrician, psychologist and SLT time from April
2020 such that 90% of children referred from then start their assessment within 3 months (NICE
QS51), in 80% of replications. Each group may grow by 0 to 3 WTE in steps of 0.1 (29,791
options). ``--long-waits`` adds "nobody waiting over 52 weeks at the end of September 2020",
which makes psychologist and SLT time bind too.

Prints the wall time, the options evaluated (and those decided by monotonicity alone), the
replications run and the recommendation. Target: under 3 minutes on 2 cores.

Run: ``python benchmarks/bench_plan.py [--jobs 2] [--replications 8]``.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import asdsim
from asdsim.experiments.backends import make_backend

HERE = Path(__file__).parent
SCENARIO = HERE.parent / "scenarios" / "nice_mdt.yaml"
TARGETS = ["assessment_started_within_3_months >= 0.9"]
LONG_WAITS = "waiting_over_52_weeks == 0 by 2020-09-30"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--confirm-replications", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--long-waits", action="store_true", help=f"add the target {LONG_WAITS!r}")
    args = parser.parse_args()
    targets = [*TARGETS, LONG_WAITS] if args.long_waits else TARGETS

    notes: list[str] = []
    started = time.perf_counter()
    with make_backend(args.jobs) as backend:
        result = asdsim.plan(
            SCENARIO, targets, "2020-04-01", vary="paediatrician,psychologist,slt",
            team="school_age_mdt", replications=args.replications, seed=args.seed, backend=backend,
            confirm_replications=args.confirm_replications,
            progress=lambda done, total, note: notes.append(
                f"{time.perf_counter() - started:6.1f} s  {note}"))
    wall = time.perf_counter() - started
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = workers.ru_utime + workers.ru_stime
    print("\n".join(notes))
    print()
    print(result.summary())
    levels = 1
    for lever in result.levers:
        levels *= lever.high - lever.low + 1
    search = result.options[result.options["phase"] == "search"]
    print(f"\nwall time: {wall:.1f} s on {args.jobs} workers (target: under 180 s on 2 cores)")
    print(f"CPU time of the workers: {cpu:.0f} s, {cpu / result.replications_run:.2f} s a "
          f"replication: about {cpu / args.jobs:.0f} s of wall time on {args.jobs} idle cores")
    print(f"options evaluated: {result.evaluations} of {levels:,} "
          f"({result.settings['inferred']} more decided by monotonicity alone); "
          f"{len(result.options) - len(search)} confirmations on fresh replications")
    print(f"replications run: {result.replications_run} "
          f"({args.replications} a search option at most, {args.confirm_replications} fresh)")
    print(f"proved cheapest (assuming monotonicity): {result.optimal}; "
          f"lower bound GBP {result.cost_lower_bound:,.0f} a year")


if __name__ == "__main__":
    main()
