"""Back-testing: fit with the points up to a date, forecast every later point, and score it.

:func:`backtest` fits the scenario to the observed points dated up to the cut
(:func:`asdsim.experiments.history.history_match`), then forecasts each later point by
simulation. A forecast's prediction interval carries both kinds of uncertainty:

* **the fit's**: :data:`DRAWS` sets of factors are drawn from the fit's normal distribution of
  the log-factors (its estimate and covariance); a factor the data could not identify keeps the
  period before's, and capacity after the last fitted period stays at that period's level (the
  forecast's assumption, stated in the report);
* **run-to-run noise**: each draw is simulated for :data:`DRAW_REPLICATIONS` replications (at
  least 2) with its own seed (``seed + 1 + draw``; the fit used ``seed``), as the real area is one run among
  many.

A forecast run reruns the whole history with its own random numbers, so its list at the cut
may have drifted from the list observed there, which the data already tell. Each run's
forecast of a stock (a count on a date: the list carries its state forward) is therefore
conditioned on the last value observed in its series by regression adjustment (as in
approximate Bayesian computation, Beaumont, Zhang and Balding 2002): ``f - b (s - y)``, where
``s`` is the run's value at the series' last fitted point, ``y`` the value observed there, and
``b`` the slope of ``f`` on ``s`` across the replications within each draw (their run-to-run
spread only: the draws' spread is already conditioned on the data by the fit). Flows are left as
simulated.

The forecast of a point is the mean of the pooled values (draws times replications); its 80%
and 95% prediction intervals are their 10-90th and 2.5-97.5th percentiles, each taken at the
rank ``p (n + 1)`` of the ``n`` pooled values (:func:`prediction_bounds`): a new value
exchangeable with ``n`` others falls between their ``i``-th and ``j``-th smallest with
probability ``(j - i) / (n + 1)``, so these ranks give the interval its stated coverage, where
the usual interpolation (rank ``1 + p (n - 1)``) makes an 80% interval from 30 values cover
75% and from 90 values 78%. The scores are the
share of held-out points inside each interval (coverage; an honest 80% interval covers about
80%, and too narrow an interval is the failure to look for) and the mean absolute percentage
error of the mean over points whose observed value is above 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asdsim.errors import AsdsimError
from asdsim.experiments.backends import make_backend
from asdsim.experiments.history import Fit, HistoryMatch, history_match
from asdsim.experiments.history.fit import simulate_points
from asdsim.experiments.runner import DEFAULT_SEED
from asdsim.scenario.loading import load_scenario
from asdsim.scenario.schema import ObservedPoint, Scenario

DRAWS = 30
"""Draws of the fitted factors per forecast."""
DRAW_REPLICATIONS = 3
"""Replications of each draw."""
COLUMNS = ["date", "measure", "over_weeks", "locality", "age_group", "period_start", "observed",
           "forecast_mean", "low_95", "low_80", "high_80", "high_95"]
"""Columns of ``backtest.csv``."""


@dataclass
class Backtest:
    """The outcome of :func:`backtest`."""

    cut: dt.date
    """The last date of the points fitted."""
    fit: HistoryMatch
    """The fit to the points up to the cut."""
    table: pd.DataFrame
    """One row per held-out point: :data:`COLUMNS`, then ``inside_80``, ``inside_95`` and
    ``abs_pct_error`` (NaN where the observed value is 0)."""
    samples: np.ndarray
    """Simulated values behind the forecasts (stocks conditioned on the cut), shape (draws x
    replications, held-out points)."""

    @property
    def scores(self) -> pd.DataFrame:
        """points, coverage_80, coverage_95, mape (a share), and the same by measure."""
        def score(frame: pd.DataFrame, what: str) -> dict[str, Any]:
            return {"measure": what, "points": len(frame),
                    "coverage_80": float(frame.inside_80.mean()),
                    "coverage_95": float(frame.inside_95.mean()),
                    "mape": float(frame.abs_pct_error.mean())
                    if frame.abs_pct_error.notna().any() else np.nan}

        rows = [score(self.table, "all")]
        if self.table.measure.nunique() > 1:
            rows += [score(frame, str(m)) for m, frame in self.table.groupby("measure", sort=False)]
        return pd.DataFrame(rows)


def prediction_bounds(samples: np.ndarray) -> np.ndarray:
    """The 95% and 80% prediction intervals of each column of exchangeable ``samples``: rows
    ``low_95, low_80, high_80, high_95``, the 2.5th, 10th, 90th and 97.5th percentiles at rank
    ``p (n + 1)`` of the ``n`` values (clipped to the smallest and largest), so that a new value
    like them falls inside each interval with its stated probability."""
    return np.percentile(samples, [2.5, 10.0, 90.0, 97.5], axis=0, method="weibull")


def split_points(points: Sequence[ObservedPoint], cut: dt.date
                 ) -> tuple[list[ObservedPoint], list[ObservedPoint]]:
    """The points dated up to ``cut`` (to fit) and after it (to forecast)."""
    return [p for p in points if p.date <= cut], [p for p in points if p.date > cut]


def _series(point: ObservedPoint) -> tuple[object, ...]:
    return point.measure, point.over_weeks, point.locality, point.age_group


def last_points(train: Sequence[ObservedPoint]) -> dict[tuple[object, ...], int]:
    """The index of the last point fitted in each series of stocks (measure, weeks, locality,
    age group): a stock carries the state of the list forward; a past flow says little of the
    next."""
    out: dict[tuple[object, ...], int] = {}
    for i, point in enumerate(train):
        if point.is_flow:
            continue
        key = _series(point)
        if key not in out or train[out[key]].date <= point.date:
            out[key] = i
    return out


def condition_on_cut(sims: np.ndarray, at_cut: np.ndarray, draws: int,
                     test: Sequence[ObservedPoint], train: Sequence[ObservedPoint],
                     anchors: dict[tuple[object, ...], int]) -> np.ndarray:
    """Forecast runs adjusted to the last value observed in their series (see the module
    docstring): ``f - b (s - y)``, with ``s`` the run's value at the series' last fitted point,
    ``y`` the value observed there and ``b`` the slope of ``f`` on ``s`` across the runs of
    each draw (their spread from one run to the next, not from the draws). Points of a series
    with no fitted point are left as they are."""
    out = sims.copy()
    group = np.repeat(np.arange(draws), len(sims) // draws)
    columns = {key: j for j, key in enumerate(anchors)}

    def within(values: np.ndarray) -> np.ndarray:
        means = np.bincount(group, weights=values) / np.bincount(group)
        return values - means[group]

    for j, point in enumerate(test):
        key = _series(point)
        if key not in anchors:
            continue
        s = at_cut[:, columns[key]]
        ds, df = within(s), within(sims[:, j])
        spread = float(ds @ ds)
        slope = float(ds @ df) / spread if spread > 0 else 0.0
        out[:, j] = np.maximum(sims[:, j] - slope * (s - train[anchors[key]].value), 0.0)
    return out


def backtest(base: Scenario | str | Path, points: Sequence[ObservedPoint], cut: dt.date, *,
             fit: Sequence[Fit] = ("capacity",), periods: str | Sequence[dt.date] = "quarterly",
             teams: Sequence[str] | None = None, replications: int = 8,
             draws: int = DRAWS, draw_replications: int = DRAW_REPLICATIONS,
             seed: int = DEFAULT_SEED, condition: bool = True, jobs: int = 1) -> Backtest:
    """Fit with the points up to ``cut`` and forecast every later point, with intervals.

    Parameters
    ----------
    base
        The scenario (or its file).
    points
        Every observed point.
    cut
        The last date of the points fitted; later points are held out and forecast.
    fit, periods, teams, replications, seed, jobs
        As :func:`asdsim.experiments.history.history_match` (periods after ``cut`` have no
        points to fit).
    draws, draw_replications
        Draws of the fitted factors, and replications of each, behind every forecast.
    condition
        Adjust each forecast run to the last value observed in its series (the default; see
        :func:`condition_on_cut`); False leaves the runs as simulated from the start.

    Raises
    ------
    AsdsimError
        When no point falls on either side of the cut.
    """
    if not isinstance(base, Scenario):
        base = load_scenario(base)
    train, test = split_points(points, cut)
    if not train or not test:
        raise AsdsimError(f"--cut {cut}: {len(train)} points up to it and {len(test)} after it; "
                          "a back-test needs points on both sides")
    if draws < 1 or draw_replications < 2:
        raise AsdsimError("draws must be at least 1 and draw_replications at least 2")
    if not isinstance(periods, str):
        periods = [day for day in periods if day <= cut]
    match = history_match(base, train, fit=fit, periods=periods, teams=teams,
                          replications=replications, seed=seed, jobs=jobs)
    anchors = last_points(train)
    runs = [(scenario, seed + 1 + k, r) for k, scenario in enumerate(match.draw(draws, seed))
            for r in range(draw_replications)]
    with make_backend(jobs) as backend:
        values = simulate_points(runs, [*test, *(train[i] for i in anchors.values())], backend)
    sims, at_cut = values[:, :len(test)], values[:, len(test):]
    if condition:
        sims = condition_on_cut(sims, at_cut, draws, test, train, anchors)
    low95, low80, high80, high95 = prediction_bounds(sims)
    observed = np.array([p.value for p in test])
    mean = sims.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ape = np.where(observed > 0, np.abs(mean - observed) / observed, np.nan)
    table = pd.DataFrame({
        "date": [p.date for p in test], "measure": [p.measure for p in test],
        "over_weeks": [p.over_weeks for p in test], "locality": [p.locality for p in test],
        "age_group": [p.age_group for p in test], "period_start": [p.period_start for p in test],
        "observed": observed, "forecast_mean": mean, "low_95": low95, "low_80": low80,
        "high_80": high80, "high_95": high95,
        "inside_80": (low80 <= observed) & (observed <= high80),
        "inside_95": (low95 <= observed) & (observed <= high95),
        "abs_pct_error": ape})
    return Backtest(cut=cut, fit=match, table=table, samples=sims)


def write_backtest(result: Backtest, out: str | Path, *, observed_file: str | Path,
                   force: bool = False, inputs: Sequence[Path | str] = ()) -> Path:
    """Write the back-test folder: ``backtest.csv`` (every held-out point with its forecast and
    intervals), ``scores.csv``, ``parameters.csv`` and ``fit.csv`` (the fit up to the cut),
    ``backtest.png``, ``provenance.json`` and ``report.html``.

    Raises
    ------
    asdsim.reporting.outputs.OutputExists
        When ``out`` is in the way and may not be replaced.
    """
    from asdsim.reporting.history_report import write_report_folder
    from asdsim.reporting.validation_chart import backtest_chart

    match = result.fit
    fitted = match.fit_table
    figure = backtest_chart(result.table, fitted, result.cut)
    overall = result.scores.iloc[0]
    intro = [
        f"{match.base.name}: fitted to the {len(match.points)} points of "
        f"{Path(observed_file).name} dated up to {result.cut}, and forecast at the "
        f"{len(result.table)} later points.",
        f"Scores over the held-out points: the 80% prediction interval covers "
        f"{overall.coverage_80:.0%} and the 95% interval {overall.coverage_95:.0%}; mean "
        f"absolute percentage error of the forecast mean "
        + (f"{overall.mape:.1%}." if np.isfinite(overall.mape) else "not defined (every "
           "observed value is 0)."),
        f"Each forecast pools {result.samples.shape[0]} runs: draws of the fitted factors from "
        "their fitted distribution, each simulated with its own seed, so the intervals carry the "
        "fit's uncertainty and run-to-run noise. Capacity after the last fitted period stays at "
        "that period's level.",
        *match.notes,
    ]
    shown = result.table[[*COLUMNS, "inside_80", "inside_95"]]
    return write_report_folder(
        out, title=f"Back-test of {match.base.name} from {result.cut}", intro=intro,
        tables={"backtest": result.table[COLUMNS], "scores": result.scores,
                "parameters": match.parameters, "fit": fitted},
        figures={"backtest": figure},
        sections=[("Scores", result.scores), ("Forecasts against what happened", figure),
                  ("Every held-out point", shown), ("The fit up to the cut", match.parameters)],
        provenance={"kind": "backtest", "cut": str(result.cut), "seed": match.seed,
                    "replications": match.replications, "observed": Path(observed_file).name,
                    "forecast_runs": int(result.samples.shape[0])},
        force=force, inputs=inputs)
