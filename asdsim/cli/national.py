"""``asdsim national``: NHS England's Autism Statistics for one organisation, as an observed series."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from asdsim.cli.console import EXIT_OK, EXIT_USAGE, err, out
from asdsim.cli.options import FORMATTER

HELP = "read NHS England's Autism Statistics for one organisation as an observed series"


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim national`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "national", help=HELP, formatter_class=FORMATTER,
        description="Read the CSV files of NHS England's Autism Statistics (Autism Waiting Time\n"
                    "Statistics, from the Mental Health Services Data Set) for one provider,\n"
                    "sub-ICB, ICB or region, and write its figures the model can reproduce as an\n"
                    "observed series for asdsim calibrate --observed and asdsim backtest.\n"
                    "Measures not mapped and rows not read are listed, with the reason.\n"
                    "See docs/national-statistics.md.",
        epilog="Example:\n  asdsim national autism_stats_2024.csv --list-organisations\n"
               "  asdsim national autism_stats_2024.csv --organisation RBT --out area/observed.csv")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="the publication's CSV files (several publications: a figure in "
                             "two is taken from the later one)")
    parser.add_argument("--organisation", metavar="CODE_OR_NAME",
                        help="the organisation's code (PRIMARY_LEVEL) or name")
    parser.add_argument("--out", type=Path, metavar="CSV", help="the observed series to write")
    parser.add_argument("--ages", choices=("0-17", "all"), default="0-17",
                        help="read the measures of children 0-17 (default) or of every age")
    parser.add_argument("--bases", choices=("newer", "refuse"), default="newer",
                        help="open referrals counted on both bases (before and since September "
                             "2023): keep the newer alone (default) or refuse")
    parser.add_argument("--list-organisations", action="store_true",
                        help="list the organisations in the files and stop")
    parser.add_argument("--force", action="store_true",
                        help="replace an OUT that asdsim national wrote")
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim national`` from parsed arguments; returns the exit code."""
    from asdsim.experiments.national import (
        UNDER_COUNT,
        check_output,
        list_organisations,
        read_national,
        write_observed,
    )

    if args.list_organisations:
        for row in list_organisations(args.files).itertuples():
            out(f"{row.breakdown}\t{row.code}\t{row.name}")
        return EXIT_OK
    missing = [o for o, v in (("--organisation", args.organisation), ("--out", args.out))
               if not v]
    if missing:
        err(f"asdsim national: {' and '.join(missing)} needed (or --list-organisations)")
        return EXIT_USAGE
    check_output(args.out, args.files, args.force)
    series = read_national(args.files, args.organisation, ages=args.ages, bases=args.bases)
    org = series.organisation
    counts = series.observed.groupby("published_measure", sort=True).size()
    out(f"{org.breakdown} {org.code} ({org.name}), ages {series.ages}: "
        f"{len(series.observed)} points ("
        + ", ".join(f"{name} {n}" for name, n in counts.items()) + ")")
    if series.bases:
        out(f"open referrals counted on the {series.bases[0]} basis")
    for reason, n in series.skipped.groupby("reason", sort=True).size().items():
        if not str(reason).startswith("not mapped"):
            out(f"skipped {n} row{'s' if n != 1 else ''}: {reason}")
    for row in series.unmapped.itertuples():
        out(f"not mapped: {row.published_measure} ({row.rows} row{'s' if row.rows != 1 else ''}): "
            f"{row.reason}")
    err(f"note: {UNDER_COUNT} (docs/national-statistics.md)")
    write_observed(series, args.out, args.files, args.force)
    out(f"observed series in {args.out}")
    return EXIT_OK
