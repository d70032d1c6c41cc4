"""``asdsim plan``: the least-cost staffing that meets targets by a date, with how sure we are."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from asdsim.cli.console import EXIT_INVALID, EXIT_OK, EXIT_USAGE, err, out, progress_bar
from asdsim.cli.options import (
    COUNT,
    FORMATTER,
    SEED,
    backend_or_say,
    count_problem,
    iso_date,
    number,
    whole,
)
from asdsim.experiments.runner import DEFAULT_SEED
from asdsim.scenario.values import parse_number


def _named(text: str, what: str) -> tuple[str | None, str]:
    name, sep, value = text.rpartition("=")
    if sep and not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected {what} or NAME={what}")
    return (name or None), value


def _bounds(text: str) -> tuple[str, tuple[float, float]]:
    name, value = _named(text, "LOW:HIGH")
    low, sep, high = value.partition(":")
    try:
        if name is None or not sep:
            raise ValueError
        return name, (parse_number(low), parse_number(high))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=LOW:HIGH, like psychologist=0:2") from None


def _step(text: str) -> tuple[str | None, float]:
    name, value = _named(text, "STEP")
    try:
        return name, parse_number(value, 0.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a step must be a number above 0, given as STEP "
                                         "or NAME=STEP, like 0.2") from None


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim plan`` on an argparse subparsers object (handler in ``func``).

    Exit codes: 0 a plan that meets the targets, 1 invalid input or no option within the bounds
    meets them (the best found is still written), 2 a usage problem.
    """
    parser = subparsers.add_parser(
        "plan", help="the least-cost staffing that meets targets by a date", formatter_class=FORMATTER,
        description="Find the cheapest extra staffing (WTE per staff group, caseload clinicians,\n"
                    "triage capacity, optionally outsourced assessments) from a date that meets\n"
                    "every target with the stated confidence, by simulation under common random\n"
                    "numbers. Writes plan.csv (every option evaluated), recommended.yaml (a\n"
                    "scenario extending the input with the dated changes), plan.png and\n"
                    "provenance.json (and threats.csv with --draw-inputs) into DIR. Exit 1 when no\n"
                    "option within the bounds meets the targets (the best found is reported).\n\n"
                    "Targets (default: the NICE standard from the quarter of --by):\n"
                    "  'nice_standard'                               (at least 90% of each quarter's\n"
                    "                                                 referrals from --by's quarter on)\n"
                    "  'nice_standard >= 95% from 2021Q1'            (another level or first quarter)\n"
                    "  'assessment_started_within_3_months >= 0.9'   (pooled over referrals from --by)\n"
                    "  'waiting_over_52_weeks == 0 by 2026-03-31'    (a count at a date)\n"
                    "  'backlog_cleared_weeks <= 52'",
        epilog="Example:\n  asdsim plan scenarios/nice_mdt.yaml --from 2020-04-01 --by 2020-10-01 \\\n"
               "    --vary paediatrician,psychologist --team school_age_mdt --jobs 2 --out results/plan")
    parser.add_argument("scenario", type=Path, nargs="?", metavar="SCENARIO.yaml",
                        help="the scenario file, or a shipped scenario's name (or --areas)")
    parser.add_argument("--areas", type=Path, metavar="AREAS",
                        help="plan every area of an areas table instead (docs/areas.md): each "
                             "area's least-cost plan, or with --budget the split of the budget")
    parser.add_argument("--objective", choices=("started_within_3_months", "waiting_over_52_weeks"),
                        default="started_within_3_months",
                        help="with --areas and --budget: what the split maximises (default: more "
                             "children started within 3 months; or fewer waiting over 52 weeks)")
    parser.add_argument("--target", action="append", metavar="TARGET",
                        help="a target (repeat for several; all must hold); default "
                             "'nice_standard', the NICE standard from the quarter of --by")
    parser.add_argument("--from", dest="from_date", type=iso_date, required=True, metavar="DATE",
                        help="the date the changes start")
    parser.add_argument("--by", dest="by_date", type=iso_date, metavar="DATE",
                        help="the NICE standard is judged from this date's quarter, pooled shares "
                             "count referrals from it, and counts at a date without one are taken "
                             "on it (default --from)")
    parser.add_argument("--vary", default="", metavar="A,B,C",
                        help="staff groups to vary (team/group where several teams have it), "
                             "'clinicians' for a caseload team, or 'triage' (referrals triaged a "
                             "week, for the whole run; needs --triage-cost)")
    parser.add_argument("--team", metavar="NAME", help="the team of the groups in --vary")
    parser.add_argument("--bounds", action="append", type=_bounds, default=[], metavar="NAME=LOW:HIGH",
                        help="change allowed from today's level (default 0:3 WTE, 0:5 clinicians, "
                             "0:20 triage); repeat per lever")
    parser.add_argument("--step", action="append", type=_step, default=[], metavar="[NAME=]STEP",
                        help="step of the WTE levers (default 0.1), or of one lever")
    parser.add_argument("--lead-time-weeks", type=number(0, 520), default=0.0, metavar="W",
                        help="recruitment lead time of added staff: they are in post from --from, so "
                             "the plan says to approve them W weeks before (default 0)")
    parser.add_argument("--ramp-weeks", type=number(0, 520), default=0.0, metavar="R",
                        help="weeks for added WTE to reach full productivity from --from, rising "
                             "linearly (funded in full from --from; default 0)")
    parser.add_argument("--draw-inputs", action="store_true",
                        help="judge each option with the scenario's uncertain: inputs drawn in "
                             "each replication (the same draws for every option), then name the "
                             "input that most threatens the recommendation; writes threats.csv")
    parser.add_argument("--triage-cost", type=number(0), metavar="GBP",
                        help="with --vary triage: the cost a year of triaging one more referral a "
                             "week")
    parser.add_argument("--outsourcing", nargs="?", type=whole(0), const=10, metavar="MAX",
                        help="also vary outsourced assessments a month, 0 to MAX (default 10)")
    parser.add_argument("--outsourcing-price", type=number(0), metavar="GBP",
                        help="price of an outsourced assessment (default: the scenario's block)")
    parser.add_argument("--outsourcing-months", type=COUNT, default=12, metavar="N",
                        help="months the outsourcing block runs from --from (default 12)")
    parser.add_argument("--outsourcing-bridge", action="store_true",
                        help="with --outsourcing and a lead time or ramp: the block runs from the "
                             "approval date until the added staff are at full productivity, "
                             "bridging the gap (instead of --outsourcing-months from --from)")
    parser.add_argument("--confidence", type=number(0, 1), default=0.8, metavar="P",
                        help="share of replications that must meet the targets (default 0.8)")
    parser.add_argument("--rule", choices=("share", "lower_ci"), default="share",
                        help="share: of replications meeting every target (default); lower_ci: "
                             "each target's 95%% CI on the right side of it")
    parser.add_argument("--budget", type=number(0), metavar="GBP", help="the most extra spend a year")
    parser.add_argument("--replications", type=COUNT, default=10, metavar="N",
                        help="replications of each option in the search (default 10)")
    parser.add_argument("--confirm-replications", type=COUNT, metavar="N",
                        help="fresh replications of the final candidates (default 3 x --replications)")
    parser.add_argument("--max-evaluations", type=COUNT, default=60, metavar="N",
                        help="the most options the search evaluates (default 60)")
    parser.add_argument("--seed", type=SEED, default=DEFAULT_SEED, metavar="S",
                        help=f"random seed, the same for every option (default {DEFAULT_SEED})")
    parser.add_argument("--jobs", type=COUNT, default=1, metavar="N",
                        help="worker processes; results do not depend on it (default 1)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run on a Dask cluster (tcp://host:8786), or 'local'; needs "
                             "pip install asdsim[dask]")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder if it exists and is not empty")
    parser.set_defaults(func=command)


