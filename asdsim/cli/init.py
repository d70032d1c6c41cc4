"""``asdsim init``: a folder for a new area, from templates."""

from __future__ import annotations

import argparse
from typing import Any

from asdsim.cli.console import EXIT_OK, out
from asdsim.cli.options import FORMATTER
from asdsim.templates_area import create_area


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim init`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "init", help="make a folder for a new area: a scenario, example CSVs and the steps",
        formatter_class=FORMATTER,
        description="Make DIR with a scenario that stands alone (every number commented as\n"
                    "assumed), example CSVs with the columns asdsim calibrate reads\n"
                    "(referrals.csv, waiting_list.csv, activity.csv) and a README of the steps.\n"
                    "asdsim run DIR/scenario.yaml works at once.",
        epilog="Example:\n  asdsim init myarea && asdsim run myarea/scenario.yaml --out myarea/results")
    parser.add_argument("folder", metavar="DIR", help="folder to make (must be empty or missing)")
    parser.add_argument("--force", action="store_true",
                        help="also write into a folder that is not empty; files already there are "
                             "never replaced or deleted")
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim init`` from parsed arguments; returns the exit code."""
    area = create_area(args.folder, force=args.force)
    for name in area.written:
        out(f"wrote {area.folder / name}")
    for name in area.kept:
        out(f"kept {area.folder / name} (already there; not replaced)")
    out(f"next: asdsim run {area.scenario} (then read {area.folder / 'README.md'})")
    return EXIT_OK
