"""Money across areas: ``asdsim plan --areas``.

Two questions about a set of areas (:mod:`asdsim.experiments.areas`):

* **The least total cost to meet a target in every area by a date** (:func:`plan_every_area`):
  each area's own least-cost plan (:func:`asdsim.experiments.plan.plan`, with the same targets,
  levers, seed and replications), and their sum. Areas do not share staff, so the least total is
  the sum of the least per area.
* **The split of a fixed budget** (:func:`allocate`) across areas and staff groups that maximises
  the children who start assessment within 3 months (``started_within_3_months_count``: children
  referred from ``by`` whose 3-month window closed within the run). Greedy by marginal gain per
  pound: every area starts at today's staffing; each round, for each area and lever, the extra
  children one more step buys (the paired mean over replications of the option one step up less
  the area's current option, under common random numbers: the same seed and replications) is
  divided by the step's annual cost; the best affordable step with a positive gain is bought, and
  only the area that moved is evaluated again. Equal gains per pound go to the area with less
  spent so far, then to the earlier row, so identical areas split a budget equally. It stops when
  no affordable step gains anything, and reports what is left. Where each lever has diminishing
  returns (the usual case: one more clinician helps a long list more than a short one) the greedy
  split is optimal up to one step (the classic result for separable concave allocation); where
  a step helps only with another (complements: the two professions of a joint step), the step
  that moves every lever together is a candidate too, priced at the sum, as ``plan``'s climb
  does; a gain that needs two steps of one lever before it shows can still be missed, which a
  larger ``step`` avoids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asdsim.analysis.kpis import per_replication_kpis
from asdsim.analysis.stats import mean_ci
from asdsim.errors import AsdsimError
from asdsim.experiments.areas import Area, AreaSet, end_label
from asdsim.experiments.backends import Backend, TaskFailed
from asdsim.experiments.plan import Lever, Plan, make_levers, option_data, plan
from asdsim.experiments.runner import DEFAULT_SEED, run_replication
from asdsim.scenario import Scenario, scenario_from_dict

GAIN_KPI = "started_within_3_months_count"
"""What a step buys by default: children referred from ``by`` whose assessment started within 3
months."""
OBJECTIVES = {
    "started_within_3_months": "more children started within 3 months",
    "waiting_over_52_weeks": "fewer children waiting over 52 weeks at the end",
}
"""What a budget can be split to maximise, and what its gain counts, in words."""
Progress = Callable[[int, str], None]
"""``progress(options evaluated, note)``."""


class AllocationError(AsdsimError):
    """An allocation cannot be set up as asked."""


# ------------------------------------------------------------------ the least cost, area by area


def plan_every_area(areas: AreaSet, targets: Sequence[str] | str, from_date: dt.date | str,
                    by_date: dt.date | str | None = None, progress: Callable[[int, int, str], None]
                    | None = None, **options: Any) -> tuple[pd.DataFrame, dict[str, Plan]]:
    """Each area's least-cost plan for the same targets, and the total.

    Parameters
    ----------
    areas
        The areas.
    targets, from_date, by_date
        As :func:`asdsim.experiments.plan.plan` takes them.
    progress
        Called as ``progress(areas done, areas, area name)``.
    **options
        Passed to :func:`~asdsim.experiments.plan.plan` (``vary``, ``team``, ``replications``,
        ``seed``, ``backend``, ``bounds``, ``step``, ...), the same for every area.

    Returns
    -------
    tuple
        A table, one row an area: ``area, feasible, added_cost_gbp`` and each lever's change;
        and each area's :class:`~asdsim.experiments.plan.Plan`, by name.
    """
    plans: dict[str, Plan] = {}
    rows = []
    for i, area in enumerate(areas.areas):
        result = plan(area.scenario, targets, from_date, by_date, **options)
        plans[area.name] = result
        row: dict[str, Any] = {"area": area.name, "feasible": result.feasible,
                               "optimal": result.optimal, "added_cost_gbp": result.added_cost}
        row.update({name: change for name, change in result.changes.items()})
        row["p_meet"] = float(result.recommendation["p_meet"].iloc[0])
        rows.append(row)
        if progress:
            progress(i + 1, len(areas.areas), area.name)
    return pd.DataFrame(rows), plans


# ---------------------------------------------------------------------------- a fixed budget


@dataclass(frozen=True)
class _Task:
    area: int
    point: tuple[int, ...]
    scenario: Scenario
    seed: int
    replications: int
    kpi: str
    sign: float


def _run(task: _Task) -> np.ndarray:
    """The objective in each replication of one option of one area, larger better (in a worker)."""
    records = [run_replication(task.scenario, task.seed, r) for r in range(task.replications)]
    table = per_replication_kpis(records, task.scenario)
    values = table[table["kpi"] == task.kpi].sort_values("replication")["value"]
    return task.sign * values.to_numpy(float)


@dataclass(frozen=True)
class _Move:
    """A step an area can buy: one lever up (or every lever up together), and its cost a year."""

    lever: str
    point: tuple[int, ...]
    cost: float


@dataclass
class Allocation:
    """The split of a budget, step by step.

    Attributes
    ----------
    budget
        The budget (GBP a year).
    objective
        What the split maximises (:data:`OBJECTIVES`): the ``children_gained`` columns count
        children started within 3 months more, or children waiting over 52 weeks at the last
        reporting date fewer.
    steps
        One row a step bought, in the order bought: ``order, area, lever, cost_gbp`` (a year),
        ``children_gained`` (the paired mean gain, with ``ci_low``, ``ci_high``),
        ``gbp_per_child`` (the step's cost from ``from`` to the end of the run over the children
        it gains) and ``spent_gbp`` (so far).
    split
        One row an area and lever: the change bought, its cost, and the area's children gained
        against today's staffing (paired, with the 95% CI).
    marginal
        One row an area: the cost per child gained of its best next step at the start and at the
        end (NaN where no step gains).
    spent, left
        GBP a year spent and left over.
    reason
        Why it stopped, in words.
    """

    budget: float
    objective: str
    steps: pd.DataFrame
    split: pd.DataFrame
    marginal: pd.DataFrame
    spent: float
    left: float
    reason: str
    evaluations: int
    wall_seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """The allocation in plain words."""
        if self.steps.empty:
            return f"Nothing bought: {self.reason}."
        by_area = self.split.groupby("area", sort=False).agg(cost=("cost_gbp", "sum"))
        parts = [f"{area} GBP {row.cost:,.0f}" for area, row in by_area.iterrows() if row.cost > 0]
        children = self.split.groupby("area", sort=False)["children_gained"].first().sum()
        what = OBJECTIVES[self.objective].replace("more children", "more").replace(
            "fewer children", "fewer")
        return (f"Of GBP {self.budget:,.0f} a year, GBP {self.spent:,.0f} buys {len(self.steps)} "
                f"step{'s' if len(self.steps) != 1 else ''} in {len(parts)} area"
                f"{'s' if len(parts) != 1 else ''} ({'; '.join(parts)}): about {children:,.0f} "
                f"{what}; GBP {self.left:,.0f} left: {self.reason}.")


def _date(value: dt.date | str, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise AllocationError(f"{what}: {value!r} is not a date like 2025-04-01") from None


def _years(scenario: Scenario, on: dt.date) -> float:
    return max((scenario.end_date - on).days, 1) / 365.25


def allocate(areas: AreaSet, budget: float, from_date: dt.date | str, vary: Sequence[str] | str,
             by_date: dt.date | str | None = None, team: str | None = None,
             bounds: Mapping[str, tuple[float, float]] | None = None,
             step: float | Mapping[str, float] | None = None, replications: int = 10,
             seed: int = DEFAULT_SEED, backend: Backend | None = None,
             progress: Progress | None = None,
             objective: str = "started_within_3_months") -> Allocation:
    """Split a budget across areas and staff groups to start the most children within 3 months
    (or leave the fewest waiting over 52 weeks).

    Parameters
    ----------
    areas
        The areas.
    budget
        GBP a year to spend.
    from_date
        When the extra staff start.
    vary, team, bounds, step
        The levers of every area (:func:`asdsim.experiments.plan.make_levers`).
    by_date
        Children referred from this date are counted (default ``from_date``).
    replications, seed
        The same for every option of every area (common random numbers).
    backend
        Where options run; this process when None.
    progress
        Called as ``progress(options evaluated, note)``.
    objective
        ``started_within_3_months`` (children referred from ``by`` whose assessment started
        within 3 months, more is better) or ``waiting_over_52_weeks`` (children waiting over 52
        weeks at the last reporting date, fewer is better).

    Raises
    ------
    AllocationError
        For a budget that is not a number of pounds, a date outside the run, or an unknown
        objective.
    asdsim.experiments.plan.PlanError
        For a lever that does not fit an area's scenario.
    """
    started = time.perf_counter()
    start, by = _checked(areas, budget, from_date, by_date, objective)
    first = areas.first
    backend = backend or Backend()
    kpi, sign = (GAIN_KPI, 1.0) if objective == "started_within_3_months" else (
        f"waiting_over_52_weeks[{end_label(first)}]", -1.0)
    levers = [make_levers(area.scenario, vary, start, team, bounds, step) for area in areas.areas]
    search = _Search(areas, levers, start, by, backend, progress,
                     _Task(-1, (), first, seed, replications, kpi, sign))
    years = _years(first, start)
    search.evaluate([(i, search.current[i]) for i in range(len(levers))]
                    + [(i, m.point) for i in range(len(levers)) for m in search.ups(i)])
    marginal_start = [search.best_per_child(i, years) for i in range(len(levers))]
    steps, left, reason = _buy(search, float(budget), years, objective)
    split = _split(areas.areas, levers, search.current, search.cache)
    marginal = pd.DataFrame({
        "area": [a.name for a in areas.areas],
        "gbp_per_child_start": marginal_start,
        "gbp_per_child_end": [search.best_per_child(i, years) for i in range(len(levers))],
        "spent_gbp": search.spent_by_area})
    return Allocation(
        budget=float(budget), objective=objective, steps=pd.DataFrame(steps, columns=[
            "order", "area", "lever", "cost_gbp", "children_gained", "ci_low", "ci_high",
            "gbp_per_child", "spent_gbp"]),
        split=split, marginal=marginal, spent=float(budget) - left, left=left, reason=reason,
        evaluations=len(search.cache), wall_seconds=round(time.perf_counter() - started, 3),
        settings={"from": start.isoformat(), "by": by.isoformat(), "seed": seed,
                  "replications": replications, "backend": backend.describe(),
                  "objective": objective, "gain_kpi": kpi})


def _checked(areas: AreaSet, budget: float, from_date: dt.date | str,
             by_date: dt.date | str | None, objective: str) -> tuple[dt.date, dt.date]:
    """The start and by dates, once the objective, budget and dates are known to be sound."""
    if objective not in OBJECTIVES:
        raise AllocationError(f"unknown objective {objective!r}; expected one of {', '.join(OBJECTIVES)}")
    if not (math.isfinite(budget) and budget >= 0):
        raise AllocationError(f"the budget must be a number of GBP >= 0, got {budget!r}")
    start = _date(from_date, "--from")
    by = _date(by_date, "--by") if by_date is not None else start
    first = areas.first
    if not first.start_date <= start < first.end_date or not start <= by < first.end_date:
        raise AllocationError(f"--from {start} and --by {by} must lie within the run, "
                              f"{first.start_date} to {first.end_date}, --by not before --from")
    return start, by


class _Search:
    """The greedy search's state: every option of every area run so far, and where each stands.

    An option is an area's index and a point (one step count per lever); ``cache`` holds its
    objective in each replication, larger better. ``task`` carries the settings every option
    runs with (seed, replications, objective); its area, point and scenario are each option's.
    """

    def __init__(self, areas: AreaSet, levers: list[list[Lever]], start: dt.date, by: dt.date,
                 backend: Backend, progress: Progress | None, task: _Task):
        self.areas, self.levers, self.start = areas.areas, levers, start
        self.backend, self.progress, self.task = backend, progress, task
        self.bases: list[dict[str, Any]] = []
        for area in self.areas:
            data = area.scenario.model_dump(mode="json")
            data["reporting"] = {**data["reporting"], "cohort_from_date": by.isoformat()}
            self.bases.append(data)
        self.cache: dict[tuple[int, tuple[int, ...]], np.ndarray] = {}
        self.current = [tuple(0 for _ in lv) for lv in levers]
        self.spent_by_area = [0.0] * len(levers)

    def _scenario(self, i: int, point: tuple[int, ...]) -> Scenario:
        area = self.areas[i]
        data = option_data(self.bases[i], self.levers[i], point, self.start, area.scenario)
        return scenario_from_dict(data, name=area.name)

    def evaluate(self, wanted: list[tuple[int, tuple[int, ...]]]) -> None:
        """Run the options not run yet (each once, in the order first wanted)."""
        todo = [w for w in dict.fromkeys(wanted) if w not in self.cache]
        tasks = (dataclasses.replace(self.task, area=i, point=point,
                                     scenario=self._scenario(i, point)) for i, point in todo)
        try:
            for task, values in self.backend.map_unordered(_run, tasks):
                self.cache[(task.area, task.point)] = values
                if self.progress:
                    self.progress(len(self.cache), f"{self.areas[task.area].name}: {task.point}")
        except TaskFailed as exc:
            raise AllocationError(f"area {self.areas[exc.item.area].name} failed: {exc}") \
                from exc.__cause__

    def ups(self, i: int) -> list[_Move]:
        """One step up in each lever, and in every lever together (complements, such as the two
        professions of a joint step, may gain only together)."""
        current = self.current[i]
        out = []
        for k, lever in enumerate(self.levers[i]):
            if current[k] < lever.high:
                out.append(_Move(lever.name, (*current[:k], current[k] + 1, *current[k + 1:]),
                                 lever.cost_per_step))
        if len(out) > 1:
            joint = tuple(max(values) for values in zip(*(m.point for m in out), strict=True))
            out.append(_Move(" + ".join(m.lever for m in out), joint, sum(m.cost for m in out)))
        return out

    def gain(self, i: int, point: tuple[int, ...]) -> tuple[float, float, float]:
        """The paired mean gain of an area's option over where it stands, with its 95% CI."""
        diff = self.cache[(i, point)] - self.cache[(i, self.current[i])]
        mean, low, high, _ = mean_ci(diff)
        return mean, low, high

    def best_per_child(self, i: int, years: float) -> float:
        """The least cost per child gained of an area's next steps (NaN where none gains)."""
        costs = [m.cost * years / mean for m in self.ups(i) if (mean := self.gain(i, m.point)[0]) > 0]
        return min(costs) if costs else math.nan

    def best_step(self, left: float) -> tuple[tuple | None, float]:
        """The affordable step with the most gain a pound (ties: the area with less spent, then
        the earlier row, then the cheaper step), or None; and the cheapest step of any area."""
        candidates = []
        cheapest = math.inf
        for i in range(len(self.levers)):
            for move in self.ups(i):
                cheapest = min(cheapest, move.cost)
                mean, low, high = self.gain(i, move.point)
                if move.cost <= left + 1e-6 * max(1.0, left) and mean > 0:
                    per_pound = mean / move.cost if move.cost > 0 else math.inf
                    candidates.append((-per_pound, self.spent_by_area[i], i, move.cost, move, mean,
                                       low, high))
        if not candidates:
            return None, cheapest
        return min(candidates, key=lambda c: c[:4])[2:], cheapest


