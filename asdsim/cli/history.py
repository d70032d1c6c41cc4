"""``asdsim calibrate --observed``: history matching, and the option parsing it shares with
``asdsim backtest``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from asdsim.cli.console import EXIT_OK, EXIT_USAGE, err, out
from asdsim.cli.options import JOBS_HELP, cpu_count, default_jobs


def parse_fit(text: str) -> list[str] | str:
    """``capacity[,demand]`` as a list, or why not."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in parts if p not in ("capacity", "demand")]
    if bad or not parts:
        return "--fit: expected capacity, demand or capacity,demand"
    return parts


def parse_periods(text: str) -> str | list[dt.date] | None:
    """``quarterly``, ``single`` or the dates of ``DATE,DATE...``; None when none of them."""
    if text.strip() in ("quarterly", "single"):
        return text.strip()
    try:
        return [dt.date.fromisoformat(p.strip()) for p in text.split(",") if p.strip()] or None
    except ValueError:
        return None


def add_fit_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The options that say what a history match fits, and how many replications."""
    parser.add_argument("--fit", default="capacity", metavar="capacity[,demand]",
                        help="what to fit to the observed series (default capacity)")
    parser.add_argument("--periods", default="quarterly", metavar="quarterly|single|DATE,DATE...",
                        help="a capacity factor per calendar quarter (default), one for the whole "
                             "horizon (single), or one per period starting on each DATE "
                             "(YYYY-MM-DD)")
    parser.add_argument("--teams", metavar="TEAM,TEAM...",
                        help="teams whose capacity is fitted (default: every clinic-hours team)")
    parser.add_argument("--replications", type=int, default=8, metavar="N",
                        help="replications of each evaluation (default 8)")
    parser.add_argument("--seed", type=int, default=12345, metavar="S",
                        help="seed of every evaluation (common random numbers; default 12345)")
    parser.add_argument("--jobs", type=int, default=default_jobs(), metavar="J", help=JOBS_HELP)


def fit_arguments(args: argparse.Namespace, command: str) -> dict[str, object] | None:
    """The keyword arguments of :func:`asdsim.experiments.history.history_match` from the
    options, or None after printing a usage error."""
    fit = parse_fit(args.fit)
    periods = parse_periods(args.periods)
    if isinstance(fit, str):
        err(f"asdsim {command}: {fit}")
        return None
    if periods is None:
        err(f"asdsim {command}: --periods: expected quarterly, single or dates as YYYY-MM-DD "
            "separated by commas")
        return None
    if args.jobs is not None and args.jobs < 1:
        err(f"asdsim {command}: --jobs must be at least 1")
        return None
    if args.seed < 0:
        err(f"asdsim {command}: --seed must be 0 or more")
        return None
    if args.replications < 2:
        err(f"asdsim {command}: --replications: at least 2 (the fit weighs each point by the "
            "spread of its replications)")
        return None
    teams = [t.strip() for t in args.teams.split(",") if t.strip()] if args.teams else None
    return {"fit": fit, "periods": periods, "teams": teams, "replications": args.replications,
            "seed": args.seed, "jobs": None if args.jobs is None else min(args.jobs, cpu_count())}


def history_command(args: argparse.Namespace) -> int:
    """Run ``asdsim calibrate --observed`` from parsed arguments; returns the exit code."""
    import asdsim
    from asdsim.experiments.calibrate import check_scenario_output, report_folder
    from asdsim.experiments.history import (
        history_match,
        write_history,
        write_history_report,
        yaml_text,
    )
    from asdsim.experiments.observed import read_observed
    from asdsim.reporting.formatting import date as show_date
    from asdsim.reporting.validation_chart import measure_label
    from asdsim.scenario import scenario_files
    from asdsim.scenario.library import resolve_scenario

    mixed = [name for name, value in (("--referrals", args.referrals),
                                      ("--waiting-list", args.waiting_list),
                                      ("--activity", args.activity),
                                      ("--step-change", args.step_change)) if value]
    if mixed:
        err(f"asdsim calibrate: --observed fits capacity to an observed series; "
            f"{', '.join(mixed)} belong to the fit of referrals (run the two separately)")
        return EXIT_USAGE
    options = fit_arguments(args, "calibrate")
    if options is None:
        return EXIT_USAGE
    out_path = Path(args.out)
    args.base = resolve_scenario(args.base)
    folder = Path(args.report) if args.report else report_folder(out_path)
    check_scenario_output(out_path, folder, [*scenario_files(args.base), args.observed], args.force)
    base = asdsim.load_scenario(args.base)
    series = read_observed(args.observed, base, dayfirst=args.dayfirst)
    out(f"{len(series.points)} observed points from {series.shown}"
        + (f" ({series.suppressed} suppressed rows skipped)" if series.suppressed else ""))
    match = history_match(base, series.points, **options)  # type: ignore[arg-type]
    for row in match.parameters.itertuples():
        if row.identified:
            out(f"{row.parameter}: {row.estimate:.3f} (95% CI {row.ci_low:.3f} to "
                f"{row.ci_high:.3f})")
        else:
            out(f"{row.parameter}: {row.note}")
    for row in match.fit_table.itertuples():
        what = measure_label(row.measure, row.over_weeks, row.locality, row.age_group)
        out(f"  {show_date(row.date)}, {what}: observed "
            f"{row.observed:g}, fitted {row.fitted_mean:.1f} ({row.fitted_low:.0f} to "
            f"{row.fitted_high:.0f})")
    for note in match.notes:
        out(note)
    yaml_text(match, args.base, out_path, args.observed)  # fails here, before anything is written
    write_history_report(match, folder, observed_file=args.observed, force=args.force)
    scenario = write_history(match, args.base, out_path, args.observed, force=args.force)
    out(f"wrote {scenario} and {folder / 'report.html'}")
    out(f"next: asdsim run {scenario}")
    return EXIT_OK
