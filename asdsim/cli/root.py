"""The ``asdsim`` command: a thin layer over the Python API.

Exit codes: 0 success, 1 invalid input or a failed check, 2 a usage error. Subcommands live in
their own modules where they are more than a few lines; each such module has
``add_parser(subparsers)``, which adds its subparser and stores its handler in ``args.func``,
and is listed in :data:`SUBCOMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import asdsim
from asdsim.errors import AsdsimError, ScenarioError

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
SUBCOMMAND_MODULES = ("asdsim.experiments.sweep", "asdsim.checks.verify", "asdsim.checks.regress")
"""Modules that add a subcommand through ``add_parser(subparsers)``, in help order."""


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _print_problems(error: ScenarioError) -> None:
    for problem in error.problems:
        _err(str(problem))


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal; nothing when output is not a terminal."""
    if not sys.stdout.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replications", type=int, default=10, metavar="N",
                        help="independent replications (default 10)")
    parser.add_argument("--seed", type=int, default=asdsim.DEFAULT_SEED, metavar="S",
                        help=f"random seed (default {asdsim.DEFAULT_SEED})")
    parser.add_argument("--jobs", type=int, default=1, metavar="J",
                        help="worker processes; results do not depend on it (default 1)")
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder if it exists and is not empty")


def _check_counts(args: argparse.Namespace) -> str | None:
    if args.replications < 1:
        return "--replications must be at least 1"
    if args.jobs < 1:
        return "--jobs must be at least 1"
    return None


def cmd_run(args: argparse.Namespace) -> int:
    """``asdsim run``: simulate one scenario and write its results folder."""
    from asdsim.reporting.outputs import check_destination, write_run

    if (problem := _check_counts(args)) is not None:
        _err(f"asdsim run: {problem}")
        return EXIT_USAGE
    scenario = asdsim.load_scenario(args.scenario)
    out = Path(args.out) if args.out else Path("results") / Path(args.scenario).stem
    check_destination(out, args.force)  # before the simulation, not after it
    with progress_bar(f"simulating {scenario.name}") as update:
        results = asdsim.simulate(scenario, args.replications, args.seed, args.jobs, update)
    write_run(results, out, force=args.force, csv=args.csv, command=args.argv)
    k = results.kpis.set_index("kpi")["mean"]
    print(f"{scenario.name}: {results.provenance['replications']} replications in "
          f"{results.provenance['wall_seconds']:.1f} s")
    print(f"  assessment started within 3 months: {_pct(k.get('assessment_started_within_3_months'))}")
    print(f"  first appointment within 13 weeks:  {_pct(k.get('first_appointment_within_13_weeks'))}")
    print(f"results in {out}/ (open {out / 'report.html'})")
    return EXIT_OK


def _pct(value: float | None) -> str:
    return "not reached" if value is None or value != value else f"{100 * value:.1f}%"


def cmd_compare(args: argparse.Namespace) -> int:
    """``asdsim compare``: run scenarios with common random numbers and compare them."""
    from asdsim.experiments.compare import compare
    from asdsim.reporting.outputs import check_destination, write_comparison

    problem = _check_counts(args)
    if problem is None and len(args.scenarios) < 2:
        problem = "give at least two scenario files to compare"
    if problem is not None:
        _err(f"asdsim compare: {problem}")
        return EXIT_USAGE
    out = Path(args.out)
    check_destination(out, args.force)
    with progress_bar("simulating scenarios") as update:
        comparison = compare(args.scenarios, args.replications, args.seed, args.jobs,
                             args.baseline, update)
    write_comparison(comparison, out, force=args.force, command=args.argv)
    table = comparison.table
    print(f"baseline: {comparison.baseline}")
    for name in comparison.results:
        row = table[(table.scenario == name) & (table.kpi == "assessment_started_within_3_months")]
        print(f"  {name}: assessment started within 3 months {_pct(row['mean'].iloc[0])}")
    print(f"results in {out}/ (open {out / 'report.html'})")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """``asdsim validate``: check scenario files; exit 1 if any is invalid."""
    bad = 0
    for file in args.files:
        try:
            scenario = asdsim.load_scenario(file)
        except ScenarioError as error:
            bad += 1
            _err(f"{file}: invalid")
            _print_problems(error)
        else:
            print(f"{file}: ok ({scenario.name})")
    return EXIT_INVALID if bad else EXIT_OK


def cmd_schema(_args: argparse.Namespace) -> int:
    """``asdsim schema``: print the scenario format's JSON Schema."""
    print(json.dumps(asdsim.scenario_json_schema(), indent=2))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``asdsim`` command."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="asdsim", formatter_class=fmt,
        description="Simulate children's autism diagnostic pathways: waits, capacity and NICE "
                    "standards.",
        epilog="Example:\n  asdsim compare scenarios/as_is_2018.yaml scenarios/nice_mdt.yaml "
               "--out results/compare")
    parser.add_argument("--version", action="version", version=f"asdsim {asdsim.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="simulate a scenario and write a results folder",
                         formatter_class=fmt, description=cmd_run.__doc__,
                         epilog="Example:\n  asdsim run scenarios/nice_mdt.yaml --replications 20 "
                                "--jobs 2 --out results/nice")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--out", metavar="DIR", help="output folder (default results/<file name>)")
    run.add_argument("--csv", action="store_true", help="write patients.csv instead of Parquet")
    _common(run)
    run.set_defaults(func=cmd_run)

    cmp_ = sub.add_parser("compare", help="compare scenarios under common random numbers",
                          formatter_class=fmt, description=cmd_compare.__doc__,
                          epilog="Example:\n  asdsim compare scenarios/as_is_2018.yaml "
                                 "scenarios/nice_mdt.yaml scenarios/recovery.yaml --out results/compare")
    cmp_.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                      help="scenario YAML files (at least two; names must differ)")
    cmp_.add_argument("--baseline", metavar="NAME",
                      help="baseline scenario: its name or file (default: the first)")
    cmp_.add_argument("--out", metavar="DIR", required=True, help="output folder")
    _common(cmp_)
    cmp_.set_defaults(func=cmd_compare)

    val = sub.add_parser("validate", help="check scenario files", formatter_class=fmt,
                         description=cmd_validate.__doc__,
                         epilog="Example:\n  asdsim validate scenarios/*.yaml")
    val.add_argument("files", nargs="+", help="scenario YAML files")
    val.set_defaults(func=cmd_validate)

    sch = sub.add_parser("schema", help="print the JSON Schema of the scenario format",
                         formatter_class=fmt, description=cmd_schema.__doc__,
                         epilog="Example:\n  asdsim schema > asdsim-scenario.schema.json")
    sch.set_defaults(func=cmd_schema)

    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``asdsim`` command; returns the exit code.

    Parameters
    ----------
    argv
        Arguments after ``asdsim`` (default: the process's command line).
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return int(exc.code or 0)
    args.argv = ["asdsim", *argv]  # recorded in provenance
    try:
        return int(args.func(args))
    except ScenarioError as error:
        _print_problems(error)
        return EXIT_INVALID
    except AsdsimError as error:
        _err(f"asdsim {args.command}: {error}")
        return EXIT_INVALID
    except OSError as error:  # a folder that cannot be written, a disk that is full
        _err(f"asdsim {args.command}: {error}")
        return EXIT_INVALID
    except KeyboardInterrupt:
        _err("interrupted; nothing was written")
        return 130


if __name__ == "__main__":
    sys.exit(main())
