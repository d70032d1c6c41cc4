"""The ``asdsim`` command: the parser and the entry point.

Each subcommand is a small module of :mod:`asdsim.cli` with ``add_parser(subparsers)``, which adds
its subparser and stores its handler in ``args.func``; :data:`SUBCOMMANDS` lists them in help
order. The modules only parse arguments and print: the work is done by the library. Exit codes
(:mod:`asdsim.cli.console`): 0 success, 1 invalid input or a failed check, 2 a usage error.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

import asdsim
from asdsim.cli import app, areas, compare, plan, regress, run, schema, sweep, validate, verify
from asdsim.cli import backtest as backtest_command
from asdsim.cli import calibrate as calibrate_command
from asdsim.cli import init as init_command
from asdsim.cli import sensitivity as sensitivity_command
from asdsim.cli.console import EXIT_INTERRUPTED, EXIT_INVALID, err, print_problems
from asdsim.cli.options import FORMATTER
from asdsim.errors import AsdsimError, ScenarioError, os_error_message, unexpected_error_message

SUBCOMMANDS = (init_command, calibrate_command, backtest_command, run, compare, validate, schema,
               sweep, areas, plan, sensitivity_command, verify, regress, app)
"""Modules that add a subcommand through ``add_parser(subparsers)``, in help order."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``asdsim`` command."""
    parser = argparse.ArgumentParser(
        prog="asdsim", formatter_class=FORMATTER,
        description="Simulate children's autism diagnostic pathways: waits, capacity and NICE "
                    "standards.",
        epilog="Example:\n  asdsim compare scenarios/as_is_2018.yaml scenarios/nice_mdt.yaml "
               "--out results/compare")
    parser.add_argument("--version", action="version", version=f"asdsim {asdsim.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
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
