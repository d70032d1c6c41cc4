"""Small statistics: confidence intervals across replications and censored quantiles."""

from __future__ import annotations

import math

import numpy as np


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t confidence interval of per-replication values, ignoring NaN.

    Returns
    -------
    tuple
        ``(mean, ci_low, ci_high, n)``; the interval is NaN with fewer than two values, and has
        zero width when every value is the same.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    from scipy import stats  # imported when an interval is taken, not with the package

    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def km_curve(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan–Meier survival curve of right-censored durations.

    Parameters
    ----------
    durations
        Time to the event, or to censoring where the event was not observed.
    observed
        True where the event happened.

    Returns
    -------
    tuple of numpy.ndarray
        ``(times, survival)``: the distinct event times and the survival just after each (a step
        function, 1 before the first time). Both are empty where no event was observed.
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if not e.any():
        return np.zeros(0), np.zeros(0)
    from scipy import stats

    result = stats.ecdf(stats.CensoredData(uncensored=t[e], right=t[~e]))
    return result.sf.quantiles, result.sf.probabilities


def km_quantile(durations: np.ndarray, observed: np.ndarray, q: float) -> float:
    """The q-quantile of a duration from right-censored data (Kaplan–Meier).

    Parameters
    ----------
    durations
        Time to the event, or to censoring where the event was not observed.
    observed
        True where the event happened.
    q
        Quantile in (0, 1).

    Returns
    -------
    float
        The smallest time at which the estimated share with the event reaches ``q``, or NaN
        where it never does within the data (the quantile is not reached: too many censored).
    """
    times, survival = km_curve(durations, observed)
    reached = np.nonzero(survival <= 1.0 - q + 1e-12)[0]
    return float(times[reached[0]]) if len(reached) else math.nan


def km_restricted_mean(durations: np.ndarray, observed: np.ndarray, tau: float) -> float:
    """The restricted mean duration up to ``tau``: the area under the Kaplan–Meier survival curve
    from 0 to ``tau`` (NaN for no data).

    Unlike a median, it exists however many are censored, and it is the mean of
    ``min(duration, tau)`` when nothing is censored before ``tau``.
    """
    if len(np.asarray(durations)) == 0:
        return math.nan
    times, survival = km_curve(durations, observed)
    keep = times < tau
    edges = np.concatenate([[0.0], times[keep], [tau]])
    levels = np.concatenate([[1.0], survival[keep]])
    return float(np.sum(levels * np.diff(edges)))
