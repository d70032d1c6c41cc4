"""The plan's decision variables (levers) and the scenario of an option: each lever's change
from the level in force on the plan's date, as dated capacity changes (with any recruitment lead
time and ramp), an outsourced block or the triage capacity. The levers of a plan are built and
checked in :mod:`asdsim.experiments.plan.vary`.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from asdsim.errors import AsdsimError
from asdsim.scenario import Scenario
from asdsim.scenario.staffing import in_force

Point = tuple[int, ...]
"""Steps of each lever: an option."""

class PlanError(AsdsimError):
    """A plan cannot be set up as asked (a lever, a bound, a date)."""


# ----------------------------------------------------------------------------------------- levers


@dataclass(frozen=True)
class Outsourcing:
    """Outsourced assessments as a lever: ``0..max_per_month`` a month from ``from`` for ``months``.

    Attributes
    ----------
    team
        The team whose list the block takes children from (default: the plan's team, or the only
        team).
    max_per_month
        Upper bound of assessments a month.
    price_gbp
        Price of one assessment (default: that of a block of the same team in the scenario).
    months
        Length of the block, cut to the horizon.
    step
        Step of assessments a month.
    bridge
        With a recruitment lead time or ramp: the block bridges the gap instead, from the day
        the added staff are approved until they are at full productivity (``months`` unused).
    """

    team: str | None = None
    max_per_month: int = 10
    price_gbp: float | None = None
    months: int = 12
    step: int = 1
    bridge: bool = False


@dataclass(frozen=True)
class Lever:
    """One decision variable: a change from the level in force on the plan's date, in steps.

    Attributes
    ----------
    name
        ``team/group`` (WTE), ``team/clinicians``, ``team/outsourcing`` or ``triage``.
    kind
        ``wte``, ``clinicians``, ``outsourcing`` or ``triage`` (referrals triaged a week).
    team, group
        Where it acts (``group`` only for WTE).
    base
        The level in force on the plan's date (0 for outsourcing).
    step
        Size of one step (WTE, clinicians or assessments a month).
    low, high
        Bounds, in steps from ``base``.
    cost_per_step
        Extra annual cost of one step (GBP a year).
    per_clinician
        Caseload mode: WTE of each staff group that comes with one clinician.
    block
        Outsourcing: ``(start, end, price)`` of the block.
    lead_time_weeks, ramp_weeks
        Staff: weeks from approving the change to its applying on the plan's date, and weeks
        to full productivity from then (the dated change carries both).
    """

    name: str
    kind: Literal["wte", "clinicians", "outsourcing", "triage"]
    team: str
    group: str | None
    base: float
    step: float
    low: int
    high: int
    cost_per_step: float
    per_clinician: tuple[tuple[str, float], ...] = ()
    block: tuple[dt.date, dt.date, float] | None = None
    lead_time_weeks: float = 0.0
    ramp_weeks: float = 0.0

    def change(self, steps: int) -> float:
        """The change from ``base`` at a number of steps."""
        return round(steps * self.step, 9)

    def level(self, steps: int) -> float:
        """The level at a number of steps."""
        return round(self.base + steps * self.step, 9)

    @property
    def unit(self) -> str:
        """What one unit is, in words."""
        return {"wte": "WTE", "clinicians": "clinicians", "outsourcing": "assessments a month",
                "triage": "referrals triaged a week"}[self.kind]

    def words(self, steps: int) -> str:
        """The change in plain words: ``+0.6 WTE psychologist (school_age_mdt)``."""
        change = self.change(steps)
        if self.kind == "outsourcing":
            assert self.block is not None
            start, end, price = self.block
            return (f"{change:g} outsourced assessments a month for {self.team} from "
                    f"{_month(start)} to {_month(end)} at GBP {price:,.0f} each")
        if self.kind == "triage":
            return f"{change:+g} referrals triaged a week (triage capacity {self.level(steps):g} a week)"
        what = self.group if self.kind == "wte" else "clinicians"
        return f"{change:+g} {'WTE ' if self.kind == 'wte' else ''}{what} ({self.team})"


def _day(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def _month(day: dt.date) -> str:
    return day.strftime("%B %Y") if day.day == 1 else f"{day.day} {day.strftime('%B %Y')}"


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, last)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------------- option scenarios


def lead_days(weeks: float) -> int:
    """A lead time in whole days (rounded up), as a dated change applies it."""
    return math.ceil(7.0 * weeks - 1e-9)


def _applies(change: Mapping[str, Any]) -> dt.date:
    """The date a dated change (as plain data) applies: its date plus its lead time."""
    return (dt.date.fromisoformat(str(change["date"]))
            + dt.timedelta(days=lead_days(float(change.get("lead_time_weeks") or 0.0))))


def shift_changes(changes: list[dict[str, Any]], team: str, key: str, group: str | None, in_force: float,
           delta: float, on: dt.date, lead_time_weeks: float = 0.0,
           ramp_weeks: float = 0.0) -> list[dict[str, Any]]:
    """Dated changes with ``delta`` added from ``on``: a change that applies on that date
    (approved ``lead_time_weeks`` before, ramping up over ``ramp_weeks``), and later changes of
    the same group (or caseload) shifted by the same amount."""
    out = []
    for change in changes:
        same = (change["team"] == team and change.get(key) is not None
                and (key == "clinicians" or change.get("group") == group))
        day = _applies(change)
        if same and day == on:
            continue  # in force on the date: replaced by the new change
        if same and day > on:
            change = {**change, key: round(max(0.0, change[key] + delta), 9)}
        out.append(change)
    approved = on - dt.timedelta(days=lead_days(lead_time_weeks))
    new: dict[str, Any] = {"date": approved.isoformat(), "team": team}
    if group is not None:
        new["group"] = group
    new[key] = round(max(0.0, in_force + delta), 9)
    if lead_time_weeks:
        new["lead_time_weeks"] = lead_time_weeks
    if ramp_weeks and key == "wte":
        new["ramp_weeks"] = ramp_weeks
    out.append(new)
    return out


def option_data(base: dict[str, Any], levers: Sequence[Lever], point: Point, on: dt.date,
                scenario: Scenario) -> dict[str, Any]:
    """The plain data of an option's scenario: ``base`` with each lever's change from ``on``."""
    data = copy.deepcopy(base)
    changes = [dict(c) for c in data.get("capacity_changes", [])]
    blocks = list(data.get("outsourcing", []))
    for lever, steps in zip(levers, point, strict=True):
        if steps == 0:
            continue
        delta = lever.change(steps)
        lead = lever.lead_time_weeks
        if lever.kind == "wte":
            changes = shift_changes(changes, lever.team, "wte", lever.group, lever.base, delta, on, lead,
                             lever.ramp_weeks)
        elif lever.kind == "clinicians":
            changes = shift_changes(changes, lever.team, "clinicians", None, lever.base, delta, on, lead)
            for group, per in lever.per_clinician:
                if per:  # the posts that come with the clinicians, funded when they start
                    changes = shift_changes(changes, lever.team, "wte", group,
                                     in_force(scenario, lever.team, on, group), delta * per, on,
                                     lead)
        elif lever.kind == "triage":  # the scenario's one triage capacity, for the whole run
            data["triage"] = {**data["triage"], "capacity_per_week": lever.level(steps)}
        else:
            assert lever.block is not None
            start, end, price = lever.block
            blocks.append({"team": lever.team, "start_date": start.isoformat(),
                           "end_date": end.isoformat(), "assessments_per_month": round(delta),
                           "price_gbp": price})
    data["capacity_changes"] = changes
    data["outsourcing"] = blocks
    return data
