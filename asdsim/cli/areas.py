"""``asdsim areas``: every area of an areas table, alike, with totals taken the right way."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asdsim.cli.console import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    Update,
    err,
    out,
    progress_bar,
)
from asdsim.cli.options import COUNT, FORMATTER, SEED, add_backend_options, backend_or_say, number
from asdsim.experiments.runner import DEFAULT_SEED

if TYPE_CHECKING:  # the command imports these only when it runs, to start quickly
    import pandas as pd

    from asdsim.experiments.areas import AreaSet
    from asdsim.experiments.backends import Backend


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim areas`` on an argparse subparsers object (handler in ``func``).

    Exit codes: 0 ok, 1 an invalid areas table or scenario or a failed area, 2 a usage problem,
    130 interrupted (finished areas are kept: the same command resumes).
    """
    parser = subparsers.add_parser(
        "areas", help="run every area of an areas table alike, with totals across them",
        formatter_class=FORMATTER,
        description="Run every area of an areas table (one row an area: its scenario file and the\n"
                    "fields it sets over it) with the same replications and seed (common random\n"
                    "numbers), and write into DIR: areas.csv (each area's headline KPIs with 95%\n"
                    "CIs), total.csv (counts summed and shares pooled over children, within each\n"
                    "replication, before the CI), ranking.csv and ranked.png (areas against the\n"
                    "3-month standard), report.html and summary.txt, and observed.csv when\n"
                    "areas have observed series (each point beside the simulation). Finished\n"
                    "areas are kept beside DIR while it runs: run the same command again to\n"
                    "resume.",
        epilog="Example:\n  asdsim areas england --out results/england --jobs 2")
    parser.add_argument("areas", type=Path, metavar="AREAS",
                        help="the areas table (CSV or YAML), a folder holding areas.csv or "
                             "areas.yaml, or a shipped table's name (england)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    add_backend_options(parser)
    parser.add_argument("--replications", type=COUNT, default=10, metavar="N",
                        help="replications of every area (default 10)")
    parser.add_argument("--seed", type=SEED, default=DEFAULT_SEED, metavar="S",
                        help=f"random seed, the same for every area (default {DEFAULT_SEED})")
    parser.add_argument("--level", type=number(0, 1), default=0.9, metavar="P",
                        help="share of a quarter's referrals that must start assessment within 3 "
                             "months to meet the standard (default 0.9)")
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder if it is an earlier results folder")
    parser.set_defaults(func=command)


def _usage(args: argparse.Namespace) -> str | None:
    if args.jobs is not None and args.jobs < 1:
        return f"--jobs must be at least 1, got {args.jobs}"
    if args.replications < 1:
        return "--replications must be at least 1"
    if args.seed < 0:
        return "--seed must be 0 or more"
    if not 0 < args.level <= 1:
        return "--level must be above 0 and at most 1"
    return None


def _load(args: argparse.Namespace) -> Any:
    """The areas table ``args.areas`` names (a path, or a shipped table such as ``england``),
    read and checked; None, with its problems printed, when it is invalid."""
    from asdsim.errors import ScenarioError
    from asdsim.experiments.areas import load_areas
    from asdsim.scenario.library import resolve_scenario

    try:
        args.areas = resolve_scenario(args.areas, "areas")
        return load_areas(args.areas)
    except ScenarioError as exc:
        err(str(exc))
        return None


def _areas_and_backend(args: argparse.Namespace, problem: str | None,
                       name: str) -> tuple[AreaSet, Backend] | int:
    """What ``asdsim areas`` and ``asdsim plan --areas`` (``name``) check before any work: the
    options (``problem``, if any), the areas table, the output folder against the table's files,
    and where to run; the table and the backend, or the exit code having said what is wrong."""
    from asdsim.reporting.outputs import check_destination

    if problem is not None:
        err(f"asdsim {name}: {problem}")
        return EXIT_USAGE
    areas = _load(args)
    if areas is None:
        return EXIT_INVALID
    check_destination(args.out, args.force, areas.files)
    backend = backend_or_say(args, name)
    if backend is None:
        return EXIT_USAGE
    return areas, backend


def command(args: argparse.Namespace, terminal: Any = None) -> int:
    """Run ``asdsim areas`` from parsed arguments; returns the exit code.

    ``terminal`` is a rich console to draw the progress bar on (for tests).
    """
    from asdsim.experiments.areas import (
        AreaDone,
        AreasRunError,
        resume_store,
        run_areas,
        store_path,
        write_areas,
    )
    ready = _areas_and_backend(args, _usage(args), "areas")
    if isinstance(ready, int):
        return ready
    areas, backend = ready
    out(f"areas {areas.name}: {len(areas.areas)} areas x {args.replications} replications, seed "
        f"{args.seed}, on {backend.describe()}")
    store = resume_store(args.out)
    try:
        with backend, progress_bar("areas", terminal) as update:
            def advance(event: AreaDone) -> None:
                if update is not None:
                    how = "stored" if event.reused else f"{event.seconds:.1f} s"
                    update(event.done, event.total, f"{event.area.name} ({how})")

            result = run_areas(areas, store, args.replications, args.seed, backend, advance)
    except AreasRunError as exc:
        err(f"asdsim areas: {exc}")
        return EXIT_INVALID
    except KeyboardInterrupt:
        err(f"interrupted: finished areas are kept in {store_path(args.out)}; run the same command "
            "again to resume")
        return EXIT_INTERRUPTED
    folder = write_areas(result, args.out, args.force, args.level, command=getattr(args, "argv", None))
    out(f"computed {result.computed}, reused {result.reused} in {result.wall_seconds:.1f} s")
    for line in (folder / "summary.txt").read_text(encoding="utf-8").splitlines():
        out(line)
    observed = result.observed_table()
    if not observed.empty:
        inside, areas_with = int(observed["inside"].sum()), observed["area"].nunique()
        out(f"observed: {inside} of {len(observed)} published figure{'s' if len(observed) != 1 else ''}"
            f" of {areas_with} area{'s' if areas_with != 1 else ''} inside the simulated 95% range "
            "(observed.csv)")
    out(f"results in {folder}/ (areas.csv, total.csv, ranking.csv, ranked.png, report.html"
        f"{', observed.csv' if not observed.empty else ''})")
    return EXIT_OK


def plan_areas(args: argparse.Namespace, terminal: Any = None) -> int:
    """``asdsim plan --areas AREAS``: each area's least-cost plan for the targets, or with
    ``--budget`` the split of the budget that starts the most children within 3 months."""
    ready = _areas_and_backend(args, _plan_usage_error(args), "plan")
    if isinstance(ready, int):
        return ready
    areas, backend = ready
    inputs = areas.files
    steps = {name: value for name, value in args.step if name is not None}
    single = [value for name, value in args.step if name is None]
    step: Any = single[-1] if single and not steps else steps or None
    with backend, progress_bar("options evaluated" if args.budget is not None else "areas",
                               terminal) as update:
        if args.budget is not None:
            return _split_budget(args, areas, inputs, step, backend, update)
        table = _plan_each_area(args, areas, step, backend, update)
    return _write_plans(args, table, inputs)


def _plan_usage_error(args: argparse.Namespace) -> str | None:
    """What is wrong with ``plan --areas``'s options, if anything."""
    if args.areas is None or args.scenario is not None:
        return "give either SCENARIO.yaml or --areas AREAS"
    if args.replications < 1 or args.jobs < 1:
        return "--replications and --jobs must be at least 1"
    if args.seed < 0:
        return "--seed must be 0 or more"
    if args.budget is not None and not 0 <= args.budget < float("inf"):
        return "--budget must be a number of GBP, 0 or more"
    if not args.vary.strip() and (args.budget is not None or args.outsourcing is None):
        return "give --vary (staff groups): there is nothing to vary"
    return None


def _split_budget(args: argparse.Namespace, areas: AreaSet, inputs: list[Path], step: Any,
                  backend: Backend, update: Update | None) -> int:
    """``plan --areas --budget``: split the budget, write the folder and say what it bought."""
    from asdsim.experiments.allocation import allocate, write_allocation

    out(f"plan {areas.name}: split GBP {args.budget:,.0f} a year across {len(areas.areas)} "
        f"areas, {args.replications} replications an option, seed {args.seed}, on "
        f"{backend.describe()}")

    def note(done: int, text: str) -> None:
        if update is not None:
            update(done, done + 1, text)

    result = allocate(areas, args.budget, args.from_date, args.vary, args.by_date, args.team,
                      dict(args.bounds), step, args.replications, args.seed, backend, note,
                      objective=args.objective)
    folder = write_allocation(result, args.out, args.force, inputs, getattr(args, "argv", None))
    out(result.summary())
    out(f"{result.evaluations} options evaluated in {result.wall_seconds:.1f} s")
    out(f"results in {folder}/ (steps.csv, split.csv, marginal.csv, marginal.png)")
    return EXIT_OK


def _plan_each_area(args: argparse.Namespace, areas: AreaSet, step: Any, backend: Backend,
                    update: Update | None) -> pd.DataFrame:
    """``plan --areas`` without a budget: each area's least-cost plan, one row an area."""
    from asdsim.experiments.allocation import plan_every_area
    from asdsim.experiments.plan import Outsourcing

    outsourcing = None
    if args.outsourcing is not None:
        outsourcing = Outsourcing(max_per_month=args.outsourcing, price_gbp=args.outsourcing_price,
                                  months=args.outsourcing_months)
    out(f"plan {areas.name}: each of {len(areas.areas)} areas' least-cost plan, on "
        f"{backend.describe()}")
    table, _ = plan_every_area(
        areas, args.target, args.from_date, args.by_date, update, vary=args.vary, team=args.team,
        outsourcing=outsourcing, confidence=args.confidence, confidence_rule=args.rule,
        replications=args.replications, seed=args.seed, backend=backend,
        bounds=dict(args.bounds), step=step, confirm_replications=args.confirm_replications,
        max_evaluations=args.max_evaluations)
    return table


def _write_plans(args: argparse.Namespace, table: pd.DataFrame, inputs: list[Path]) -> int:
    """Write every area's plan and the total; exit 1 when an area cannot meet the targets."""
    from asdsim.experiments.allocation import write_area_plans

    folder = write_area_plans(table, args.out, args.force, inputs, getattr(args, "argv", None))
    feasible = bool(table["feasible"].all())
    missing = table.loc[~table["feasible"], "area"].tolist()
    out(f"least total extra cost to meet the targets in every area: GBP "
        f"{table['added_cost_gbp'].sum():,.0f} a year" if feasible else
        f"{len(missing)} of {len(table)} areas cannot meet the targets within the bounds: "
        f"{', '.join(missing)}")
    out(f"results in {folder}/ (plans.csv)")
    return EXIT_OK if feasible else EXIT_INVALID
