"""``plan()``: set up, search, confirm and build a plan (with the sensitivity pass of
``draw_inputs``); and :func:`assess`, a scenario judged against targets as it is.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asdsim.analysis.standard import (
    judged_quarters,
    quarter_kpi,
    reaches,
)
from asdsim.experiments.backends import Backend, TaskFailed
from asdsim.experiments.plan.build import _build
from asdsim.experiments.plan.evaluate import Progress, Rule, _Evaluator, _interval, _run_task, _Task, wilson
from asdsim.experiments.plan.levers import Lever, Outsourcing, PlanError, Point, lead_days
from asdsim.experiments.plan.result import Plan
from asdsim.experiments.plan.search import (
    _confirm,
    _descend_neighbours,
    _Outcome,
    _probe_above,
    _search,
    _violations,
)
from asdsim.experiments.plan.vary import make_levers
from asdsim.experiments.runner import DEFAULT_SEED
from asdsim.experiments.targets import STANDARD, Target, parse_targets, quarter_words
from asdsim.scenario import Scenario, load_scenario, scenario_from_dict
from asdsim.scenario.uncertainty import with_inputs

DEFAULT_TARGETS = (STANDARD,)
"""What a plan aims at when no target is given: the NICE standard from the quarter of ``by``."""


def _date(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PlanError(f"{what}: {value!r} is not a date like 2025-04-01") from None


def _base_data(scenario: Scenario, targets: Sequence[Target], by: dt.date) -> dict[str, Any]:
    data = scenario.model_dump(mode="json")
    reporting = dict(data.get("reporting") or {})
    if any(t.cohort for t in targets):
        reporting["cohort_from_date"] = by.isoformat()
    dates = [t.date.isoformat() for t in targets if t.date is not None]
    if dates:
        reporting["snapshot_dates"] = sorted({*map(str, reporting.get("snapshot_dates") or ()), *dates})
    data["reporting"] = reporting
    return data


def _check_dates(scenario: Scenario, targets: Sequence[Target], start: dt.date, by: dt.date) -> None:
    first, last = scenario.start_date, scenario.end_date
    if not first <= start < last:
        raise PlanError(f"--from {start} is outside the scenario's horizon {first} to {last}")
    if by < start:
        raise PlanError(f"--by {by} is before --from {start}")
    if any(t.cohort for t in targets) and by + dt.timedelta(days=92) > last:
        raise PlanError(f"the targets count referrals from {by}, but none of their windows close "
                        f"by the horizon {last}; choose an earlier date or a longer horizon")
    for t in targets:
        if t.standard and not judged_quarters(scenario, t.quarter or ""):
            raise PlanError(f"target {t.text!r}: no quarter from {quarter_words(t.quarter or '')} "
                            f"has its 3-month window closed by the horizon {last}; choose an "
                            "earlier quarter or a longer horizon")
        if t.date is not None and not first <= t.date <= last:
            raise PlanError(f"target {t.text!r}: {t.date} is outside the horizon {first} to {last}")


def plan(scenario: Scenario | str | Path, targets: Sequence[str | Target] | str | None,
         from_date: dt.date | str, by_date: dt.date | str | None = None,
         vary: Sequence[str] | str = (), team: str | None = None,
         outsourcing: Outsourcing | Mapping[str, Any] | None = None, confidence: float = 0.8,
         confidence_rule: Rule = "share", budget: float | None = None, replications: int = 10,
         seed: int = DEFAULT_SEED, backend: Backend | None = None, progress: Progress | None = None,
         *, bounds: Mapping[str, tuple[float, float]] | None = None,
         step: float | Mapping[str, float] | None = None, confirm_replications: int | None = None,
         max_evaluations: int = 60, check_monotone: bool = True, lead_time_weeks: float = 0.0,
         ramp_weeks: float = 0.0, triage_cost_gbp: float | None = None,
         draw_inputs: bool = False) -> Plan:
    """The least-cost staffing that meets every target with the stated confidence.

    Parameters
    ----------
    scenario
        A scenario, or the path of a scenario file.
    targets
        Target strings (all must hold): ``"nice_standard"`` (at least 90% of each quarter's
        referrals from the quarter of ``by_date`` start assessment within 3 months, as the report
        judges it; the default when None or empty), ``"assessment_started_within_3_months >=
        0.9"`` (the share pooled over referrals from ``by_date``), ``"waiting_over_52_weeks == 0
        by 2026-03-31"``, ``"backlog_cleared_weeks <= 52"``.
    from_date
        When the changes (and any outsourcing block) start.
    by_date
        Referrals from this date are the cohort the wait targets count, and counts at a date
        without one are taken on it (default ``from_date``).
    vary, team, bounds, step, outsourcing
        The levers (:func:`make_levers`).
    confidence
        With ``confidence_rule="share"``, the share of replications that must meet every target.
    confidence_rule
        ``"share"`` or ``"lower_ci"`` (each target's 95% CI on the right side of its threshold).
    budget
        The most extra cost a year (GBP) an option may have.
    replications
        Replications of each option in the search.
    seed
        One seed for every option (common random numbers).
    backend
        Where replications run (:func:`asdsim.experiments.backends.make_backend`); this process
        when None. The caller closes it.
    progress
        Called as ``progress(evaluations, evaluation budget, note)`` after each option.
    confirm_replications
        Fresh replications of the final candidates (default three times ``replications``).
    max_evaluations
        The most options the search evaluates.
    check_monotone
        Evaluate the chosen option and its one-step-up neighbours on every search replication
        and flag any lever where more did worse (then the neighbours below are evaluated too).
    lead_time_weeks
        Recruitment lead time of added staff: the changes apply on ``from_date`` and must be
        approved this many weeks before (the plan says by when); that date must be in the run.
    ramp_weeks
        Weeks over which added WTE rises linearly to full productivity from ``from_date``
        (funded in full from then).
    triage_cost_gbp
        With ``triage`` in ``vary``: the cost a year of triaging one more referral a week (the
        triage lever changes the scenario's one triage capacity, for the whole run).
    draw_inputs
        Judge every option with the scenario's ``uncertain:`` inputs drawn in each replication
        (the same draws for every option), and then test the recommendation with each uncertain
        input at its 5th and at its 95th percentile (the others as written), naming the one
        that most threatens it (:attr:`Plan.threats`).

    Returns
    -------
    Plan
        Every option evaluated, the recommendation and the frontier. An infeasible plan is a
        result (``feasible`` false, with the best option found), not an error.

    Raises
    ------
    TargetError, PlanError
        For a target, lever, bound or date that cannot be used, before anything runs.
    """
    started = time.perf_counter()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    start, by = _plan_dates(from_date, by_date)
    parsed = parse_targets(DEFAULT_TARGETS if not targets else targets, by)
    confirm = _check_settings(confidence, confidence_rule, replications, confirm_replications,
                              max_evaluations, budget)
    _check_dates(scenario, parsed, start, by)
    _check_recruitment(scenario, start, lead_time_weeks, ramp_weeks)
    levers = make_levers(scenario, vary, start, team, bounds, step, outsourcing,
                         lead_time_weeks=lead_time_weeks, ramp_weeks=ramp_weeks,
                         triage_cost_gbp=triage_cost_gbp)
    base_data = _base_data(scenario, parsed, by)
    scenario_from_dict(base_data, name=scenario.name)  # the reporting dates are valid
    if draw_inputs and not scenario.uncertain:
        raise PlanError(f"draw_inputs: scenario {scenario.name!r} gives no uncertain: inputs to draw "
                        "(see docs/uncertainty.md)")
    ev = _Evaluator(scenario, base_data, levers, parsed, start, seed, replications, confidence,
                    confidence_rule, backend or Backend(), progress, max_evaluations, by)
    ev.drawn = draw_inputs

    outcome, chosen, warnings = _search_and_check(ev, budget, check_monotone)
    fresh = list(range(replications, replications + confirm))
    recommended, feasible = _confirm(ev, chosen, fresh, budget)
    if chosen is not None and not feasible:
        warnings.append("the option chosen by the search did not meet the targets on fresh "
                        "replications, nor did the options one step above it")
    # the proof is of the search's choice: one changed by the fresh replications is not proved
    moved = chosen is not None and recommended != chosen
    outcome.optimal = outcome.optimal and recommended == outcome.best
    threats = _threats(ev, recommended, fresh) if draw_inputs else None
    result = _build(ev, recommended, feasible, outcome, warnings, scenario, start, by, budget,
                    confirm, started)
    result.settings["moved_on_fresh"] = moved
    result.settings["draw_inputs"] = draw_inputs
    result.threats = threats
    return result


def _plan_dates(from_date: dt.date | str | None, by_date: dt.date | str | None) -> tuple[dt.date, dt.date]:
    """The plan's ``from`` (required) and ``by`` (default ``from``) dates, read from text if need be."""
    start = _date(from_date, "--from")
    if start is None:
        raise PlanError("--from is required: the date the changes start")
    return start, _date(by_date, "--by") or start


def _check_settings(confidence: float, confidence_rule: Rule, replications: int,
                    confirm_replications: int | None, max_evaluations: int,
                    budget: float | None) -> int:
    """Refuse settings :func:`plan` cannot use; the number of confirmation replications."""
    if confidence_rule not in ("share", "lower_ci"):
        raise PlanError(f"confidence_rule must be 'share' or 'lower_ci', not {confidence_rule!r}")
    if not 0 < confidence <= 1:
        raise PlanError(f"confidence must be above 0 and at most 1, got {confidence!r}")
    least = 2 if confidence_rule == "lower_ci" else 1  # a confidence interval needs two
    if replications < least:
        raise PlanError(f"replications must be at least {least}")
    confirm = confirm_replications if confirm_replications is not None else 3 * replications
    if confirm < least:
        raise PlanError("confirm_replications must be at least 2")
    if max_evaluations < 2:
        raise PlanError("max_evaluations must be at least 2")
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        raise PlanError(f"the budget must be a number of GBP >= 0, got {budget!r}")
    return confirm


def _check_recruitment(scenario: Scenario, start: dt.date, lead_time_weeks: float,
                       ramp_weeks: float) -> None:
    """Refuse a lead time or ramp that is not a number of weeks from 0 to 520, or a lead time
    whose approval date falls before the scenario starts."""
    for name, weeks in (("lead_time_weeks", lead_time_weeks), ("ramp_weeks", ramp_weeks)):
        if not (isinstance(weeks, int | float) and math.isfinite(weeks) and 0 <= weeks <= 520):
            raise PlanError(f"{name} must be a number of weeks from 0 to 520, got {weeks!r}")
    approved = start - dt.timedelta(days=lead_days(lead_time_weeks))
    if approved < scenario.start_date:
        raise PlanError(f"with a lead time of {lead_time_weeks:g} weeks, posts in post from {start} "
                        f"must be approved by {approved}, before the scenario starts "
                        f"({scenario.start_date}); choose a later --from or a shorter lead time")


def _search_and_check(ev: _Evaluator, budget: float | None,
                      check_monotone: bool) -> tuple[_Outcome, Point | None, list[str]]:
    """The search, then the check of monotonicity around its choice: the outcome, the option
    chosen (moved down where a neighbour below, evaluated directly, is feasible) and warnings."""
    outcome = _search(ev, budget)
    warnings: list[str] = []
    chosen = outcome.best
    if chosen is not None and check_monotone:
        _probe_above(ev, chosen)
    flagged = _violations(ev)
    if flagged:
        pairs = "; ".join(f"{ev.describe(p)} vs {ev.describe(q)}: {why}" for p, q, why in flagged[:3])
        warnings.append(f"{len(flagged)} pair(s) of options where more staff did worse ({pairs}"
                        f"{'; ...' if len(flagged) > 3 else ''}); the recommendation's neighbours "
                        "were evaluated directly")
        if chosen is not None:
            chosen = _descend_neighbours(ev, chosen, budget)
    if outcome.budget_spent:
        warnings.append(f"the search stopped after {ev.max_evaluations} evaluations (max_evaluations)")
    return outcome, chosen, warnings


THREAT_QUANTILES = (0.05, 0.95)
"""Where each uncertain input is set in the sensitivity pass: its 5th and 95th percentiles."""


def _threats(ev: _Evaluator, point: Point, reps: Sequence[int]) -> pd.DataFrame:
    """The recommendation with each uncertain input at its 5th and 95th percentile (the others
    as written), on the confirmation replications: the share of replications meeting every
    target and the worst target's margin of the mean, worst first. The first row is the input
    that most threatens the recommendation."""
    option = ev.scenario_of(point)
    cases: list[tuple[str, float, float, Scenario]] = [("as written", math.nan, math.nan,
                                                        with_inputs(option, {}))]
    for path, dist in option.uncertain.items():
        for q in THREAT_QUANTILES:
            value = float(dist.quantile(q))
            cases.append((path, q, value, with_inputs(option, {path: value})))
    tasks = [_Task((i,), r, sc, ev.seed, ev.measured) for i, (*_, sc) in enumerate(cases) for r in reps]
    rows: dict[tuple[int, int], dict[str, float]] = {}
    try:
        with closing(ev.backend.map_unordered(_run_task, tasks)) as results:
            for task, (values, _missing) in results:
                rows[task.point[0], task.replication] = ev._with_standard(values)
                ev.replications_run += 1
    except TaskFailed as exc:
        raise exc.__cause__ from None  # type: ignore[misc]
    out = []
    for i, (path, q, value, _sc) in enumerate(cases):
        values = {k: np.array([rows[i, r][k] for r in reps]) for k in ev.kpis}
        met = np.logical_and.reduce([np.array([t.met(v) for v in values[t.kpi]]) for t in ev.targets])
        margin = min(t.margin(float(np.nanmean(values[t.kpi]))) for t in ev.targets)
        out.append({"input": path, "quantile": q, "value": value, "p_meet": float(np.mean(met)),
                    "worst_margin": margin, "replications": len(reps)})
    table = pd.DataFrame(out)
    ends = table.iloc[1:].sort_values(["p_meet", "worst_margin"], kind="stable")
    return pd.concat([ends, table.iloc[:1]], ignore_index=True)


# --------------------------------------------------------------------------------- checking a plan


def assess(scenario: Scenario, targets: Sequence[str | Target] | str, replications: int = 10,
           seed: int = DEFAULT_SEED, backend: Backend | None = None,
           by_date: dt.date | str | None = None) -> pd.DataFrame:
    """Each target's mean, 95% CI and share of replications meeting it, for a scenario as it is
    (the NICE standard also quarter by quarter), and a last row ``all`` for every target at once.

    ``by_date`` sets the cohort and the date of counts at a date as :func:`plan` does; without
    it the scenario's own ``reporting`` is used (a recommended scenario carries the plan's).
    """
    by = _date(by_date, "by_date")
    parsed = parse_targets(targets, by)
    data = _base_data(scenario, parsed, by) if by is not None else scenario.model_dump(mode="json")
    prepared = scenario_from_dict(data, name=scenario.name)
    levers: list[Lever] = []
    ev = _Evaluator(prepared, data, levers, parsed, scenario.start_date, seed, replications, 1.0,
                    "share", backend or Backend(), None, 1, by)
    ev.scenarios[()] = prepared
    est = ev.confirm((), range(replications), early=False)
    rows = []
    for t in parsed:
        mean, low, high = _interval(est.values[t.kpi], t)
        rows.append({"target": t.describe(), "kpi": t.kpi, "mean": mean, "ci_low": low, "ci_high": high,
                     "met_share": float(est.met[t.kpi].mean())})
        for q in ev.quarters.get(t.kpi, []):  # the standard's quarters, each on its own
            values = est.values[quarter_kpi(q)]
            mean, low, high = _interval(values, t)
            rows.append({"target": f"{t.describe()}: {q}", "kpi": quarter_kpi(q), "mean": mean,
                         "ci_low": low, "ci_high": high,
                         "met_share": float(np.mean([reaches(v, t.value) for v in values]))})
    met = int(est.met_all.sum())
    low, high = wilson(met, est.n)
    rows.append({"target": "all", "kpi": "", "mean": math.nan, "ci_low": low, "ci_high": high,
                 "met_share": met / est.n})
    return pd.DataFrame(rows)
