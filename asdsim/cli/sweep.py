"""``asdsim sweep``: run every point of a scenario grid, resumably, into one table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from asdsim.cli.console import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    err,
    out,
    progress_bar,
)
from asdsim.cli.options import COUNT, FORMATTER, SEED, add_backend_options, backend_or_say
from asdsim.errors import ScenarioError
from asdsim.experiments.grid import load_grid, short_names
from asdsim.experiments.sweep import HEADLINE_KPI, PointDone, PointStore, SweepError, run_sweep
from asdsim.files import guard_output
from asdsim.scenario.library import resolve_scenario


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim sweep`` on an argparse subparsers object (handler in ``func``).

    Exit codes: 0 ok, 1 an invalid grid or scenario or a failed point, 2 a usage problem (such as
    a backend that cannot be used), 130 interrupted.
    """
    parser = subparsers.add_parser(
        "sweep", help="run every point of a scenario grid, resumably, into one table",
        formatter_class=FORMATTER,
        description="Run every point of a grid file (a base scenario and the fields to vary), each\n"
                    "with the same replications and seed, into DIR/sweep.parquet and\n"
                    "DIR/summary.png. Finished points are kept in DIR/points: run the same command\n"
                    "again to resume.",
        epilog="Example:\n  asdsim sweep scenarios/grids/example.yaml --out out/example-sweep --jobs 2")
    parser.add_argument("grid", type=Path, metavar="GRID.yaml",
                        help="the grid file, or a shipped grid's name (example)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    add_backend_options(parser)
    parser.add_argument("--replications", type=COUNT, metavar="N", help="replace the grid's replications")
    parser.add_argument("--seed", type=SEED, metavar="S", help="replace the grid's seed")
    parser.add_argument("--no-chart", action="store_true", help="skip summary.png")
    parser.set_defaults(func=command)


def command(args: argparse.Namespace, terminal: Any = None) -> int:
    """Run ``asdsim sweep`` from parsed arguments; returns the exit code.

    ``terminal`` is a rich console to draw the progress bar on (for tests); by default the bar
    shows on standard output when it is a terminal.
    """
    if args.jobs is not None and args.jobs < 1:
        err(f"asdsim sweep: --jobs must be at least 1, got {args.jobs}")
        return EXIT_USAGE
    try:
        grid = load_grid(resolve_scenario(args.grid, "grid"), replications=args.replications, seed=args.seed)
    except ScenarioError as exc:
        err(str(exc))  # the count of problems, then each on its own line
        return EXIT_INVALID
    guard_output(args.out, grid.files)  # before any work (run_sweep checks again)
    if args.out.exists() and not args.out.is_dir():
        err(f"asdsim sweep: --out {args.out} exists and is not a folder")
        return EXIT_USAGE
    backend = backend_or_say(args, "sweep")
    if backend is None:
        return EXIT_USAGE
    spec = grid.spec
    out(f"sweep {grid.name}: {len(grid.points)} points x {spec.replications} replications, "
        f"seed {spec.seed}, on {backend.describe()}")
    names = short_names(list(grid.fields))
    try:
        with backend, progress_bar("points", terminal) as update:
            def advance(event: PointDone) -> None:
                if update is not None:
                    how = "stored" if event.reused else f"{event.seconds:.1f} s"
                    update(event.done, event.total,
                           f"point {event.point.index}: {event.point.label(names)} ({how})")

            result = run_sweep(grid, args.out, backend, progress=advance, chart=not args.no_chart)
    except SweepError as exc:
        err(f"asdsim sweep: {exc}")
        return EXIT_INVALID
    except KeyboardInterrupt:
        store = PointStore(args.out)
        err(f"interrupted: {len(store.stored())} points are stored in {store.folder}; run the same "
            "command again to resume")
        return EXIT_INTERRUPTED
    line = f"computed {result.computed}, reused {result.reused}"
    if result.recomputed:
        line += f" ({result.recomputed} stored files were not intact and were computed again)"
    out(f"{line} in {result.provenance['wall_seconds']:.1f} s")
    out(f"table: {result.table_path}")
    if result.chart_path:
        out(f"chart: {result.chart_path}")
    headline = result.table[result.table["kpi"] == HEADLINE_KPI].dropna(subset=["mean"])
    if len(headline):
        ranked = headline.sort_values("mean", kind="stable")
        for what, row in (("highest", ranked.iloc[-1]), ("lowest", ranked.iloc[0])):
            point = grid.points[int(row["point"])]
            out(f"{HEADLINE_KPI}: {what} {row['mean']:.1%} at {point.label(names)}")
    return EXIT_OK