def _buy(search: _Search, budget: float, years: float,
         objective: str) -> tuple[list[dict[str, Any]], float, str]:
    """Buy the best step until none is affordable and gains: the steps, what is left, and why."""
    steps: list[dict[str, Any]] = []
    left = budget
    while True:
        best, cheapest = search.best_step(left)
        if best is None:
            return steps, left, _stop_reason(cheapest, bool(steps), left, budget, objective)
        i, _, move, mean, low, high = best
        search.current[i] = move.point
        search.spent_by_area[i] += move.cost
        left -= move.cost
        steps.append({"order": len(steps) + 1, "area": search.areas[i].name, "lever": move.lever,
                      "cost_gbp": move.cost, "children_gained": mean, "ci_low": low,
                      "ci_high": high, "gbp_per_child": move.cost * years / mean,
                      "spent_gbp": budget - left})
        search.evaluate([(i, m.point) for m in search.ups(i)])


def _stop_reason(cheapest: float, bought: bool, left: float, budget: float, objective: str) -> str:
    """Why the search stopped, in words."""
    if math.isinf(cheapest):
        return "every lever is at its upper bound"
    if not bought and cheapest > left:
        return (f"the budget (GBP {budget:,.0f} a year) is less than the cheapest step "
                f"(GBP {cheapest:,.0f} a year)")
    return f"no affordable step gains ({OBJECTIVES[objective]})"


