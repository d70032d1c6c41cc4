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
from functools import partial

import numpy as np
from scipy import stats
from scipy.optimize import Bounds, LinearConstraint, milp

from asdsim.analysis.stats import mean_ci
from asdsim.experiments.plan.evaluate import Estimate, _BudgetSpent, _Evaluator
from asdsim.experiments.plan.levers import Lever, Point

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
    cuts = _cuts(lo, hi, infeasible)
    if cuts is None:
        return None
    nz = sum(len(c) for _, c in cuts)
    rows, low_b, high_b = _cut_rows(lo, cuts, d + nz)
    if budget is not None:
        rows.append(np.concatenate([costs, np.zeros(nz)]))
        low_b.append(-np.inf)
        high_b.append(budget + 1e-6 * max(1.0, budget))
    scale = float(np.max(weights)) or 1.0
    objective = np.concatenate([weights / scale, np.zeros(nz)])
    bounds = Bounds(np.concatenate([lo, np.zeros(nz)]), np.concatenate([hi, np.ones(nz)]))
    constraints = LinearConstraint(np.array(rows), low_b, high_b) if rows else ()
    result = milp(objective, integrality=np.ones(d + nz), bounds=bounds, constraints=constraints,
                  options={"mip_rel_gap": 0.0})
    if result.status != 0 or result.x is None:
        return None
    return tuple(round(float(v)) for v in result.x[:d])


def _cuts(lo: Sequence[int], hi: Sequence[int],
          infeasible: Sequence[Point]) -> list[tuple[Point, list[int]]] | None:
    """Each infeasible option that cuts the box, with the levers that can still exceed it; None
    when the whole box is below one of them."""
    d = len(lo)
    cuts: list[tuple[Point, list[int]]] = []
    for q in infeasible:
        if any(q[i] < lo[i] for i in range(d)):
            continue  # nothing in the box is below it
        coords = [i for i in range(d) if q[i] < hi[i]]
        if not coords:
            return None
        cuts.append((q, coords))
    return cuts


def _cut_rows(lo: Sequence[int], cuts: Sequence[tuple[Point, list[int]]],
              n: int) -> tuple[list[np.ndarray], list[float], list[float]]:
    """The constraints (rows, lower and upper bounds) that keep an option out from below each
    cut: a binary per lever of the cut, which when 1 puts the lever above the cut's level, and at
    least one of them 1. The binaries follow the levers' variables in ``n`` columns."""
    rows: list[np.ndarray] = []
    low_b: list[float] = []
    high_b: list[float] = []
    k = len(lo)
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
    return rows, low_b, high_b


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


class _Costs:
    """The cost of options (extra GBP a year), the search's weights (the cost plus a tie-break
    towards fewer added steps) and the budget."""

    def __init__(self, levers: Sequence[Lever], budget: float | None) -> None:
        self.costs = np.array([lv.cost_per_step for lv in levers])
        self.budget = budget
        positive = self.costs[self.costs > 0]
        span = sum(lv.high - lv.low for lv in levers) + 1
        self.tie = 1e-6 * (positive.min() if len(positive) else 1.0) / span
        self.weights = self.costs + (self.tie if len(positive) else 1.0)

    def cost(self, p: Point) -> float:
        """Extra cost a year of an option."""
        return float(np.dot(self.costs, p))

    def weight(self, p: Point) -> float:
        """What the search minimises: the cost, ties going to fewer added steps."""
        return float(np.dot(self.weights, p))

    def affordable(self, p: Point) -> bool:
        """Whether an option is within the budget (if any)."""
        return self.budget is None or self.cost(p) <= self.budget + 1e-6 * max(1.0, self.budget)

    def known_feasible(self, ev: _Evaluator) -> list[Point]:
        """The options evaluated so far that are feasible and affordable, cheapest first."""
        return sorted((p for p, e in ev.search.items() if ev.feasible_estimate(e) and self.affordable(p)),
                      key=self.weight)


