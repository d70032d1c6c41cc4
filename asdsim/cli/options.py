"""Options shared by ``asdsim run`` and ``asdsim compare``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from asdsim.experiments.runner import DEFAULT_SEED
from asdsim.scenario.schema import Scenario

FORMATTER = argparse.RawDescriptionHelpFormatter
"""Every parser keeps the line breaks of its description and example."""


JOBS_HELP = ("worker processes; results do not depend on it (default: chosen from the work: "
             "this process for a small run, one per CPU for a long one or where the work is not "
             "estimated beforehand)")
"""The one rule for ``--jobs`` in every command that simulates (run, compare, sweep, verify,
regress): without ``--jobs``, the number of worker processes is chosen from the estimated work
(:func:`asdsim.experiments.backends.choose_workers`); ``--jobs`` always wins."""


def default_jobs() -> int | None:
    """The default ``--jobs``: None, so the work chooses (see ``JOBS_HELP``)."""
    return None


def cpu_count() -> int:
    """CPUs of this machine: the most worker processes ``--jobs`` may ask for."""
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


def scenario_inputs(path: str | Path, scenario: Scenario | None = None) -> list[Path]:
    """The files a scenario was read from: the file, the files it extends and its snapshot, so
    an output folder can never be one that holds them."""
    files = [Path(path)]
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():  # extends: chains are short; follow them by their text
        if line.startswith("extends:"):
            parent = (Path(path).parent / line.split(":", 1)[1].split("#")[0].strip()).resolve()
            if parent.is_file() and parent not in files:
                files += scenario_inputs(parent, scenario)
    csv = scenario.initial_state.csv if scenario is not None else None
    if csv:
        files.append(Path(path).parent / csv)
    return files
