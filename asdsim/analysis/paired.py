"""Paired differences between scenarios run under common random numbers.

Every scenario runs with the same seed, so replication r of each meets the same children with the
same luck. A KPI's paired difference from the baseline is therefore computed replication by
replication, and its confidence interval is much narrower than the two separate intervals.

Pairing compares like with like only when the designs judge the same children: the same headline
cohort (referred from the same first date to the same last date whose 3-month window closed). When
the cohorts differ, a difference is taken between the two means with an unpaired (Welch) interval,
and every table says so in its ``difference`` column.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from asdsim.analysis.cohorts import MONTHS_3, cohort_start_day
from asdsim.analysis.definitions import is_censored
from asdsim.analysis.kpis import funded_staff_cost
from asdsim.analysis.results import Results
from asdsim.analysis.stats import mean_ci
from asdsim.scenario.schema import Scenario

PAIRED = "paired"
"""The ``difference`` of a row whose designs share their headline cohort."""
UNPAIRED = "unpaired: cohorts differ"
"""The ``difference`` of a row whose designs judge different cohorts (see :func:`headline_cohort`)."""
COLUMNS = ["scenario", "kpi", "unit", "mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low",
           "diff_ci_high", "difference"]
INCREMENTAL_COLUMNS = ["scenario", "window_from", "window_to", "extra_cost_gbp", "extra_children",
                       "extra_children_ci_low", "extra_children_ci_high",
                       "cost_per_extra_child_gbp", "ci_low", "ci_high", "difference"]
WINDOW_COST = "cost_funded_in_window"
"""The cost :func:`incremental_cost` counts by default: funded cost over the children's window."""


@dataclass
class Comparison:
    """Results of several scenarios run with one seed, and their paired differences."""

    results: dict[str, Results]
    """Each scenario's results, by scenario name, in the order given."""
    baseline: str
    """Name of the scenario the differences are taken from."""
    table: pd.DataFrame
    """Per scenario and KPI: mean and 95% CI, and the paired difference from the baseline."""


def headline_cohort(scenario: Scenario) -> tuple[dt.date, dt.date]:
    """The headline cohort's referral dates: its first (``reporting.cohort_from_date``, or the
    start) and its last, the last date whose 3-month window closed by the end of the run.

    The headline shares and ``started_within_3_months_count`` count children referred in it.
    """
    first = cohort_start_day(scenario)
    last = math.floor(scenario.horizon_days - MONTHS_3)
    return (scenario.start_date + dt.timedelta(days=first),
            scenario.start_date + dt.timedelta(days=last))


def same_cohorts(results: Mapping[str, Any]) -> bool:
    """Whether every design judges the same headline cohort (runs without a scenario, such as
    hand-made tables, are taken to)."""
    cohorts = {headline_cohort(res.scenario) for res in results.values()
               if isinstance(getattr(res, "scenario", None), Scenario)}
    return len(cohorts) <= 1


