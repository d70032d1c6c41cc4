"""Options shared by ``asdsim run`` and ``asdsim compare``."""

from __future__ import annotations

import argparse
import os
import sys

from asdsim.experiments.runner import DEFAULT_SEED

FORMATTER = argparse.RawDescriptionHelpFormatter
"""Every parser keeps the line breaks of its description and example."""


JOBS_HELP = "worker processes; results do not depend on it (default: one per CPU)"
"""The one rule for ``--jobs`` in every command that simulates (run, compare, sweep, verify,
regress): one worker process per CPU unless told otherwise."""


def default_jobs() -> int:
    """The default ``--jobs``: one worker process per CPU."""
    return os.cpu_count() or 1


def add_simulation_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--replications``, ``--seed``, ``--jobs`` and ``--force``."""
    parser.add_argument("--replications", type=int, default=10, metavar="N",
                        help="independent replications (default 10)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                        help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--jobs", type=int, default=default_jobs(), metavar="J",
                        help=JOBS_HELP)
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder if it exists and is not empty")


def count_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with ``--replications``, ``--jobs`` or ``--seed``, or None. A ``--jobs``
    above the CPU count is lowered to it (more workers than cores only cost memory), with a
    note on standard error."""
    if args.replications < 1:
        return "--replications must be at least 1"
    if args.jobs < 1:
        return "--jobs must be at least 1"
    if getattr(args, "seed", 0) < 0:
        return "--seed must be 0 or more"
    cpus = default_jobs()
    if args.jobs > cpus:
        print(f"note: --jobs {args.jobs} lowered to {cpus}, the number of CPUs", file=sys.stderr)
        args.jobs = cpus
    return None


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal, or ``not reached``."""
    return "not reached" if value is None or value != value else f"{100 * value:.1f}%"
