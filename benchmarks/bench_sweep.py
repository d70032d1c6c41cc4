"""Speed and memory of scenario sweeps.

Prints:

* points per second of a 40-point grid (the example base scenario, 2 years, 5 replications a
  point) with ``--jobs 1``, ``--jobs 2`` and, when Dask is installed, ``--dask local`` with 2
  workers, and the speed-up of 2 local workers over 1 (target: at least 1.7x on 2 cores);
* peak memory of the coordinating process for a 1,000-point grid of tiny points with 2 workers
  (target: under 500 MiB), measured with ``resource.getrusage`` in a fresh process so nothing
  else is counted; the workers' own peak is printed beside it.

Every run writes to a new temporary folder, so nothing is reused from a previous run. The load
average is printed first: on a shared machine, other work depresses the speed-up.

Run: ``python benchmarks/bench_sweep.py [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from asdsim.experiments.backends import make_backend
from asdsim.experiments.sweep import load_grid, run_sweep

HERE = Path(__file__).parent
EXAMPLE_BASE = HERE.parent / "scenarios" / "grids" / "base.yaml"

TINY = {
    "name": "benchmark tiny",
    "start_date": "2021-01-04",
    "horizon_weeks": 26,
    "demand": {"referrals_per_week": 5, "age_bands": [{"min_years": 2, "max_years": 16, "weight": 1}]},
    "teams": {"mdt": {
        "staff": {"paediatrician": {"wte": 0.5, "autism_share": 0.5},
                  "psychologist": {"wte": 0.5, "autism_share": 0.5}},
        "steps": [
            {"name": "history", "hours": {"paediatrician": 2}, "first_appointment": True,
             "assessment_started": True},
            {"name": "mdt", "hours": {"paediatrician": 1, "psychologist": 1}, "joint": True,
             "contact": False, "outcome": True},
        ],
    }},
}


def write_grid(folder: Path, base: Path | dict, vary: dict, replications: int) -> Path:
    """A grid file (and, given a mapping, its base scenario) in ``folder``."""
    if isinstance(base, dict):
        (folder / "base.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
        base = folder / "base.yaml"
    path = folder / "grid.yaml"
    path.write_text(yaml.safe_dump({"base": str(base.resolve()), "replications": replications,
                                    "seed": 12345, "vary": vary}, sort_keys=False))
    return path


def timed_sweep(grid_path: Path, jobs: int, dask: str | None = None) -> tuple[float, float]:
    """Wall seconds of a whole sweep into a fresh folder (backend start-up included), and of the
    start-up alone."""
    grid = load_grid(grid_path)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        with make_backend(jobs, dask) as backend:
            startup = time.perf_counter() - started
            result = run_sweep(grid, out, backend, chart=False)
        seconds = time.perf_counter() - started
    assert result.computed == len(grid.points)
    return seconds, startup


MEMORY_SCRIPT = """
import resource, sys, time
from asdsim.experiments.backends import make_backend
from asdsim.experiments.sweep import load_grid, run_sweep
grid = load_grid(sys.argv[1])
started = time.perf_counter()
with make_backend(2) as backend:
    result = run_sweep(grid, sys.argv[2], backend)
seconds = time.perf_counter() - started
print(len(grid.points), result.computed, len(result.table), round(seconds, 2),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def coordinator_memory(folder: Path, points_per_field: int) -> None:
    """Run a grid of ``points_per_field ** 3`` tiny points in a fresh process; print its peak RSS."""
    values = [round(0.3 + 0.1 * i, 2) for i in range(points_per_field)]
    grid_path = write_grid(folder, TINY, {
        "teams.mdt.staff.paediatrician.wte": values,
        "teams.mdt.staff.psychologist.wte": values,
        "demand.referrals_per_week": [4 + i for i in range(points_per_field)],
    }, replications=2)
    out = folder / "memory-out"
    run = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(grid_path), str(out)],
                         capture_output=True, text=True, check=True)
    points, computed, rows, seconds, peak_kib, workers_kib = run.stdout.split()
    print(f"{points}-point grid (tiny points, 2 replications each, 2 workers): {seconds} s, "
          f"{int(points) / float(seconds):.1f} points/s, {computed} computed, {rows} table rows")
    print(f"  coordinator peak memory: {int(peak_kib) / 1024:.0f} MiB (target < 500 MiB); "
          f"largest worker: {int(workers_kib) / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller grids, for a smoke test")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          "(1, 5, 15 min)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fields = 4 if args.quick else 8
        grid_path = write_grid(folder, EXAMPLE_BASE, {
            "teams.mdt.staff.paediatrician.wte": [round(0.8 + 0.1 * i, 2) for i in range(fields)],
            "outsourcing[0].assessments_per_month": [0, 4, 8, 12, 16][: 5 if not args.quick else 2],
        }, replications=5)
        points = len(load_grid(grid_path).points)
        print(f"throughput: {points}-point grid, example base scenario, 5 replications a point")
        serial, _ = timed_sweep(grid_path, 1)
        print(f"  --jobs 1: {serial:6.2f} s, {points / serial:5.1f} points/s")
        parallel, _ = timed_sweep(grid_path, 2)
        print(f"  --jobs 2: {parallel:6.2f} s, {points / parallel:5.1f} points/s")
        print(f"  speed-up of 2 workers over 1: {serial / parallel:.2f}x (target >= 1.7x)")
        if importlib.util.find_spec("distributed") is not None:
            dask, startup = timed_sweep(grid_path, 2, "local")
            print(f"  --dask local, 2 workers: {dask:6.2f} s, {points / dask:5.1f} points/s "
                  f"({startup:.2f} s of it starting the cluster; "
                  f"{points / (dask - startup):.1f} points/s after)")
        coordinator_memory(folder, 5 if args.quick else 10)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"this process's peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
