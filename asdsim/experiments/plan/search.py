"""The least-cost search over monotone feasible options (the ends, per-lever bisection, greedy
climb and descent, cheapest first by integer programming), the check of monotonicity, and the
confirmation of the final candidates on fresh replications.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.optimize import Bounds, LinearConstraint, milp

from asdsim.analysis.stats import mean_ci
from asdsim.experiments.plan.evaluate import Estimate, _BudgetSpent, _Evaluator
from asdsim.experiments.plan.levers import Point

NEAR_MISS = 0.25
"""A cheaper option whose search share of replications meeting the targets came within this of
the confidence is re-run with the final candidates (it may have been unlucky)."""
MAX_CLIMBS = 6
PROOF_EVALUATIONS_PER_LEVER = 5
"""Evaluations a lever the cheapest-first step may take before the search stops with the best
option found and a lower bound: proving optimality can take many evaluations where levers
substitute for each other (outsourcing for staff), while with complements it takes a few."""


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
