"""``asdsim verify``: check the simulator against queueing theory and print theory against the
simulated mean."""

from __future__ import annotations

import argparse
from typing import Any

from asdsim.checks.verify import (
    DEFAULT_SEED,
    VerifyReport,
    default_checks,
    default_plan_checks,
    run_checks,
)
from asdsim.cli.console import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    err,
    out,
    plain,
    print_table,
    progress_bar,
)
from asdsim.cli.options import COUNT, FORMATTER, JOBS_HELP, SEED, default_jobs


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim verify`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "verify", help="check the simulator against queueing theory (under a minute on 2 cores)",
        formatter_class=FORMATTER,
        description="Run the model as installed on scenarios with known answers (Erlang C, Cobham's\n"
                    "priority formula, Little's law, fluid backlog clearance, and plans whose\n"
                    "least staffing Erlang C gives) and print theory against the simulated mean\n"
                    "with its 95% CI. Exit 1 if any check fails.",
        epilog="Example:\n  asdsim verify --jobs 2")
    parser.add_argument("--jobs", type=COUNT, default=default_jobs(), metavar="J", help=JOBS_HELP)
    parser.add_argument("--seed", type=SEED, default=DEFAULT_SEED, metavar="S",
                        help=f"seed of every check (default {DEFAULT_SEED})")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these checks (see --list)")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.set_defaults(func=command)


def _number(value: float) -> str:
    return "–" if value != value else f"{value:.4g}"


def render_table(report: VerifyReport) -> Any:
    """The report as a rich table: check, quantity, theory, simulated mean [95% CI], result."""
    from rich.table import Table

    table = Table(title=None, show_lines=False)
    for header, justify in (("check", "left"), ("quantity", "left"), ("theory", "right"),
                            ("simulated mean [95% CI]", "right"), ("tolerance", "right"),
                            ("n", "right"), ("result", "left")):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    previous = None
    for r in report.results:
        table.add_row(plain("" if r.check == previous else r.check), plain(r.quantity),
                      _number(r.theory), plain(f"{_number(r.mean)} [{_number(r.ci_low)}, "
                                               f"{_number(r.ci_high)}]"),
                      plain(r.tolerance_text), str(r.replications), plain(r.verdict),
                      style=None if r.passed else "bold red")
        previous = r.check
    return table


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim verify`` from parsed arguments; returns the exit code."""
    if args.list:
        for check in default_checks():
            out(f"{check.id:16} {check.replications:3} replications x {check.scenario.horizon_weeks} weeks")
        for plan_check in default_plan_checks():
            out(f"{plan_check.id:16} a plan: {plan_check.replications} replications an option, "
                f"{plan_check.confirm_replications} to confirm, x {plan_check.weeks} weeks")
        return EXIT_OK
    if args.jobs is not None and args.jobs < 1:
        err(f"asdsim verify: --jobs must be at least 1, got {args.jobs}")
        return EXIT_USAGE
    try:
        with progress_bar("replications") as update:
            report = run_checks(only=args.only, seed=args.seed, jobs=args.jobs, progress=update)
    except ValueError as exc:
        err(f"asdsim verify: {exc}")
        return EXIT_USAGE
    print_table(render_table(report))
    failed = sum(not r.passed for r in report.results)
    summary = (f"{len(report.results) - failed} of {len(report.results)} passed in "
               f"{report.wall_seconds:.0f} s (seed {report.seed}, {report.jobs} jobs)")
    out(summary if not failed else f"{summary}: {failed} FAILED")
    return EXIT_OK if report.passed else EXIT_INVALID
