"""Judging options by simulation: replications run through a backend and cached by (option,
replication), each option's estimate, and the feasibility oracle with its confidence rule.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from asdsim.analysis.kpis import per_replication_kpis
from asdsim.analysis.standard import (
    judged_quarters,
    met_from,
    quarter_kpi,
    quarter_of,
    surely_met_from,
    worst_from,
)
from asdsim.analysis.stats import mean_ci
from asdsim.experiments.backends import Backend, TaskFailed
from asdsim.experiments.plan.levers import Lever, PlanError, Point, option_data
from asdsim.experiments.runner import run_drawn_replication, run_replication
from asdsim.experiments.targets import Target
from asdsim.scenario import Scenario, scenario_from_dict

Rule = Literal["share", "lower_ci"]
Progress = Callable[[int, int, str], None]
"""``progress(evaluations done, evaluation budget, note)``."""

SHARE_EXTRAS = ("funded_cost_per_year", "cost_outsourced")
"""KPIs kept for every option besides the targets (for the table)."""


# ------------------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class _Task:
    """One replication of one option: what a worker needs."""

    point: Point
    replication: int
    scenario: Scenario
    seed: int
    kpis: tuple[str, ...]
    drawn: bool = False
    """Whether the replication draws the scenario's uncertain inputs (the same draw for every
    option: it depends only on the seed, the replication and the input)."""


def _run_task(task: _Task) -> tuple[dict[str, float], tuple[str, ...]]:
    """Run one replication and keep only the KPIs asked for (in a worker); also the names of those
    the run did not produce, with the names it did produce for their base."""
    run = run_drawn_replication if task.drawn else run_replication
    record = run(task.scenario, task.seed, task.replication)
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
                 max_evaluations: int, by: dt.date | None = None):
        self.scenario, self.base_data, self.levers, self.targets = scenario, base_data, levers, targets
        self.on, self.seed, self.replications = on, seed, replications
        self.confidence, self.rule, self.backend, self.progress = confidence, rule, backend, progress
        self.max_evaluations = max_evaluations
        by_quarter = next((t.quarter for t in targets if t.standard), None) or quarter_of(by or on)
        self.quarters = {t.kpi: judged_quarters(scenario, t.quarter or "") for t in targets if t.standard}
        self.shown_quarters = judged_quarters(scenario, by_quarter)
        """The quarters whose shares the table shows: from the standard's first quarter, or the
        quarter of ``by``."""
        quarter_kpis = [quarter_kpi(q) for q in (*self.shown_quarters, *itertools.chain(
            *self.quarters.values()))]
        self.measured = tuple(dict.fromkeys([*(t.kpi for t in targets if not t.standard),
                                             *quarter_kpis, *SHARE_EXTRAS]))
        """The KPIs a replication reports."""
        self.kpis = self.measured + tuple(t.kpi for t in targets if t.standard)
        """The KPIs kept for each replication: those measured and each NICE standard target's
        worst quarter (:func:`asdsim.analysis.standard.worst_from`)."""
        self.cache: dict[tuple[Point, int], dict[str, float]] = {}
        self.scenarios: dict[Point, Scenario] = {}
        self.search: dict[Point, Estimate] = {}
        self.confirm_estimates: dict[Point, Estimate] = {}
        self.order: list[Point] = []
        self.replications_run = 0
        self.inferred = 0
        self.drawn = False

    # -- running
    def scenario_of(self, point: Point) -> Scenario:
        if point not in self.scenarios:
            data = option_data(self.base_data, self.levers, point, self.on, self.scenario)
            self.scenarios[point] = scenario_from_dict(data, name=f"option {point}")
        return self.scenarios[point]

    def _tasks(self, wanted: Sequence[tuple[Point, int]]) -> Iterator[_Task]:
        for point, r in wanted:
            yield _Task(point, r, self.scenario_of(point), self.seed, self.measured, self.drawn)

    def _results(self, wanted: Sequence[tuple[Point, int]]) -> Iterator[tuple[Point, int]]:
        """Run the replications not cached; yield each ``(point, replication)`` as it is stored."""
        try:
            with closing(self.backend.map_unordered(_run_task, self._tasks(wanted))) as results:
                for task, (values, missing) in results:
                    if missing:
                        raise PlanError(self._missing_message(missing))
                    self.cache[task.point, task.replication] = self._with_standard(values)
                    self.replications_run += 1
                    yield task.point, task.replication
        except TaskFailed as exc:  # the error itself, as if the replication ran here
            raise exc.__cause__ from None  # type: ignore[misc]

    def _with_standard(self, values: dict[str, float]) -> dict[str, float]:
        """A replication's KPIs with each NICE standard target's value: its worst quarter."""
        out = dict(values)
        for t in self.targets:
            if t.standard:
                out[t.kpi] = worst_from({q: values[quarter_kpi(q)] for q in self.quarters[t.kpi]},
                                        t.quarter or "")
        return out

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
            # the NICE standard also needs each quarter's mean, which the rest can still move
            return None if any(t.standard for t in self.targets) else True
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
            return bool(est.met_all.sum() >= math.ceil(self.confidence * est.n - 1e-9)) and all(
                met_from(self._quarter_stat(est, t, 0), t.quarter or "", t.value)
                for t in self.targets if t.standard)
        for t in self.targets:
            if t.standard:  # each quarter's interval, as the report's "with 95% confidence"
                if not surely_met_from(self._quarter_stat(est, t, 1), t.quarter or "", t.value):
                    return False
                continue
            values = est.values[t.kpi]
            if np.isnan(values).any():
                return False
            _, low, high = _interval(values, t)
            if not t.met(low if t.sense == "higher" else high):
                return False
        return True

    def _quarter_stat(self, est: Estimate, target: Target, which: int) -> dict[str, float]:
        """Each judged quarter's mean (``which`` 0) or lower 95% bound (1) over an estimate's
        replications, as the report's KPI table has them."""
        out = {}
        for q in self.quarters[target.kpi]:
            values = est.values[quarter_kpi(q)]
            if not np.isnan(values).all():
                out[q] = mean_ci(values)[which]
        return out

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
