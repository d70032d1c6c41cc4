"""Time and memory of many areas in one run, and how it scales with workers.

Runs ``asdsim areas`` on an areas table (default: the shipped illustrative England, 42 areas,
5 years) as a user would, a whole process each time, with ``--jobs 1`` and ``--jobs 2`` (and
``--dask local`` with 2 workers when asked and Dask is installed), each into a new temporary
folder so nothing is resumed, and prints for each:

* wall time, and CPU time of the command and every worker process it started;
* the peak resident memory of the largest of those processes (targets for the England with 10
  replications: at most 3 minutes and 4 GiB on 2 cores);
* the speed-up of 2 workers over 1, and whether ``areas.csv`` and ``total.csv`` are byte-identical
  across the runs (they must be: common random numbers, whatever the workers).

Then what a cluster of N cores would take, as an **estimate** (not a measurement): every area is
one unit of work, so N cores need about the single-process CPU time over N, until N nears the
number of areas, when the largest area (its share of the children, from the table) sets the
time; start-up and writing the folder come on top.

Run: ``python benchmarks/bench_areas.py [--replications N] [--table AREAS] [--dask]``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench_startup import _asdsim as asdsim_command

from asdsim.experiments.areas import load_areas
from asdsim.experiments.runner import children_per_replication
from asdsim.scenario.library import resolve_scenario

COMPARED = ("areas.csv", "total.csv")


def run(table: str, replications: int, folder: Path, *backend: str) -> dict[str, float | str]:
    """Run ``asdsim areas`` once in a new process; its wall time, CPU time (with its workers),
    largest resident memory and the hashes of the compared files."""
    out = folder / "out"
    command = [*asdsim_command(), "areas", table, "--out", str(out),
               "--replications", str(replications), *backend]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)  # the command and every process it waited for
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
    row: dict[str, float | str] = {
        "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
    }
    for name in COMPARED:
        row[name] = hashlib.sha256((out / name).read_bytes()).hexdigest()
    return row


def largest_share(table: str) -> tuple[int, float, float]:
    """Areas, children a replication over all of them, and the largest area's share."""
    areas = load_areas(resolve_scenario(table, "areas")).areas
    children = [children_per_replication(area.scenario) for area in areas]
    return len(areas), sum(children), max(children) / sum(children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="england", help="areas table (default: england)")
    parser.add_argument("--replications", type=int, default=10, help="default 10")
    parser.add_argument("--dask", action="store_true", help="also run with --dask local")
    args = parser.parse_args()

    n_areas, children, share = largest_share(args.table)
    print(f"areas table {args.table}: {n_areas} areas, at most {children:,.0f} children a "
          f"replication (estimated), the largest area {share:.1%} of them; "
          f"{args.replications} replication{'s' if args.replications != 1 else ''}; "
          f"load average {os.getloadavg()[0]:.1f}")
    backends = {"--jobs 1": ("--jobs", "1"), "--jobs 2": ("--jobs", "2")}
    if args.dask:
        if importlib.util.find_spec("distributed") is None:
            print("--dask local: skipped (pip install 'asdsim[dask]')")
        else:
            backends["--dask local, 2 workers"] = ("--dask", "local", "--jobs", "2")
    rows: dict[str, dict[str, float | str]] = {}
    for label, backend in backends.items():
        with tempfile.TemporaryDirectory() as folder:
            rows[label] = row = run(args.table, args.replications, Path(folder), *backend)
        print(f"{label}: {row['wall']:.1f} s wall, {row['cpu']:.1f} s CPU (command and workers), "
              f"largest process {row['rss_mb']:,.0f} MB resident "
              f"(load average {os.getloadavg()[0]:.1f})")
    one, two = rows["--jobs 1"], rows["--jobs 2"]
    speedup = float(one["wall"]) / float(two["wall"])
    print(f"speed-up of 2 workers over 1: {speedup:.2f}x (efficiency {speedup / 2:.0%})")
    same = all(row[name] == one[name] for row in rows.values() for name in COMPARED)
    print(f"{' and '.join(COMPARED)} byte-identical across {len(rows)} runs: "
          f"{'yes' if same else 'NO'}")
    cpu = float(one["cpu"])
    estimates = ", ".join(f"{n} cores ~{cpu * max(1 / n, share):.1f} s"
                          for n in (4, 8, 16, 32, n_areas) if n > 2)
    print(f"a cluster, estimated from the single process's {cpu:.1f} s of CPU (start-up and "
          f"writing included; not measured): {estimates}; no faster beyond {1 / share:.0f} "
          "cores, where the largest area sets the time")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
