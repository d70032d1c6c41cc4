"""Small statistics: confidence intervals across replications and censored quantiles."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


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
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


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
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if len(t) == 0:
        return math.nan
    order = np.lexsort((~e, t))  # at tied times, events before censorings
    t, e = t[order], e[order]
    at_risk = len(t) - np.arange(len(t))
    factors = np.where(e, 1.0 - 1.0 / at_risk, 1.0)
    survival = np.cumprod(factors)
    reached = np.nonzero(e & (survival <= 1.0 - q + 1e-12))[0]
    return float(t[reached[0]]) if len(reached) else math.nan