def _search(ev: _Evaluator, budget: float | None) -> _Outcome:
    """The search's steps in turn (module docstring of :mod:`asdsim.experiments.plan`), each
    returning as soon as it decides; when the evaluation budget is spent, the best feasible
    option found so far, not proved cheapest."""
    prices = _Costs(ev.levers, budget)
    progress = _Outcome(None, False, None)  # the best option and the lower bound so far
    try:
        decided = _ends(ev, prices)
        if decided is not None:
            return decided
        corner = _corner(ev)
        low = tuple(corner)
        if ev.feasible(low):
            return _Outcome(low if prices.affordable(low) else None, True, low)
        _climb_then_descend(ev, corner, prices)
        found = prices.known_feasible(ev)
        progress.best = found[0] if found else None
        return _cheapest_first(ev, corner, prices, progress)
    except _BudgetSpent:
        found = prices.known_feasible(ev)
        return _Outcome(found[0] if found else progress.best, False, progress.lower_bound,
                        budget_spent=True)


def _ends(ev: _Evaluator, prices: _Costs) -> _Outcome | None:
    """Evaluate the largest option and today's staffing: nothing can meet the targets when the
    largest fails, and nothing need change when today's meets them; None when neither."""
    top, bottom = tuple(lv.high for lv in ev.levers), tuple(lv.low for lv in ev.levers)
    ev.evaluate(top, "largest option")
    if bottom != top:
        ev.evaluate(bottom, "today's staffing")
    if not ev.feasible(top):
        return _Outcome(None, True, None)
    if ev.feasible(bottom) and prices.affordable(bottom):
        return _Outcome(bottom, True, bottom)
    return None


def _corner(ev: _Evaluator) -> list[int]:
    """Each lever's least level that meets the targets with every other lever at its maximum:
    every feasible option is at least this corner in every lever (by monotonicity)."""
    hi = [lv.high for lv in ev.levers]
    corner = [lv.low for lv in ev.levers]
    for i, lever in enumerate(ev.levers):
        if lever.low != lever.high:
            corner[i] = _least_true(lever.low, lever.high, partial(_feasible_at, ev, hi, i))
    return corner


def _feasible_at(ev: _Evaluator, point: Sequence[int], i: int, k: int) -> bool:
    """Whether ``point`` with lever ``i`` at ``k`` is feasible."""
    return ev.feasible((*point[:i], k, *point[i + 1:]))


def _climb_then_descend(ev: _Evaluator, corner: list[int], prices: _Costs) -> None:
    """Climb greedily from the (infeasible) corner until feasible, then bisect each lever down,
    the costliest step first, as far as the option stays feasible."""
    x = _greedy_ascent(ev, tuple(corner), prices.weights)
    for i in sorted(range(len(x)), key=lambda j: -prices.costs[j]):
        if x[i] != corner[i]:
            x[i] = _least_true(corner[i], x[i], partial(_feasible_at, ev, x, i))


def _cheapest_first(ev: _Evaluator, corner: list[int], prices: _Costs, progress: _Outcome) -> _Outcome:
    """Evaluate the cheapest option not ruled out by an infeasible one until it is feasible or
    costs as much as the best found (proved cheapest), for a few evaluations a lever; the lower
    bound found so far is kept in ``progress``."""
    hi = [lv.high for lv in ev.levers]
    best = progress.best
    limit = len(ev.search) + PROOF_EVALUATIONS_PER_LEVER * len(ev.levers)
    while len(ev.search) < limit:
        candidate = _cheapest_not_ruled_out(prices.weights, prices.costs, corner, hi,
                                            _maximal_infeasible(ev), prices.budget)
        if candidate is None:
            return _Outcome(best, True, best)
        progress.lower_bound = candidate
        if best is not None and prices.weight(candidate) >= prices.weight(best) - 0.5 * prices.tie:
            return _Outcome(best, True, best)
        if ev.feasible(candidate):
            found = prices.known_feasible(ev)
            return _Outcome(found[0] if found else candidate, True, candidate)
    return _Outcome(best, False, progress.lower_bound)


