"""History matching: the fit, its loss, optimiser and intervals.

Every area knows its monthly list counts and referrals; almost none knows its effective capacity
week by week. :func:`history_match` fits, by simulation, a **capacity factor per period for each
team** (a multiplier on the WTE in force, written as dated capacity changes) and optionally a
**referral-rate factor**, to every observed point at once.

The loss
--------
For fitted values ``theta`` (the natural logarithm of each factor), each observed point ``i``
with value ``y_i`` has the simulated mean ``m_i(theta)`` over ``R`` replications, all run with
the same seed for every evaluation (common random numbers: two evaluations differ only by the
factors, not by luck). The loss is the weighted sum of squares

    L(theta) = sum_i (m_i(theta) - y_i)^2 / v_i,
    v_i = s_i + sd_i^2 (1 + 1/R),

where ``sd_i`` is the spread of the simulated value from one replication to the next (the real
area is one such run, and the mean of ``R`` runs has error ``sd_i^2 / R``) and ``s_i`` the
sampling variance of the figure: Poisson, ``max(y_i, 1)``, for a count; 1 (week squared) for
the longest wait. The weights are set at the starting factors, then set again at the first
fit's and the loss minimised once more (two rounds of iteratively reweighted least squares), so
a fit cannot lower its loss by making the simulation noisier.

**Smoothing.** A team's weekly hours buy whole appointments, so under common random numbers
the simulated counts move in steps as a factor moves (a factor that adds less than an
appointment's hours a week changes nothing). Each evaluation's replications are therefore run
at capacity offsets spread evenly over :data:`SMOOTHING` in log-factor around the factor being
evaluated (replication ``r`` at its own offset, the same in every evaluation): the mean over the
replications then moves smoothly with the factor, and the offsets average out around it.

The optimiser
-------------
``scipy.optimize.least_squares`` (trust-region reflective, within bounds on each factor) on the
residuals ``(m_i - y_i) / sqrt(v_i)``, with a forward-difference Jacobian of step
:data:`DIFF_STEP` in each log-factor. Under common random numbers the simulated counts change in
small steps as capacity changes, so a finite difference of a tiny step (SciPy's own steps are
relative to the value, and vanish at a factor of 1) sees only those steps; a 5% step, on the
smoothed means, sees the trend. A derivative-free search
(Nelder-Mead) would need several times more simulations for the same number of factors and gives
no curvature, while the Gauss-Newton form gives the intervals below from the Jacobian it has
already computed.

Intervals and identification
----------------------------
Each 95% interval is ``exp(theta +- 1.96 se)``, with the covariance of ``theta`` from the fit's
linearisation: ``A S A'``, where ``A = (J'J)^-1 J'`` (J the Jacobian of the residuals: how the
fitted values move with the weighted points) and ``S`` the covariance of the weighted points
from one run to the next, across :data:`COV_REPLICATIONS` replications of the fitted scenario
(times ``1 + 1/R`` for the error of the fit's own mean). ``S`` holds the correlation between
points: a list counted every month moves as a whole, which the curvature alone, ``(J'J)^-1``,
would take as independent errors (on the known truth of docs/as-happened.md its back-test 80%
intervals covered 94% of held-out points; the sandwich's, with stock forecasts conditioned on
the cut, 79%; both measured with the forecasts' percentiles at the earlier rank). When the
loss exceeds its degrees of freedom (a misfit beyond the stated variances) the covariance is
widened by their ratio.

A factor is **not identified** when no observed point is dated after its period starts (it
cannot change any point; it is not fitted), when the points barely move with it (``se``, from the
sandwich or from the curvature alone, above :data:`MAX_SE`: a factor no point moves with at all
has no spread in the sandwich, only in the curvature; as when the points cover another
team's children or two factors can be traded against each other), or when the fit runs to
the bound of the search (no factor within a tenfold change reproduces the points): it is
reported as such, with no interval, and not written, so its period carries the capacity of the
period before.

A team's weekly hours buy whole appointments, so a factor is identified only to within about
one appointment a week.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.validation import point_values
from asdsim.errors import AsdsimError
from asdsim.experiments.backends import Backend, TaskFailed, make_backend
from asdsim.experiments.history.levers import (
    LOG_BOUNDS,
    Fit,
    Lever,
    apply_factors,
    capacity_teams,
    period_starts,
)
from asdsim.experiments.runner import DEFAULT_SEED, run_replication
from asdsim.scenario.loading import load_scenario, scenario_from_dict
from asdsim.scenario.schema import ObservedPoint, Scenario

LEVEL = 0.95
"""Level of the fitted values' intervals."""
DIFF_STEP = 0.05
"""Step of the finite-difference Jacobian, in log-factor (a 5% change of a factor)."""
MAX_SE = 1.0
"""Standard error of a log-factor above which the factor is reported as not identified (its 95%
interval would span more than a factor of 50)."""
SMOOTHING = 0.2
"""Width, in log-factor, of the capacity offsets the replications of an evaluation are spread
over (see the module docstring)."""
COV_REPLICATIONS = 40
"""Replications of the fitted scenario behind the covariance of the fitted values."""
MAX_EVALUATIONS = 40
"""Loss evaluations per round of the optimiser (each a simulation; Jacobians not counted)."""


