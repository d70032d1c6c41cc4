"""Tables the report shows and writes beside it: WTE by staff group, and incremental cost.

Both are built from the KPI tables (``funded_wte[team/group]``) and the paired comparison
(:func:`asdsim.analysis.paired.incremental_cost`), never recomputed from the simulation, and
their numbers are rounded to what they mean (:func:`asdsim.reporting.formatting.rounded`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from asdsim.analysis.definitions import split
from asdsim.analysis.paired import incremental_cost
from asdsim.analysis.results import Results
from asdsim.analysis.stats import mean_ci
from asdsim.reporting.formatting import rounded

ALL_TEAMS = "all teams"
"""The ``team`` of a row summed over a design's teams."""
TOTAL = "total"
"""The ``group`` of a row summed over staff groups."""
WTE_COLUMNS = ["scenario", "team", "group", "wte", "ci_low", "ci_high", "autism_wte",
               "autism_ci_low", "autism_ci_high"]


def _autism_share(res: Results, replication: int, team: str, group: str) -> float:
    """The job plan's autism share of a group in the scenario a replication ran."""
    own = res.replication_scenarios or {}
    return own.get(replication, res.scenario).teams[team].staff[group].autism_share


def wte_table(runs: Mapping[str, Results]) -> pd.DataFrame:
    """Funded WTE (averaged over the run) by team and staff group, for each design: in post, and
    the autism time the funded cost is based on (WTE in post x the job plan's autism share).

    Besides a row per team and group (``funded_wte[team/group]``), each design gets a row per
    staff group summed over its teams (``team`` = ``all teams``) and a grand total (``group`` =
    ``total``); sums are taken replication by replication, then averaged, so their intervals are
    right where WTE changes at random.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, team, group, wte, ci_low, ci_high`` (WTE in post) and
        ``autism_wte, autism_ci_low, autism_ci_high`` (autism time), to a ten-thousandth of a WTE.
    """
    rows = []
    for name, res in runs.items():
        k = res.kpis_by_replication
        mine = k[k.kpi.str.startswith("funded_wte[")]
        if mine.empty:
            continue
        # a name may hold "/" itself, so each argument is matched whole to its team and group
        pairs = {f"{team}/{group}": (team, group)
                 for team, spec in res.scenario.teams.items() for group in spec.staff}
        named = [pairs[str(split(kpi)[1])] for kpi in mine.kpi]
        mine = mine.assign(team=[t for t, _ in named], group=[g for _, g in named])
        share = [_autism_share(res, int(r), t, g)
                 for r, t, g in zip(mine.replication, mine.team, mine.group, strict=True)]
        mine = mine.assign(autism=mine.value.to_numpy(dtype=float) * share)

        def both(part: pd.DataFrame, by_replication: bool) -> list[float]:
            values = []
            for column in ("value", "autism"):
                series = (part.groupby("replication")[column].sum() if by_replication
                          else part.sort_values("replication")[column])
                values += list(mean_ci(series.to_numpy())[:3])
            return values

        for (team, group), part in mine.groupby(["team", "group"], sort=False):
            rows.append([name, team, group, *both(part, False)])
        for group, part in mine.groupby("group", sort=False):
            rows.append([name, ALL_TEAMS, group, *both(part, True)])
        rows.append([name, ALL_TEAMS, TOTAL, *both(mine, True)])
    return rounded(pd.DataFrame(rows, columns=WTE_COLUMNS), dict.fromkeys(WTE_COLUMNS[3:], "WTE"))


def incremental_table(runs: Mapping[str, Results], baseline: str) -> pd.DataFrame:
    """Extra funded cost per extra child started within 3 months, against the baseline.

    The same table as :func:`asdsim.analysis.paired.incremental_cost` (one row per design other
    than the baseline; cost and children over the window ``window_from`` to ``window_to``), with
    the baseline named in a column, pounds to the penny and children to a hundredth.
    """
    table = incremental_cost(dict(runs), baseline)
    table.insert(1, "baseline", baseline)
    money = ["extra_cost_gbp", "cost_per_extra_child_gbp", "ci_low", "ci_high"]
    children = ["extra_children", "extra_children_ci_low", "extra_children_ci_high"]
    return rounded(table, {**dict.fromkeys(money, "GBP"), **dict.fromkeys(children, "children")})


def comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table (:func:`asdsim.analysis.paired.paired_table`) as ``comparison.csv``
    holds it: each row's figures rounded to what its unit means."""
    return rounded(table, row_unit=("unit", ["mean", "ci_low", "ci_high", "diff_mean",
                                             "diff_ci_low", "diff_ci_high"]))


__all__ = ["ALL_TEAMS", "TOTAL", "comparison_table", "incremental_table", "wte_table"]
