"""Paired differences between scenarios run under common random numbers.

Every scenario runs with the same seed, so replication r of each meets the same children with the
same luck. A KPI's paired difference from the baseline is therefore computed replication by
replication, and its confidence interval is much narrower than the two separate intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from asdsim.analysis.definitions import is_censored
from asdsim.analysis.results import Results
from asdsim.analysis.stats import mean_ci

COLUMNS = ["scenario", "kpi", "unit", "mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low",
           "diff_ci_high"]


@dataclass
class Comparison:
    """Results of several scenarios run with one seed, and their paired differences."""

    results: dict[str, Results]
    """Each scenario's results, by scenario name, in the order given."""
    baseline: str
    """Name of the scenario the differences are taken from."""
    table: pd.DataFrame
    """Per scenario and KPI: mean and 95% CI, and the paired difference from the baseline."""


def paired_table(results: dict[str, Results], baseline: str) -> pd.DataFrame:
    """The comparison table: every KPI of every scenario with its paired difference.

    Parameters
    ----------
    results
        Each scenario's results, run with one seed and the same replications.
    baseline
        The scenario the differences are taken from (its own differences are zero, or NaN where
        the KPI itself is).

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, kpi, unit, mean, ci_low, ci_high, diff_mean, diff_ci_low,
        diff_ci_high``; a difference is NaN where the KPI is missing from the baseline, and a
        censored KPI (a wait quantile, the backlog clearance time) not reached in some replication
        of either scenario has a NaN difference, as its mean is NaN (a mean of the others would
        be biased).
    """
    base = results[baseline].kpis_by_replication.set_index(["kpi", "replication"]).value
    base_kpis = set(base.index.get_level_values(0))
    rows = []
    for name, res in results.items():
        per_rep = res.kpis_by_replication.set_index(["kpi", "replication"]).value
        for row in res.kpis.to_dict("records"):
            kpi = row["kpi"]
            d_mean = d_low = d_high = math.nan
            if kpi in base_kpis:
                # aligned on the replication number: the same children and luck in both
                diff = (per_rep.loc[kpi] - base.loc[kpi]).to_numpy(dtype=float)
                if not (is_censored(str(kpi)) and np.isnan(diff).any()):
                    d_mean, d_low, d_high, _ = mean_ci(diff)
            rows.append([name, kpi, row["unit"], row["mean"], row["ci_low"], row["ci_high"],
                         d_mean, d_low, d_high])
    return pd.DataFrame(rows, columns=COLUMNS)


def incremental_cost(results: dict[str, Results], baseline: str,
                     cost: str = "cost_funded_total",
                     effect: str = "started_within_3_months_count") -> pd.DataFrame:
    """Extra cost per extra child whose assessment started within 3 months, against a baseline.

    Paired by replication (common random numbers): the ratio of the mean paired difference in
    ``cost`` to the mean paired difference in ``effect``, with a 95% interval by the delta method
    (the t interval of ``d_cost - ratio * d_effect``, scaled by the mean ``d_effect``). The
    ratio is NaN where the effect's own interval includes zero: no extra children, no price.

    Returns
    -------
    pandas.DataFrame
        One row per scenario other than the baseline: ``scenario``, ``extra_cost_gbp``,
        ``extra_children``, ``extra_children_ci_low``, ``extra_children_ci_high``,
        ``cost_per_extra_child_gbp``, ``ci_low``, ``ci_high``.
    """
    def values(res: Results, kpi: str) -> pd.Series:
        k = res.kpis_by_replication
        return k[k.kpi == kpi].set_index("replication").value

    rows = []
    for name, res in results.items():
        if name == baseline:
            continue
        d_cost = (values(res, cost) - values(results[baseline], cost)).to_numpy(dtype=float)
        d_effect = (values(res, effect) - values(results[baseline], effect)).to_numpy(dtype=float)
        cost_mean = float(np.mean(d_cost))
        eff_mean, eff_low, eff_high, n = mean_ci(d_effect)
        ratio = low = high = math.nan
        if n >= 2 and (eff_low > 0 or eff_high < 0):
            ratio = cost_mean / eff_mean
            _, r_low, r_high, _ = mean_ci(d_cost - ratio * d_effect)
            half = (r_high - r_low) / 2.0 / abs(eff_mean)
            low, high = ratio - half, ratio + half
        rows.append({"scenario": name, "extra_cost_gbp": cost_mean, "extra_children": eff_mean,
                     "extra_children_ci_low": eff_low, "extra_children_ci_high": eff_high,
                     "cost_per_extra_child_gbp": ratio, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=["scenario", "extra_cost_gbp", "extra_children",
                                       "extra_children_ci_low", "extra_children_ci_high",
                                       "cost_per_extra_child_gbp", "ci_low", "ci_high"])
