"""Options shared by the commands: the simulation options of ``run`` and ``compare``, and the
argparse types every command reads its numbers and dates with (:func:`whole`, :func:`number`,
:func:`iso_date`: the parsers of :mod:`asdsim.scenario.values`, as strict as a scenario's)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from asdsim.cli.console import err
from asdsim.experiments.runner import DEFAULT_SEED
from asdsim.scenario.values import ValueProblem, parse_iso_date, parse_number, parse_whole

if TYPE_CHECKING:
    from asdsim.experiments.backends import Backend

FORMATTER = argparse.RawDescriptionHelpFormatter
"""Every parser keeps the line breaks of its description and example."""


JOBS_HELP = ("worker processes; results do not depend on it (default: chosen from the work: "
             "this process for a small run, one per CPU for a long one or where the work is not "
             "estimated beforehand)")
"""The one rule for ``--jobs`` in every command that simulates (run, compare, sweep, verify,
regress): without ``--jobs``, the number of worker processes is chosen from the estimated work
(:func:`asdsim.experiments.backends.choose_workers`); ``--jobs`` always wins."""


MAX_SEED = 2**64 - 1
"""Largest seed (seeds are 0 to 2**64 - 1)."""


def whole(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number within ``[low, high]`` (:func:`values.parse_whole`)."""
    def read(text: str) -> int:
        try:
            return parse_whole(text, low, high)
        except ValueProblem as problem:
            raise argparse.ArgumentTypeError(str(problem)) from None
    read.__name__ = "whole number"  # argparse names the type in its message
    return read


def number(low: float | None = None, high: float | None = None) -> Callable[[str], float]:
    """An argparse type: a finite number within ``[low, high]`` (:func:`values.parse_number`)."""
    def read(text: str) -> float:
        try:
            return parse_number(text, low, high)
        except ValueProblem as problem:
            raise argparse.ArgumentTypeError(str(problem)) from None
    read.__name__ = "number"
    return read


def iso_date(text: str) -> dt.date:
    """An argparse type: a date as YYYY-MM-DD (:func:`values.parse_iso_date`)."""
    try:
        return parse_iso_date(text)
    except ValueProblem as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None


SEED = whole(0, MAX_SEED)
"""The type of every ``--seed``."""
COUNT = whole(1)
"""The type of every ``--replications`` and ``--jobs``: a whole number, at least 1."""


def default_jobs() -> int | None:
    """The default ``--jobs``: None, so the work chooses (see ``JOBS_HELP``)."""
    return None


def cpu_count() -> int:
    """CPUs of this machine: the most worker processes ``--jobs`` may ask for."""
    return os.cpu_count() or 1


def add_simulation_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--replications``, ``--seed``, ``--jobs`` and ``--force``."""
    parser.add_argument("--replications", type=COUNT, default=10, metavar="N",
                        help="independent replications (default 10)")
    parser.add_argument("--seed", type=SEED, default=DEFAULT_SEED, metavar="S",
                        help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--jobs", type=COUNT, default=default_jobs(), metavar="J",
                        help=JOBS_HELP)
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder if it exists and is not empty")


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--jobs`` (default: chosen from the work) and ``--dask``, as the commands that can
    run on a Dask cluster (``sweep``, ``areas``) take them."""
    parser.add_argument("--jobs", type=COUNT, metavar="N",
                        help=f"{JOBS_HELP}; with --dask local, the number of Dask workers")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run on an existing Dask cluster (tcp://host:8786), or 'local' to start "
                             "a local one; needs pip install asdsim[dask]")


def backend_or_say(args: argparse.Namespace, command: str) -> Backend | None:
    """The backend ``--jobs`` and ``--dask`` ask for, or None after saying on standard error why
    it cannot be had (the caller exits with the usage code)."""
    from asdsim.experiments.backends import BackendError, make_backend

    try:
        return make_backend(args.jobs, args.dask)
    except BackendError as exc:
        err(f"asdsim {command}: {exc}")
        return None


def count_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with ``--replications``, ``--jobs`` or ``--seed``, or None. A ``--jobs``
    above the CPU count is lowered to it (more workers than cores only cost memory), with a
    note on standard error."""
    if args.replications < 1:
        return "--replications must be at least 1"
    if args.jobs is not None and args.jobs < 1:
        return "--jobs must be at least 1"
    if getattr(args, "seed", 0) < 0:
        return "--seed must be 0 or more"
    cpus = cpu_count()
    if args.jobs is not None and args.jobs > cpus:
        print(f"note: --jobs {args.jobs} lowered to {cpus}, the number of CPUs", file=sys.stderr)
        args.jobs = cpus
    return None


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal, or ``not reached``."""
    return "not reached" if value is None or value != value else f"{100 * value:.1f}%"
