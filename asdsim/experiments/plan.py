"""The least-cost staffing that meets targets by a date, and how sure we are: ``asdsim plan``.

The question
------------
Given a scenario, targets (:mod:`asdsim.experiments.targets`: ``assessment_started_within_3_months
>= 0.9``, ``waiting_over_52_weeks == 0 by 2026-03-31``, ``backlog_cleared_weeks <= 52``; all must
hold) and a date ``from`` on which new money can start, find the cheapest extra staffing that meets
the targets with a stated confidence.

* **Decision variables** (*levers*): the WTE of chosen staff groups (clinic-hours mode), in steps
  of 0.1 WTE by default; the clinicians of a caseload team (steps of 1); optionally outsourced
  assessments a month for a stated number of months. Each is a change from the level in force on
  ``from``, applied as a dated capacity change on that date (later dated changes of the same
  group are shifted by the same amount), within bounds (default 0 to +3 WTE, 0 to +5 clinicians,
  0 to 10 assessments a month). In caseload mode an added clinician brings the team's staff mix:
  each staff group's WTE grows by its WTE per clinician, so funded cost follows.
* **Objective**: the least extra annual funded cost: WTE added x autism share x annual cost per
  WTE with on-costs, plus outsourced assessments a month x price x the block's months in its
  first year. It orders options exactly as ``funded_cost_per_year`` plus outsourcing a year does,
  and is known before anything is simulated. Ties go to the option with fewer added steps.
* **Measured where**: KPIs over a cohort of referrals (shares within a window, wait quantiles) for
  children referred from ``by`` (default ``from``), through ``reporting.cohort_from_date``; counts
  at a date at that date, added to ``reporting.snapshot_dates``.
* **Confidence**: with ``confidence_rule="share"`` (the default) an option is feasible when at
  least ``confidence`` of the replications meet every target; with ``"lower_ci"`` when the 95%
  confidence interval of each target KPI's mean lies on the right side of its threshold (the lower
  bound of a share, the upper bound of a wait or a count).

The search, and why
-------------------
Every option is judged by simulation under common random numbers: one seed, so replication ``r``
of every option sees the same children and the same luck, and the differences between options
are the staffing's. Evaluations are replications run through a backend
(:mod:`asdsim.experiments.backends`, local processes or Dask), each reduced to a few KPI values
in the worker, and cached by (option, replication): no replication is ever run twice.

The search relies on monotonicity: more staff is never worse, so the feasible options are
*upward closed* (an option at least as large as a feasible one, in every lever, is feasible) and
the cost is increasing in every lever. Then:

1. **The ends.** The largest option (every lever at its upper bound) is evaluated: if it fails,
   nothing within the bounds can meet the targets, and the plan says so with the best option
   found. The smallest (today's staffing) is evaluated: if it meets them, nothing need change.
2. **Per-lever minimum, by bisection.** For each lever, the least level that meets the targets
   with every other lever at its maximum: galloping up from today's level (lo, lo+1, lo+3, ...:
   the answer is usually near it), then :func:`bisect.bisect_left` over the levels in the
   bracket, the feasibility oracle as its key; a few evaluations a lever. By monotonicity every
   feasible option is at least this *corner* in every lever, so when the corner itself is
   feasible it is the cheapest option, with a proof. In the multidisciplinary designs shipped,
   where each profession has its own steps, the groups are complements and this is often the end.
3. **Greedy climb, then descent.** Otherwise, from the corner, each round evaluates a coarse step
   up in each lever (and in all of them together when none helps alone, as complements need) and
   moves along the one that improves the worst target's margin most per pound, compared on the
   replications both options ran (common random numbers make that difference precise), until an
   option is feasible; then each lever in turn, the costliest step first, is bisected down as far
   as it stays feasible. This is the greedy on cost per improvement with a feasibility oracle.
4. **Cheapest first, with dominance.** Each option found infeasible rules out every option below
   it. The cheapest option not ruled out is found exactly as a small mixed-integer program
   (:func:`scipy.optimize.milp`: one binary per lever and infeasible option says which lever
   exceeds it) and evaluated; the first feasible one is the cheapest, and when the cheapest not
   ruled out costs as much as the best found, that is proved cheapest. Where levers substitute
   for each other (outsourcing for staff) a proof can take many evaluations, so this step stops
   after a few a lever, and the plan reports the best option and the lower bound (the gap).

The oracle answers from the options already evaluated whenever monotonicity decides (an option
above a feasible one, or below an infeasible one), so no point of the grid is evaluated unless it
has to be: a three-lever plan over 31 levels each takes tens of evaluations, not 29,791. A
general-purpose optimiser does not fit the rest: the objective is linear and known, and what is
expensive and noisy is a yes/no feasibility answer, which bisection and the integer program use
directly, with monotonicity doing the pruning (tests check the search against the exhaustive
answer on known monotone sets, and against Erlang C). With the
default rule an evaluation also stops as soon as its replications, taken in order, decide it (at
least ``confidence`` of them can no longer meet the targets, or already have), which halves the
replications of options far from the boundary without changing any answer.

**Where monotonicity fails.** It need not hold exactly: in clinic-hours mode more of one
profession can change the order in which packages are booked (README, "What the booking rules
imply"; on ``nice_mdt.yaml`` more school-age psychologist time alone lowers the 3-month share).
So the option chosen and each option one step above it are evaluated on every search
replication, and every pair of evaluated options one above the other is compared on the
replications they share: a larger option that fails where a smaller one meets the targets (more
often than the reverse, by a sign test at 5%), or whose paired mean is worse beyond its 95%
confidence interval and by 0.5% of the threshold, is flagged (``non_monotone`` in the options
table, and a warning). Where anything is flagged, the recommendation's one-step-down neighbours
are evaluated directly, not inferred, and the search moves down to any that is feasible, until
none is.

**Selected-best bias.** The option chosen is the cheapest that looked feasible on the search's
replications, so its estimate is biased in its favour. Before recommending, the chosen option, the
next cheapest feasible ones and the cheaper near misses are run again on fresh replications
(``confirm_replications`` of them, numbered after the search's, so independent of them and still
common to every candidate); the recommendation is the cheapest that meets the rule on those, and
the figures reported are theirs. If none does, the search climbs one step at a time from the
chosen option on fresh replications.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import itertools
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from scipy import stats
from scipy.optimize import Bounds, LinearConstraint, milp

from asdsim.analysis.definitions import label as kpi_label
from asdsim.analysis.kpis import per_replication_kpis
from asdsim.analysis.stats import mean_ci
from asdsim.errors import AsdsimError
from asdsim.experiments.backends import Backend, TaskFailed
from asdsim.experiments.runner import DEFAULT_SEED, run_replication
from asdsim.experiments.targets import Target, TargetError, parse_targets
from asdsim.scenario import Scenario, load_scenario, scenario_from_dict, scenario_hash, scenario_to_yaml

__all__ = ["Lever", "Outsourcing", "Plan", "PlanError", "TargetError", "assess", "plan", "write_plan"]

Rule = Literal["share", "lower_ci"]
Progress = Callable[[int, int, str], None]
"""``progress(evaluations done, evaluation budget, note)``."""
Point = tuple[int, ...]

DEFAULT_BOUNDS = {"wte": (0.0, 3.0), "clinicians": (0.0, 5.0)}
DEFAULT_STEPS = {"wte": 0.1, "clinicians": 1.0}
MAX_LEVELS = 10_000
NEAR_MISS = 0.25
"""A cheaper option whose search share of replications meeting the targets came within this of
the confidence is re-run with the final candidates (it may have been unlucky)."""
MAX_CLIMBS = 6
PROOF_EVALUATIONS_PER_LEVER = 5
"""Evaluations a lever the cheapest-first step may take before the search stops with the best
option found and a lower bound: proving optimality can take many evaluations where levers
substitute for each other (outsourcing for staff), while with complements it takes a few."""
SHARE_EXTRAS = ("funded_cost_per_year", "cost_outsourced")
"""KPIs kept for every option besides the targets (for the table)."""


class PlanError(AsdsimError):
    """A plan cannot be set up as asked (a lever, a bound, a date)."""


# ----------------------------------------------------------------------------------------- levers


@dataclass(frozen=True)
class Outsourcing:
    """Outsourced assessments as a lever: ``0..max_per_month`` a month from ``from`` for ``months``.

    Attributes
    ----------
    team
        The team whose list the block takes children from (default: the plan's team, or the only
        team).
    max_per_month
        Upper bound of assessments a month.
    price_gbp
        Price of one assessment (default: that of a block of the same team in the scenario).
    months
        Length of the block, cut to the horizon.
    step
        Step of assessments a month.
    """

    team: str | None = None
    max_per_month: int = 10
    price_gbp: float | None = None
    months: int = 12
    step: int = 1


@dataclass(frozen=True)
class Lever:
    """One decision variable: a change from the level in force on the plan's date, in steps.

    Attributes
    ----------
    name
        ``team/group`` (WTE), ``team/clinicians`` or ``team/outsourcing``.
    kind
        ``wte``, ``clinicians`` or ``outsourcing``.
    team, group
        Where it acts (``group`` only for WTE).
    base
        The level in force on the plan's date (0 for outsourcing).
    step
        Size of one step (WTE, clinicians or assessments a month).
    low, high
        Bounds, in steps from ``base``.
    cost_per_step
        Extra annual cost of one step (GBP a year).
    per_clinician
        Caseload mode: WTE of each staff group that comes with one clinician.
    block
        Outsourcing: ``(start, end, price)`` of the block.
    """

    name: str
    kind: Literal["wte", "clinicians", "outsourcing"]
    team: str
    group: str | None
    base: float
    step: float
    low: int
    high: int
    cost_per_step: float
    per_clinician: tuple[tuple[str, float], ...] = ()
    block: tuple[dt.date, dt.date, float] | None = None

    def change(self, steps: int) -> float:
        """The change from ``base`` at a number of steps."""
        return round(steps * self.step, 9)

    def level(self, steps: int) -> float:
        """The level at a number of steps."""
        return round(self.base + steps * self.step, 9)

    @property
    def unit(self) -> str:
        """What one unit is, in words."""
        return {"wte": "WTE", "clinicians": "clinicians", "outsourcing": "assessments a month"}[self.kind]

    def words(self, steps: int) -> str:
        """The change in plain words: ``+0.6 WTE psychologist (school_age_mdt)``."""
        change = self.change(steps)
        if self.kind == "outsourcing":
            assert self.block is not None
            start, end, price = self.block
            return (f"{change:g} outsourced assessments a month for {self.team} from "
                    f"{_month(start)} to {_month(end)} at GBP {price:,.0f} each")
        what = self.group if self.kind == "wte" else "clinicians"
        return f"{change:+g} {'WTE ' if self.kind == 'wte' else ''}{what} ({self.team})"


def _month(day: dt.date) -> str:
    return day.strftime("%B %Y") if day.day == 1 else f"{day.day} {day.strftime('%B %Y')}"


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, last)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _in_force(scenario: Scenario, team: str, key: str, group: str | None, on: dt.date) -> float:
    """The WTE of a group (or a team's clinicians) in force on a date, dated changes included."""
    spec = scenario.teams[team]
    if key == "wte":
        assert group is not None
        value = spec.staff[group].wte
    else:
        assert spec.caseload is not None
        value = spec.caseload.clinicians
    for change in sorted(scenario.capacity_changes, key=lambda c: c.date):
        if change.team != team or change.date > on:
            continue
        if key == "wte" and change.group == group and change.wte is not None:
            value = change.wte
        elif key == "clinicians" and change.clinicians is not None:
            value = change.clinicians
    return float(value)


def _option(mapping: Mapping[str, Any] | Any, names: Sequence[str], default: Any) -> Any:
    if not isinstance(mapping, Mapping):
        return default if mapping is None else mapping
    for name in names:
        if name in mapping:
            return mapping[name]
    return default


def _steps(lever: str, low: float, high: float, step: float, base: float) -> tuple[int, int]:
    if not (math.isfinite(step) and step > 0):
        raise PlanError(f"{lever}: the step must be a positive number, got {step!r}")
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise PlanError(f"{lever}: bounds must be numbers with low <= high, got {low:g} to {high:g}")
    steps = []
    for bound in (low, high):
        k = bound / step
        if abs(k - round(k)) > 1e-6:
            raise PlanError(f"{lever}: the bound {bound:g} is not a whole number of steps of {step:g}")
        steps.append(round(k))
    lo, hi = steps
    lo = max(lo, -math.floor(base / step + 1e-9))  # never below zero
    if hi - lo + 1 > MAX_LEVELS:
        raise PlanError(f"{lever}: {hi - lo + 1:,} levels; at most {MAX_LEVELS:,} (use a larger step)")
    if hi < lo:
        raise PlanError(f"{lever}: the bounds leave no level at or above zero")
    return lo, hi


def make_levers(scenario: Scenario, vary: Sequence[str] | str, from_date: dt.date,
                team: str | None = None, bounds: Mapping[str, tuple[float, float]] | None = None,
                step: float | Mapping[str, float] | None = None,
                outsourcing: Outsourcing | Mapping[str, Any] | None = None,
                strict: bool = False) -> list[Lever]:
    """The plan's decision variables, checked against the scenario.

    Parameters
    ----------
    vary
        Staff groups (``psychologist``, or ``team/psychologist``) and ``clinicians`` (caseload
        teams); a comma-separated string is split.
    team
        The team of a name given without one; needed where several teams have the group.
    bounds
        Change from the level in force on ``from_date``, ``(low, high)``, by name as given in
        ``vary`` or as ``team/group``; default 0 to +3 WTE, 0 to +5 clinicians.
    step
        The step of every WTE lever, or steps by name; default 0.1 WTE, 1 clinician.
    outsourcing
        Adds outsourced assessments a month as a lever (:class:`Outsourcing` or its fields).
    strict
        Refuse a name in ``bounds`` or ``step`` that no varied lever answers to (the command
        line's ``--bounds`` and ``--step``, where such a name is a mistake).

    Raises
    ------
    PlanError
        Naming the lever and what is wrong (an unknown team or group, an ambiguous name, a
        caseload team's WTE, a bound that is not a whole number of steps).
    """
    if isinstance(vary, str):
        vary = [v for v in vary.split(",") if v.strip()]
    teams = scenario.teams
    if team is not None and team not in teams:
        raise PlanError(f"no team {team!r}; the teams are: {', '.join(teams)}")
    bounds = dict(bounds or {})
    levers: list[Lever] = []
    used: set[str] = set()
    named: set[str] = set()  # every name a lever answers to
    for item in vary:
        text = item.strip()
        team_name, _, what = text.rpartition("/")
        team_name = team_name or team
        if team_name is not None and team_name not in teams:
            raise PlanError(f"--vary {text}: no team {team_name!r}; the teams are: {', '.join(teams)}")
        pool = [team_name] if team_name is not None else list(teams)
        if what == "clinicians":
            found = [t for t in pool if teams[t].capacity_mode == "caseload"]
            if not found:
                raise PlanError(f"--vary {text}: 'clinicians' needs a caseload team; "
                                f"{' '.join(pool) if team_name else 'no team'} is in caseload mode")
        else:
            found = [t for t in pool if what in teams[t].staff]
            if not found:
                groups = sorted({g for t in pool for g in teams[t].staff})
                raise PlanError(f"--vary {text}: no staff group {what!r} in "
                                f"{'team ' + repr(team_name) if team_name else 'any team'}; the "
                                f"groups are: {', '.join(groups)}")
        if len(found) > 1:
            raise PlanError(f"--vary {text}: teams {', '.join(found)} all have it; give --team or "
                            f"write {found[0]}/{what}")
        chosen = found[0]
        spec = teams[chosen]
        kind: Literal["wte", "clinicians"] = "clinicians" if what == "clinicians" else "wte"
        if kind == "wte" and spec.capacity_mode == "caseload":
            raise PlanError(f"--vary {text}: team {chosen!r} is in caseload mode, where WTE does not "
                            "limit capacity; vary 'clinicians' instead")
        name = f"{chosen}/{what}"
        if name in used:
            raise PlanError(f"--vary {text}: {name} is given twice")
        used.add(name)
        named.update((text, name, what))
        if isinstance(step, Mapping) or kind == "wte":
            lever_step = float(_option(step, (text, name, what), DEFAULT_STEPS[kind]))
        else:
            lever_step = DEFAULT_STEPS[kind]  # one number is the step of the WTE levers
        low, high = _option(bounds, (text, name, what), DEFAULT_BOUNDS[kind])
        if kind == "wte":
            base = _in_force(scenario, chosen, "wte", what, from_date)
            staff = spec.staff[what]
            cost = lever_step * staff.autism_share * staff.funded_cost_per_wte_gbp
            per: tuple[tuple[str, float], ...] = ()
        else:
            assert spec.caseload is not None
            base = _in_force(scenario, chosen, "clinicians", None, from_date)
            clinicians = spec.caseload.clinicians
            per = tuple((g, s.wte / clinicians if clinicians else 0.0) for g, s in spec.staff.items())
            cost = lever_step * sum(w * spec.staff[g].autism_share * spec.staff[g].funded_cost_per_wte_gbp
                                    for g, w in per)
        lo, hi = _steps(name, float(low), float(high), lever_step, base)
        levers.append(Lever(name, kind, chosen, what if kind == "wte" else None, base, lever_step,
                            lo, hi, cost, per))
    for option, given in (("--bounds", bounds), ("--step", step)) if strict else ():
        unknown = sorted(set(given) - named) if isinstance(given, Mapping) else []
        if unknown:
            raise PlanError(f"{option} {unknown[0]}: no lever of that name is varied; the levers "
                            f"are: {', '.join(sorted(used)) or 'none'} (add it to --vary)")
    if outsourcing is not None:
        levers.append(_outsourcing_lever(scenario, outsourcing, from_date, team))
    if not levers:
        raise PlanError("nothing to vary: give staff groups (--vary) or outsourcing")
    return levers


def _outsourcing_lever(scenario: Scenario, spec: Outsourcing | Mapping[str, Any], from_date: dt.date,
                       team: str | None) -> Lever:
    if isinstance(spec, Mapping):
        unknown = set(spec) - set(Outsourcing.__dataclass_fields__)
        if unknown:
            raise PlanError(f"outsourcing: unknown field(s) {', '.join(sorted(unknown))}; expected "
                            f"{', '.join(Outsourcing.__dataclass_fields__)}")
        spec = Outsourcing(**spec)
    name = spec.team or team or (next(iter(scenario.teams)) if len(scenario.teams) == 1 else None)
    if name is None:
        raise PlanError(f"outsourcing: give its team (the teams are: {', '.join(scenario.teams)})")
    if name not in scenario.teams:
        raise PlanError(f"outsourcing: no team {name!r}; the teams are: {', '.join(scenario.teams)}")
    price = spec.price_gbp
    if price is None:
        prices = [b.price_gbp for b in scenario.outsourcing if b.team == name]
        if not prices:
            raise PlanError(f"outsourcing: give the price of an assessment (team {name!r} has no "
                            "outsourcing block in the scenario to take it from)")
        price = prices[0]
    if not (math.isfinite(price) and price >= 0):
        raise PlanError(f"outsourcing: the price must be a number >= 0, got {price!r}")
    if spec.months < 1 or spec.max_per_month < 1 or spec.step < 1:
        raise PlanError("outsourcing: months, max_per_month and step must be at least 1")
    end = min(_add_months(from_date, spec.months) - dt.timedelta(days=1), scenario.end_date)
    months = min(12.0, ((end - from_date).days + 1) / (365.25 / 12))
    lo, hi = _steps(f"{name}/outsourcing", 0.0, float(spec.max_per_month), float(spec.step), 0.0)
    return Lever(f"{name}/outsourcing", "outsourcing", name, None, 0.0, float(spec.step), lo, hi,
                 spec.step * price * months, block=(from_date, end, float(price)))


# ----------------------------------------------------------------------------- option scenarios


def _shift(changes: list[dict[str, Any]], team: str, key: str, group: str | None, in_force: float,
           delta: float, on: dt.date) -> list[dict[str, Any]]:
    """Dated changes with ``delta`` added from ``on``: a change on that date, and later changes of
    the same group (or caseload) shifted by the same amount."""
    out = []
    for change in changes:
        same = (change["team"] == team and change.get(key) is not None
                and (key == "clinicians" or change.get("group") == group))
        day = dt.date.fromisoformat(str(change["date"]))
        if same and day == on:
            continue  # in force on the date: replaced by the new change
        if same and day > on:
            change = {**change, key: round(max(0.0, change[key] + delta), 9)}
        out.append(change)
    new: dict[str, Any] = {"date": on.isoformat(), "team": team}
    if group is not None:
        new["group"] = group
    new[key] = round(max(0.0, in_force + delta), 9)
    out.append(new)
    return out


def option_data(base: dict[str, Any], levers: Sequence[Lever], point: Point, on: dt.date,
                scenario: Scenario) -> dict[str, Any]:
    """The plain data of an option's scenario: ``base`` with each lever's change from ``on``."""
    data = copy.deepcopy(base)
    changes = [dict(c) for c in data.get("capacity_changes", [])]
    blocks = list(data.get("outsourcing", []))
    for lever, steps in zip(levers, point, strict=True):
        if steps == 0:
            continue
        delta = lever.change(steps)
        if lever.kind == "wte":
            changes = _shift(changes, lever.team, "wte", lever.group, lever.base, delta, on)
        elif lever.kind == "clinicians":
            changes = _shift(changes, lever.team, "clinicians", None, lever.base, delta, on)
            for group, per in lever.per_clinician:
                if per:
                    changes = _shift(changes, lever.team, "wte", group,
                                     _in_force(scenario, lever.team, "wte", group, on), delta * per, on)
        else:
            assert lever.block is not None
            start, end, price = lever.block
            blocks.append({"team": lever.team, "start_date": start.isoformat(),
                           "end_date": end.isoformat(), "assessments_per_month": round(delta),
                           "price_gbp": price})
    data["capacity_changes"] = changes
    data["outsourcing"] = blocks
    return data


# ------------------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class _Task:
    """One replication of one option: what a worker needs."""

    point: Point
    replication: int
    scenario: Scenario
    seed: int
    kpis: tuple[str, ...]


def _run_task(task: _Task) -> tuple[dict[str, float], tuple[str, ...]]:
    """Run one replication and keep only the KPIs asked for (in a worker); also the names of those
    the run did not produce, with the names it did produce for their base."""
    record = run_replication(task.scenario, task.seed, task.replication)
    table = per_replication_kpis([record], task.scenario)
    values = dict(zip(table["kpi"], table["value"], strict=True))
    missing = tuple(k for k in task.kpis if k not in values)
    if missing:
        bases = {k.partition("[")[0] for k in missing}
        missing = missing + tuple(sorted(k for k in values if k.partition("[")[0] in bases))
    return {k: float(values.get(k, math.nan)) for k in task.kpis}, missing


@dataclass
class Estimate:
    """An option judged on a set of replications.

    Attributes
    ----------
    point
        Steps of each lever.
    replications
        The replication numbers used, in order.
    values
        Per KPI, its value in each replication.
    met
        Per target, whether each replication met it.
    """

    point: Point
    replications: tuple[int, ...]
    values: dict[str, np.ndarray]
    met: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        """Replications used."""
        return len(self.replications)

    @property
    def met_all(self) -> np.ndarray:
        """Whether each replication met every target."""
        return np.logical_and.reduce(list(self.met.values())) if self.met else np.ones(self.n, bool)

    @property
    def p_meet(self) -> float:
        """Share of replications meeting every target."""
        return float(self.met_all.mean()) if self.n else math.nan


def _interval(values: np.ndarray, target: Target) -> tuple[float, float, float]:
    mean, low, high, _ = mean_ci(values)
    if target.definition.unit == "share":
        low, high = max(low, 0.0), min(high, 1.0)
    elif target.definition.unit in ("children", "weeks"):
        low = max(low, 0.0)
    return mean, low, high


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The Wilson 95% interval of a share of ``n`` (NaN for ``n == 0``)."""
    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


class _BudgetSpent(Exception):
    """The evaluation budget is used up (internal: the search stops with what it has)."""


class _Evaluator:
    """Evaluates options on replications, with a cache, and the feasibility oracle."""

    def __init__(self, scenario: Scenario, base_data: dict[str, Any], levers: Sequence[Lever],
                 targets: Sequence[Target], on: dt.date, seed: int, replications: int,
                 confidence: float, rule: Rule, backend: Backend, progress: Progress | None,
                 max_evaluations: int):
        self.scenario, self.base_data, self.levers, self.targets = scenario, base_data, levers, targets
        self.on, self.seed, self.replications = on, seed, replications
        self.confidence, self.rule, self.backend, self.progress = confidence, rule, backend, progress
        self.max_evaluations = max_evaluations
        self.kpis = tuple(dict.fromkeys([*(t.kpi for t in targets), *SHARE_EXTRAS]))
        self.cache: dict[tuple[Point, int], dict[str, float]] = {}
        self.scenarios: dict[Point, Scenario] = {}
        self.search: dict[Point, Estimate] = {}
        self.confirm_estimates: dict[Point, Estimate] = {}
        self.order: list[Point] = []
        self.replications_run = 0
        self.inferred = 0

    # -- running
    def scenario_of(self, point: Point) -> Scenario:
        if point not in self.scenarios:
            data = option_data(self.base_data, self.levers, point, self.on, self.scenario)
            self.scenarios[point] = scenario_from_dict(data, name=f"option {point}")
        return self.scenarios[point]

    def _tasks(self, wanted: Sequence[tuple[Point, int]]) -> Iterator[_Task]:
        for point, r in wanted:
            yield _Task(point, r, self.scenario_of(point), self.seed, self.kpis)

    def _results(self, wanted: Sequence[tuple[Point, int]]) -> Iterator[tuple[Point, int]]:
        """Run the replications not cached; yield each ``(point, replication)`` as it is stored."""
        try:
            with closing(self.backend.map_unordered(_run_task, self._tasks(wanted))) as results:
                for task, (values, missing) in results:
                    if missing:
                        raise PlanError(self._missing_message(missing))
                    self.cache[task.point, task.replication] = values
                    self.replications_run += 1
                    yield task.point, task.replication
        except TaskFailed as exc:  # the error itself, as if the replication ran here
            raise exc.__cause__ from None  # type: ignore[misc]

    def _missing_message(self, missing: tuple[str, ...]) -> str:
        asked = [k for k in missing if k in self.kpis]
        produced = [k for k in missing if k not in self.kpis]
        return (f"the scenario has no KPI {', '.join(asked)}" +
                (f"; it has {', '.join(produced)}" if produced else ""))

    def estimate(self, point: Point, reps: Sequence[int]) -> Estimate:
        rows = [self.cache[point, r] for r in reps]
        values = {k: np.array([row[k] for row in rows], dtype=float) for k in self.kpis}
        met = {t.kpi: np.array([t.met(v) for v in values[t.kpi]], dtype=bool) for t in self.targets}
        return Estimate(point, tuple(reps), values, met)

    def _decided(self, met: int, done: int, total: int) -> bool | None:
        """With the share rule, whether ``met`` of the first ``done`` of ``total`` replications
        already decide the option (True feasible, False not, None open)."""
        need = math.ceil(self.confidence * total - 1e-9)
        if met >= need:
            return True
        if met + (total - done) < need:
            return False
        return None

    def evaluate(self, point: Point, phase: str = "search") -> Estimate:
        """Judge an option on the search replications (stopping once they decide it)."""
        if point not in self.search and len(self.search) >= self.max_evaluations:
            raise _BudgetSpent
        return self._judge(point, range(self.replications), self.search, True, phase)

    def confirm(self, point: Point, reps: Sequence[int], early: bool = True) -> Estimate:
        """Judge an option on the fresh replications; with ``early`` false, on all of them."""
        return self._judge(point, reps, self.confirm_estimates, early, "confirm")

    def _judge(self, point: Point, reps: Sequence[int], store: dict[Point, Estimate], early: bool,
               phase: str) -> Estimate:
        """Judge an option on ``reps`` taken in order; with the share rule and ``early``, stop at
        the first prefix of them that decides it (the same prefix whatever order they finish in)."""
        reps = list(reps)
        early = early and self.rule == "share"
        known = store.get(point)
        if known is not None and (early or known.n == len(reps)):
            return known
        done = met = 0

        def advance() -> bool:
            nonlocal done, met
            while done < len(reps) and (point, reps[done]) in self.cache:
                row = self.cache[point, reps[done]]
                met += all(t.met(row[t.kpi]) for t in self.targets)
                done += 1
            return done == len(reps) or (early and self._decided(met, done, len(reps)) is not None)

        if not advance():
            wanted = [(point, r) for r in reps if (point, r) not in self.cache]
            with closing(self._results(wanted)) as stored:
                for _ in stored:
                    if advance():
                        break  # decided: replications still in flight are cancelled
        est = self.estimate(point, reps[:done])
        store[point] = est
        if point not in self.order:
            self.order.append(point)
        self._report(f"{phase}: {self.describe(point)} -> "
                     f"{'meets' if self.feasible_estimate(est) else 'fails'} "
                     f"({est.p_meet:.0%} of {est.n})")
        return est

    def _report(self, note: str) -> None:
        if self.progress:
            self.progress(len(self.search), self.max_evaluations, note)

    # -- judging
    def feasible_estimate(self, est: Estimate) -> bool:
        """Whether an estimate meets the rule."""
        if est.n == 0:
            return False
        if self.rule == "share":
            return bool(est.met_all.sum() >= math.ceil(self.confidence * est.n - 1e-9))
        for t in self.targets:
            values = est.values[t.kpi]
            if np.isnan(values).any():
                return False
            _, low, high = _interval(values, t)
            if not t.met(low if t.sense == "higher" else high):
                return False
        return True

    def feasible(self, point: Point) -> bool:
        """The oracle: from an evaluation, or from monotonicity where that decides."""
        if point in self.search:
            return self.feasible_estimate(self.search[point])
        for other, est in self.search.items():
            above = all(a >= b for a, b in zip(point, other, strict=True))
            below = all(a <= b for a, b in zip(point, other, strict=True))
            ok = self.feasible_estimate(est)
            if (ok and above) or (not ok and below):
                self.inferred += 1
                return ok
        return self.feasible_estimate(self.evaluate(point))

    def score(self, est: Estimate, n: int | None = None) -> float:
        """The worst target's margin of the mean over the first ``n`` replications (higher is
        better; -inf where a KPI has no value)."""
        margins = []
        for t in self.targets:
            values = est.values[t.kpi][:n]
            margins.append(t.margin(float(np.nanmean(values))) if not np.isnan(values).all()
                           else -math.inf)
        return min(margins, default=0.0)

    def describe(self, point: Point) -> str:
        parts = [f"{lv.name} {lv.change(k):+g}" for lv, k in zip(self.levers, point, strict=True) if k]
        return ", ".join(parts) or "no change"


# ----------------------------------------------------------------------------------------- search


def _cheapest_not_ruled_out(weights: np.ndarray, costs: np.ndarray, lo: Sequence[int],
                            hi: Sequence[int], infeasible: Sequence[Point],
                            budget: float | None) -> Point | None:
    """The option of least weighted cost in the box that is not below any infeasible option (and
    within the budget), by mixed-integer programming; None when there is none."""
    d = len(lo)
    cuts: list[tuple[Point, list[int]]] = []
    for q in infeasible:
        if any(q[i] < lo[i] for i in range(d)):
            continue  # nothing in the box is below it
        coords = [i for i in range(d) if q[i] < hi[i]]
        if not coords:
            return None  # the whole box is below an infeasible option
        cuts.append((q, coords))
    nz = sum(len(c) for _, c in cuts)
    n = d + nz
    rows: list[np.ndarray] = []
    low_b: list[float] = []
    high_b: list[float] = []
    k = d
    for q, coords in cuts:
        members = []
        for i in coords:
            row = np.zeros(n)
            row[i], row[k] = 1.0, -(q[i] + 1 - lo[i])  # z = 1 -> x_i >= q_i + 1
            rows.append(row)
            low_b.append(lo[i])
            high_b.append(np.inf)
            members.append(k)
            k += 1
        row = np.zeros(n)
        row[members] = 1.0  # some lever exceeds q
        rows.append(row)
        low_b.append(1.0)
        high_b.append(np.inf)
    if budget is not None:
        rows.append(np.concatenate([costs, np.zeros(nz)]))
        low_b.append(-np.inf)
        high_b.append(budget + 1e-6 * max(1.0, budget))
    scale = float(np.max(weights)) or 1.0
    objective = np.concatenate([weights / scale, np.zeros(nz)])
    bounds = Bounds(np.concatenate([lo, np.zeros(nz)]), np.concatenate([hi, np.ones(nz)]))
    constraints = LinearConstraint(np.array(rows), low_b, high_b) if rows else ()
    result = milp(objective, integrality=np.ones(n), bounds=bounds, constraints=constraints,
                  options={"mip_rel_gap": 0.0})
    if result.status != 0 or result.x is None:
        return None
    return tuple(round(float(v)) for v in result.x[:d])


def _least_true(lo: int, hi: int, test: Callable[[int], bool]) -> int:
    """The least ``k`` in ``[lo, hi]`` with ``test(k)`` true, for a ``test`` false then true that
    is taken true at ``hi``: galloping up from ``lo`` (probing lo, lo+1, lo+3, lo+7, ...: the
    answer is usually near today's level), then :func:`bisect.bisect_left` within the bracket."""
    below, k, gap = lo - 1, lo, 1
    while k < hi and not test(k):
        below, k, gap = k, min(hi, k + gap), 2 * gap
    return below + 1 + bisect.bisect_left(range(below + 1, k), True, key=test)


@dataclass
class _Outcome:
    best: Point | None
    optimal: bool
    lower_bound: Point | None
    budget_spent: bool = False


def _search(ev: _Evaluator, budget: float | None) -> _Outcome:
    levers = ev.levers
    d = len(levers)
    lo = [lv.low for lv in levers]
    hi = [lv.high for lv in levers]
    costs = np.array([lv.cost_per_step for lv in levers])
    positive = costs[costs > 0]
    span = sum(high - low for low, high in zip(lo, hi, strict=True)) + 1
    tie = 1e-6 * (positive.min() if len(positive) else 1.0) / span
    weights = costs + (tie if len(positive) else 1.0)

    def cost(p: Point) -> float:
        return float(np.dot(costs, p))

    def weight(p: Point) -> float:
        return float(np.dot(weights, p))

    def affordable(p: Point) -> bool:
        return budget is None or cost(p) <= budget + 1e-6 * max(1.0, budget)

    def known_feasible() -> list[Point]:
        return sorted((p for p, e in ev.search.items() if ev.feasible_estimate(e) and affordable(p)),
                      key=weight)

    best: Point | None = None
    bound: Point | None = None
    try:
        top, bottom = tuple(hi), tuple(lo)
        ev.evaluate(top, "largest option")
        if bottom != top:
            ev.evaluate(bottom, "today's staffing")
        if not ev.feasible(top):
            return _Outcome(None, True, None)
        if ev.feasible(bottom) and affordable(bottom):
            return _Outcome(bottom, True, bottom)
        corner = list(lo)
        for i in range(d):
            if lo[i] == hi[i]:
                continue

            def key(k: int, i: int = i) -> bool:
                return ev.feasible((*hi[:i], k, *hi[i + 1:]))

            corner[i] = _least_true(lo[i], hi[i], key)
        low = tuple(corner)
        if ev.feasible(low):
            return _Outcome(low if affordable(low) else None, True, low)
        x = _greedy_ascent(ev, low, weights)
        for i in sorted(range(d), key=lambda j: -costs[j]):  # then down, the costliest step first
            if x[i] == corner[i]:
                continue

            def down(k: int, i: int = i) -> bool:
                return ev.feasible((*x[:i], k, *x[i + 1:]))

            x[i] = _least_true(corner[i], x[i], down)
        found = known_feasible()
        best = found[0] if found else None
        limit = len(ev.search) + PROOF_EVALUATIONS_PER_LEVER * d
        while len(ev.search) < limit:
            infeasible = [p for p, e in ev.search.items() if not ev.feasible_estimate(e)]
            infeasible = [q for q in infeasible  # only the maximal ones cut anything
                          if not any(r != q and all(a <= b for a, b in zip(q, r, strict=True))
                                     for r in infeasible)]
            candidate = _cheapest_not_ruled_out(weights, costs, corner, hi, infeasible, budget)
            if candidate is None:
                return _Outcome(best, True, best)
            bound = candidate
            if best is not None and weight(candidate) >= weight(best) - 0.5 * tie:
                return _Outcome(best, True, best)
            if ev.feasible(candidate):
                found = known_feasible()
                return _Outcome(found[0] if found else candidate, True, candidate)
        return _Outcome(best, False, bound)
    except _BudgetSpent:
        found = known_feasible()
        return _Outcome(found[0] if found else best, False, bound, budget_spent=True)


def _greedy_ascent(ev: _Evaluator, start: Point, weights: np.ndarray) -> list[int]:
    """From an infeasible option, climb until feasible: each round evaluates a coarse step up in
    each lever (about an eighth of its range left; in all of them at once when none helps
    alone, as with complements), and takes the feasible one that costs least,
    or else the one that improves the worst target's margin most for its cost, compared on the
    replications both were judged on (common random numbers make that difference precise)."""
    levers = ev.levers
    x = list(start)
    hi = [lv.high for lv in levers]
    size = [max(1, (h - s) // 8) for h, s in zip(hi, start, strict=True)]
    while True:
        here = ev.evaluate(tuple(x))
        ups: dict[int, Point] = {i: (*x[:i], min(hi[i], x[i] + size[i]), *x[i + 1:])
                                 for i in range(len(levers)) if x[i] < hi[i]}
        if not ups:
            return x  # every lever at its bound: the largest option, feasible
        feasible = [p for p in ups.values() if ev.feasible(p)]
        if feasible:
            return list(min(feasible, key=lambda p: float(np.dot(weights, p))))
        estimates = {i: ev.evaluate(p) for i, p in ups.items()}
        if len(ups) > 1 and all(ev.score(e, min(here.n, e.n)) <= ev.score(here, min(here.n, e.n))
                                for e in estimates.values()):
            # no lever helps alone: complements (a joint step) need them all at once
            ups[-1] = tuple(min(h, v + z) for h, v, z in zip(hi, x, size, strict=True))
            if ev.feasible(ups[-1]):
                return list(ups[-1])
            estimates[-1] = ev.evaluate(ups[-1])

        def gain(i: int, here: Estimate = here, estimates: dict[int, Estimate] = estimates,
                 x: list[int] = x, ups: dict[int, Point] = ups) -> tuple[bool, float, float]:
            n = min(here.n, estimates[i].n)
            step = ev.score(estimates[i], n) - ev.score(here, n)
            return step > 0, step / max(float(np.dot(weights, ups[i])) - float(np.dot(weights, x)),
                                        1e-12), step

        x = list(ups[max(ups, key=gain)])


def _violations(ev: _Evaluator) -> list[tuple[Point, Point, str]]:
    """Pairs of evaluated options, one at least the other in every lever, where the larger is
    worse: infeasible above a feasible one with the replications meeting the targets below and not
    above significantly outnumbering the reverse (a sign test at 5%), or a target KPI's paired
    mean worse beyond its 95% CI and by 0.5% of the threshold."""
    out = []
    items = list(ev.search.items())
    for (p, ep), (q, eq) in itertools.permutations(items, 2):
        if p == q or not all(a <= b for a, b in zip(p, q, strict=True)):
            continue
        n = min(ep.n, eq.n)
        if ev.feasible_estimate(ep) and not ev.feasible_estimate(eq) and n:
            # on the replications both ran: met below and not above, against the reverse; one
            # replication either way at the boundary is noise, so only a sign test flags it
            small, large = ep.met_all[:n], eq.met_all[:n]
            worse, better = int((small & ~large).sum()), int((~small & large).sum())
            if worse and stats.binomtest(worse, worse + better, 0.5,
                                         alternative="greater").pvalue < 0.05:
                out.append((p, q, f"met below, not above, in {worse} of {n} replications"))
                continue
        if n < 3:
            continue
        for t in ev.targets:
            a, b = ep.values[t.kpi][:n], eq.values[t.kpi][:n]
            keep = ~(np.isnan(a) | np.isnan(b))
            if keep.sum() < 3:
                continue
            gain = (b - a)[keep] if t.sense == "higher" else (a - b)[keep]
            mean, _, high, _ = mean_ci(gain)
            material = 0.005 * abs(t.value) if t.value else 0.5  # not a rounding-sized wobble
            if high < 0 and mean < -material:
                out.append((p, q, f"{t.kpi} worse with more staff ({mean:+.3g} paired)"))
    return out


def _probe_above(ev: _Evaluator, point: Point) -> None:
    """Evaluate an option and each option one step above it in one lever on every search
    replication, so that :func:`_violations` can compare them pairwise (the check of monotonicity
    where it matters: at the option about to be recommended)."""
    reps = range(ev.replications)
    ev._judge(point, reps, ev.search, False, "monotonicity check")
    for i, lever in enumerate(ev.levers):
        if point[i] < lever.high:
            ev._judge((*point[:i], point[i] + 1, *point[i + 1:]), reps, ev.search, False,
                      "monotonicity check")


def _descend_neighbours(ev: _Evaluator, point: Point, budget: float | None) -> Point:
    """Move down one lever step at a time, by evaluation (not inference), while still feasible."""
    current = point
    while True:
        options = []
        for i, lever in enumerate(ev.levers):
            if current[i] > lever.low:
                lower = (*current[:i], current[i] - 1, *current[i + 1:])
                try:
                    est = ev.evaluate(lower, "neighbour check")
                except _BudgetSpent:
                    return current
                if ev.feasible_estimate(est):
                    options.append(lower)
        if not options:
            return current
        current = min(options, key=lambda p: float(np.dot([lv.cost_per_step for lv in ev.levers], p)))


# ------------------------------------------------------------------------------------------ plan


@dataclass
class Plan:
    """The outcome of :func:`plan`.

    Attributes
    ----------
    feasible
        Whether an option within the bounds (and budget) meets every target with the stated
        confidence on the confirmation replications.
    options
        Every option evaluated, one row per option and phase (``search``: the search's
        replications; ``confirm``: fresh ones): each lever's change, ``added_cost_gbp`` (a year),
        ``annual_cost_gbp`` (every post in force on the date plus the plan's outsourcing, a year),
        each target KPI's mean and 95% CI and share of replications meeting it, ``p_meet`` (all
        targets) with its Wilson 95% interval, ``feasible``, ``non_monotone``, ``frontier`` and
        ``recommended``.
    recommendation
        The recommended option's row (the best option found when infeasible), from its
        confirmation replications.
    frontier
        Options not bettered on the first target's KPI by any cheaper or equally cheap option.
    changes
        The recommended change of each lever (in its unit).
    scenario
        The recommended option's scenario.
    overrides
        What the recommended scenario sets over the input (``capacity_changes``, ``outsourcing``,
        ``reporting``): the body of ``recommended.yaml`` under ``extends:``.
    optimal
        Whether no cheaper option can meet the targets, assuming monotonicity (false when the
        evaluation budget stopped the search).
    cost_lower_bound
        A cost below which no option meets the targets, assuming monotonicity.
    warnings
        Non-monotone options found, an unconfirmed result, a spent budget.
    """

    feasible: bool
    options: pd.DataFrame
    recommendation: pd.DataFrame
    frontier: pd.DataFrame
    levers: tuple[Lever, ...]
    targets: tuple[Target, ...]
    changes: dict[str, float]
    scenario: Scenario
    overrides: dict[str, Any]
    from_date: dt.date
    by_date: dt.date
    confidence: float
    rule: Rule
    optimal: bool
    cost_lower_bound: float
    evaluations: int
    replications_run: int
    wall_seconds: float
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def added_cost(self) -> float:
        """Extra annual cost of the recommendation (GBP a year)."""
        return float(self.recommendation["added_cost_gbp"].iloc[0])

    def summary(self) -> str:
        """The plan in plain words (what the command prints)."""
        row = self.recommendation.iloc[0]
        steps = [round(float(row[f"{lv.name} steps"])) for lv in self.levers]
        funded = [lv.words(k) for lv, k in zip(self.levers, steps, strict=True) if k]
        cost = f"GBP {self.added_cost / 1000:,.0f}k a year" if self.added_cost >= 1000 else \
            f"GBP {self.added_cost:,.0f} a year"
        kpis = "; ".join(self._kpi_words(t, row) for t in self.targets)
        low, high = row["p_meet_ci_low"], row["p_meet_ci_high"]
        odds = (f"the target{'s are' if len(self.targets) > 1 else ' is'} met in {row['p_meet']:.0%} "
                f"[{low:.0%}-{high:.0%}] of {int(row['replications'])} fresh replications")
        rule = (f"at least {self.confidence:.0%} of replications" if self.rule == "share"
                else "the 95% confidence interval of each target")
        if not self.feasible:
            what = " and ".join(funded) or "today's staffing"
            lines = [f"No option within the bounds{' and budget' if self.settings.get('budget') else ''} "
                     f"meets the target{'s' if len(self.targets) > 1 else ''} ({rule}). "
                     f"The best found: {what} from {_month(self.from_date)} ({cost}); {kpis}; {odds}."]
        elif not funded:
            lines = [f"No extra staff is needed: today's staffing meets the target"
                     f"{'s' if len(self.targets) > 1 else ''}; {kpis}; {odds}."]
        else:
            lines = [f"Fund {' and '.join(funded)} from {_month(self.from_date)}: {cost}; {kpis}; {odds}."]
        if self.feasible and not self.optimal:
            why = ("the option the search chose did not hold on fresh replications, so the "
                   "recommendation is above it" if self.settings.get("moved_on_fresh")
                   else "the search stopped before it could rule them out")
            lines.append(f"Not proved cheapest: options down to GBP {self.cost_lower_bound:,.0f} a "
                         f"year may also meet the targets ({why}).")
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _kpi_words(self, target: Target, row: pd.Series) -> str:
        mean, low, high = row[target.kpi], row[f"{target.kpi} ci_low"], row[f"{target.kpi} ci_high"]
        definition = target.definition
        if definition.unit == "share":
            shown = f"{mean:.0%} [{low:.0%}-{high:.0%}]"
        else:
            shown = f"{mean:,.3g} [{low:,.3g}-{high:,.3g}] {definition.unit}"
        if target.cohort and definition.unit == "share":
            what = kpi_label(target.kpi)
            what = what[0].lower() + what[1:]
            return f"{shown} of referrals from {_month(self.by_date)}: {what}"
        if target.cohort:
            return f"{kpi_label(target.kpi).lower()}, referrals from {_month(self.by_date)}: {shown}"
        if target.date is not None:
            base = definition.label.lower()
            return f"{base} on {target.date.day} {target.date.strftime('%B %Y')}: {shown}"
        return f"{kpi_label(target.kpi).lower()}: {shown}"

    def to_yaml(self, extends: str | None = None) -> str:
        """The recommended scenario as YAML: the overrides under ``extends:`` the input file, or
        the whole scenario when there is no file to extend."""
        head = (f"# Recommended by asdsim plan: {'; '.join(t.describe() for t in self.targets)}, "
                f"from {self.from_date}, {self.confidence:.0%} confidence ({self.rule}).\n"
                "# capacity_changes and outsourcing are the whole lists (lists replace those of the\n"
                "# base file); reporting measures the targets as the plan did.\n")
        if extends is None:
            return head + scenario_to_yaml(self.scenario)
        body = {"extends": extends, "name": self.scenario.name,
                "description": self.scenario.description, **self.overrides}
        return head + yaml.safe_dump(_plain(body), sort_keys=False, allow_unicode=True)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


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
        if t.date is not None and not first <= t.date <= last:
            raise PlanError(f"target {t.text!r}: {t.date} is outside the horizon {first} to {last}")


def plan(scenario: Scenario | str | Path, targets: Sequence[str | Target] | str,
         from_date: dt.date | str, by_date: dt.date | str | None = None,
         vary: Sequence[str] | str = (), team: str | None = None,
         outsourcing: Outsourcing | Mapping[str, Any] | None = None, confidence: float = 0.8,
         confidence_rule: Rule = "share", budget: float | None = None, replications: int = 10,
         seed: int = DEFAULT_SEED, backend: Backend | None = None, progress: Progress | None = None,
         *, bounds: Mapping[str, tuple[float, float]] | None = None,
         step: float | Mapping[str, float] | None = None, confirm_replications: int | None = None,
         max_evaluations: int = 60, check_monotone: bool = True) -> Plan:
    """The least-cost staffing that meets every target with the stated confidence.

    Parameters
    ----------
    scenario
        A scenario, or the path of a scenario file.
    targets
        Target strings (all must hold): ``"assessment_started_within_3_months >= 0.9"``,
        ``"waiting_over_52_weeks == 0 by 2026-03-31"``, ``"backlog_cleared_weeks <= 52"``.
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
    start = _date(from_date, "--from")
    if start is None:
        raise PlanError("--from is required: the date the changes start")
    by = _date(by_date, "--by") or start
    parsed = parse_targets(targets, by)
    if confidence_rule not in ("share", "lower_ci"):
        raise PlanError(f"confidence_rule must be 'share' or 'lower_ci', not {confidence_rule!r}")
    if not 0 < confidence <= 1:
        raise PlanError(f"confidence must be above 0 and at most 1, got {confidence!r}")
    if replications < (2 if confidence_rule == "lower_ci" else 1):
        raise PlanError(f"replications must be at least {2 if confidence_rule == 'lower_ci' else 1}")
    confirm = confirm_replications if confirm_replications is not None else 3 * replications
    if confirm < (2 if confidence_rule == "lower_ci" else 1):
        raise PlanError("confirm_replications must be at least 2")
    if max_evaluations < 2:
        raise PlanError("max_evaluations must be at least 2")
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        raise PlanError(f"the budget must be a number of GBP >= 0, got {budget!r}")
    _check_dates(scenario, parsed, start, by)
    levers = make_levers(scenario, vary, start, team, bounds, step, outsourcing)
    base_data = _base_data(scenario, parsed, by)
    scenario_from_dict(base_data, name=scenario.name)  # the reporting dates are valid
    ev = _Evaluator(scenario, base_data, levers, parsed, start, seed, replications, confidence,
                    confidence_rule, backend or Backend(), progress, max_evaluations)

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
        warnings.append(f"the search stopped after {max_evaluations} evaluations (max_evaluations)")

    costs = np.array([lv.cost_per_step for lv in levers])
    fresh = list(range(replications, replications + confirm))
    recommended, feasible = _confirm(ev, chosen, fresh, budget, costs)
    if chosen is not None and not feasible:
        warnings.append("the option chosen by the search did not meet the targets on fresh "
                        "replications, nor did the options one step above it")
    # the proof is of the search's choice: one changed by the fresh replications is not proved
    moved = chosen is not None and recommended != chosen
    outcome.optimal = outcome.optimal and recommended == outcome.best
    result = _build(ev, recommended, feasible, outcome, warnings, scenario, start, by, budget,
                    confirm, started)
    result.settings["moved_on_fresh"] = moved
    return result


def _confirm(ev: _Evaluator, chosen: Point | None, fresh: Sequence[int], budget: float | None,
             costs: np.ndarray) -> tuple[Point, bool]:
    """Re-run the final candidates on fresh replications and pick the cheapest that meets the rule
    there: the search's choice and the cheaper near misses, cheapest first; failing those, climb
    from the choice one step at a time, each time along the lever that improves the worst target
    most for its cost (greedy on cost per improvement)."""

    def cost(p: Point) -> float:
        return float(np.dot(costs, p))

    def affordable(p: Point) -> bool:
        return budget is None or cost(p) <= budget + 1e-6 * max(1.0, budget)

    def worst_margin(est: Estimate, n: int | None = None) -> float:
        margins = []
        for t in ev.targets:
            values = est.values[t.kpi][:n]
            margins.append(t.margin(float(np.nanmean(values))) if not np.isnan(values).all()
                           else -math.inf)
        return min(margins)

    def score(p: Point, est: Estimate) -> tuple[float, float, float, float]:
        """Share meeting every target, then meeting each (on average), then the worst target's
        margin of the mean, then cheapness."""
        each = float(np.mean([m.mean() for m in est.met.values()])) if est.met and est.n else 0.0
        return est.p_meet, each, worst_margin(est), -cost(p)

    def finish(point: Point, ok: bool) -> tuple[Point, bool]:
        ev.confirm(point, fresh, early=False)  # every fresh replication, for the figures reported
        return point, ok

    if chosen is None:  # infeasible: the best option found, on fresh replications
        pool = [p for p in ev.search if affordable(p)] or list(ev.search)
        return finish(max(pool, key=lambda p: score(p, ev.search[p])), False)
    near = [p for p, e in ev.search.items()
            if not ev.feasible_estimate(e) and cost(p) < cost(chosen) and affordable(p)
            and e.p_meet >= ev.confidence - NEAR_MISS]
    for point in sorted([*sorted(near, key=cost)[-2:], chosen], key=cost):
        if ev.feasible_estimate(ev.confirm(point, fresh)):
            return finish(point, True)
    current = chosen
    for _ in range(MAX_CLIMBS):
        ups = [(*current[:i], current[i] + 1, *current[i + 1:]) for i, lv in enumerate(ev.levers)
               if current[i] < lv.high]
        ups = [p for p in ups if affordable(p)]
        if not ups:
            break
        estimates = {p: ev.confirm(p, fresh) for p in ups}
        good = [p for p, e in estimates.items() if ev.feasible_estimate(e)]
        if good:
            return finish(min(good, key=cost), True)
        here = ev.confirm(current, fresh, early=False)

        def gain(p: Point, here: Estimate = here, ups: dict[Point, Estimate] = estimates,
                 base: float = cost(current)) -> tuple[bool, float, float]:
            n = min(here.n, ups[p].n)
            step = worst_margin(ups[p], n) - worst_margin(here, n)
            return step > 0, step / max(cost(p) - base, 1e-9), step

        current = max(ups, key=gain)
    best = max(ev.confirm_estimates, key=lambda p: score(p, ev.confirm_estimates[p]))
    return finish(best, False)


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
            total += (_in_force(scenario, name, "wte", group, on) * staff.autism_share
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
    base_cost = _base_cost(scenario, start)
    flagged = {p for pair in _violations(ev) for p in pair[:2]}
    rows = []
    ids = {p: i for i, p in enumerate(ev.order)}
    for phase, table in (("search", ev.search), ("confirm", ev.confirm_estimates)):
        for point, est in table.items():
            row = {"option": ids[point], **_row(ev, est, phase, base_cost)}
            row["non_monotone"] = point in flagged
            row["recommended"] = phase == "confirm" and point == recommended
            rows.append(row)
    options = pd.DataFrame(rows).sort_values(["option", "phase"], ascending=[True, False],
                                             kind="stable").reset_index(drop=True)
    options["frontier"] = _frontier(options, ev.targets[0])
    recommendation = options[options["recommended"]].reset_index(drop=True)
    frontier = options[options["frontier"]].sort_values("added_cost_gbp", kind="stable")
    frontier = frontier.reset_index(drop=True)
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
    lower = outcome.lower_bound
    costs = [lv.cost_per_step for lv in ev.levers]
    return Plan(
        feasible=feasible, options=options, recommendation=recommendation, frontier=frontier,
        levers=tuple(ev.levers), targets=tuple(ev.targets),
        changes={lv.name: lv.change(k) for lv, k in zip(ev.levers, recommended, strict=True)},
        scenario=chosen, overrides=overrides, from_date=start, by_date=by,
        confidence=ev.confidence, rule=ev.rule, optimal=outcome.optimal and feasible,
        cost_lower_bound=float(np.dot(costs, lower)) if lower is not None else math.nan,
        evaluations=len(ev.search), replications_run=ev.replications_run,
        wall_seconds=round(time.perf_counter() - started, 3),
        settings={"seed": ev.seed, "replications": ev.replications, "confirm_replications": confirm,
                  "max_evaluations": ev.max_evaluations, "budget": budget,
                  "inferred": ev.inferred, "backend": ev.backend.describe()},
        warnings=warnings)


# --------------------------------------------------------------------------------- checking a plan


def assess(scenario: Scenario, targets: Sequence[str | Target] | str, replications: int = 10,
           seed: int = DEFAULT_SEED, backend: Backend | None = None,
           by_date: dt.date | str | None = None) -> pd.DataFrame:
    """Each target's mean, 95% CI and share of replications meeting it, for a scenario as it is.

    ``by_date`` sets the cohort and the date of counts at a date as :func:`plan` does; without
    it the scenario's own ``reporting`` is used (a recommended scenario carries the plan's).
    """
    by = _date(by_date, "by_date")
    parsed = parse_targets(targets, by)
    data = _base_data(scenario, parsed, by) if by is not None else scenario.model_dump(mode="json")
    prepared = scenario_from_dict(data, name=scenario.name)
    levers: list[Lever] = []
    ev = _Evaluator(prepared, data, levers, parsed, scenario.start_date, seed, replications, 1.0,
                    "share", backend or Backend(), None, 1)
    ev.scenarios[()] = prepared
    est = ev.confirm((), range(replications), early=False)
    rows = []
    for t in parsed:
        mean, low, high = _interval(est.values[t.kpi], t)
        rows.append({"target": t.describe(), "kpi": t.kpi, "mean": mean, "ci_low": low, "ci_high": high,
                     "met_share": float(est.met[t.kpi].mean())})
    met = int(est.met_all.sum())
    low, high = wilson(met, est.n)
    rows.append({"target": "all", "kpi": "", "mean": math.nan, "ci_low": low, "ci_high": high,
                 "met_share": met / est.n})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------- outputs


def write_plan(result: Plan, out: str | Path, scenario_path: str | Path | None = None,
               force: bool = False, command: Sequence[str] | None = None) -> Path:
    """Write ``plan.csv``, ``recommended.yaml``, ``plan.png`` and ``provenance.json`` into a folder.

    The folder is written beside ``out`` and renamed into place at the end; ``force`` replaces
    only an earlier results folder, never one holding the input scenario. ``recommended.yaml``
    ``extends:`` the input scenario file (by a path relative to the folder) when ``scenario_path``
    is given, and is checked to load back to the recommended scenario.

    Raises
    ------
    asdsim.reporting.outputs.OutputExists
        When ``out`` is not empty and ``force`` is false.
    """
    from asdsim import __version__
    from asdsim.reporting.outputs import atomic_folder
    from asdsim.reporting.plan_chart import plan_chart
    from asdsim.spreadsheet import write_csv

    out = Path(out)
    extends = None
    if scenario_path is not None:
        extends = os.path.relpath(Path(scenario_path).resolve(), out.resolve().parent / out.name)
    inputs = [scenario_path] if scenario_path is not None else []
    with atomic_folder(out, force, inputs) as folder:
        write_csv(result.options, folder / "plan.csv")
        text = result.to_yaml(Path(extends).as_posix() if extends else None)
        (folder / "recommended.yaml").write_text(text, encoding="utf-8")
        loaded = load_scenario(folder / "recommended.yaml")
        if scenario_hash(loaded) != scenario_hash(result.scenario):
            mine, theirs = result.scenario.model_dump(mode="json"), loaded.model_dump(mode="json")
            differ = sorted(k for k in mine if mine.get(k) != theirs.get(k))
            raise PlanError(f"recommended.yaml does not load back to the recommended scenario "
                            f"(it differs in {', '.join(differ) or 'its CSV snapshot'})")
        figure = plan_chart(result.options, [(t.kpi, t.value, t.sense) for t in result.targets],
                            title=f"{result.scenario.name}: cost and targets")
        figure.savefig(folder / "plan.png", dpi=110)
        provenance = {
            "asdsim_version": __version__, "command": list(command or []),
            "targets": [t.describe() for t in result.targets], "from": str(result.from_date),
            "by": str(result.by_date), "confidence": result.confidence, "rule": result.rule,
            "feasible": result.feasible, "optimal": result.optimal, "changes": result.changes,
            "added_cost_gbp": result.added_cost, "cost_lower_bound_gbp": result.cost_lower_bound,
            "evaluations": result.evaluations, "replications_run": result.replications_run,
            "wall_seconds": result.wall_seconds, "warnings": result.warnings, **result.settings,
            "levers": [{"name": lv.name, "base": lv.base, "step": lv.step, "low": lv.change(lv.low),
                        "high": lv.change(lv.high), "cost_per_step_gbp": lv.cost_per_step}
                       for lv in result.levers],
        }
        (folder / "provenance.json").write_text(json.dumps(provenance, indent=2, default=str),
                                                encoding="utf-8")
    return out