@dataclass
class HistoryMatch:
    """The outcome of :func:`history_match`."""

    base: Scenario
    """The scenario fitted (its observed points replaced by the fitted ones)."""
    scenario: Scenario
    """The base with the fitted factors applied (dated capacity changes, referral rate) and the
    fitted points under ``observed:``."""
    points: tuple[ObservedPoint, ...]
    """The observed points fitted."""
    parameters: pd.DataFrame
    """One row per lever: parameter, kind, team, start, estimate, ci_low, ci_high, se_log,
    identified, note."""
    fit_table: pd.DataFrame
    """One row per point: date, measure, over_weeks, locality, age_group, period_start,
    observed, fitted_mean, fitted_low, fitted_high (95% of replications), residual
    (standardised)."""
    loss: float
    """The loss at the fit."""
    dispersion: float
    """Loss over its degrees of freedom (points less fitted factors; NaN without any)."""
    levers: list[Lever]
    """The identified levers, applied in ``scenario``."""
    log_estimate: np.ndarray
    """Their fitted log-factors."""
    covariance: np.ndarray
    """Covariance of the identified log-factors (in the order of ``levers``)."""
    evaluations: int
    """Simulations the fit ran (each of ``replications`` replications)."""
    replications: int
    seed: int
    records: list[ReplicationRecord] = field(repr=False, default_factory=list)
    """The replications of ``scenario`` behind ``fit_table``."""
    notes: list[str] = field(default_factory=list)
    """What a reader of the fit should know (what the data cannot identify, a poor fit)."""

    def draw(self, count: int, seed: int) -> list[Scenario]:
        """Scenarios with the identified factors drawn from their fitted normal distribution
        (on the log scale), for forecasts that carry the fit's uncertainty.

        Parameters
        ----------
        count
            Scenarios to draw.
        seed
            Seed of the draws (the same seed gives the same scenarios).
        """
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x415344]))
        out = []
        for _ in range(count):
            theta = self.log_estimate
            if len(theta):
                theta = rng.multivariate_normal(theta, self.covariance, method="eigh")
            out.append(apply_factors(self.base, self.levers, np.exp(np.clip(theta, *LOG_BOUNDS))))
        return out


def _sampling_variance(points: Sequence[ObservedPoint]) -> np.ndarray:
    return np.array([1.0 if p.measure == "longest_wait_weeks" else max(p.value, 1.0)
                     for p in points])


def smoothing_offsets(replications: int) -> np.ndarray:
    """The capacity offset of each replication, in log-factor: evenly spread over
    :data:`SMOOTHING`, centred on 0."""
    return SMOOTHING * ((np.arange(replications) + 0.5) / replications - 0.5)