def _maximal_infeasible(ev: _Evaluator) -> list[Point]:
    """The infeasible options evaluated that are below no other: only they cut anything."""
    infeasible = [p for p, e in ev.search.items() if not ev.feasible_estimate(e)]
    return [q for q in infeasible
            if not any(r != q and all(a <= b for a, b in zip(q, r, strict=True)) for r in infeasible)]


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
        ups = _coarse_steps(x, hi, size)
        if not ups:
            return x  # every lever at its bound: the largest option, feasible
        feasible = [p for p in ups.values() if ev.feasible(p)]
        if feasible:
            return list(min(feasible, key=lambda p: float(np.dot(weights, p))))
        estimates = {i: ev.evaluate(p) for i, p in ups.items()}
        if len(ups) > 1 and _none_helps_alone(ev, here, estimates):
            # complements (a joint step) need them all at once
            ups[-1] = tuple(min(h, v + z) for h, v, z in zip(hi, x, size, strict=True))
            if ev.feasible(ups[-1]):
                return list(ups[-1])
            estimates[-1] = ev.evaluate(ups[-1])
        x = list(ups[max(ups, key=partial(_gain_per_cost, ev, weights, x, here, estimates, ups))])


def _coarse_steps(x: list[int], hi: Sequence[int], size: Sequence[int]) -> dict[int, Point]:
    """The option a coarse step (``size``, cut at the bound) up in each lever not at its bound,
    by lever."""
    return {i: (*x[:i], min(hi[i], x[i] + size[i]), *x[i + 1:]) for i in range(len(x)) if x[i] < hi[i]}


def _none_helps_alone(ev: _Evaluator, here: Estimate, estimates: dict[int, Estimate]) -> bool:
    """Whether no step up in one lever scores better than where the climb is, on the
    replications both ran."""
    return all(ev.score(e, min(here.n, e.n)) <= ev.score(here, min(here.n, e.n))
               for e in estimates.values())


def _gain_per_cost(ev: _Evaluator, weights: np.ndarray, x: list[int], here: Estimate,
                   estimates: dict[int, Estimate], ups: dict[int, Point],
                   i: int) -> tuple[bool, float, float]:
    """How much step ``i`` improves the score on the replications both ran: whether it does, per
    unit of weighted cost, and in all (the order of the climb's choice)."""
    n = min(here.n, estimates[i].n)
    step = ev.score(estimates[i], n) - ev.score(here, n)
    return step > 0, step / max(float(np.dot(weights, ups[i])) - float(np.dot(weights, x)), 1e-12), step


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
        failed = _fails_above(ev, ep, eq, n)
        if failed is not None:
            out.append((p, q, failed))
        elif n >= 3:
            out.extend((p, q, why) for why in _worse_kpis(ev, ep, eq, n))
    return out


def _fails_above(ev: _Evaluator, ep: Estimate, eq: Estimate, n: int) -> str | None:
    """Why the larger option ``eq`` is infeasible above the feasible ``ep`` beyond noise, on the
    ``n`` replications both ran; None when it is not."""
    if not (ev.feasible_estimate(ep) and not ev.feasible_estimate(eq) and n):
        return None
    # met below and not above, against the reverse; one replication either way at the boundary
    # is noise, so only a sign test flags it
    small, large = ep.met_all[:n], eq.met_all[:n]
    worse, better = int((small & ~large).sum()), int((~small & large).sum())
    if worse and stats.binomtest(worse, worse + better, 0.5, alternative="greater").pvalue < 0.05:
        return f"met below, not above, in {worse} of {n} replications"
    return None


def _worse_kpis(ev: _Evaluator, ep: Estimate, eq: Estimate, n: int) -> list[str]:
    """Each target KPI whose paired mean over the ``n`` replications both ran is worse at the
    larger option ``eq`` beyond its 95% CI and by 0.5% of the threshold, in words."""
    out = []
    for t in ev.targets:
        a, b = ep.values[t.kpi][:n], eq.values[t.kpi][:n]
        keep = ~(np.isnan(a) | np.isnan(b))
        if keep.sum() < 3:
            continue
        gain = (b - a)[keep] if t.sense == "higher" else (a - b)[keep]
        mean, _, high, _ = mean_ci(gain)
        material = 0.005 * abs(t.value) if t.value else 0.5  # not a rounding-sized wobble
        if high < 0 and mean < -material:
            out.append(f"{t.kpi} worse with more staff ({mean:+.3g} paired)")
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


