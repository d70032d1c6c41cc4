"""A :class:`~asdsim.experiments.plan.result.Plan` built from the evaluator once the search and
the confirmation are done: the options table (a row per option and phase, the non-monotone
pairs, the frontier), the recommended scenario and what it overrides, and the settings recorded.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

import numpy as np
import pandas as pd

from asdsim.analysis.standard import quarter_kpi
from asdsim.analysis.stats import mean_ci
from asdsim.experiments.plan.evaluate import SHARE_EXTRAS, Estimate, _Evaluator, _interval, wilson
from asdsim.experiments.plan.levers import Point, option_data
from asdsim.experiments.plan.result import Plan
from asdsim.experiments.plan.search import _Outcome, _violations
from asdsim.experiments.targets import Target
from asdsim.scenario import Scenario, scenario_from_dict
from asdsim.scenario.staffing import in_force


def _row(ev: _Evaluator, est: Estimate, phase: str, base_cost: float) -> dict[str, Any]:
    row: dict[str, Any] = {"phase": phase, "replications": est.n,
                           "first_replication": est.replications[0] if est.n else -1}
    for lever, k in zip(ev.levers, est.point, strict=True):
        row[lever.name] = lever.change(k)
    added = float(sum(lv.cost_per_step * k for lv, k in zip(ev.levers, est.point, strict=True)))
    row["added_cost_gbp"] = added
    row["annual_cost_gbp"] = base_cost + added
    for t in ev.targets:
        mean, low, high = _interval(est.values[t.kpi], t)
        if t.definition.censored and np.isnan(est.values[t.kpi]).any():
            mean = low = high = math.nan  # not reached in some replication (as the KPI table says)
        row[t.kpi], row[f"{t.kpi} ci_low"], row[f"{t.kpi} ci_high"] = mean, low, high
        row[f"{t.kpi} met"] = float(est.met[t.kpi].mean()) if est.n else math.nan
    for q in ev.shown_quarters:  # the standard as the report judges it, quarter by quarter
        name = quarter_kpi(q)
        mean, low, high, _ = mean_ci(est.values[name])
        row[name], row[f"{name} ci_low"], row[f"{name} ci_high"] = (
            mean, max(low, 0.0) if not math.isnan(low) else low, min(high, 1.0) if not
            math.isnan(high) else high)
    met = int(est.met_all.sum())
    row["p_meet"] = met / est.n if est.n else math.nan
    row["p_meet_ci_low"], row["p_meet_ci_high"] = wilson(met, est.n)
    row["feasible"] = ev.feasible_estimate(est)
    for extra in SHARE_EXTRAS:
        row[extra] = float(np.nanmean(est.values[extra])) if est.n else math.nan
    for lever, k in zip(ev.levers, est.point, strict=True):
        row[f"{lever.name} steps"] = k
    return row


def _base_cost(scenario: Scenario, on: dt.date) -> float:
    total = 0.0
    for name, spec in scenario.teams.items():
        for group, staff in spec.staff.items():
            total += (in_force(scenario, name, on, group) * staff.autism_share
                      * staff.funded_cost_per_wte_gbp)
    return total


def _frontier(options: pd.DataFrame, target: Target) -> pd.Series:
    """Whether each search option is on the cost frontier of the first target's KPI."""
    flags = pd.Series(False, index=options.index)
    search = options[options["phase"] == "search"].copy()
    sign = 1.0 if target.sense == "higher" else -1.0
    value = (sign * search[target.kpi]).fillna(-np.inf)
    order = np.lexsort((-value.to_numpy(), search["added_cost_gbp"].to_numpy()))
    best = -np.inf
    for i in order:
        if value.iloc[i] > best:
            best = value.iloc[i]
            flags[search.index[i]] = True
    return flags


