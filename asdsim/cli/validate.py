"""``asdsim validate``: check scenario files and print every problem."""

from __future__ import annotations

import argparse
from typing import Any

import asdsim
from asdsim.analysis.utilisation import over_capacity
from asdsim.cli.console import EXIT_INVALID, EXIT_OK, err, out, print_problems
from asdsim.cli.options import FORMATTER
from asdsim.errors import ScenarioError
from asdsim.scenario.schema import Scenario
from asdsim.scenario.warm import running_service


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim validate`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "validate", help="check scenario files", formatter_class=FORMATTER,
        description="Check scenario files and print every problem, with its file and line.\n"
                    "Warn where a stated capacity (triage, a team's staff hours) is below the\n"
                    "scenario's own demand (utilisation over 100%, from its fields alone).\n"
                    "Say how many children a warm start (initial_state.warm) adds part-way\n"
                    "through assessment, by team.\n"
                    "Exit 1 if any file is invalid; a warning alone does not fail.",
        epilog="Example:\n  asdsim validate scenarios/*.yaml\n  asdsim validate nice_mdt")
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="scenario YAML files, or shipped scenarios' names (nice_mdt)")
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim validate`` from parsed arguments; returns the exit code."""
    bad = 0
    for file in args.files:
        try:
            scenario = asdsim.load_scenario(file)
        except ScenarioError as error:
            bad += 1
            err(f"{file}: invalid")
            print_problems(error)
        else:
            out(f"{file}: ok ({scenario.name})")
            if (line := warm_start_line(scenario)) is not None:
                out(f"{file}: {line}")
            for over in over_capacity(scenario):
                err(f"{file}: warning: {over.message}")
    return EXIT_INVALID if bad else EXIT_OK


def warm_start_line(scenario: Scenario) -> str | None:
    """How many children the scenario's warm start adds, by team (None where it is off)."""
    if not scenario.initial_state.warm:
        return None
    teams = running_service(scenario)
    total = sum(t.total for t in teams)
    parts = ", ".join(f"{t.team} {t.total}" for t in teams)
    return (f"warm start adds {total:,} children part-way through assessment"
            + (f" ({parts})" if parts else ""))
