"""The levers a plan varies, checked against the scenario (:func:`make_levers`): one builder a
kind of lever (a team's staff group or its clinicians, triage capacity, outsourced assessments),
each resolving its names, bounds, step and cost a step.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from asdsim.experiments.plan.levers import Lever, Outsourcing, PlanError, _add_months, lead_days
from asdsim.scenario import Scenario
from asdsim.scenario.staffing import in_force

DEFAULT_BOUNDS = {"wte": (0.0, 3.0), "clinicians": (0.0, 5.0)}
"""Change allowed from the level in force, by kind of staff lever, when no bound is given."""
DEFAULT_STEPS = {"wte": 0.1, "clinicians": 1.0}
"""Step of a staff lever, by kind, when none is given."""
MAX_LEVELS = 10_000
"""The most levels one lever may have (a finer step would make the search's grid too large)."""


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
    if team is not None and team not in scenario.teams:
        raise PlanError(f"no team {team!r}; the teams are: {', '.join(scenario.teams)}")
    bounds = dict(bounds or {})
    levers: list[Lever] = []
    used: set[str] = set()
    named: set[str] = set()  # every name a lever answers to, for the bounds and steps
    for item in vary:
        text = item.strip()
        if text == "triage":
            _claim("triage", "--vary triage: given twice", used)
            named.add("triage")
            levers.append(_triage_lever(scenario, bounds, step, triage_cost_gbp))
            continue
        chosen, what = _staff_team(scenario, text, team)
        name = f"{chosen}/{what}"
        _claim(name, f"--vary {text}: {name} is given twice", used)
        named.update((text, name, what))
        levers.append(_staff_lever(scenario, chosen, what, (text, name, what), from_date, bounds, step,
                                   lead_time_weeks, ramp_weeks))
    if outsourcing is not None:
        levers.append(_outsourcing_lever(scenario, outsourcing, from_date, team, lead_time_weeks,
                                         ramp_weeks))
    if not levers:
        raise PlanError("nothing to vary: give staff groups (--vary) or outsourcing")
    _check_named(levers, named, bounds, step)
    return levers


def _claim(name: str, twice: str, used: set[str]) -> None:
    """Mark a lever as varied, refusing one given twice (with the message ``twice``)."""
    if name in used:
        raise PlanError(twice)
    used.add(name)


def _check_named(levers: Sequence[Lever], named: set[str], bounds: Mapping[str, Any],
                 step: float | Mapping[str, float] | None) -> None:
    """Refuse a bound or step naming no lever: ignoring it would let a plan go beyond what was
    allowed."""
    for option, given in (("--bounds", bounds), ("--step", step if isinstance(step, Mapping) else {})):
        unknown = sorted(set(given) - named)
        if unknown:
            raise PlanError(f"{option} {unknown[0]}: no lever of that name; the levers are "
                            f"{', '.join(lv.name for lv in levers)} (--vary names them)")


def _staff_team(scenario: Scenario, text: str, team: str | None) -> tuple[str, str]:
    """The team and the group (or ``clinicians``) a ``--vary`` item names, as ``(team, what)``:
    the one team of the plan's (or of all) that has it."""
    teams = scenario.teams
    team_name, _, what = text.rpartition("/")
    team_name = team_name or team
    if team_name is not None and team_name not in teams:
        raise PlanError(f"--vary {text}: no team {team_name!r}; the teams are: {', '.join(teams)}")
    pool = [team_name] if team_name is not None else list(teams)
    found = (_caseload_teams(scenario, text, pool, team_name) if what == "clinicians"
             else _teams_with_group(scenario, text, pool, team_name, what))
    if len(found) > 1:
        raise PlanError(f"--vary {text}: teams {', '.join(found)} all have it; give --team or "
                        f"write {found[0]}/{what}")
    chosen = found[0]
    if what != "clinicians" and teams[chosen].capacity_mode == "caseload":
        raise PlanError(f"--vary {text}: team {chosen!r} is in caseload mode, where WTE does not "
                        "limit capacity; vary 'clinicians' instead")
    return chosen, what


def _caseload_teams(scenario: Scenario, text: str, pool: Sequence[str], team_name: str | None) -> list[str]:
    """The teams of ``pool`` in caseload mode (where clinicians can be varied); at least one."""
    found = [t for t in pool if scenario.teams[t].capacity_mode == "caseload"]
    if not found:
        raise PlanError(f"--vary {text}: 'clinicians' needs a caseload team; "
                        f"{' '.join(pool) if team_name else 'no team'} is in caseload mode")
    return found


def _teams_with_group(scenario: Scenario, text: str, pool: Sequence[str], team_name: str | None,
                      group: str) -> list[str]:
    """The teams of ``pool`` with the staff group ``group``; at least one."""
    teams = scenario.teams
    found = [t for t in pool if group in teams[t].staff]
    if not found:
        groups = sorted({g for t in pool for g in teams[t].staff})
        raise PlanError(f"--vary {text}: no staff group {group!r} in "
                        f"{'team ' + repr(team_name) if team_name else 'any team'}; the "
                        f"groups are: {', '.join(groups)}")
    return found


def _staff_lever(scenario: Scenario, team: str, what: str, aliases: tuple[str, str, str],
                 from_date: dt.date, bounds: Mapping[str, tuple[float, float]],
                 step: float | Mapping[str, float] | None, lead_time_weeks: float,
                 ramp_weeks: float) -> Lever:
    """A team's WTE of one staff group, or its clinicians (``what`` is ``clinicians``), as a
    lever; ``aliases`` are the names its bound and step may be given under."""
    kind: Literal["wte", "clinicians"] = "clinicians" if what == "clinicians" else "wte"
    if isinstance(step, Mapping) or kind == "wte":
        lever_step = float(_option(step, aliases, DEFAULT_STEPS[kind]))
    else:
        lever_step = DEFAULT_STEPS[kind]  # one number is the step of the WTE levers
    low, high = _option(bounds, aliases, DEFAULT_BOUNDS[kind])
    if kind == "wte":
        base = in_force(scenario, team, from_date, what)
        per: tuple[tuple[str, float], ...] = ()
        cost = _funded_cost(scenario, team, what, lever_step)
    else:
        base = in_force(scenario, team, from_date)
        per = _staff_per_clinician(scenario, team)
        cost = lever_step * sum(_funded_cost(scenario, team, g, w) for g, w in per)
    name = aliases[1]
    lo, hi = _steps(name, float(low), float(high), lever_step, base)
    return Lever(name, kind, team, what if kind == "wte" else None, base, lever_step, lo, hi, cost,
                 per, lead_time_weeks=lead_time_weeks, ramp_weeks=ramp_weeks if kind == "wte" else 0.0)


def _funded_cost(scenario: Scenario, team: str, group: str, wte: float) -> float:
    """The autism service's funded cost a year of ``wte`` of a team's staff group."""
    staff = scenario.teams[team].staff[group]
    return wte * staff.autism_share * staff.funded_cost_per_wte_gbp


def _staff_per_clinician(scenario: Scenario, team: str) -> tuple[tuple[str, float], ...]:
    """A caseload team's WTE of each staff group per clinician: the mix an added clinician brings."""
    spec = scenario.teams[team]
    assert spec.caseload is not None
    clinicians = spec.caseload.clinicians
    return tuple((g, s.wte / clinicians if clinicians else 0.0) for g, s in spec.staff.items())


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
    """Outsourced assessments a month as a lever: a block of a team from the plan's date (or
    bridging the gap until added staff are at full productivity), costed for its first year."""
    spec = _outsourcing_spec(spec)
    name = _outsourcing_team(scenario, spec, team)
    price = _outsourcing_price(scenario, spec, name)
    if spec.months < 1 or spec.max_per_month < 1 or spec.step < 1:
        raise PlanError("outsourcing: months, max_per_month and step must be at least 1")
    start, end = _outsourcing_block(scenario, spec, from_date, lead_time_weeks, ramp_weeks)
    months = min(12.0, ((end - start).days + 1) / (365.25 / 12))
    lo, hi = _steps(f"{name}/outsourcing", 0.0, float(spec.max_per_month), float(spec.step), 0.0)
    return Lever(f"{name}/outsourcing", "outsourcing", name, None, 0.0, float(spec.step), lo, hi,
                 spec.step * price * months, block=(start, end, float(price)))


def _outsourcing_spec(spec: Outsourcing | Mapping[str, Any]) -> Outsourcing:
    """An :class:`Outsourcing` from itself or its fields, naming any field it does not have."""
    if not isinstance(spec, Mapping):
        return spec
    unknown = set(spec) - set(Outsourcing.__dataclass_fields__)
    if unknown:
        raise PlanError(f"outsourcing: unknown field(s) {', '.join(sorted(unknown))}; expected "
                        f"{', '.join(Outsourcing.__dataclass_fields__)}")
    return Outsourcing(**spec)


def _outsourcing_team(scenario: Scenario, spec: Outsourcing, team: str | None) -> str:
    """The team whose list the block takes children from: its own, the plan's or the only one."""
    teams = scenario.teams
    name = spec.team or team or (next(iter(teams)) if len(teams) == 1 else None)
    if name is None:
        raise PlanError(f"outsourcing: give its team (the teams are: {', '.join(teams)})")
    if name not in teams:
        raise PlanError(f"outsourcing: no team {name!r}; the teams are: {', '.join(teams)}")
    return name


def _outsourcing_price(scenario: Scenario, spec: Outsourcing, team: str) -> float:
    """The price of one assessment: as given, or that of the team's first block in the scenario."""
    price = spec.price_gbp
    if price is None:
        prices = [b.price_gbp for b in scenario.outsourcing if b.team == team]
        if not prices:
            raise PlanError(f"outsourcing: give the price of an assessment (team {team!r} has no "
                            "outsourcing block in the scenario to take it from)")
        price = prices[0]
    if not (math.isfinite(price) and price >= 0):
        raise PlanError(f"outsourcing: the price must be a number >= 0, got {price!r}")
    return price


def _outsourcing_block(scenario: Scenario, spec: Outsourcing, from_date: dt.date,
                       lead_time_weeks: float, ramp_weeks: float) -> tuple[dt.date, dt.date]:
    """The first and last day of the block, within the horizon: ``months`` from the plan's date,
    or as a bridge from the day added staff are approved until they are at full productivity."""
    end = min(_add_months(from_date, spec.months) - dt.timedelta(days=1), scenario.end_date)
    if not spec.bridge:
        return from_date, end
    if not (lead_time_weeks or ramp_weeks):
        raise PlanError("outsourcing: a bridge covers the gap until added staff are at full "
                        "productivity; give a lead time or a ramp (--lead-time-weeks, "
                        "--ramp-weeks)")
    start = from_date - dt.timedelta(days=lead_days(lead_time_weeks))
    end = min(from_date + dt.timedelta(days=lead_days(ramp_weeks) - 1), scenario.end_date)
    return start, max(end, start)
