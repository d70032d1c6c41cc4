"""``asdsim sensitivity``: which assumptions move a KPI most, one at a time."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from asdsim.cli.console import EXIT_OK, EXIT_USAGE, err, out, progress_bar
from asdsim.cli.options import COUNT, FORMATTER, SEED, count_problem, number
from asdsim.experiments.runner import DEFAULT_SEED
from asdsim.experiments.sensitivity import DEFAULT_KPI, parse_vary, sensitivity, write_sensitivity
from asdsim.reporting.outputs import check_destination
from asdsim.scenario import scenario_files
from asdsim.scenario.library import resolve_scenario


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim sensitivity`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "sensitivity", help="rank assumptions by their effect on a KPI (tornado chart)",
        formatter_class=FORMATTER,
        description="Change each input low and high, one at a time, with the same seed (common\n"
                    "random numbers), and rank the inputs by the larger of the paired low and high\n"
                    "changes in a KPI (both are reported and drawn). By default every number listed\n"
                    "under the scenario's assumed: is changed by 20% down and up. A staff input\n"
                    "(teams.T.staff.G.wte, teams.T.caseload.clinicians) moves its dated\n"
                    "capacity_changes by the same amount. Writes DIR/ranking.csv, DIR/runs.csv\n"
                    "and DIR/tornado.png.",
        epilog="Example:\n  asdsim sensitivity area/calibrated.yaml --vary "
               "teams.school_age_mdt.staff.psychologist.wte=±20% --out results/sensitivity")
    parser.add_argument("scenario", metavar="SCENARIO.yaml",
                        help="scenario file, or a shipped scenario's name")
    parser.add_argument("--kpi", default=DEFAULT_KPI, help=f"KPI to judge (default {DEFAULT_KPI})")
    parser.add_argument("--vary", action="append", default=[], metavar="PATH=±P%|PATH=LOW,HIGH",
                        help="an input to change (repeatable; default: the scenario's assumed: list)")
    parser.add_argument("--change", type=number(0, 100), default=20.0, metavar="PERCENT",
                        help="change of the assumed: inputs down and up, in percent (default 20)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument("--replications", type=COUNT, default=5, metavar="N",
                        help="replications of every run (default 5)")
    parser.add_argument("--seed", type=SEED, default=DEFAULT_SEED, metavar="S",
                        help=f"the seed every run shares (default {DEFAULT_SEED})")
    parser.add_argument("--jobs", type=COUNT, default=1, metavar="J", help="worker processes (default 1)")
    parser.add_argument("--force", action="store_true", help="replace DIR if it is not empty")
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim sensitivity`` from parsed arguments; returns the exit code."""
    if (problem := count_problem(args)) is not None or not 0 < args.change < 100:
        err(f"asdsim sensitivity: {problem or '--change must be above 0 and below 100'}")
        return EXIT_USAGE
    vary = dict(parse_vary(text) for text in args.vary)
    args.scenario = resolve_scenario(args.scenario)
    check_destination(args.out, args.force, scenario_files(args.scenario))
    with progress_bar("sensitivity") as update:
        result = sensitivity(args.scenario, args.kpi, vary or None, args.change / 100.0,
                             args.replications, args.seed, args.jobs, update)
    write_sensitivity(result, args.out, force=args.force)
    share = result.unit == "share"
    out(f"{result.kpi} in {result.scenario}: "
        + (f"{100 * result.baseline:.1f}%" if share else f"{result.baseline:.3g} {result.unit}"))
    scale, unit = (100.0, " points") if share else (1.0, f" {result.unit}")

    def change(mean: float, low: float, high: float) -> str:
        return f"{scale * mean:+.1f}{unit} ({scale * low:+.1f} to {scale * high:+.1f})"

    for row in result.ranking.itertuples():
        out(f"{row.rank:>3}. {row.input}: low {row.low_value:g} "
            f"{change(row.low_change, row.low_ci_low, row.low_ci_high)}; high {row.high_value:g} "
            f"{change(row.high_change, row.high_ci_low, row.high_ci_high)}")
        if row.input in result.notes:
            out(f"     {result.notes[row.input]}")
    for path, why in result.skipped.items():
        out(f"skipped {path}: {why}")
    for warning in result.warnings:
        out(f"warning: {warning}")
    out(f"results in {args.out}/ (tornado.png, ranking.csv, runs.csv)")
    return EXIT_OK
