"""``asdsim run``: simulate one scenario and write its results folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import asdsim
from asdsim.cli.console import EXIT_INVALID, EXIT_OK, EXIT_USAGE, err, out, progress_bar
from asdsim.cli.options import FORMATTER, add_simulation_options, count_problem
from asdsim.cli.validate import warm_start_line
from asdsim.scenario import scenario_files
from asdsim.scenario.library import resolve_scenario


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim run`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "run", help="simulate a scenario and write a results folder", formatter_class=FORMATTER,
        description="Simulate one scenario and write its results folder: KPIs with 95% CIs, the\n"
                    "patient, weekly and staff tables, charts, report.html and provenance.\n"
                    "Says first how many children a warm start (initial_state.warm) adds.",
        epilog="Example:\n  asdsim run scenarios/nice_mdt.yaml --replications 20 --jobs 2 --out results/nice")
    parser.add_argument("scenario", help="scenario YAML file, or a shipped scenario's name (nice_mdt)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default results/<file name>)")
    parser.add_argument("--csv", action="store_true", help="write patients.csv instead of Parquet")
    parser.add_argument("--draw-inputs", action="store_true",
                        help="draw the scenario's uncertain: inputs per replication, and state the "
                             "spread from what is not known apart from run-to-run randomness "
                             "(runs the replications twice; docs/uncertainty.md)")
    add_simulation_options(parser)
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim run`` from parsed arguments; returns the exit code."""
    from asdsim.reporting.outputs import check_destination, write_run
    from asdsim.reporting.summary import summarise

    if (problem := count_problem(args)) is not None:
        err(f"asdsim run: {problem}")
        return EXIT_USAGE
    args.scenario = resolve_scenario(args.scenario)
    scenario = asdsim.load_scenario(args.scenario)
    if args.draw_inputs and not scenario.uncertain:
        err(f"asdsim run: --draw-inputs: scenario {scenario.name!r} gives no uncertain: inputs to "
            "draw (see docs/uncertainty.md)")
        return EXIT_INVALID
    folder = Path(args.out) if args.out else Path("results") / Path(args.scenario).stem
    inputs = scenario_files(args.scenario)
    check_destination(folder, args.force, inputs)  # before the simulation, not after it
    if (line := warm_start_line(scenario)) is not None:
        out(f"{scenario.name}: {line}")
    with progress_bar(f"simulating {scenario.name}") as update:
        results = asdsim.simulate(scenario, args.replications, args.seed, args.jobs, update,
                                  inputs="drawn" if args.draw_inputs else "fixed")
    write_run(results, folder, force=args.force, csv=args.csv, command=args.argv, inputs=inputs)
    out(f"{scenario.name}: {results.provenance['replications']} replications in "
        f"{results.provenance['wall_seconds']:.1f} s")
    for line in summarise(results).lines(width=100):
        out(line)
    out(f"results in {folder}/ (open {folder / 'report.html'})")
    return EXIT_OK
