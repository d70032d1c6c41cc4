"""``asdsim calibrate``: fit a scenario to an area's referrals, list and appointments."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from asdsim.cli.console import EXIT_OK, EXIT_USAGE, err, out
from asdsim.cli.history import add_fit_options, history_command
from asdsim.cli.options import FORMATTER, iso_date
from asdsim.experiments.calibrate import calibrate, write_calibration


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim calibrate`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "calibrate", help="fit a scenario's demand, mixes and steps to an area's data",
        formatter_class=FORMATTER,
        description="Fit the referral rate, growth, seasonality and step changes (a Poisson GLM of\n"
                    "weekly counts), the age, source, locality and triage mixes, and (with\n"
                    "--activity) DNA rates and appointment lengths, and start from today's list\n"
                    "(--waiting-list). Writes OUT (every fitted number with a comment naming the fit\n"
                    "and its 95% interval) and a fit report (OUT's name + _fit/report.html).\n"
                    "Dates in every file are YYYY-MM-DD or day first (DD/MM/YYYY); the calibrated\n"
                    "scenario reads the waiting list the same way. Warns, with the figures, where a\n"
                    "capacity kept from the base (triage, staff WTE) is below the fitted demand.\n"
                    "See docs/your-area.md.",
        epilog="Example:\n  asdsim calibrate --referrals area/referrals.csv --waiting-list "
               "area/waiting_list.csv \\\n    --base area/scenario.yaml --out area/calibrated.yaml\n"
               "  asdsim calibrate --observed area/observed.csv --base area/then.yaml "
               "--out area/history.yaml")
    parser.add_argument("--referrals", type=Path, metavar="CSV",
                        help="one row per referral: referral_date, age_years or date_of_birth, "
                             "source, locality, optional triage_outcome")
    parser.add_argument("--waiting-list", type=Path, metavar="CSV",
                        help="today's list in the snapshot format: the starting state")
    parser.add_argument("--activity", type=Path, metavar="CSV",
                        help="one row per booked appointment: step, attended, optional team and "
                             "duration_minutes")
    parser.add_argument("--base", type=Path, required=True, metavar="SCENARIO.yaml",
                        help="the scenario to fit (its start_date is the date of today's list)")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT.yaml",
                        help="the calibrated scenario to write")
    parser.add_argument("--report", type=Path, metavar="DIR",
                        help="fit report folder (default: OUT's name + _fit beside it)")
    parser.add_argument("--step-change", type=iso_date, action="append", default=[], metavar="DATE",
                        help="fit a lasting change in the referral rate from DATE (repeatable)")
    parser.add_argument("--dayfirst", action=argparse.BooleanOptionalAction, default=True,
                        help="read 03/04/2024 as 3 April in every file (default, the UK form); "
                             "--no-dayfirst reads it as 4 March; written into the calibrated "
                             "scenario's initial_state.dates for the waiting list")
    parser.add_argument("--force", action="store_true", help="replace OUT and the report folder")
    history = parser.add_argument_group(
        "history matching (instead of --referrals; docs/as-happened.md)")
    history.add_argument("--observed", type=Path, metavar="CSV",
                         help="a long CSV of published counts (date, measure, value, optional "
                              "locality, age_group, period_start): fit capacity by period (and the "
                              "referral rate) to every point by simulation")
    add_fit_options(history)
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim calibrate`` from parsed arguments; returns the exit code."""
    if args.observed is not None:
        return history_command(args)
    if args.referrals is None:
        err("asdsim calibrate: give --referrals CSV (fit demand and mixes) or --observed CSV "
            "(history matching)")
        return EXIT_USAGE
    fit = calibrate(args.referrals, args.base, waiting_list=args.waiting_list,
                    activity=args.activity, step_changes=args.step_change, dayfirst=args.dayfirst)
    scenario, report = write_calibration(fit, args.out, args.report, force=args.force)
    table = fit.parameters.set_index("parameter")
    ref = fit.referral_fit
    out(f"{ref.referrals} referrals over {(ref.last_day - ref.first_day).days + 1} days")
    for name, shown in (("demand.referrals_per_week", "{:.2f} a week"),
                        ("demand.annual_growth", "{:.1%} a year")):
        if name not in table.index:
            continue  # not fitted (a note says why)
        row = table.loc[name]
        out(f"{name}: {shown.format(row.estimate)} (95% CI {shown.format(row.ci_low)} to "
            f"{shown.format(row.ci_high)})")
    for note in fit.notes:
        out(note)
    out(f"wrote {scenario} ({len(fit.parameters)} numbers from the data) and {report / 'report.html'}")
    out(f"next: asdsim run {scenario}")
    return EXIT_OK
