"""The fits: Wilson intervals of shares, and the Poisson GLM of referral counts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from asdsim.errors import AsdsimError

LEVEL = 0.95
"""Confidence level of every interval."""
MIN_DAYS = 56
"""Fewest days of referrals fitted (eight weeks)."""
SEASONAL_DAYS = 365
"""Fewest days of referrals for month-of-year factors (otherwise the base's are kept)."""
GROWTH_DAYS = 365
"""Fewest days of referrals for the annual growth (otherwise the base's is kept, as assumed)."""


DISPERSION_P = 0.05
"""Significance level of the over-dispersion test."""
WEEKDAY_P = 0.001
"""Significance level at which the day-of-week mix of referrals is taken as uneven."""
DRAWS = 4000
"""Coefficient draws for the intervals of the monthly factors and the rate at the start."""


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def wilson(count: float, total: float, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion ``count / total``."""
    if total <= 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = count / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ReferralFit:
    """The Poisson GLM of referral counts and what it gives the scenario."""

    first_day: dt.date
    """First day of the data."""
    last_day: dt.date
    """Last day of the data."""
    start_date: dt.date
    """Date the rate is extrapolated to (the scenario's start)."""
    referrals: int
    """Referrals fitted."""
    coefficients: pd.DataFrame
    """term, estimate, std_error, ci_low, ci_high (log scale), from the GLM."""
    parameters: pd.DataFrame
    """parameter, value, ci_low, ci_high: referrals_per_week, annual_growth,
    monthly_factors[i] and one ``step_change[DATE]`` per step change."""
    weekly: pd.DataFrame
    """week_start, days, observed, fitted, trend (fitted without seasonality)."""
    dispersion: float
    """Pearson chi-squared over residual degrees of freedom (1 for Poisson)."""
    dispersion_p: float
    """p-value of the chi-squared test of a ratio of 1."""
    overdispersed: bool
    """Whether the counts are more variable than Poisson (the intervals then use quasi-Poisson)."""
    seasonal: bool
    """Whether month-of-year factors were fitted."""
    weekday_weighted: bool
    """Whether pieces of weeks were weighted by an uneven day-of-week mix."""
    growth_fitted: bool = True
    """Whether the annual growth was fitted (False: the history is shorter than
    :data:`GROWTH_DAYS`, and the assumed growth given was kept)."""
    warnings: tuple[str, ...] = ()
    """Kinds of the warnings the model fit raised (``ConvergenceWarning``, ...), for a note:
    they are never printed as they come (a message names no data, and is one line)."""

    def value(self, parameter: str) -> float:
        """The fitted value of a parameter."""
        return float(self.parameters.set_index("parameter").loc[parameter, "value"])


def fit_referrals(days: np.ndarray, start_date: dt.date, step_changes: Sequence[dt.date] = (),
                  seed: int = 0, assumed_growth: float = 0.0) -> ReferralFit:
    """Fit the referral process to referral dates (:func:`_fit_referrals`), collecting the
    numerical warnings of the fit into :attr:`ReferralFit.warnings`."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        fit = _fit_referrals(days, start_date, step_changes, seed, assumed_growth)
    kinds = tuple(sorted({w.category.__name__ for w in caught}))
    return dataclasses.replace(fit, warnings=kinds) if kinds else fit


def _fit_referrals(days: np.ndarray, start_date: dt.date, step_changes: Sequence[dt.date] = (),
                   seed: int = 0, assumed_growth: float = 0.0) -> ReferralFit:
    """Fit the referral process to referral dates (see the module docstring).

    Parameters
    ----------
    days
        Referral dates (anything ``numpy.datetime64[D]`` accepts), one per referral.
    start_date
        Date to extrapolate the weekly rate to: the scenario's start, after the data.
    step_changes
        Dates from which a lasting change in the rate is fitted; each within the data.
    seed
        Seed of the coefficient draws for intervals (for reproducible output).
    assumed_growth
        The annual growth kept when the history is shorter than :data:`GROWTH_DAYS`: the trend
        is then fixed at it, not fitted (a few weeks cannot tell growth from noise).

    Raises
    ------
    AsdsimError
        With fewer than :data:`MIN_DAYS` days of data, or a step change outside the data.
    """
    import statsmodels.api as sm

    day, changes = _history(days, step_changes)
    first = day[0]
    n_days = int((day[-1] - first).astype(int)) + 1
    first_date, last_date = first.astype(dt.date), day[-1].astype(dt.date)
    counts = np.bincount((day - first).astype(int), minlength=n_days).astype(float)
    calendar = first + np.arange(n_days)
    month = calendar.astype("datetime64[M]").astype(int) % 12
    weekday = (calendar.astype(int) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    offset = np.arange(n_days)
    week = offset // 7
    in_force = (calendar[:, None] >= np.array(changes, dtype="datetime64[D]")[None, :]).astype(float)

    weight, weighted = _weekday_weights(weekday, counts)
    exposure_day = weight[weekday]

    seasonal = n_days >= SEASONAL_DAYS
    growth_fitted = n_days >= GROWTH_DAYS
    slope = math.log1p(assumed_growth)  # the trend's log-slope a year when it is not fitted
    keys = np.column_stack([week, month if seasonal else np.zeros(n_days, int), in_force])
    _, piece = np.unique(keys, axis=0, return_inverse=True)
    piece = piece.ravel()
    pieces = piece.max() + 1
    y = np.bincount(piece, weights=counts, minlength=pieces)
    exposure = np.bincount(piece, weights=exposure_day, minlength=pieces)
    size = np.bincount(piece, minlength=pieces)
    t_mid = np.bincount(piece, weights=offset + 0.5, minlength=pieces) / size / 365.25
    piece_month = np.zeros(pieces, dtype=int)
    piece_month[piece] = month
    piece_force = np.zeros((pieces, len(changes)))
    piece_force[piece] = in_force
    keep = exposure > 0
    columns = {"intercept": np.ones(pieces), "trend": t_mid}
    if not growth_fitted:
        del columns["trend"]
    months_seen = sorted(set(piece_month[keep].tolist())) if seasonal else []
    for m in months_seen[1:]:
        columns[f"month[{MONTHS[m]}]"] = (piece_month == m).astype(float)
    for j, change in enumerate(changes):
        columns[f"step_change[{change}]"] = piece_force[:, j]
    X = pd.DataFrame(columns)[keep]
    fixed = 0.0 if growth_fitted else slope * t_mid[keep]
    model = sm.GLM(y[keep], X, family=sm.families.Poisson(),
                   offset=np.log(exposure[keep]) + fixed)
    result, dispersion, dispersion_p, overdispersed = _fit_glm(model)
    beta = np.asarray(result.params, dtype=float)
    cov = np.asarray(result.cov_params(), dtype=float)
    ci = np.asarray(result.conf_int(alpha=1 - LEVEL), dtype=float)
    names = list(X.columns)
    coefficients = pd.DataFrame({"term": names, "estimate": beta,
                                 "std_error": np.asarray(result.bse, dtype=float),
                                 "ci_low": ci[:, 0], "ci_high": ci[:, 1]})

    # Derived quantities from the estimates and from coefficient draws.
    draws = np.random.default_rng(seed).multivariate_normal(beta, cov, size=DRAWS, method="eigh")
    month_terms = [names.index(f"month[{MONTHS[m]}]") for m in months_seen[1:]]
    t_start = (start_date - first_date).days / 365.25

    def per_week(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weekly rate before seasonality at the start, and the twelve factors (mean 1)."""
        b = np.atleast_2d(b)
        g = np.zeros((len(b), 12))
        for m, i in zip(months_seen[1:], month_terms, strict=True):
            g[:, m] = b[:, i]
        level = np.exp(g).mean(axis=1)
        steps = b[:, len(names) - len(changes):].sum(axis=1) if changes else 0.0
        trend = b[:, names.index("trend")] if growth_fitted else slope
        rate = 7.0 * np.exp(b[:, 0] + trend * t_start + steps) * level
        return rate, np.exp(g) / level[:, None]

    parameters = _parameters(per_week(beta), per_week(draws), beta, ci, names, changes,
                             growth_fitted, seasonal)

    # Weekly totals for the chart: observed, fitted, and fitted without the month effects.
    linear = X.to_numpy() @ beta + fixed
    fitted = np.zeros(pieces)
    fitted[keep] = np.exp(linear) * exposure[keep]
    no_season = linear.copy()
    for i in month_terms:
        no_season -= X.iloc[:, i].to_numpy() * beta[i]
    g_full = np.zeros(12)
    for m, i in zip(months_seen[1:], month_terms, strict=True):
        g_full[m] = beta[i]
    g_level = float(np.exp(g_full).mean())
    trend = np.zeros(pieces)
    trend[keep] = np.exp(no_season) * exposure[keep] * g_level
    piece_week = np.zeros(pieces, dtype=int)
    piece_week[piece] = week
    weeks = int(week.max()) + 1
    weekly = pd.DataFrame({
        "week_start": pd.to_datetime(first + 7 * np.arange(weeks)),
        "days": np.bincount(week, minlength=weeks),
        "observed": np.bincount(week, weights=counts, minlength=weeks),
        "fitted": np.bincount(piece_week, weights=fitted, minlength=weeks),
        "trend": np.bincount(piece_week, weights=trend, minlength=weeks),
    })
    return ReferralFit(first_day=first_date, last_day=last_date, start_date=start_date,
                       referrals=len(day), coefficients=coefficients, parameters=parameters,
                       weekly=weekly, dispersion=dispersion, dispersion_p=dispersion_p,
                       overdispersed=overdispersed, seasonal=seasonal, weekday_weighted=weighted,
                       growth_fitted=growth_fitted)


def _history(days: np.ndarray, step_changes: Sequence[dt.date]) -> tuple[np.ndarray, list[dt.date]]:
    """The referral days sorted, and the step changes sorted, each checked to be fittable."""
    day = np.sort(np.asarray(days, dtype="datetime64[D]"))
    # messages give counts and spans, never a date from the file (one referral's date is a child's)
    if len(day) == 0:
        raise AsdsimError("no referrals to fit")
    first, last = day[0], day[-1]
    n_days = int((last - first).astype(int)) + 1
    first_date, last_date = first.astype(dt.date), last.astype(dt.date)
    if n_days < MIN_DAYS:
        raise AsdsimError(f"the {len(day)} referral{'s cover' if len(day) != 1 else ' covers'} "
                          f"{n_days} day{'s' if n_days != 1 else ''}; at least {MIN_DAYS} days "
                          "(eight weeks) of referrals are needed to fit a rate")
    changes = sorted(set(step_changes))
    for change in changes:
        if not first_date < change <= last_date:
            side = "before the first" if change <= first_date else "after the last"
            raise AsdsimError(f"step change {change} is {side} referral: a change needs referrals "
                              "on both sides of it")
    return day, changes


def _weekday_weights(weekday: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, bool]:
    """Day-of-week weights of exposure (mean 1) and whether they are used: a clearly uneven mix
    (referrals made on working days) weights partial weeks; otherwise every day weighs 1."""
    per_weekday = np.bincount(weekday, weights=counts, minlength=7)
    days_per_weekday = np.bincount(weekday, minlength=7).astype(float)
    expected = days_per_weekday / days_per_weekday.sum() * counts.sum()
    weekday_p = float(stats.chisquare(per_weekday, expected).pvalue) if counts.sum() > 0 else 1.0
    weighted = weekday_p < WEEKDAY_P
    weight = np.ones(7)
    if weighted:
        rate = per_weekday / days_per_weekday
        weight = rate / rate.mean()
    return weight, weighted


def _fit_glm(model: Any) -> tuple[Any, float, float, bool]:
    """The Poisson GLM fitted, its dispersion ratio and that ratio's p-value, and whether the
    counts are over-dispersed (then refitted as quasi-Poisson)."""
    with np.errstate(all="ignore"):
        result = model.fit()
    df_resid = float(result.df_resid)
    pearson = float(result.pearson_chi2)
    dispersion = pearson / df_resid if df_resid > 0 else math.nan
    dispersion_p = float(stats.chi2.sf(pearson, df_resid)) if df_resid > 0 else math.nan
    overdispersed = bool(dispersion > 1 and dispersion_p < DISPERSION_P)
    if overdispersed:
        result = model.fit(scale="X2")  # quasi-Poisson: the same estimates, wider intervals
    return result, dispersion, dispersion_p, overdispersed


def _parameters(at_estimate: tuple[np.ndarray, np.ndarray], at_draws: tuple[np.ndarray, np.ndarray],
                beta: np.ndarray, ci: np.ndarray, names: list[str], changes: list[dt.date],
                growth_fitted: bool, seasonal: bool) -> pd.DataFrame:
    """The scenario's parameters with their intervals: the rate at the start and the monthly
    factors (at the estimates and percentiles of the draws), growth and step factors (Wald)."""
    rate, factors = at_estimate
    rate_draws, factor_draws = at_draws
    tail = (1 - LEVEL) / 2 * 100
    rows: list[tuple[str, float, float, float]] = []
    rows.append(("referrals_per_week", float(rate[0]), *np.percentile(rate_draws, [tail, 100 - tail])))
    if growth_fitted:
        rows.append(("annual_growth", math.expm1(beta[1]), math.expm1(ci[1, 0]), math.expm1(ci[1, 1])))
    if seasonal:
        for m in range(12):
            low, high = np.percentile(factor_draws[:, m], [tail, 100 - tail])
            rows.append((f"monthly_factors[{m}]", float(factors[0, m]), float(low), float(high)))
    for change in changes:
        i = names.index(f"step_change[{change}]")
        rows.append((f"step_change[{change}]", math.exp(beta[i]), math.exp(ci[i, 0]), math.exp(ci[i, 1])))
    return pd.DataFrame(rows, columns=["parameter", "value", "ci_low", "ci_high"])