def _usage(args: argparse.Namespace) -> str | None:
    """What is wrong with the options that their types cannot check alone, or None. Numbers are
    read by the options' types (:mod:`asdsim.cli.options`: whole, within bounds, finite), as
    ``asdsim run`` reads its own; a ``--jobs`` above the CPUs is lowered, with a note."""
    if args.dask is None and (problem := count_problem(args)) is not None:
        return problem
    for name, value in args.step:
        if not value > 0:
            return f"--step {(name + '=') if name else ''}{value:g}: a step must be a number above 0"
    for name, (low, high) in args.bounds:
        if not low <= high:
            return f"--bounds {name}={low:g}:{high:g}: the low bound must be at most the high one"
    if args.outsourcing is not None and args.outsourcing < 1:
        return "--outsourcing MAX must be at least 1"
    if args.outsourcing_bridge and args.outsourcing is None:
        return "--outsourcing-bridge needs --outsourcing"
    if not 0 < args.confidence:
        return "--confidence must be above 0 and at most 1"
    if not args.vary.strip() and args.outsourcing is None:
        return "give --vary (staff groups) or --outsourcing: there is nothing to vary"
    return None


def command(args: argparse.Namespace, terminal: Any = None) -> int:
    """Run ``asdsim plan`` from parsed arguments; returns the exit code."""
    from asdsim.experiments.plan import Outsourcing, plan, write_plan
    from asdsim.reporting.outputs import check_destination
    from asdsim.scenario import load_scenario, scenario_files
    from asdsim.scenario.library import resolve_scenario

    if args.areas is not None or args.scenario is None:
        from asdsim.cli.areas import plan_areas

        return plan_areas(args, terminal)
    problem = _usage(args)
    if problem is not None:
        err(f"asdsim plan: {problem}")
        return EXIT_USAGE
    args.scenario = resolve_scenario(args.scenario)
    check_destination(args.out, args.force, inputs=scenario_files(args.scenario))
    scenario = load_scenario(args.scenario)
    steps = {name: value for name, value in args.step if name is not None}
    single = [value for name, value in args.step if name is None]
    step: Any = single[-1] if single and not steps else steps or None
    if single and steps:
        err("asdsim plan: give --step either as one STEP or as NAME=STEP, not both")
        return EXIT_USAGE
    outsourcing = None
    if args.outsourcing is not None:
        outsourcing = Outsourcing(max_per_month=args.outsourcing, price_gbp=args.outsourcing_price,
                                  months=args.outsourcing_months, bridge=args.outsourcing_bridge)
    backend = backend_or_say(args, "plan")
    if backend is None:
        return EXIT_USAGE
    out(f"plan {scenario.name}: {len(args.target or ('nice_standard',))} target(s), search on "
        f"{args.replications} "
        f"replications an option, seed {args.seed}, on {backend.describe()}")
    with backend, progress_bar("options evaluated", terminal) as update:
        result = plan(scenario, args.target, args.from_date, args.by_date, args.vary, args.team,
                      outsourcing, args.confidence, args.rule, args.budget, args.replications,
                      args.seed, backend, update, bounds=dict(args.bounds), step=step,
                      confirm_replications=args.confirm_replications,
                      max_evaluations=args.max_evaluations, lead_time_weeks=args.lead_time_weeks,
                      ramp_weeks=args.ramp_weeks, triage_cost_gbp=args.triage_cost,
                      draw_inputs=args.draw_inputs)
    folder = write_plan(result, args.out, args.scenario, force=args.force, command=args.argv)
    out(result.summary())
    out(f"{result.evaluations} options evaluated ({result.settings['inferred']} more decided by "
        f"monotonicity), {result.replications_run} replications, {result.wall_seconds:.1f} s")
    out(f"results in {folder}/ (plan.csv, recommended.yaml, plan.png)")
    return EXIT_OK if result.feasible else EXIT_INVALID
