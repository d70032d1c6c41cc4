"""The levers a commissioner can move, and the edited scenario they give.

Four kinds: the WTE of each staff group of each team, a block of outsourced assessments a month
for a period, the yearly growth of demand, and a dated change of one group's WTE. Each lever
knows its unit and its value in the base scenario. The edited scenario is built from the base's
dumped form through :func:`asdsim.scenario_from_dict`, so every edit is validated by the same
schema as a file, and a :class:`~asdsim.ScenarioError` names the field of each problem.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asdsim.scenario.loading import scenario_from_dict
from asdsim.scenario.schema import Scenario


@dataclass(frozen=True)
class WteLever:
    """The WTE of one staff group of one team."""

    team: str
    group: str
    base: float
    """Its value in the base scenario (WTE)."""
    unit: str = "WTE"

    @property
    def key(self) -> str:
        """The widget's key: ``wte:TEAM:GROUP``."""
        return f"wte:{self.team}:{self.group}"

    @property
    def label(self) -> str:
        """``psychologist (WTE)``."""
        return f"{self.group.replace('_', ' ')} ({self.unit})"


@dataclass(frozen=True)
class Outsourcing:
    """A block of outsourced assessments: so many a month, between two dates, at a price each."""

    team: str
    start_date: dt.date
    end_date: dt.date
    per_month: int
    price_gbp: float


@dataclass(frozen=True)
class DatedChange:
    """One staff group's WTE from a date (recruitment or a vacancy)."""

    date: dt.date
    team: str
    group: str
    wte: float


@dataclass(frozen=True)
class Edits:
    """What the page's levers say; values equal to the base's leave the scenario as it is.

    Attributes
    ----------
    name
        The edited design's name (the base's name with ``(edited)`` if empty or the same).
    wte
        ``{(team, group): WTE}``.
    annual_growth
        Compound growth of referrals a year, as a share (0.1 = 10%).
    outsourcing
        The first outsourced block as edited, or None for the base's.
    dated_change
        A dated WTE change added to the base's, or None.
    """

    name: str = ""
    wte: Mapping[tuple[str, str], float] = field(default_factory=dict)
    annual_growth: float | None = None
    outsourcing: Outsourcing | None = None
    dated_change: DatedChange | None = None


def wte_levers(scenario: Scenario) -> list[WteLever]:
    """The WTE levers of every team, in the scenario's order."""
    return [WteLever(team, group, float(staff.wte))
            for team, t in scenario.teams.items() for group, staff in t.staff.items()]


def base_outsourcing(scenario: Scenario) -> Outsourcing | None:
    """The base scenario's first outsourced block, if it has one."""
    if not scenario.outsourcing:
        return None
    b = scenario.outsourcing[0]
    return Outsourcing(b.team, b.start_date, b.end_date, int(b.assessments_per_month),
                       float(b.price_gbp))


def default_outsourcing(scenario: Scenario) -> Outsourcing:
    """The block the levers show: the base's first, or none a month over the first year."""
    found = base_outsourcing(scenario)
    if found is not None:
        return found
    return Outsourcing(next(iter(scenario.teams)), scenario.start_date,
                       scenario.start_date + dt.timedelta(days=364), 0, 0.0)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def changes(base: Scenario, edits: Edits) -> list[str]:
    """What the edits change, in words (empty: nothing)."""
    out = []
    for lever in wte_levers(base):
        new = edits.wte.get((lever.team, lever.group))
        if new is not None and not _same(new, lever.base):
            out.append(f"{lever.team} {lever.group}: {lever.base:g} to {new:g} WTE")
    if edits.annual_growth is not None and not _same(edits.annual_growth,
                                                     base.demand.annual_growth):
        out.append(f"demand growth: {base.demand.annual_growth:.1%} to "
                   f"{edits.annual_growth:.1%} a year")
    block = edits.outsourcing
    if block is not None and block != base_outsourcing(base) and not (
            block.per_month == 0 and not base.outsourcing):
        out.append(f"outsourcing: {block.per_month} assessments a month for {block.team}, "
                   f"{block.start_date} to {block.end_date}, GBP {block.price_gbp:,.0f} each")
    if edits.dated_change is not None:
        c = edits.dated_change
        out.append(f"from {c.date}: {c.team} {c.group} to {c.wte:g} WTE")
    return out


def edited_data(base: Scenario, edits: Edits) -> dict[str, Any]:
    """The base scenario's dumped form with the edits applied (not yet validated)."""
    data = copy.deepcopy(base.model_dump(mode="json"))
    for (team, group), wte in edits.wte.items():
        staff = data["teams"].get(team, {}).get("staff", {}).get(group)
        if staff is not None:
            staff["wte"] = wte
    if edits.annual_growth is not None:
        data["demand"]["annual_growth"] = edits.annual_growth
    block = edits.outsourcing
    if block is not None:
        fields = {"team": block.team, "start_date": block.start_date.isoformat(),
                  "end_date": block.end_date.isoformat(),
                  "assessments_per_month": block.per_month, "price_gbp": block.price_gbp}
        blocks = list(data.get("outsourcing") or [])
        if blocks:
            blocks[0] = {**blocks[0], **fields}
        elif block.per_month > 0:
            blocks.append(fields)
        data["outsourcing"] = blocks
    if edits.dated_change is not None:
        c = edits.dated_change
        data["capacity_changes"] = [*list(data.get("capacity_changes") or []),
                                    {"date": c.date.isoformat(), "team": c.team,
                                     "group": c.group, "wte": c.wte}]
    return data


def edited_name(base: Scenario, edits: Edits) -> str:
    """The edited design's name: as typed, unless empty or the base's own."""
    name = edits.name.strip()
    return name if name and name != base.name else f"{base.name} (edited)"


def build(base: Scenario, edits: Edits) -> Scenario:
    """The edited scenario, validated; the base itself when nothing changes.

    Raises
    ------
    ScenarioError
        Every problem, each naming its field (``outsourcing[0].end_date``, ...).
    """
    if not changes(base, edits):
        return base
    data = edited_data(base, edits)
    data["name"] = edited_name(base, edits)
    return scenario_from_dict(data, name="the levers")