def simulate_points(items: Sequence[tuple[Scenario, int, int]], points: Sequence[ObservedPoint],
                    backend: Backend) -> np.ndarray:
    """The points' values in each ``(scenario, seed, replication)`` run, in the order given, in
    the backend's workers (the values do not depend on which).

    Returns
    -------
    numpy.ndarray
        Shape ``(runs, points)``.
    """
    one = partial(_run_points, points=tuple(points))
    rows: dict[int, np.ndarray] = {}
    try:
        for (i, _item), values in backend.map_unordered(one, list(enumerate(items))):
            rows[i] = values
    except TaskFailed as exc:  # the error itself, as if the run were here
        raise exc.__cause__ from None  # type: ignore[misc]
    return np.array([rows[i] for i in range(len(items))]).reshape(len(items), len(points))


def _records(scenario: Scenario, replications: int, seed: int,
             backend: Backend) -> list[ReplicationRecord]:
    """Replications ``0 .. replications-1`` of a scenario, in order, in the backend's workers."""
    out: dict[int, ReplicationRecord] = {}
    try:
        for r, rec in backend.map_unordered(partial(run_replication, scenario, seed),
                                            range(replications)):
            out[r] = rec
    except TaskFailed as exc:
        raise exc.__cause__ from None  # type: ignore[misc]
    return [out[r] for r in range(replications)]


def _run_points(item: tuple[int, tuple[Scenario, int, int]],
                points: tuple[ObservedPoint, ...]) -> np.ndarray:
    scenario, seed, replication = item[1]
    return point_values([run_replication(scenario, seed, replication)], scenario, points)[0]


class _Evaluator:
    """Simulated values of the points for given log-factors, under common random numbers."""

    def __init__(self, base: Scenario, levers: list[Lever], points: tuple[ObservedPoint, ...],
                 replications: int, seed: int, backend: Backend):
        self.base, self.levers, self.points = base, levers, points
        self.replications, self.seed, self.backend = replications, seed, backend
        self.capacity = np.array([lv.kind == "capacity" for lv in levers], dtype=float)
        self.offsets = smoothing_offsets(replications)
        self.evaluations = 0
        self._cache: dict[bytes, np.ndarray] = {}

    def values(self, theta: np.ndarray) -> np.ndarray:
        """Shape (replications, points)."""
        key = np.round(theta, 12).tobytes()
        if key not in self._cache:
            runs = [(apply_factors(self.base, self.levers, np.exp(theta + offset * self.capacity)),
                     self.seed, r) for r, offset in enumerate(self.offsets)]
            self._cache[key] = simulate_points(runs, self.points, self.backend)
            self.evaluations += 1
        return self._cache[key]


