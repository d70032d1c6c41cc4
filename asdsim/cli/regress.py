"""``asdsim regress``: compare regression scenarios with their stored expected results."""

from __future__ import annotations

import argparse
from typing import Any

from asdsim.checks.junit import write_junit
from asdsim.checks.regress import (
    DEFAULT_REPLICATIONS,
    RegressError,
    RegressionReport,
    Tolerance,
    check,
    expected_path,
    find_scenarios,
    update,
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
from asdsim.cli.options import COUNT, FORMATTER, JOBS_HELP, SEED, default_jobs, whole
from asdsim.experiments.runner import DEFAULT_SEED
from asdsim.files import guard_output
from asdsim.scenario import scenario_files


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim regress`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "regress", help="compare regression scenarios with their stored expected results",
        formatter_class=FORMATTER,
        description="Run every scenario in DIR (NAME.yaml) with the seed and replications stored in\n"
                    "NAME.expected.yaml and compare each KPI with the stored value: to floating-point\n"
                    "precision when the scenario and asdsim version are unchanged, else under the\n"
                    "file's tolerance. Exit 1 when a KPI moved, the scenario or asdsim version\n"
                    "changed, or an expected file is missing. --update writes the expected files.",
        epilog="Examples:\n"
               "  asdsim regress scenarios/regression\n"
               "  asdsim regress scenarios/regression --junit reports/regress.xml\n"
               "  asdsim regress scenarios/regression --update            # after a deliberate change\n"
               "  asdsim regress scenarios/regression --update --tolerance relative=0.1,ci \\\n"
               "      --tolerance 'cost_total:absolute=500'")
    parser.add_argument("path", metavar="DIR", help="folder of regression scenarios (or one file)")
    parser.add_argument("--update", action="store_true",
                        help="run the scenarios and write their expected-results files")
    parser.add_argument("--junit", metavar="FILE", help="also write JUnit XML to FILE")
    parser.add_argument("--all", action="store_true", help="list every KPI, not only those that moved")
    parser.add_argument("--jobs", type=COUNT, default=default_jobs(), metavar="J", help=JOBS_HELP)
    parser.add_argument("--replications", type=whole(2), metavar="N",
                        help=f"with --update: replications (default: the stored number, or "
                             f"{DEFAULT_REPLICATIONS})")
    parser.add_argument("--seed", type=SEED, metavar="S",
                        help=f"with --update: seed (default: the stored seed, or {DEFAULT_SEED})")
    parser.add_argument("--tolerance", action="append", default=[], metavar="[KPI:]RULE",
                        help="with --update: tolerance for every KPI, or KPI:RULE for one; RULE is "
                             "comma-separated relative=FRACTION, absolute=AMOUNT and ci, or exact "
                             "(default relative=0.05,absolute=<unit floor>,ci; repeatable); used "
                             "when the scenario or asdsim version has changed")
    parser.set_defaults(func=command)


def render_tables(report: RegressionReport, show_all: bool = False) -> list[Any]:
    """Rich tables: a summary per scenario, then the KPIs that moved (every KPI if ``show_all``)."""
    from rich.table import Table

    summary = Table(title="regression scenarios", title_justify="left")
    for header in ("scenario", "status", "rule", "KPIs", "moved", "failed", "seconds"):
        summary.add_column(header, justify="left" if header in ("scenario", "status", "rule") else "right")
    for s in report.scenarios:
        moved = sum(k.moved for k in s.kpis)
        failed = sum(not k.passed for k in s.kpis)
        rule = "" if s.stored is None else "stored tolerance" if s.changed else "float precision"
        summary.add_row(plain(s.name), plain(s.status), rule, str(len(s.kpis)), str(moved), str(failed),
                        f"{s.wall_seconds:.1f}", style=None if s.passed else "bold red")
    rows = [k for s in report.scenarios for k in s.kpis if show_all or k.moved]
    tables: list[Any] = [summary]
    if rows:
        diff = Table(title="KPIs" if show_all else "KPIs that moved (tolerance: CI is the stored "
                     "95% CI)", title_justify="left")
        for header in ("scenario", "KPI", "unit", "stored [95% CI]", "new [95% CI]", "change",
                       "tolerance", "result"):
            diff.add_column(header, justify="right" if header == "change" else "left",
                            no_wrap=header != "tolerance")
        for k in rows:
            diff.add_row(plain(k.scenario), plain(k.kpi), plain(k.unit), plain(k.stored_text()),
                         plain(k.new_text()), k.change_text(),
                         plain(k.tolerance.describe() if k.tolerance else ""), plain(k.result_text()),
                         style=None if k.passed else "bold red")
        tables.append(diff)
    return tables


def _tolerances(texts: list[str]) -> dict[str | None, Tolerance]:
    """``--tolerance`` values by KPI (None: every KPI); raises ValueError for a bad rule."""
    tolerances: dict[str | None, Tolerance] = {}
    for text in texts:
        kpi, _, rule = text.rpartition(":")
        tolerances[kpi or None] = Tolerance.parse(rule)
    return tolerances


def guard_outputs(args: argparse.Namespace) -> None:
    """The one output rule (:func:`asdsim.files.guard_output`) for ``regress``: ``--junit`` is
    none of the scenario files (with their ``extends:`` chains and snapshots) or expected files,
    and with ``--update`` no expected file to write is a file a scenario reads."""
    try:
        files = find_scenarios(args.path)
    except RegressError:
        return  # the check itself says why
    read = [f for file in files for f in scenario_files(file)]
    if args.junit:
        guard_output(args.junit, [*read, *(expected_path(f) for f in files)], "--junit")
    if args.update:
        for file in files:
            guard_output(expected_path(file), read, "the expected file")


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim regress`` from parsed arguments; returns the exit code."""
    usage = _usage_error(args)
    if usage is not None:
        err(f"asdsim regress: {usage}")
        return EXIT_USAGE
    try:
        tolerances = _tolerances(args.tolerance)
    except ValueError as exc:
        err(f"asdsim regress: --tolerance {exc}")
        return EXIT_USAGE
    guard_outputs(args)
    try:
        with progress_bar("replications") as bar:
            progress = None if bar is None else (lambda name, done, total: bar(done, total, name))
            if args.update:
                updated = update(args.path, args.replications, args.seed, tolerances, jobs=args.jobs,
                                 progress=progress)
            else:
                report = check(args.path, jobs=args.jobs, progress=progress)
    except RegressError as exc:
        err(f"asdsim regress: {exc}")
        return EXIT_INVALID
    if args.update:
        for u in updated:
            out(f"{u.action:9} {u.path} ({u.kpis} KPIs, {u.replications} replications, seed {u.seed})")
        return EXIT_OK
    return _report(args, report)


def _usage_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, if anything (``--tolerance`` aside)."""
    if args.jobs is not None and args.jobs < 1:
        return f"--jobs must be at least 1, got {args.jobs}"
    if not args.update and (args.replications is not None or args.seed is not None or args.tolerance):
        return ("--replications, --seed and --tolerance only apply with --update "
                "(a check uses the stored ones)")
    return None


def _report(args: argparse.Namespace, report: RegressionReport) -> int:
    """Show a check's tables, problems and verdict (and write its JUnit XML); its exit code."""
    for table in render_tables(report, show_all=args.all):
        print_table(table)
    for s in report.scenarios:
        for problem in s.problems:
            out(f"{s.name}: {problem}")
    if args.junit:
        out(f"JUnit XML: {write_junit(report, args.junit)}")
    failed = [s for s in report.scenarios if not s.passed]
    moved = sum(k.moved for s in report.scenarios for k in s.kpis)
    if failed:
        out(f"FAILED: {len(failed)} of {len(report.scenarios)} scenarios "
            f"({', '.join(f'{s.name}: {s.status}' for s in failed)}); after a deliberate "
            f"change, run: asdsim regress {args.path} --update")
        return EXIT_INVALID
    out(f"ok: {len(report.scenarios)} scenarios, {sum(len(s.kpis) for s in report.scenarios)} KPIs, "
        f"{moved} moved within tolerance, in {report.wall_seconds:.1f} s")
    return EXIT_OK
