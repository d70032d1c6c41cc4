"""History matching: fit what an area never published to the counts it did publish.

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
would take as independent errors (on the known truth of the tests its 80% forecast intervals
covered 94% of held-out points; the sandwich's cover 89%). When the loss exceeds its degrees of
freedom (a misfit beyond the stated variances) the covariance is widened by their ratio.

A factor is **not identified** when no observed point is dated after its period starts (it
cannot change any point; it is not fitted), when the points barely move with it (``se`` above
:data:`MAX_SE`, as when the points cover another team's children or two factors can be traded
against each other), or when the fit runs to the bound of the search (no factor within a
tenfold change reproduces the points): it is reported as such, with no interval, and not
written, so its period carries the capacity of the period before.

A team's weekly hours buy whole appointments, so a factor is identified only to within about
one appointment a week.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from scipy import optimize, stats

from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.results import Results
from asdsim.analysis.validation import point_values
from asdsim.errors import AsdsimError
from asdsim.experiments.calibrate import emit_yaml
from asdsim.experiments.runner import DEFAULT_SEED, run_replication, run_replications
from asdsim.scenario.loading import load_scenario, scenario_from_dict
from asdsim.scenario.schema import ObservedPoint, Scenario

LEVEL = 0.95
"""Level of the fitted values' intervals."""
DIFF_STEP = 0.05
"""Step of the finite-difference Jacobian, in log-factor (a 5% change of a factor)."""
LOG_BOUNDS = (math.log(0.1), math.log(10.0))
"""Each factor is fitted between a tenth and ten times the base."""
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
Fit = Literal["capacity", "demand"]


@dataclass(frozen=True)
class Lever:
    """One number the fit may set."""

    kind: Fit
    """``capacity`` (a team's factor from ``start``) or ``demand`` (the referral rate)."""
    start: dt.date
    """First day the factor applies (for demand: the scenario start)."""
    team: str | None = None
    """The team whose capacity it scales."""

    @property
    def name(self) -> str:
        """How the lever is named in tables."""
        if self.kind == "demand":
            return "demand.referrals_per_week"
        return f"capacity {self.team} from {self.start}"


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


# --------------------------------------------------------------------------- the levers


