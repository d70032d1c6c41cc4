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