def history_match(base: Scenario | str | Path, points: Sequence[ObservedPoint], *,
                  fit: Sequence[Fit] = ("capacity",), periods: str | Sequence[dt.date] = "quarterly",
                  teams: Sequence[str] | None = None, replications: int = 8,
                  seed: int = DEFAULT_SEED, max_evaluations: int = MAX_EVALUATIONS,
                  jobs: int = 1) -> HistoryMatch:
    """Fit capacity factors per period and team (and the referral rate) to observed points.

    Parameters
    ----------
    base
        The scenario to fit (or its file).
    points
        The observed points (:func:`asdsim.experiments.observed.read_observed`).
    fit
        ``capacity``, and optionally ``demand`` (fitted only where the points include
        ``referrals_received``).
    periods
        ``"quarterly"`` (a factor per calendar quarter up to the last point), ``"single"`` (one
        factor per team) or the dates on which new periods start (the first starts at the
        scenario start).
    teams
        Teams whose capacity is fitted (default: every clinic-hours team).
    replications, seed
        Replications of each evaluation and their seed (the same for every evaluation).
    max_evaluations
        Evaluations of the loss per round (the Jacobians' simulations not counted).
    jobs
        Worker processes for the replications (1: this process); the fit does not depend on it.

    Returns
    -------
    HistoryMatch
        Fitted values with intervals, the fit at every point and what was not identified.

    Raises
    ------
    AsdsimError
        For nothing to fit, no points, or periods outside the horizon.
    """
    if not isinstance(base, Scenario):
        base = load_scenario(base)
    points = tuple(points)
    if not points:
        raise AsdsimError("no observed points to fit")
    unknown = sorted(set(fit) - {"capacity", "demand"})
    if unknown or not fit:
        raise AsdsimError(f"--fit takes capacity and demand, not {', '.join(unknown) or 'nothing'}")
    base = scenario_from_dict({**base.model_dump(mode="json"), "observed": []})
    levers, unfit, notes = _levers(base, points, fit, periods, teams)
    if not levers:
        raise AsdsimError("nothing to fit: " + "; ".join(f"{lv.name}: {why}" for lv, why in unfit))
    with make_backend(jobs) as backend:
        return _match(base, points, levers, unfit, notes, replications, seed, max_evaluations,
                      backend)


def _levers(base: Scenario, points: tuple[ObservedPoint, ...], fit: Sequence[Fit],
            periods: str | Sequence[dt.date], teams: Sequence[str] | None
            ) -> tuple[list[Lever], list[tuple[Lever, str]], list[str]]:
    """The levers to fit, those left unfitted with the reason, and notes on teams not fitted."""
    notes: list[str] = []
    levers: list[Lever] = []
    unfit: list[tuple[Lever, str]] = []
    if "capacity" in fit:
        names = capacity_teams(base, teams)
        skipped = [n for n in (teams or base.teams) if n not in names]
        if skipped:
            notes.append(f"not fitted: {', '.join(skipped)} (caseload teams: their capacity is a "
                         "whole number of clinicians)")
        for day in period_starts(base, periods, max(p.date for p in points)):
            for team in names:
                lever = Lever("capacity", day, team)
                if any(p.date > day for p in points):
                    levers.append(lever)
                else:
                    unfit.append((lever, f"no observed point after {day}: not identified, and "
                                  "not fitted (the period before carries on)"))
    if "demand" in fit:
        lever = Lever("demand", base.start_date)
        if any(p.measure == "referrals_received" for p in points):
            levers.append(lever)
        else:
            unfit.append((lever, "the series has no referrals_received: not identified, and "
                          "not fitted (the base rate is kept)"))
    return levers, unfit, notes


def _optimise(evaluator: _Evaluator, y: np.ndarray, sampling: np.ndarray, max_evaluations: int
              ) -> tuple[Any, np.ndarray]:
    """Two rounds of weighted least squares (weights set at the start, then at the first fit);
    the optimiser's result and the weights of the last round."""
    replications = evaluator.replications
    theta = np.zeros(len(evaluator.levers))
    result = None
    for _round in range(2):
        sims = evaluator.values(theta)
        sd2 = sims.var(axis=0, ddof=1) if replications > 1 else np.zeros(len(y))
        weight = 1.0 / np.sqrt(sampling + sd2 * (1.0 + 1.0 / replications))

        def residuals(t: np.ndarray, weight: np.ndarray = weight) -> np.ndarray:
            return (evaluator.values(t).mean(axis=0) - y) * weight

        def jacobian(t: np.ndarray, residuals: Any = residuals) -> np.ndarray:
            return _forward_differences(residuals, t)

        result = optimize.least_squares(residuals, theta, jac=jacobian, bounds=LOG_BOUNDS,
                                        method="trf", x_scale=1.0, ftol=1e-4, xtol=1e-3,
                                        gtol=1e-6, max_nfev=max_evaluations)
        theta = result.x
    assert result is not None
    return result, weight


