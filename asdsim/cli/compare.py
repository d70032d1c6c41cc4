"""``asdsim compare``: run scenarios with common random numbers and compare them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from asdsim.cli.console import EXIT_OK, EXIT_USAGE, err, out, progress_bar
from asdsim.cli.options import FORMATTER, add_simulation_options, count_problem
from asdsim.scenario import scenario_files
from asdsim.scenario.library import resolve_scenario


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim compare`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "compare", help="compare scenarios under common random numbers", formatter_class=FORMATTER,
        description="Run every scenario with the same seed (common random numbers) and write\n"
                    "comparison.csv (each KPI's mean and 95% CI, and the paired difference from the\n"
                    "baseline with its own 95% CI), the charts and report.html.",
        epilog="Example:\n  asdsim compare scenarios/as_is_2018.yaml scenarios/nice_mdt.yaml "
               "scenarios/recovery.yaml --out results/compare")
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                        help="scenario YAML files or shipped scenarios' names (at least two; names "
                             "must differ)")
    parser.add_argument("--baseline", metavar="NAME",
                        help="baseline scenario: its name or file (default: the first)")
    parser.add_argument("--out", metavar="DIR", required=True, help="output folder")
    parser.add_argument("--draw-inputs", action="store_true",
                        help="draw each scenario's uncertain: inputs per replication (an input "
                             "scenarios share gets the same draw in each), and state the spread "
                             "from what is not known apart (docs/uncertainty.md)")
    parser.add_argument("--allow-different-cohorts", action="store_true",
                        help="compare designs whose headline cohorts differ (cohort_from_date, "
                             "start or horizon); their differences are then unpaired, and every "
                             "output says so")
    add_simulation_options(parser)
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim compare`` from parsed arguments; returns the exit code."""
    from asdsim.analysis.paired import PAIRED
    from asdsim.experiments.compare import compare
    from asdsim.reporting.outputs import check_destination, write_comparison
    from asdsim.reporting.summary import summarise

    problem = count_problem(args)
    if problem is None and len(args.scenarios) < 2:
        problem = "give at least two scenario files to compare"
    if problem is not None:
        err(f"asdsim compare: {problem}")
        return EXIT_USAGE
    folder = Path(args.out)
    args.scenarios = [resolve_scenario(path) for path in args.scenarios]
    inputs = [f for path in args.scenarios for f in scenario_files(path)]
    check_destination(folder, args.force, inputs)
    with progress_bar("simulating scenarios") as update:
        comparison = compare(args.scenarios, args.replications, args.seed, args.jobs,
                             args.baseline, update, "drawn" if args.draw_inputs else "fixed",
                             args.allow_different_cohorts)
    write_comparison(comparison, folder, force=args.force, command=args.argv, inputs=inputs)
    out(f"baseline: {comparison.baseline}")
    if (comparison.table.difference != PAIRED).any():
        out("the designs' headline cohorts differ: every difference is unpaired (a difference "
            "of means with Welch's interval), not a paired difference")
    for line in summarise(comparison).lines(width=100):
        out(line)
    out(f"results in {folder}/ (open {folder / 'report.html'})")
    return EXIT_OK