def _confirm(ev: _Evaluator, chosen: Point | None, fresh: Sequence[int],
             budget: float | None) -> tuple[Point, bool]:
    """Re-run the final candidates on fresh replications and pick the cheapest that meets the rule
    there: the search's choice and the cheaper near misses, cheapest first; failing those, climb
    from the choice one step at a time, each time along the lever that improves the worst target
    most for its cost (greedy on cost per improvement)."""
    prices = _Costs(ev.levers, budget)
    if chosen is None:  # infeasible: the best option found, on fresh replications
        pool = [p for p in ev.search if prices.affordable(p)] or list(ev.search)
        best = max(pool, key=lambda p: _standing(ev, prices, p, ev.search[p]))
        return _confirmed(ev, best, fresh, False)
    for point in _final_candidates(ev, chosen, prices):
        if ev.feasible_estimate(ev.confirm(point, fresh)):
            return _confirmed(ev, point, fresh, True)
    return _climb_on_fresh(ev, chosen, fresh, prices)


def _final_candidates(ev: _Evaluator, chosen: Point, prices: _Costs) -> list[Point]:
    """The search's choice and the two costliest of the cheaper near misses (options whose share
    meeting the targets came within :data:`NEAR_MISS` of the confidence), cheapest first."""
    near = [p for p, e in ev.search.items()
            if not ev.feasible_estimate(e) and prices.cost(p) < prices.cost(chosen) and prices.affordable(p)
            and e.p_meet >= ev.confidence - NEAR_MISS]
    return sorted([*sorted(near, key=prices.cost)[-2:], chosen], key=prices.cost)


def _climb_on_fresh(ev: _Evaluator, chosen: Point, fresh: Sequence[int],
                    prices: _Costs) -> tuple[Point, bool]:
    """From the choice, up to :data:`MAX_CLIMBS` steps up on fresh replications: the cheapest
    feasible neighbour one step above, or else the one that improves the worst target's margin
    most for its cost; failing all, the best option confirmed, as infeasible."""
    current = chosen
    for _ in range(MAX_CLIMBS):
        ups = [p for p in _one_step_up(ev, current) if prices.affordable(p)]
        if not ups:
            break
        estimates = {p: ev.confirm(p, fresh) for p in ups}
        good = [p for p, e in estimates.items() if ev.feasible_estimate(e)]
        if good:
            return _confirmed(ev, min(good, key=prices.cost), fresh, True)
        here = ev.confirm(current, fresh, early=False)
        current = max(ups, key=partial(_gain_on_fresh, ev, here, estimates, prices.cost(current), prices))
    best = max(ev.confirm_estimates, key=lambda p: _standing(ev, prices, p, ev.confirm_estimates[p]))
    return _confirmed(ev, best, fresh, False)


def _one_step_up(ev: _Evaluator, point: Point) -> list[Point]:
    """The options one step above ``point`` in one lever, within the bounds."""
    return [(*point[:i], point[i] + 1, *point[i + 1:]) for i, lv in enumerate(ev.levers)
            if point[i] < lv.high]


def _gain_on_fresh(ev: _Evaluator, here: Estimate, ups: dict[Point, Estimate], base: float,
                   prices: _Costs, p: Point) -> tuple[bool, float, float]:
    """How much a step up to ``p`` improves the worst target's margin, on the replications both
    ran: whether it does, per GBP, and in all (the order of the climb's choice)."""
    n = min(here.n, ups[p].n)
    step = _worst_margin(ev, ups[p], n) - _worst_margin(ev, here, n)
    return step > 0, step / max(prices.cost(p) - base, 1e-9), step


def _worst_margin(ev: _Evaluator, est: Estimate, n: int | None = None) -> float:
    """The worst target's margin of the mean of the first ``n`` replications (all when None);
    minus infinity for a target with no value in any of them."""
    margins = []
    for t in ev.targets:
        values = est.values[t.kpi][:n]
        margins.append(t.margin(float(np.nanmean(values))) if not np.isnan(values).all() else -math.inf)
    return min(margins)


def _standing(ev: _Evaluator, prices: _Costs, p: Point, est: Estimate) -> tuple[float, float, float, float]:
    """How good an option is when none is feasible: share meeting every target, then meeting
    each (on average), then the worst target's margin of the mean, then cheapness."""
    each = float(np.mean([m.mean() for m in est.met.values()])) if est.met and est.n else 0.0
    return est.p_meet, each, _worst_margin(ev, est), -prices.cost(p)


def _confirmed(ev: _Evaluator, point: Point, fresh: Sequence[int], ok: bool) -> tuple[Point, bool]:
    """The answer, run on every fresh replication for the figures reported."""
    ev.confirm(point, fresh, early=False)
    return point, ok