def _parameter_table(levers: list[Lever], unfit: list[tuple[Lever, str]], theta: np.ndarray,
                     se: np.ndarray, weak: np.ndarray, at_bound: np.ndarray, ident: np.ndarray
                     ) -> pd.DataFrame:
    """One row per lever: the fitted ones (estimate and interval from ``se``, or why not
    identified, with ``weak`` the standard error that made it so), then the ones not fitted."""
    z = stats.norm.ppf(0.5 + LEVEL / 2.0)
    rows = []
    for i, lever in enumerate(levers):
        note = ""
        if at_bound[i]:
            note = ("not identified: the fit runs to the bound of the search (a tenfold change) "
                    "without matching the points, so this factor cannot reproduce them; not "
                    "written")
        elif not ident[i]:
            note = ("not identified: the points barely move with it (standard error of the "
                    f"log-factor {weak[i]:.2g}); not written")
        ok = bool(ident[i])
        rows.append({"parameter": lever.name, "kind": lever.kind, "team": lever.team,
                     "start": lever.start, "estimate": float(np.exp(theta[i])) if ok else 1.0,
                     "ci_low": float(np.exp(theta[i] - z * se[i])) if ok else math.nan,
                     "ci_high": float(np.exp(theta[i] + z * se[i])) if ok else math.nan,
                     "se_log": float(se[i]), "identified": ok, "note": note})
    for lever, why in unfit:
        rows.append({"parameter": lever.name, "kind": lever.kind, "team": lever.team,
                     "start": lever.start, "estimate": math.nan, "ci_low": math.nan,
                     "ci_high": math.nan, "se_log": math.nan, "identified": False, "note": why})
    return pd.DataFrame(rows)


def _match(base: Scenario, points: tuple[ObservedPoint, ...], levers: list[Lever],
           unfit: list[tuple[Lever, str]], notes: list[str], replications: int, seed: int,
           max_evaluations: int, backend: Backend) -> HistoryMatch:
    evaluator = _Evaluator(base, levers, points, replications, seed, backend)
    sampling = _sampling_variance(points)
    result, weight = _optimise(evaluator, np.array([p.value for p in points]), sampling,
                               max_evaluations)
    theta = result.x
    jac = np.asarray(result.jac, dtype=float)
    loss = float(np.sum(result.fun ** 2))
    dof = len(points) - len(levers)
    dispersion = loss / dof if dof > 0 else math.nan
    cov = _sandwich(jac, base, levers, theta, points, weight, replications, seed, backend)
    if dof > 0 and dispersion > 1.0:  # a misfit beyond the stated variances widens every interval
        cov = cov * dispersion
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    # a factor no point moves with has a zero column in J and so no spread in the sandwich
    # either; the curvature alone, (J'J)^-1, gives that direction the huge variance it has
    flat = np.sqrt(np.clip(np.diag(_inverse_information(jac)), 0.0, None))
    at_bound = (theta <= LOG_BOUNDS[0] + 1e-6) | (theta >= LOG_BOUNDS[1] - 1e-6)
    ident = (np.maximum(se, flat) <= MAX_SE) & ~at_bound
    parameters = _parameter_table(levers, unfit, theta, se, np.maximum(se, flat), at_bound,
                                  ident)
    # the written scenario: unidentified factors are left out (their period carries the one before)
    keep = [lv for lv, ok in zip(levers, ident, strict=True) if ok]
    scenario = apply_factors(base, keep, np.exp(theta[ident]))
    scenario = scenario_from_dict({**scenario.model_dump(mode="json"),
                                   "observed": [p.model_dump(mode="json") for p in points]})
    records = _records(scenario, replications, seed, backend)
    table = _fit_table(records, scenario, points, replications, sampling)
    if dof > 0 and dispersion > 2.0:
        notes.append(f"the misfit is {dispersion:.1f} times the stated variances: the model does "
                     "not reproduce some points (see the residuals); intervals are widened by it")
    n_unident = int((~parameters["identified"]).sum())
    if n_unident:
        notes.append(f"{n_unident} of {len(parameters)} factors not identified by the data "
                     "(see their notes)")
    if not result.success:
        notes.append(f"the optimiser stopped: {result.message}")
    return HistoryMatch(base=base, scenario=scenario, points=points, parameters=parameters,
                        levers=keep, log_estimate=theta[ident], fit_table=table, loss=loss,
                        dispersion=dispersion, covariance=cov[np.ix_(ident, ident)],
                        evaluations=evaluator.evaluations, replications=replications, seed=seed,
                        records=records, notes=notes)