def _split(areas: Sequence[Area], levers: list[list[Lever]], current: list[tuple[int, ...]],
           cache: dict[tuple[int, tuple[int, ...]], np.ndarray]) -> pd.DataFrame:
    rows = []
    for i, area in enumerate(areas):
        base = tuple(0 for _ in levers[i])
        mean, low, high, _ = mean_ci(cache[(i, current[i])] - cache[(i, base)])
        for k, lever in enumerate(levers[i]):
            rows.append({"area": area.name, "lever": lever.name, "change": lever.change(current[i][k]),
                         "unit": lever.unit, "cost_gbp": lever.cost_per_step * current[i][k],
                         "children_gained": mean, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def write_allocation(result: Allocation, out: str | Path, force: bool = False,
                     inputs: Sequence[Path] = (), command: Sequence[str] | None = None) -> Path:
    """Write ``steps.csv``, ``split.csv``, ``marginal.csv``, ``marginal.png`` and
    ``provenance.json`` into a folder, all at once (as every results folder is written)."""
    from asdsim import __version__
    from asdsim.reporting.areas_report import marginal_chart
    from asdsim.reporting.outputs import atomic_folder
    from asdsim.spreadsheet import write_csv

    with atomic_folder(Path(out), force, inputs) as folder:
        write_csv(result.steps, folder / "steps.csv")
        write_csv(result.split, folder / "split.csv")
        write_csv(result.marginal, folder / "marginal.csv")
        marginal_chart(result.marginal, OBJECTIVES[result.objective]).savefig(
            folder / "marginal.png", dpi=110)
        provenance = {"asdsim_version": __version__, "command": list(command or []),
                      "budget_gbp": result.budget, "spent_gbp": result.spent, "left_gbp": result.left,
                      "stopped": result.reason, "evaluations": result.evaluations,
                      "wall_seconds": result.wall_seconds, **result.settings}
        (folder / "provenance.json").write_text(json.dumps(provenance, indent=2, default=str) + "\n",
                                                encoding="utf-8")
    return Path(out)


def write_area_plans(table: pd.DataFrame, out: str | Path, force: bool = False,
                     inputs: Sequence[Path] = (), command: Sequence[str] | None = None) -> Path:
    """Write ``plans.csv`` (each area's least-cost plan and the total) and ``provenance.json``."""
    from asdsim import __version__
    from asdsim.reporting.outputs import atomic_folder
    from asdsim.spreadsheet import write_csv

    with atomic_folder(Path(out), force, inputs) as folder:
        total = {"area": "All areas", "feasible": bool(table["feasible"].all()),
                 "added_cost_gbp": float(table["added_cost_gbp"].sum())}
        frame = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
        write_csv(frame, folder / "plans.csv")
        provenance = {"asdsim_version": __version__, "command": list(command or []),
                      "areas": len(table), "every_area_feasible": total["feasible"],
                      "total_added_cost_gbp": total["added_cost_gbp"]}
        (folder / "provenance.json").write_text(json.dumps(provenance, indent=2, default=str) + "\n",
                                                encoding="utf-8")
    return Path(out)


__all__ = ["GAIN_KPI", "OBJECTIVES", "Allocation", "AllocationError", "allocate", "plan_every_area",
           "write_allocation", "write_area_plans"]
