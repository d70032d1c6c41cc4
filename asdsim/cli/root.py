"""The ``asdsim`` command: the parser and the entry point.

Each subcommand is a small module of :mod:`asdsim.cli` with ``add_parser(subparsers)``, which adds
its subparser and stores its handler in ``args.func``; :data:`SUBCOMMANDS` lists them in help
order. The modules only parse arguments and print: the work is done by the library. Exit codes
(:mod:`asdsim.cli.console`): 0 success, 1 invalid input or a failed check, 2 a usage error.

A command imports only its own module (and what that module needs): the others stand in the
parser as their name and one-line help, so ``asdsim --version`` and ``asdsim --help`` import no
command at all.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Collection, Sequence
from importlib import import_module

import asdsim
from asdsim.cli.console import EXIT_INTERRUPTED, EXIT_INVALID, err, print_problems
from asdsim.errors import AsdsimError, ScenarioError, os_error_message, unexpected_error_message

SUBCOMMANDS = (
    ("init", "make a folder for a new area: a scenario, example CSVs and the steps"),
    ("calibrate", "fit a scenario's demand, mixes and steps to an area's data"),
    ("backtest", "fit to the past up to a date, forecast the rest, and score it"),
    ("national", "read NHS England's Autism Statistics for one organisation as an observed series"),
    ("run", "simulate a scenario and write a results folder"),
    ("compare", "compare scenarios under common random numbers"),
    ("validate", "check scenario files"),
    ("schema", "print the JSON Schema of the scenario format"),
    ("sweep", "run every point of a scenario grid, resumably, into one table"),
    ("areas", "run every area of an areas table alike, with totals across them"),
    ("plan", "the least-cost staffing that meets targets by a date"),
    ("sensitivity", "rank assumptions by their effect on a KPI (tornado chart)"),
    ("verify", "check the simulator against queueing theory (under a minute on 2 cores)"),
    ("regress", "compare regression scenarios with their stored expected results"),
    ("app", "start the web app: pick a scenario, move the levers, run, read"),
)
"""Each subcommand, in help order: its name (its module is ``asdsim.cli.NAME``, which adds it
through ``add_parser(subparsers)``) and its one-line help (the same as the module gives it, which
a test checks)."""


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``asdsim`` command.

    Parameters
    ----------
    commands
        The subcommands to build in full, importing their modules (default: all); the others
        are only their name and one-line help, enough for ``asdsim --help`` and for a name that
        is not a command.
    """
    parser = argparse.ArgumentParser(
        prog="asdsim", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate children's autism diagnostic pathways: waits, capacity and NICE "
                    "standards.",
        epilog="Example:\n  asdsim compare scenarios/as_is_2018.yaml scenarios/nice_mdt.yaml "
               "--out results/compare")
    parser.add_argument("--version", action="version", version=f"asdsim {asdsim.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_line in SUBCOMMANDS:
        if commands is None or name in commands:
            import_module(f"asdsim.cli.{name}").add_parser(sub)
        else:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named on a command line: its first word that is not an option (the
    ``asdsim`` parser's own options take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``asdsim`` command; returns the exit code.

    Parameters
    ----------
    argv
        Arguments after ``asdsim`` (default: the process's command line).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(commands=[name] if (name := _command(argv)) else [])
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return int(exc.code or 0)
    args.argv = ["asdsim", *argv]  # recorded in provenance
    # SIGTERM (timeout, CI cancellation, a container stop) unwinds like Ctrl-C; only the main
    # thread may set a handler (a web app or a test may call main from another thread)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return int(args.func(args))
    except ScenarioError as error:
        print_problems(error)
        return EXIT_INVALID
    except AsdsimError as error:
        err(f"asdsim {args.command}: {error}")
        return EXIT_INVALID
    except OSError as error:  # a folder that cannot be written, a disk that is full
        err(f"asdsim {args.command}: {os_error_message(error)}")
        return EXIT_INVALID
    except KeyboardInterrupt:
        err("interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except (Exception, RecursionError) as error:  # never a traceback: a one-line message instead
        err(f"asdsim {args.command}: {unexpected_error_message(error)}")
        return EXIT_INVALID
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _terminate(_signum: int, _frame: object) -> None:
    """SIGTERM is handled as Ctrl-C is: unwind, so temporary folders are removed."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
