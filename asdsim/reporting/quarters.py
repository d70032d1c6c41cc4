"""The 3-month standard judged from a KPI table: which quarters of referral meet it, and how surely.

The summary (:mod:`asdsim.reporting.summary`) states this judgement in words; the rules
themselves (a quarter is judged once every referral's 3-month window has closed; met from the
first quarter of a run of quarters reaching the level to the last one judged) are
:mod:`asdsim.analysis.standard`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from asdsim.analysis.definitions import HEADLINE, split
from asdsim.analysis.standard import complete, surely_met_from
from asdsim.analysis.standard import meets_from as first_quarter_meeting
from asdsim.reporting import formatting as fmt
from asdsim.scenario.schema import Scenario


@dataclass(frozen=True)
class Judgement:
    """The standard judged over the quarters of a KPI table whose windows closed in the run."""

    meets_from: str | None
    """The first quarter from which every judged quarter reaches the level, or None."""
    certain: bool
    """Whether the 95% interval of every quarter from ``meets_from`` is at or above the level."""
    last: str | None
    """The last quarter judged, or None when none is."""
    judged: int
    """How many quarters from ``meets_from`` on are judged (0 when it is not met)."""
    unsure: tuple[str, ...]
    """Those of them whose 95% interval reaches below the level."""


def quarters(table: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """The headline KPI per quarter of referral with a value, in time order."""
    out = []
    for name in table.index:
        base, arg = split(name)
        if base == HEADLINE and arg and "Q" in arg and not pd.isna(table.loc[name, "mean"]):
            out.append((arg, table.loc[name]))
    return sorted(out, key=lambda item: pd.Period(item[0], freq="Q"))


def judge(table: pd.DataFrame, scenario: Scenario, level: float) -> Judgement:
    """Judge the standard at ``level`` over the quarters of a KPI table indexed by KPI name."""
    shares = [(q, row) for q, row in quarters(table) if complete(scenario, q)]
    meets_from = first_quarter_meeting({q: row["mean"] for q, row in shares}, level)
    judged = [] if meets_from is None else [
        (q, row) for q, row in shares if pd.Period(q, freq="Q") >= pd.Period(meets_from, freq="Q")]
    unsure = tuple(q for q, row in judged if not row.ci_low >= level)
    certain = meets_from is not None and surely_met_from(
        {q: row.ci_low for q, row in shares}, meets_from, level)
    last = shares[-1][0] if shares else None
    return Judgement(meets_from, certain, last, len(judged), unsure)


def quarter_range(q: str) -> str:
    """The months of a quarter: ``Jul-Sep 2019``."""
    period = pd.Period(q, freq="Q")
    return f"{period.start_time:%b}-{period.end_time:%b %Y}"


def unsure_words(unsure: tuple[str, ...], judged: int, level: float) -> str:
    """How many of the judged quarters' 95% intervals reach below the level, and which:
    ``the 95% intervals of 2 of these 5 quarters (2019 Q3, 2019 Q4) reach below 90%, so it may
    not``."""
    which = ", ".join(fmt.period(q) for q in unsure)
    if judged == 1:
        return f"its 95% interval reaches below {fmt.percent(level)}, so it may not"
    return (f"the 95% intervals of {len(unsure)} of these {judged} quarters ({which}) reach below "
            f"{fmt.percent(level)}, so it may not")