def period_starts(scenario: Scenario, periods: str | Sequence[dt.date],
                  last: dt.date) -> list[dt.date]:
    """First days of the capacity periods: the scenario start, then each date given, or the first
    day of each calendar quarter after the start up to ``last`` (``"quarterly"``), or none
    (``"single"``: one factor for the whole horizon)."""
    start = scenario.start_date
    if isinstance(periods, str):
        if periods == "single":
            return [start]
        if periods != "quarterly":
            raise AsdsimError(f"periods must be 'quarterly', 'single' or a list of dates, not "
                              f"{periods!r}")
        out = [start]
        year, month = start.year, 3 * ((start.month - 1) // 3) + 1
        while True:
            month += 3
            if month > 12:
                year, month = year + 1, month - 12
            day = dt.date(year, month, 1)
            if day > last:
                return out
            out.append(day)
    dates = sorted(set(periods))
    for day in dates:
        if not start < day <= scenario.end_date:
            raise AsdsimError(f"period start {day} is outside the scenario's horizon (after "
                              f"{start}, up to {scenario.end_date})")
    return [start, *dates]


def capacity_teams(scenario: Scenario, teams: Sequence[str] | None = None) -> list[str]:
    """Teams whose capacity can be fitted: clinic-hours teams (a factor on their WTE)."""
    names = list(scenario.teams) if teams is None else list(teams)
    for name in names:
        if name not in scenario.teams:
            raise AsdsimError(f"no team {name!r} in the scenario (teams: "
                              f"{', '.join(scenario.teams)})")
    return [n for n in names if scenario.teams[n].capacity_mode == "clinic_hours"]


def _wte_in_force(scenario: Scenario, team: str, group: str, day: dt.date) -> float:
    wte = scenario.teams[team].staff[group].wte
    for change in sorted(scenario.capacity_changes, key=lambda c: c.date):
        if change.team == team and change.group == group and change.wte is not None \
                and change.date <= day:
            wte = change.wte
    return wte


def apply_factors(base: Scenario, levers: Sequence[Lever], factors: Sequence[float]) -> Scenario:
    """The base with each lever's factor applied.

    A capacity factor from a date multiplies the WTE in force of every staff group of its team
    (written as a capacity change on that date, and each of the base's own changes to the team
    in the period scaled by the same factor); the demand factor multiplies
    ``demand.referrals_per_week``.
    """
    return scenario_from_dict(_factor_data(base, levers, factors)[0])


def _factor_data(base: Scenario, levers: Sequence[Lever], factors: Sequence[float]
                 ) -> tuple[dict[str, Any], dict[int, int]]:
    """The changed scenario's data, and for each capacity change (by index) the lever (by index)
    that set it."""
    data = base.model_dump(mode="json")
    by_team: dict[str, list[tuple[dt.date, int]]] = {}
    for i, lever in enumerate(levers):
        if lever.kind == "demand":
            data["demand"]["referrals_per_week"] = base.demand.referrals_per_week * float(factors[i])
        elif lever.team is not None:
            by_team.setdefault(lever.team, []).append((lever.start, i))

    def lever_at(team: str, day: dt.date) -> int | None:
        found = None
        for start, i in sorted(by_team.get(team, [])):
            if start <= day:
                found = i
        return found

    changes: dict[tuple[str, str, str], tuple[dict[str, Any], int | None]] = {}
    for change in base.capacity_changes:
        entry = change.model_dump(mode="json", exclude_none=True)
        i = lever_at(change.team, change.date) if change.wte is not None else None
        if i is not None:
            entry["wte"] = change.wte * float(factors[i])  # type: ignore[operator]
        changes[(str(change.date), change.team, change.group or "")] = (entry, i)
    for team, starts in by_team.items():
        for start, i in starts:
            for group in base.teams[team].staff:
                key = (str(start), team, group)
                if key not in changes:
                    wte = _wte_in_force(base, team, group, start) * float(factors[i])
                    changes[key] = ({"date": str(start), "team": team, "group": group,
                                     "wte": wte}, i)
    ordered = sorted(changes.items(), key=lambda kv: kv[0])
    data["capacity_changes"] = [entry for _, (entry, _) in ordered]
    setters = {k: i for k, (_, (_, i)) in enumerate(ordered) if i is not None}
    return data, setters


# ----------------------------------------------------------------------------- the fit


def _sampling_variance(points: Sequence[ObservedPoint]) -> np.ndarray:
    return np.array([1.0 if p.measure == "longest_wait_weeks" else max(p.value, 1.0)
                     for p in points])


def smoothing_offsets(replications: int) -> np.ndarray:
    """The capacity offset of each replication, in log-factor: evenly spread over
    :data:`SMOOTHING`, centred on 0."""
    return SMOOTHING * ((np.arange(replications) + 0.5) / replications - 0.5)


class _Evaluator:
    """Simulated values of the points for given log-factors, under common random numbers."""

    def __init__(self, base: Scenario, levers: list[Lever], points: tuple[ObservedPoint, ...],
                 replications: int, seed: int):
        self.base, self.levers, self.points = base, levers, points
        self.replications, self.seed = replications, seed
        self.capacity = np.array([lv.kind == "capacity" for lv in levers], dtype=float)
        self.offsets = smoothing_offsets(replications)
        self.evaluations = 0
        self._cache: dict[bytes, np.ndarray] = {}

    def values(self, theta: np.ndarray) -> np.ndarray:
        """Shape (replications, points)."""
        key = np.round(theta, 12).tobytes()
        if key not in self._cache:
            rows = []
            for r, offset in enumerate(self.offsets):
                scenario = apply_factors(self.base, self.levers,
                                         np.exp(theta + offset * self.capacity))
                rows.append(point_values([run_replication(scenario, self.seed, r)], scenario,
                                         self.points)[0])
            self._cache[key] = np.array(rows)
            self.evaluations += 1
        return self._cache[key]


def history_match(base: Scenario | str | Path, points: Sequence[ObservedPoint], *,
                  fit: Sequence[Fit] = ("capacity",), periods: str | Sequence[dt.date] = "quarterly",
                  teams: Sequence[str] | None = None, replications: int = 8,
                  seed: int = DEFAULT_SEED, max_evaluations: int = MAX_EVALUATIONS) -> HistoryMatch:
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
    notes: list[str] = []
    levers: list[Lever] = []
    unfit: list[tuple[Lever, str]] = []
    last = max(p.date for p in points)
    if "capacity" in fit:
        names = capacity_teams(base, teams)
        skipped = [n for n in (teams or base.teams) if n not in names]
        if skipped:
            notes.append(f"not fitted: {', '.join(skipped)} (caseload teams: their capacity is a "
                         "whole number of clinicians)")
        for day in period_starts(base, periods, last):
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
    if not levers:
        raise AsdsimError("nothing to fit: " + "; ".join(f"{lv.name}: {why}" for lv, why in unfit))
    evaluator = _Evaluator(base, levers, points, replications, seed)
    y = np.array([p.value for p in points])
    sampling = _sampling_variance(points)
    theta = np.zeros(len(levers))
    result = None
    for _round in range(2):
        sims = evaluator.values(theta)
        sd2 = sims.var(axis=0, ddof=1) if replications > 1 else np.zeros(len(points))
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
    jac = np.asarray(result.jac, dtype=float)
    loss = float(np.sum(result.fun ** 2))
    dof = len(points) - len(levers)
    dispersion = loss / dof if dof > 0 else math.nan
    cov = _sandwich(jac, base, levers, theta, points, weight, replications, seed)
    if dof > 0 and dispersion > 1.0:  # a misfit beyond the stated variances widens every interval
        cov = cov * dispersion
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    at_bound = (theta <= LOG_BOUNDS[0] + 1e-6) | (theta >= LOG_BOUNDS[1] - 1e-6)
    ident = (se <= MAX_SE) & ~at_bound
    z = stats.norm.ppf(0.5 + LEVEL / 2.0)
    rows = []
    for i, lever in enumerate(levers):
        est = float(np.exp(theta[i]))
        note = ""
        if at_bound[i]:
            note = ("not identified: the fit runs to the bound of the search (a tenfold change) "
                    "without matching the points, so this factor cannot reproduce them; not "
                    "written")
        elif not ident[i]:
            note = ("not identified: the points barely move with it (standard error of the "
                    f"log-factor {se[i]:.2g}); not written")
        rows.append({"parameter": lever.name, "kind": lever.kind, "team": lever.team,
                     "start": lever.start, "estimate": est if ident[i] else 1.0,
                     "ci_low": float(np.exp(theta[i] - z * se[i])) if ident[i] else math.nan,
                     "ci_high": float(np.exp(theta[i] + z * se[i])) if ident[i] else math.nan,
                     "se_log": float(se[i]), "identified": bool(ident[i]), "note": note})
    for lever, why in unfit:
        rows.append({"parameter": lever.name, "kind": lever.kind, "team": lever.team,
                     "start": lever.start, "estimate": math.nan, "ci_low": math.nan,
                     "ci_high": math.nan, "se_log": math.nan, "identified": False, "note": why})
    parameters = pd.DataFrame(rows)
    # the written scenario: unidentified factors are left at 1 (the base), unfitted levers out
    fitted = parameters.iloc[:len(levers)]
    factors = np.where(fitted["identified"], fitted["estimate"], 1.0)
    keep = [lv for lv, ok in zip(levers, fitted["identified"], strict=True) if ok]
    scenario = apply_factors(base, keep, factors[fitted["identified"].to_numpy(dtype=bool)])
    scenario = scenario_from_dict({**scenario.model_dump(mode="json"),
                                   "observed": [p.model_dump(mode="json") for p in points]})
    records = run_replications(scenario, replications, seed)
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
    cov_ident = cov[np.ix_(ident, ident)]
    return HistoryMatch(base=base, scenario=scenario, points=points, parameters=parameters,
                        levers=keep, log_estimate=theta[ident], fit_table=table, loss=loss,
                        dispersion=dispersion, covariance=cov_ident,
                        evaluations=evaluator.evaluations, replications=replications, seed=seed,
                        records=records, notes=notes)


def _sandwich(jac: np.ndarray, base: Scenario, levers: list[Lever], theta: np.ndarray,
              points: tuple[ObservedPoint, ...], weight: np.ndarray, replications: int,
              seed: int) -> np.ndarray:
    """Covariance of the fitted log-factors: ``A S A'`` with ``A = (J'J)^-1 J'`` (the fit's
    linearisation: how the fitted values move with the weighted points) and ``S`` the
    covariance of the weighted points from one run to the next, across
    :data:`COV_REPLICATIONS` replications of the fitted scenario, times ``1 + 1/R`` for the
    error of the fit's own mean of ``R`` replications. ``S`` holds the correlation between
    points (a list counted each month moves as a whole), which a covariance from the curvature
    alone, ``(J'J)^-1``, would take as independent."""
    info = jac.T @ jac
    ridge = 1e-9 * max(float(np.trace(info)), 1e-12)  # unidentified directions get a huge variance
    lever = np.linalg.inv(info + ridge * np.eye(len(theta))) @ jac.T
    scenario = apply_factors(base, levers, np.exp(theta))
    records = run_replications(scenario, COV_REPLICATIONS, seed)
    spread = point_values(records, scenario, points) * weight
    middle = np.cov(spread, rowvar=False, ddof=1).reshape(len(points), len(points))
    return lever @ middle @ lever.T * (1.0 + 1.0 / replications)


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


# --------------------------------------------------------------------------- the output


def _fmt_factor(row: Any) -> str:
    return f"{row.estimate:.3f} (95% CI {row.ci_low:.3f} to {row.ci_high:.3f})"


def yaml_text(match: HistoryMatch, base_file: str | Path, out: str | Path,
              observed_file: str | Path) -> str:
    """The fitted scenario as YAML: ``extends:`` the base, with the fitted capacity changes (and
    referral rate) and the fitted points under ``observed:``, each fitted number with a comment
    naming the fit and its interval.

    Parameters
    ----------
    match
        From :func:`history_match`.
    base_file
        The base scenario's file (named relative to ``out``'s folder).
    out
        Where the file will be written.
    observed_file
        The observed series fitted (named in the head comment).
    """
    relative = Path(os.path.relpath(Path(base_file).absolute(), Path(out).absolute().parent))
    levers, factors = match.levers, np.exp(match.log_estimate)
    data, setters = _factor_data(match.base, levers, factors)
    rows = {r.parameter: r for r in match.parameters.itertuples()}
    comments: dict[tuple[str | int, ...], str] = {}
    for index, which in setters.items():
        row = rows[levers[which].name]
        comments[("capacity_changes", index)] = (
            f"fitted: capacity factor {_fmt_factor(row)} on {row.team}'s WTE from {row.start}")
    out_data: dict[str, Any] = {"extends": relative.as_posix(),
                                "name": f"{match.base.name}, fitted to history"}
    if any(lv.kind == "demand" for lv in levers):
        row = rows["demand.referrals_per_week"]
        out_data["demand"] = {"referrals_per_week": data["demand"]["referrals_per_week"]}
        comments[("demand", "referrals_per_week")] = (
            f"fitted: {_fmt_factor(row)} x the base rate")
    out_data["capacity_changes"] = data["capacity_changes"]
    out_data["observed"] = [
        {k: v for k, v in p.model_dump(mode="json").items() if v is not None}
        for p in match.points]
    head = [
        f"# Fitted by asdsim calibrate --observed on {dt.date.today().isoformat()}: "
        + " and ".join(part for part in (
            "the capacity of " + ", ".join(sorted({lv.team for lv in levers if lv.team}))
            + " by period" if any(lv.kind == "capacity" for lv in levers) else "",
            "the referral rate" if any(lv.kind == "demand" for lv in levers) else "") if part)
        + (" (nothing identified)" if not levers else ""),
        f"# to the {len(match.points)} points of {Path(observed_file).name} (history matching by "
        f"simulation, {match.replications} replications, seed {match.seed}; loss "
        f"{match.loss:.1f}).",
        "# Each fitted change is a factor on the WTE in force, with its 95% interval from the "
        "curvature of the loss",
        "# (docs/as-happened.md). Factors the data could not identify are not written:",
    ]
    unident = match.parameters[~match.parameters["identified"]]
    head += [f"#   {r.parameter}: {r.note}" for r in unident.itertuples()] or ["#   none."]
    text = "\n".join(head) + "\n" + emit_yaml(out_data, comments)
    if yaml.safe_load(text) != json.loads(json.dumps(out_data)):  # the emitter must write the data
        raise AssertionError("fitted YAML does not read back as the data it was made from")
    return text


def write_history(match: HistoryMatch, base_file: str | Path, out: str | Path,
                  observed_file: str | Path, force: bool = False) -> Path:
    """Write the fitted scenario (see :func:`yaml_text`) and check it loads as the fit.

    Raises
    ------
    AsdsimError
        When ``out`` exists and ``force`` is false, or is a folder.
    """
    from asdsim.files import write_text_atomic

    out = Path(out)
    if out.exists() and not force:
        raise AsdsimError(f"{out} exists; choose another --out or add --force to replace it")
    if out.is_dir():
        raise AsdsimError(f"{out} is a folder; expected the path of a scenario file to write")
    text = yaml_text(match, base_file, out, observed_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, text)
    return out


def write_history_report(match: HistoryMatch, folder: str | Path, *, observed_file: str | Path,
                         force: bool = False) -> Path:
    """Write the fit report folder: ``parameters.csv`` (each fitted value with its interval, or
    why it was not identified), ``fit.csv`` (the fit at every point), ``fit.png`` (the
    validation chart of the fitted scenario), ``provenance.json`` and ``report.html``."""
    from asdsim.reporting.history_report import write_report_folder
    from asdsim.reporting.validation_chart import validation_chart

    figure = validation_chart(Results(scenario=match.scenario, provenance={},
                                      records=match.records))
    figures = {"fit": figure} if figure is not None else {}
    intro = [
        f"{match.base.name} fitted to {len(match.points)} observed points of "
        f"{Path(observed_file).name} by simulation ({match.replications} replications, seed "
        f"{match.seed}, {match.evaluations} evaluations); loss {match.loss:.1f}"
        + (f", {match.dispersion:.2f} per degree of freedom." if np.isfinite(match.dispersion)
           else "."),
        "Each fitted value is a factor on the base (a team's WTE in force from the date, or the "
        "referral rate), with a 95% interval from the curvature of the loss (docs/as-happened.md).",
        *match.notes,
    ]
    sections: list[tuple[str, Any]] = [("Fitted values", match.parameters)]
    if figure is not None:
        sections.append(("The fit at every point", figure))
    sections.append(("The fit at every point (table)", match.fit_table))
    return write_report_folder(
        folder, title=f"History match of {match.base.name}", intro=intro,
        tables={"parameters": match.parameters, "fit": match.fit_table}, figures=figures,
        sections=sections, force=force,
        provenance={"kind": "history match", "seed": match.seed,
                    "replications": match.replications, "evaluations": match.evaluations,
                    "observed": Path(observed_file).name})


# ------------------------------------------------------------------------ a known truth


def month_end_points(scenario: Scenario, stocks: Sequence[str] = ("awaiting_assessment",),
                     flows: Sequence[str] = ("assessments_started",)
                     ) -> tuple[ObservedPoint, ...]:
    """Points at every month end within the horizon (value 0): each stock counted on the
    month's last day and each flow over the calendar month, as an area publishes monthly
    counts. Fill their values with :func:`observe`."""
    out: list[ObservedPoint] = []
    day = scenario.start_date
    while True:
        first = day.replace(day=1)
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        end = nxt - dt.timedelta(days=1)
        if end > scenario.end_date:
            return tuple(out)
        for measure in stocks:
            out.append(ObservedPoint(date=end, measure=measure, value=0,  # type: ignore[arg-type]
                                     source="simulated"))
        if first >= scenario.start_date:
            for measure in flows:
                out.append(ObservedPoint(date=end, measure=measure, value=0,  # type: ignore[arg-type]
                                         period_start=first, source="simulated"))
        day = nxt


def observe(scenario: Scenario, points: Sequence[ObservedPoint], seed: int,
            replication: int = 0) -> tuple[ObservedPoint, ...]:
    """The points with the values one run of the scenario gives them: what an area that ran as
    the scenario says would have published (a known truth to fit)."""
    values = point_values([run_replication(scenario, seed, replication)], scenario, points)[0]
    return tuple(p.model_copy(update={"value": float(v)}) for p, v in zip(points, values,
                                                                            strict=True))
