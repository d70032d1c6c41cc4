"""Tables the report shows and writes beside it: WTE by staff group, and incremental cost.

Both are built from the KPI tables (``funded_wte[team/group]``) and the paired comparison
(:func:`asdsim.analysis.paired.incremental_cost`), never recomputed from the simulation.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from asdsim.analysis.definitions import split
from asdsim.analysis.paired import incremental_cost
from asdsim.analysis.results import Results
from asdsim.analysis.stats import mean_ci

ALL_TEAMS = "all teams"
"""The ``team`` of a row summed over a design's teams."""
TOTAL = "total"
"""The ``group`` of a row summed over staff groups."""
WTE_COLUMNS = ["scenario", "team", "group", "wte", "ci_low", "ci_high"]


def wte_table(runs: Mapping[str, Results]) -> pd.DataFrame:
    """Funded WTE (averaged over the run) by team and staff group, for each design.

    Besides a row per team and group (``funded_wte[team/group]``), each design gets a row per
    staff group summed over its teams (``team`` = ``all teams``) and a grand total (``group`` =
    ``total``); sums are taken replication by replication, then averaged, so their intervals are
    right where WTE changes at random.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, team, group, wte, ci_low, ci_high``.
    """
    rows = []
    for name, res in runs.items():
        k = res.kpis_by_replication
        mine = k[k.kpi.str.startswith("funded_wte[")]
        if mine.empty:
            continue
        args = mine.kpi.map(lambda kpi: split(kpi)[1] or "/")
        mine = mine.assign(team=args.str.split("/").str[0], group=args.str.split("/").str[1])
        for (team, group), part in mine.groupby(["team", "group"], sort=False):
            m, lo, hi, _ = mean_ci(part.sort_values("replication").value.to_numpy())
            rows.append([name, team, group, m, lo, hi])
        for group, part in mine.groupby("group", sort=False):
            m, lo, hi, _ = mean_ci(part.groupby("replication").value.sum().to_numpy())
            rows.append([name, ALL_TEAMS, group, m, lo, hi])
        m, lo, hi, _ = mean_ci(mine.groupby("replication").value.sum().to_numpy())
        rows.append([name, ALL_TEAMS, TOTAL, m, lo, hi])
    return pd.DataFrame(rows, columns=WTE_COLUMNS)


def incremental_table(runs: Mapping[str, Results], baseline: str) -> pd.DataFrame:
    """Extra funded cost per extra child started within 3 months, against the baseline.

    The same table as :func:`asdsim.analysis.paired.incremental_cost` (one row per design other
    than the baseline), with the baseline named in a column.
    """
    table = incremental_cost(dict(runs), baseline)
    table.insert(1, "baseline", baseline)
    return table


__all__ = ["ALL_TEAMS", "TOTAL", "incremental_table", "wte_table"]
