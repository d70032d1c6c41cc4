"""The plan's decision variables (levers) and the scenario of an option: each lever's change
from the level in force on the plan's date, as dated capacity changes (with any recruitment lead
time and ramp), an outsourced block or the triage capacity.
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

DEFAULT_BOUNDS = {"wte": (0.0, 3.0), "clinicians": (0.0, 5.0)}
DEFAULT_STEPS = {"wte": 0.1, "clinicians": 1.0}
MAX_LEVELS = 10_000


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


def _option(mapping: Mapping[str, Any] | Any, names: Sequence[str], default: Any) -> Any:
    if not isinstance(mapping, Mapping):
        return default if mapping is None else mapping
    for name in names:
        if name in mapping:
            return mapping[name]
    return default


def _steps(lever: str, low: float, high: float, step: float, base: float) -> tuple[int, int]:
    if not (math.isfinite(step) and step > 0):
        raise PlanError(f"{lever}: the step must be a positive number, got {step!r}")
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise PlanError(f"{lever}: bounds must be numbers with low <= high, got {low:g} to {high:g}")
    steps = []
    for bound in (low, high):
        k = bound / step
        if abs(k - round(k)) > 1e-6:
            raise PlanError(f"{lever}: the bound {bound:g} is not a whole number of steps of {step:g}")
        steps.append(round(k))
    lo, hi = steps
    lo = max(lo, -math.floor(base / step + 1e-9))  # never below zero
    if hi - lo + 1 > MAX_LEVELS:
        raise PlanError(f"{lever}: {hi - lo + 1:,} levels; at most {MAX_LEVELS:,} (use a larger step)")
    if hi < lo:
        raise PlanError(f"{lever}: the bounds leave no level at or above zero")
    return lo, hi


def make_levers(scenario: Scenario, vary: Sequence[str] | str, from_date: dt.date,
                team: str | None = None, bounds: Mapping[str, tuple[float, float]] | None = None,
                step: float | Mapping[str, float] | None = None,
                outsourcing: Outsourcing | Mapping[str, Any] | None = None,
                lead_time_weeks: float = 0.0, ramp_weeks: float = 0.0,
                triage_cost_gbp: float | None = None) -> list[Lever]:
    """The plan's decision variables, checked against the scenario.

    Parameters
    ----------
    vary
        Staff groups (``psychologist``, or ``team/psychologist``) and ``clinicians`` (caseload
        teams); a comma-separated string is split.
    team
        The team of a name given without one; needed where several teams have the group.
    bounds
        Change from the level in force on ``from_date``, ``(low, high)``, by name as given in
        ``vary`` or as ``team/group``; default 0 to +3 WTE, 0 to +5 clinicians.
    step
        The step of every WTE lever, or steps by name; default 0.1 WTE, 1 clinician.
    outsourcing
        Adds outsourced assessments a month as a lever (:class:`Outsourcing` or its fields).
    triage_cost_gbp
        With ``triage`` in ``vary``: the cost a year of triaging one more referral a week.
    lead_time_weeks, ramp_weeks
        Staff levers: weeks from approval until the change applies on ``from_date`` (so it is
        approved that long before), and weeks from then to full productivity (WTE levers only;
        :class:`asdsim.scenario.schema.CapacityChange`).

    Raises
    ------
    PlanError
        Naming the lever and what is wrong (an unknown team or group, an ambiguous name, a
        caseload team's WTE, a bound that is not a whole number of steps).
    """
    if isinstance(vary, str):
        vary = [v for v in vary.split(",") if v.strip()]
    teams = scenario.teams
    if team is not None and team not in teams:
        raise PlanError(f"no team {team!r}; the teams are: {', '.join(teams)}")
    bounds = dict(bounds or {})
    levers: list[Lever] = []
    used: set[str] = set()
    named: set[str] = set()  # every name a lever answers to, for the bounds and steps
    for item in vary:
        text = item.strip()
        if text == "triage":
            if "triage" in used:
                raise PlanError("--vary triage: given twice")
            used.add("triage")
            named.add("triage")
            levers.append(_triage_lever(scenario, bounds, step, triage_cost_gbp))
            continue
        team_name, _, what = text.rpartition("/")
        team_name = team_name or team
        if team_name is not None and team_name not in teams:
            raise PlanError(f"--vary {text}: no team {team_name!r}; the teams are: {', '.join(teams)}")
        pool = [team_name] if team_name is not None else list(teams)
        if what == "clinicians":
            found = [t for t in pool if teams[t].capacity_mode == "caseload"]
            if not found:
                raise PlanError(f"--vary {text}: 'clinicians' needs a caseload team; "
                                f"{' '.join(pool) if team_name else 'no team'} is in caseload mode")
        else:
            found = [t for t in pool if what in teams[t].staff]
            if not found:
                groups = sorted({g for t in pool for g in teams[t].staff})
                raise PlanError(f"--vary {text}: no staff group {what!r} in "
                                f"{'team ' + repr(team_name) if team_name else 'any team'}; the "
                                f"groups are: {', '.join(groups)}")
        if len(found) > 1:
            raise PlanError(f"--vary {text}: teams {', '.join(found)} all have it; give --team or "
                            f"write {found[0]}/{what}")
        chosen = found[0]
        spec = teams[chosen]
        kind: Literal["wte", "clinicians"] = "clinicians" if what == "clinicians" else "wte"
        if kind == "wte" and spec.capacity_mode == "caseload":
            raise PlanError(f"--vary {text}: team {chosen!r} is in caseload mode, where WTE does not "
                            "limit capacity; vary 'clinicians' instead")
        name = f"{chosen}/{what}"
        if name in used:
            raise PlanError(f"--vary {text}: {name} is given twice")
        used.add(name)
        named.update((text, name, what))
        if isinstance(step, Mapping) or kind == "wte":
            lever_step = float(_option(step, (text, name, what), DEFAULT_STEPS[kind]))
        else:
            lever_step = DEFAULT_STEPS[kind]  # one number is the step of the WTE levers
        low, high = _option(bounds, (text, name, what), DEFAULT_BOUNDS[kind])
        if kind == "wte":
            base = in_force(scenario, chosen, from_date, what)
            staff = spec.staff[what]
            cost = lever_step * staff.autism_share * staff.funded_cost_per_wte_gbp
            per: tuple[tuple[str, float], ...] = ()
        else:
            assert spec.caseload is not None
            base = in_force(scenario, chosen, from_date)
            clinicians = spec.caseload.clinicians
            per = tuple((g, s.wte / clinicians if clinicians else 0.0) for g, s in spec.staff.items())
            cost = lever_step * sum(w * spec.staff[g].autism_share * spec.staff[g].funded_cost_per_wte_gbp
                                    for g, w in per)
        lo, hi = _steps(name, float(low), float(high), lever_step, base)
        levers.append(Lever(name, kind, chosen, what if kind == "wte" else None, base, lever_step,
                            lo, hi, cost, per, lead_time_weeks=lead_time_weeks,
                            ramp_weeks=ramp_weeks if kind == "wte" else 0.0))
    if outsourcing is not None:
        levers.append(_outsourcing_lever(scenario, outsourcing, from_date, team, lead_time_weeks,
                                         ramp_weeks))
    if not levers:
        raise PlanError("nothing to vary: give staff groups (--vary) or outsourcing")
    for option, given in (("--bounds", bounds), ("--step", step if isinstance(step, Mapping) else {})):
        unknown = sorted(set(given) - named)
        if unknown:  # ignoring it would let a plan go beyond what was allowed
            raise PlanError(f"{option} {unknown[0]}: no lever of that name; the levers are "
                            f"{', '.join(lv.name for lv in levers)} (--vary names them)")
    return levers


def _triage_lever(scenario: Scenario, bounds: Mapping[str, tuple[float, float]],
                  step: float | Mapping[str, float] | None, price: float | None) -> Lever:
    """Triage capacity (referrals triaged a week) as a lever. The scenario states one capacity
    for the whole run (it has no dated triage changes), so the lever changes it for the whole
    run, not from the plan's date."""
    base = scenario.triage.capacity_per_week
    if base is None:
        raise PlanError("--vary triage: the scenario triages each referral on arrival (no "
                        "triage.capacity_per_week), so triage capacity cannot be a bottleneck")
    if price is None or not (math.isfinite(price) and price >= 0):
        raise PlanError("--vary triage: give the cost a year of triaging one more referral a week "
                        "(--triage-cost GBP), so that the plan can weigh it against staff")
    lever_step = float(_option(step, ("triage",), 1.0)) if isinstance(step, Mapping) else 1.0
    low, high = _option(bounds, ("triage",), (0.0, 20.0))
    lo, hi = _steps("triage", float(low), float(high), lever_step, float(base))
    return Lever("triage", "triage", "", None, float(base), lever_step, lo, hi, lever_step * price)


def _outsourcing_lever(scenario: Scenario, spec: Outsourcing | Mapping[str, Any], from_date: dt.date,
                       team: str | None, lead_time_weeks: float = 0.0,
                       ramp_weeks: float = 0.0) -> Lever:
    if isinstance(spec, Mapping):
        unknown = set(spec) - set(Outsourcing.__dataclass_fields__)
        if unknown:
            raise PlanError(f"outsourcing: unknown field(s) {', '.join(sorted(unknown))}; expected "
                            f"{', '.join(Outsourcing.__dataclass_fields__)}")
        spec = Outsourcing(**spec)
    name = spec.team or team or (next(iter(scenario.teams)) if len(scenario.teams) == 1 else None)
    if name is None:
        raise PlanError(f"outsourcing: give its team (the teams are: {', '.join(scenario.teams)})")
    if name not in scenario.teams:
        raise PlanError(f"outsourcing: no team {name!r}; the teams are: {', '.join(scenario.teams)}")
    price = spec.price_gbp
    if price is None:
        prices = [b.price_gbp for b in scenario.outsourcing if b.team == name]
        if not prices:
            raise PlanError(f"outsourcing: give the price of an assessment (team {name!r} has no "
                            "outsourcing block in the scenario to take it from)")
        price = prices[0]
    if not (math.isfinite(price) and price >= 0):
        raise PlanError(f"outsourcing: the price must be a number >= 0, got {price!r}")
    if spec.months < 1 or spec.max_per_month < 1 or spec.step < 1:
        raise PlanError("outsourcing: months, max_per_month and step must be at least 1")
    start = from_date
    end = min(_add_months(from_date, spec.months) - dt.timedelta(days=1), scenario.end_date)
    if spec.bridge:
        if not (lead_time_weeks or ramp_weeks):
            raise PlanError("outsourcing: a bridge covers the gap until added staff are at full "
                            "productivity; give a lead time or a ramp (--lead-time-weeks, "
                            "--ramp-weeks)")
        start = from_date - dt.timedelta(days=lead_days(lead_time_weeks))
        end = min(from_date + dt.timedelta(days=lead_days(ramp_weeks) - 1), scenario.end_date)
        if end < start:
            end = start
    months = min(12.0, ((end - start).days + 1) / (365.25 / 12))
    lo, hi = _steps(f"{name}/outsourcing", 0.0, float(spec.max_per_month), float(spec.step), 0.0)
    return Lever(f"{name}/outsourcing", "outsourcing", name, None, 0.0, float(spec.step), lo, hi,
                 spec.step * price * months, block=(start, end, float(price)))


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
