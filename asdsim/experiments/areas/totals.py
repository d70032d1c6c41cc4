"""Totals over areas, taken the right way.

Per replication, each area gives its KPI values as a numerator and, for shares, a denominator
(:func:`replication_tallies`). The total of a count (open referrals, children waiting over 13
weeks, funded cost) is the sum over areas within each replication; the total of a share (children
whose assessment started within 3 months) pools the children: numerators and denominators are
summed over areas within each replication, and the share is their ratio, so a large area weighs
as its children do, not as one area in 42. Only then is the 95% confidence interval taken, across
replications (:func:`total_table`). The interval is of the expected total; it allows for whatever
the areas' results share, since it is taken over each replication's total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from asdsim.analysis import cohorts
from asdsim.analysis.definitions import split
from asdsim.analysis.kpis import WAIT_SHARES, replication_kpis
from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.stats import mean_ci
from asdsim.experiments.sweep import KPI_COLUMNS
from asdsim.scenario import Scenario

TALLY_COLUMNS = ("replication", "kpi", "unit", "numerator", "denominator")
"""The columns of an area's tallies: a count has no denominator (NaN)."""
ADDITIVE = frozenset({
    "open_referrals", "waiting_over_13_weeks", "waiting_over_52_weeks", "waiting_over_104_weeks",
    "referrals", "exit", "held_until_old_enough", "unmet_need", "started_within_3_months_count",
    "cost_total", "cost_outsourced", "funded_cost", "outsourcing_cost", "funded_cost_per_year",
    "cost_funded_total", "outsourcing_not_bought",
})
"""KPIs (by base name) whose total over areas is their sum: counts of children and money."""

def window_counts(c: dict[str, np.ndarray], milestone: str, window: float, horizon: float,
                  members: np.ndarray) -> tuple[int, int]:
    """``(seen within the window, window closed)`` among ``members``: the numerator and
    denominator whose ratio is :func:`asdsim.analysis.cohorts.within_window`."""
    referral = c["referral_day"]
    closed = members & (referral + window <= horizon)
    met = (c[milestone] - referral) <= window
    return int((met & closed).sum()), int(closed.sum())


def replication_tallies(rec: ReplicationRecord, scenario: Scenario,
                        values: dict[str, tuple[str, float]] | None = None) -> list[tuple[Any, ...]]:
    """One replication's additive KPIs and pooled shares as ``(replication, kpi, unit,
    numerator, denominator)``; the denominator is NaN for a count.

    ``values`` is the replication's KPIs (``{kpi: (unit, value)}``) where already computed.
    """
    if values is None:
        values = {kpi: (unit, value) for kpi, unit, value in replication_kpis(rec, scenario)}
    r = rec.replication
    rows: list[tuple[Any, ...]] = [(r, kpi, unit, value, math.nan) for kpi, (unit, value)
                                   in values.items() if split(kpi)[0] in ADDITIVE]
    c = rec.columns
    horizon = scenario.horizon_days
    referral = c["referral_day"]
    basis = cohorts.bases(rec, horizon)["not_rejected"]
    groups = {"": (referral >= cohorts.cohort_start_day(scenario)) & basis}
    for period, members in cohorts.referral_periods(scenario, referral).items():
        groups[f"[{period}]"] = members & basis
    for kpi, milestone, window in WAIT_SHARES:
        for suffix, members in groups.items():
            met, closed = window_counts(c, milestone, window, horizon, members)
            rows.append((r, kpi + suffix, "share", float(met), float(closed)))
    return rows


def total_table(tallies: Sequence[pd.DataFrame], level: float = 0.95) -> pd.DataFrame:
    """The KPIs of all areas together, each a mean with its confidence interval.

    Parameters
    ----------
    tallies
        Each area's tallies (columns :data:`TALLY_COLUMNS`, from :func:`replication_tallies`),
        over the same replications.
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Columns ``kpi, mean, ci_low, ci_high, unit, n``: a count summed over areas within each
        replication, a share pooled over children (numerators and denominators summed within each
        replication, then divided), and then the mean and Student-t interval across
        replications. A KPI some area lacks is left out (it would be under-counted); a pooled
        share whose denominator is zero in a replication has no value there.
    """
    frames = [t.assign(area=i) for i, t in enumerate(tallies)]
    if not frames:
        return pd.DataFrame(columns=list(KPI_COLUMNS))
    long = pd.concat(frames, ignore_index=True)
    everywhere = long.groupby("kpi", sort=False)["area"].nunique() == len(frames)
    long = long[long["kpi"].map(everywhere)]
    sums = long.groupby(["kpi", "unit", "replication"], sort=False)[["numerator", "denominator"]] \
        .sum(min_count=1)
    rows = []
    for (kpi, unit), group in sums.groupby(level=["kpi", "unit"], sort=False):
        num, den = group["numerator"].to_numpy(float), group["denominator"].to_numpy(float)
        if unit == "share":
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        else:
            values = num
        mean, low, high, n = mean_ci(values, level)
        low, high = max(low, 0.0), (min(high, 1.0) if unit == "share" else high)
        rows.append({"kpi": kpi, "mean": mean, "ci_low": low, "ci_high": high, "unit": unit, "n": n})
    return pd.DataFrame(rows, columns=list(KPI_COLUMNS))
