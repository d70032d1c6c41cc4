"""``asdsim backtest``: fit with the points up to a date, forecast the later ones, score them."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from asdsim.cli.console import EXIT_OK, EXIT_USAGE, err, out
from asdsim.cli.history import add_fit_options, fit_arguments
from asdsim.cli.options import FORMATTER


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date as YYYY-MM-DD") from None


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim backtest`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "backtest", help="fit to the past up to a date, forecast the rest, and score it",
        formatter_class=FORMATTER,
        description="Fit capacity by period (and the referral rate) to the observed points up to\n"
                    "--cut, forecast every later point with 80% and 95% prediction intervals (draws\n"
                    "of the fitted values, each simulated with its own seed), and score them:\n"
                    "coverage of each interval and mean absolute percentage error. Writes DIR with\n"
                    "backtest.csv, scores.csv, backtest.png and report.html (docs/as-happened.md).",
        epilog="Example:\n  asdsim backtest area/scenario.yaml --observed area/observed.csv "
               "--cut 2024-06-30 --out results/backtest")
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--observed", type=Path, required=True, metavar="CSV",
                        help="the observed series (date, measure, value, optional locality, "
                             "age_group, period_start)")
    parser.add_argument("--cut", type=_date, required=True, metavar="DATE",
                        help="the last date of the points fitted; later points are forecast")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    add_fit_options(parser)
    parser.add_argument("--draws", type=int, default=30, metavar="N",
                        help="draws of the fitted values behind each forecast (default 30, each "
                             "simulated for 3 replications)")
    parser.add_argument("--dayfirst", action=argparse.BooleanOptionalAction, default=True,
                        help="read 03/04/2024 as 3 April (default); --no-dayfirst as 4 March")
    parser.add_argument("--force", action="store_true", help="replace an earlier DIR")
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim backtest`` from parsed arguments; returns the exit code."""
    import asdsim
    from asdsim.experiments.backtest import backtest, write_backtest
    from asdsim.experiments.observed import read_observed
    from asdsim.reporting.outputs import check_destination
    from asdsim.scenario import scenario_files
    from asdsim.scenario.library import resolve_scenario

    options = fit_arguments(args, "backtest")
    if options is None:
        return EXIT_USAGE
    if args.draws < 1:
        err("asdsim backtest: --draws: at least 1")
        return EXIT_USAGE
    args.scenario = resolve_scenario(args.scenario)
    inputs = [*scenario_files(args.scenario), args.observed]
    check_destination(args.out, args.force, inputs)
    scenario = asdsim.load_scenario(args.scenario)
    series = read_observed(args.observed, scenario, dayfirst=args.dayfirst)
    result = backtest(scenario, series.points, args.cut, draws=args.draws,
                      **options)  # type: ignore[arg-type]
    for row in result.scores.itertuples():
        mape = f"{row.mape:.1%}" if row.mape == row.mape else "not defined"
        out(f"{row.measure}: {row.points} held-out points; 80% interval covers "
            f"{row.coverage_80:.0%}, 95% covers {row.coverage_95:.0%}; MAPE {mape}")
    for note in result.fit.notes:
        out(note)
    write_backtest(result, args.out, observed_file=args.observed, force=args.force,
                   inputs=inputs)
    out(f"results in {args.out}/ (open {args.out / 'report.html'})")
    return EXIT_OK