def _sandwich(jac: np.ndarray, base: Scenario, levers: list[Lever], theta: np.ndarray,
              points: tuple[ObservedPoint, ...], weight: np.ndarray, replications: int,
              seed: int, backend: Backend) -> np.ndarray:
    """Covariance of the fitted log-factors: ``A S A'`` with ``A = (J'J)^-1 J'`` (the fit's
    linearisation: how the fitted values move with the weighted points) and ``S`` the
    covariance of the weighted points from one run to the next, across
    :data:`COV_REPLICATIONS` replications of the fitted scenario, times ``1 + 1/R`` for the
    error of the fit's own mean of ``R`` replications. ``S`` holds the correlation between
    points (a list counted each month moves as a whole), which a covariance from the curvature
    alone, ``(J'J)^-1``, would take as independent."""
    lever = _inverse_information(jac) @ jac.T
    scenario = apply_factors(base, levers, np.exp(theta))
    runs = [(scenario, seed, r) for r in range(COV_REPLICATIONS)]
    spread = simulate_points(runs, points, backend) * weight
    middle = np.cov(spread, rowvar=False, ddof=1).reshape(len(points), len(points))
    return lever @ middle @ lever.T * (1.0 + 1.0 / replications)


def _inverse_information(jac: np.ndarray) -> np.ndarray:
    """``(J'J)^-1``, with a tiny ridge so that a direction no point moves with gets a huge
    variance rather than an error."""
    info = jac.T @ jac
    ridge = 1e-9 * max(float(np.trace(info)), 1e-12)
    return np.linalg.inv(info + ridge * np.eye(jac.shape[1]))


def _forward_differences(residuals: Any, theta: np.ndarray) -> np.ndarray:
    """Jacobian of the residuals by forward differences of :data:`DIFF_STEP` in each log-factor
    (backward at the upper bound); SciPy's own steps are relative to the value, so at a factor
    of 1 (log-factor 0) they would be far below the simulation's resolution."""
    base = residuals(theta)
    out = np.empty((len(base), len(theta)))
    for i in range(len(theta)):
        step = DIFF_STEP if theta[i] + DIFF_STEP <= LOG_BOUNDS[1] else -DIFF_STEP
        moved = theta.copy()
        moved[i] += step
        out[:, i] = (residuals(moved) - base) / step
    return out


def _fit_table(records: list[ReplicationRecord], scenario: Scenario,
               points: tuple[ObservedPoint, ...], replications: int,
               sampling: np.ndarray) -> pd.DataFrame:
    sims = point_values(records, scenario, points)
    mean = sims.mean(axis=0)
    sd2 = sims.var(axis=0, ddof=1) if replications > 1 else np.zeros(len(points))
    low, high = np.percentile(sims, [2.5, 97.5], axis=0)
    resid = (mean - np.array([p.value for p in points])) / np.sqrt(
        sampling + sd2 * (1.0 + 1.0 / replications))
    return pd.DataFrame({
        "date": [p.date for p in points], "measure": [p.measure for p in points],
        "over_weeks": [p.over_weeks for p in points], "locality": [p.locality for p in points],
        "age_group": [p.age_group for p in points],
        "period_start": [p.period_start for p in points],
        "observed": [p.value for p in points], "fitted_mean": mean, "fitted_low": low,
        "fitted_high": high, "residual": resid})
