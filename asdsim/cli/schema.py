"""``asdsim schema``: print the JSON Schema of the scenario format."""

from __future__ import annotations

import argparse
import json
from typing import Any

import asdsim
from asdsim.cli.console import EXIT_OK, out
from asdsim.cli.options import FORMATTER


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim schema`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "schema", help="print the JSON Schema of the scenario format", formatter_class=FORMATTER,
        description="Print the JSON Schema of the scenario format, for editors that check YAML\n"
                    "as it is typed.",
        epilog="Example:\n  asdsim schema > asdsim-scenario.schema.json")
    parser.set_defaults(func=command)


def command(_args: argparse.Namespace) -> int:
    """Run ``asdsim schema``; returns the exit code."""
    out(json.dumps(asdsim.scenario_json_schema(), indent=2))
    return EXIT_OK