def difference_ci(design: np.ndarray, base: np.ndarray, paired: bool
                  ) -> tuple[float, float, float, int]:
    """Mean difference ``design - base`` and its 95% interval, ignoring NaN.

    Paired: the t interval of the replication-by-replication differences. Unpaired: the
    difference of the two means with Welch's interval (Welch-Satterthwaite degrees of freedom).

    Returns
    -------
    tuple
        ``(mean, ci_low, ci_high, n)``; ``n`` is the replications used (the smaller sample when
        unpaired); the interval is NaN with fewer than two values on either side.
    """
    a, b = np.asarray(design, dtype=float), np.asarray(base, dtype=float)
    if paired:
        return mean_ci(a - b)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n = min(len(a), len(b))
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(a.mean() - b.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return mean, mean, mean, n
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    from scipy import stats  # imported when an interval is taken, not with the package

    half = float(stats.t.ppf(0.975, df) * se)
    return mean, mean - half, mean + half, n


def paired_table(results: dict[str, Results], baseline: str) -> pd.DataFrame:
    """The comparison table: every KPI of every scenario with its difference from the baseline.

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
        diff_ci_high, difference``; ``difference`` is ``paired`` where the designs share their
        headline cohort, else ``unpaired: cohorts differ`` (a difference of means with Welch's
        interval). A difference is NaN where the KPI is missing from the baseline, and a
        censored KPI (a wait quantile, the backlog clearance time) not reached in some
        replication of either scenario has a NaN difference, as its mean is NaN (a mean of the
        others would be biased).
    """
    paired = same_cohorts(results)
    label = PAIRED if paired else UNPAIRED
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
                mine, theirs = per_rep.loc[kpi].align(base.loc[kpi])
                a, b = mine.to_numpy(dtype=float), theirs.to_numpy(dtype=float)
                if not (is_censored(str(kpi)) and (np.isnan(a).any() or np.isnan(b).any())):
                    d_mean, d_low, d_high, _ = difference_ci(a, b, paired)
            rows.append([name, kpi, row["unit"], row["mean"], row["ci_low"], row["ci_high"],
                         d_mean, d_low, d_high, label])
    return pd.DataFrame(rows, columns=COLUMNS)


def window_cost(res: Results) -> pd.Series:
    """Funded cost over the headline cohort's window, per replication: the posts' autism time
    (:func:`asdsim.analysis.kpis.funded_staff_cost`) and outsourcing bought, from the cohort's
    first referral day to the last whose 3-month window closed (days ``[first, last)``, the last
    day's share pro rata), the window in which ``started_within_3_months_count`` counts children.

    Returns
    -------
    pandas.Series
        Pounds, indexed by replication.
    """
    scenario = res.scenario
    first = cohort_start_day(scenario)
    last = scenario.horizon_days - MONTHS_3
    own = res.replication_scenarios or {}
    values = {}
    for rec in res.records:
        daily = funded_staff_cost(own.get(rec.replication, scenario))
        per_day = np.sum(list(daily.values()), axis=0) if daily else np.zeros(1)
        whole = math.floor(last)
        staff = float(per_day[int(first):whole].sum())
        if whole < len(per_day):  # the part of the last day inside the window
            staff += float(per_day[whole]) * (last - whole)
        bought = rec.outsourcing_bought
        inside = (bought[:, 0] >= first) & (bought[:, 0] < last)
        values[rec.replication] = staff + float(bought[inside, 1].sum())
    return pd.Series(values, dtype=float).sort_index()


def incremental_cost(results: dict[str, Results], baseline: str, cost: str = WINDOW_COST,
                     effect: str = "started_within_3_months_count") -> pd.DataFrame:
    """Extra cost per extra child whose assessment started within 3 months, against a baseline.

    Cost and children are counted over the same window: the headline cohort's referral dates
    (:func:`headline_cohort`), children referred in it who started within 3 months, and the
    funded cost paid in it (:func:`window_cost`). Paired by replication (common random numbers):
    the ratio of the mean paired difference in cost to the mean paired difference in children,
    with a 95% interval by the delta method (the t interval of ``d_cost - ratio * d_effect``,
    scaled by the mean ``d_effect``). The ratio is NaN where the effect's own interval includes
    zero: no extra children, no price. Where the designs' cohorts differ, each is counted over
    its own window and the differences are unpaired (Welch intervals).

    Parameters
    ----------
    results, baseline
        The runs, and the one the differences are taken from.
    cost
        :data:`WINDOW_COST`, or a KPI name to count its per-replication values instead.
    effect
        The KPI of children counted.

    Returns
    -------
    pandas.DataFrame
        One row per scenario other than the baseline: ``scenario``, ``window_from``,
        ``window_to`` (ISO dates, the design's window; empty for runs without a scenario),
        ``extra_cost_gbp``, ``extra_children``, ``extra_children_ci_low``,
        ``extra_children_ci_high``, ``cost_per_extra_child_gbp``, ``ci_low``, ``ci_high``,
        ``difference`` (``paired`` or ``unpaired: cohorts differ``).
    """
    def values(res: Results, kpi: str) -> pd.Series:
        if kpi == WINDOW_COST:
            return window_cost(res)
        k = res.kpis_by_replication
        return k[k.kpi == kpi].set_index("replication").value.astype(float).sort_index()

    paired = same_cohorts(results)
    base_cost, base_effect = values(results[baseline], cost), values(results[baseline], effect)
    rows = []
    for name, res in results.items():
        if name == baseline:
            continue
        my_cost, my_effect = values(res, cost), values(res, effect)
        cost_mean = difference_ci(*_aligned(my_cost, base_cost), paired)[0]
        eff_mean, eff_low, eff_high, n = difference_ci(*_aligned(my_effect, base_effect), paired)
        ratio = low = high = math.nan
        if n >= 2 and (eff_low > 0 or eff_high < 0):
            ratio = cost_mean / eff_mean
            residual = difference_ci(*_aligned(my_cost - ratio * my_effect,
                                               base_cost - ratio * base_effect), paired)
            half = (residual[2] - residual[1]) / 2.0 / abs(eff_mean)
            low, high = ratio - half, ratio + half
        scenario = getattr(res, "scenario", None)
        window = (tuple(d.isoformat() for d in headline_cohort(scenario))
                  if isinstance(scenario, Scenario) else ("", ""))
        rows.append({"scenario": name, "window_from": window[0], "window_to": window[1],
                     "extra_cost_gbp": cost_mean, "extra_children": eff_mean,
                     "extra_children_ci_low": eff_low, "extra_children_ci_high": eff_high,
                     "cost_per_extra_child_gbp": ratio, "ci_low": low, "ci_high": high,
                     "difference": PAIRED if paired else UNPAIRED})
    return pd.DataFrame(rows, columns=INCREMENTAL_COLUMNS)


def _aligned(design: pd.Series, base: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    a, b = design.align(base)
    return a.to_numpy(dtype=float), b.to_numpy(dtype=float)


__all__ = ["COLUMNS", "INCREMENTAL_COLUMNS", "PAIRED", "UNPAIRED", "WINDOW_COST", "Comparison",
           "difference_ci", "headline_cohort", "incremental_cost", "paired_table", "same_cohorts",
           "window_cost"]