def _build(ev: _Evaluator, recommended: Point, feasible: bool, outcome: _Outcome, warnings: list[str],
           scenario: Scenario, start: dt.date, by: dt.date, budget: float | None, confirm: int,
           started: float) -> Plan:
    """The plan: the options table, the recommended scenario and what it overrides, and the
    settings the folder records."""
    options = _options_table(ev, recommended, _base_cost(scenario, start))
    frontier = options[options["frontier"]].sort_values("added_cost_gbp", kind="stable")
    chosen, overrides = _recommended_scenario(ev, recommended, scenario, start)
    lower = outcome.lower_bound
    costs = [lv.cost_per_step for lv in ev.levers]
    return Plan(
        feasible=feasible, options=options,
        recommendation=options[options["recommended"]].reset_index(drop=True),
        frontier=frontier.reset_index(drop=True), levers=tuple(ev.levers), targets=tuple(ev.targets),
        changes={lv.name: lv.change(k) for lv, k in zip(ev.levers, recommended, strict=True)},
        scenario=chosen, overrides=overrides, from_date=start, by_date=by,
        confidence=ev.confidence, rule=ev.rule, optimal=outcome.optimal and feasible,
        cost_lower_bound=float(np.dot(costs, lower)) if lower is not None else math.nan,
        evaluations=len(ev.search), replications_run=ev.replications_run,
        wall_seconds=round(time.perf_counter() - started, 3),
        settings=_settings(ev, budget, confirm), warnings=warnings)


def _options_table(ev: _Evaluator, recommended: Point, base_cost: float) -> pd.DataFrame:
    """Every option evaluated, one row per option and phase in the order first evaluated (the
    search's row first), flagged where non-monotone, recommended and on the frontier."""
    flagged = {p for pair in _violations(ev) for p in pair[:2]}
    ids = {p: i for i, p in enumerate(ev.order)}
    rows = []
    for phase, table in (("search", ev.search), ("confirm", ev.confirm_estimates)):
        for point, est in table.items():
            row = {"option": ids[point], **_row(ev, est, phase, base_cost)}
            row["non_monotone"] = point in flagged
            row["recommended"] = phase == "confirm" and point == recommended
            rows.append(row)
    options = pd.DataFrame(rows).sort_values(["option", "phase"], ascending=[True, False],
                                             kind="stable").reset_index(drop=True)
    options["frontier"] = _frontier(options, ev.targets[0])
    return options


def _recommended_scenario(ev: _Evaluator, recommended: Point, scenario: Scenario,
                          start: dt.date) -> tuple[Scenario, dict[str, Any]]:
    """The recommended option's scenario, named and described as the plan's, and what it sets
    over the input (the body of ``recommended.yaml`` under ``extends:``)."""
    data = option_data(ev.base_data, ev.levers, recommended, ev.on, scenario)
    data["name"] = f"{scenario.name} (plan)"
    data["description"] = (f"{scenario.description} Plan: " if scenario.description else "Plan: ") + (
        "; ".join(lv.words(k) for lv, k in zip(ev.levers, recommended, strict=True) if k)
        or "no change") + f" from {start}."
    chosen = scenario_from_dict(data, name=data["name"])
    overrides = {"capacity_changes": data["capacity_changes"], "outsourcing": data["outsourcing"],
                 "reporting": data["reporting"]}
    if not data["outsourcing"] and not scenario.outsourcing:
        del overrides["outsourcing"]
    if data["triage"] != scenario.model_dump(mode="json")["triage"]:  # the triage lever moved it
        overrides["triage"] = data["triage"]
    return chosen, overrides


def _settings(ev: _Evaluator, budget: float | None, confirm: int) -> dict[str, Any]:
    """What the plan was run with, as ``provenance.json`` records it."""
    return {"seed": ev.seed, "replications": ev.replications, "confirm_replications": confirm,
            "lead_time_weeks": next((lv.lead_time_weeks for lv in ev.levers
                                     if lv.kind != "outsourcing"), 0.0),
            "ramp_weeks": max((lv.ramp_weeks for lv in ev.levers), default=0.0),
            "max_evaluations": ev.max_evaluations, "budget": budget,
            "inferred": ev.inferred, "backend": ev.backend.describe()}
