"""Stating apart the two sources of spread in a run with drawn inputs.

When a scenario's uncertain inputs are drawn per replication, each KPI varies from replication to
replication for two reasons: run-to-run randomness (which children are referred, who misses an
appointment) and what is not known about the inputs. :func:`asdsim.simulate` runs the same
replications, with the same seed, once with the inputs as written and once with them drawn.
The first run's spread is run-to-run randomness alone; the second's is both. The share of the
second's variance that the first does not explain,

    ``unknown_share = max(0, 1 - var_fixed / var_drawn)``,

is the share of the spread that comes from what is not known (the first-order decomposition of
total variance into the variance of the expected KPI over the inputs and the expected variance
given the inputs, with the run-to-run part taken as equal across inputs). With few replications
both variances are estimates, and so is the share.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from asdsim.analysis.definitions import is_censored
from asdsim.analysis.stats import mean_ci

COLUMNS = ("kpi", "unit", "fixed_mean", "fixed_ci_low", "fixed_ci_high", "fixed_sd",
           "drawn_mean", "drawn_ci_low", "drawn_ci_high", "drawn_sd", "unknown_share", "n")
"""Columns of :func:`uncertainty_table`."""


def _summary(values: np.ndarray, kpi: str, unit: str) -> tuple[float, float, float, float, int]:
    """Mean, 95% CI, standard deviation and count, as the KPI table states them."""
    if is_censored(kpi) and np.isnan(values).any():
        values = np.full_like(values, np.nan)  # as in the KPI table: not reached somewhere
    mean, low, high, n = mean_ci(values)
    low, high = max(low, 0.0), (min(high, 1.0) if unit == "share" else high)
    finite = values[~np.isnan(values)]
    sd = float(finite.std(ddof=1)) if len(finite) > 1 else math.nan
    return mean, low, high, sd, n


def kpi_summary(per_replication: pd.DataFrame) -> pd.DataFrame:
    """The KPI table (as :func:`asdsim.analysis.kpis.kpi_table` builds it) from per-replication
    KPIs, for runs whose replications ran different scenarios (drawn inputs), where each
    replication's KPIs are computed with its own scenario.

    Returns
    -------
    pandas.DataFrame
        One row per KPI: ``kpi``, ``mean``, ``ci_low``, ``ci_high``, ``unit``, ``n``.
    """
    rows = []
    for (kpi, unit), group in per_replication.groupby(["kpi", "unit"], sort=False):
        mean, low, high, _sd, n = _summary(group["value"].to_numpy(dtype=float), str(kpi), str(unit))
        rows.append({"kpi": kpi, "mean": mean, "ci_low": low, "ci_high": high, "unit": unit, "n": n})
    return pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high", "unit", "n"])


def unknown_share(fixed_sd: float, drawn_sd: float) -> float:
    """Share of the spread between replications that comes from what is not known about the
    inputs: ``1 - fixed_sd**2 / drawn_sd**2``, at least 0 (NaN when either is not known; 0 when
    nothing varies)."""
    if math.isnan(fixed_sd) or math.isnan(drawn_sd):
        return math.nan
    if drawn_sd <= 0.0:
        return 0.0
    return max(0.0, 1.0 - (fixed_sd / drawn_sd) ** 2)


def uncertainty_table(fixed: pd.DataFrame, drawn: pd.DataFrame) -> pd.DataFrame:
    """Each KPI with fixed inputs and with drawn inputs, and the share from what is not known.

    Parameters
    ----------
    fixed, drawn
        Per-replication KPIs (``replication``, ``kpi``, ``unit``, ``value``) of the same
        replications with the inputs as written and with the inputs drawn.

    Returns
    -------
    pandas.DataFrame
        One row per KPI: ``kpi``, ``unit``; ``fixed_mean``, ``fixed_ci_low``, ``fixed_ci_high``
        and ``fixed_sd`` (run-to-run randomness alone); ``drawn_mean``, ``drawn_ci_low``,
        ``drawn_ci_high`` and ``drawn_sd`` (both sources; the interval equals the KPI table's);
        ``unknown_share`` (see the module) and ``n``.
    """
    rows = []
    fixed_groups = {k: g for k, g in fixed.groupby("kpi", sort=False)}
    for (kpi, unit), group in drawn.groupby(["kpi", "unit"], sort=False):
        d = _summary(group.sort_values("replication").value.to_numpy(dtype=float), str(kpi), str(unit))
        base = fixed_groups.get(kpi)
        f = _summary(base.sort_values("replication").value.to_numpy(dtype=float), str(kpi),
                     str(unit)) if base is not None else (math.nan,) * 4 + (0,)
        rows.append({"kpi": kpi, "unit": unit, "fixed_mean": f[0], "fixed_ci_low": f[1],
                     "fixed_ci_high": f[2], "fixed_sd": f[3], "drawn_mean": d[0],
                     "drawn_ci_low": d[1], "drawn_ci_high": d[2], "drawn_sd": d[3],
                     "unknown_share": unknown_share(f[3], d[3]), "n": d[4]})
    return pd.DataFrame(rows, columns=list(COLUMNS))
