"""The scenario format: the whole scenario, and the checks across its sections.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Annotated

from pydantic import (
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from asdsim.scenario.base import (
    Date,
    FieldProblems,
    Model,
    Whole,
)
from asdsim.scenario.schema.changes import CapacityChange, OutsourcedBlock
from asdsim.scenario.schema.common import (
    FIRST_DATE,
    LAST_DATE,
    MAX_HORIZON_WEEKS,
    MAX_REFERRALS_PER_WEEK,
)
from asdsim.scenario.schema.demand import Demand
from asdsim.scenario.schema.paths import (
    canonical_path,
    json_copy,
    number_at,
    parse_path,
    set_in,
    value_in,
)
from asdsim.scenario.schema.reporting import ObservedPoint, Reporting
from asdsim.scenario.schema.routing import InitialState, Routing, UncoveredRule
from asdsim.scenario.schema.teams import Team
from asdsim.scenario.schema.triage import Triage
from asdsim.scenario.schema.uncertain import HIGHEST_UNIFORM, UncertainInput

if TYPE_CHECKING:
    from asdsim.scenario.snapshot import Snapshot


# ------------------------------------------------------------------------------------ scenario


class Scenario(Model):
    """A whole pathway: demand, triage, routing, teams, capacity and the starting state."""

    _snapshot: Snapshot | None = PrivateAttr(default=None)
    """The CSV snapshot's rows and hash, read once when loaded (see :mod:`asdsim.scenario.snapshot`)."""

    name: str
    """Short name shown in charts and reports."""
    description: str = ""
    """A paragraph for the report: what this design is."""
    assumptions: tuple[str, ...] = ()
    """Assumptions the scenario states, listed in the report."""
    start_date: Date
    """Calendar date of day 0."""
    horizon_weeks: Annotated[Whole, Field(ge=1, le=MAX_HORIZON_WEEKS)]
    """Length of the simulated period, in weeks."""
    priority_classes: tuple[str, ...] = ("urgent", "routine")
    """Priority classes, most urgent first; children without a priority flag get the last."""
    demand: Demand
    """Referrals."""
    triage: Triage = Triage()
    """Triage of referrals."""
    routing: Routing = Routing()
    """Routing of accepted referrals to teams."""
    teams: dict[str, Team]
    """Assessment teams by name."""
    capacity_changes: tuple[CapacityChange, ...] = ()
    """Dated changes of WTE or caseload clinicians."""
    outsourcing: tuple[OutsourcedBlock, ...] = ()
    """Time-limited blocks of outsourced assessments."""
    initial_state: InitialState = InitialState()
    """Children already waiting at the start."""
    reporting: Reporting = Reporting()
    """Dates the KPIs report on."""
    observed: tuple[ObservedPoint, ...] = ()
    """Published figures to set the simulation against (a validation table and chart)."""
    assumed: tuple[str, ...] = ()
    """Dotted paths of the numbers in this scenario that are assumptions rather than local data
    (``teams.mdt.staff.psychologist.wte``, ``demand.monthly_factors[7]``); each must name one
    number. ``asdsim sensitivity`` varies these by default."""
    uncertain: dict[str, UncertainInput] = Field(default_factory=dict)
    """What is not known about some assumed numbers: each key a path listed under ``assumed:``,
    each value a range ``[low, high]`` (uniform) or a distribution (``{dist: triangular, low:
    1.6, mode: 2, high: 2.4}``). Every value the distribution can give must be valid for the field.
    The scenario runs with the numbers as written unless inputs are drawn (``asdsim run
    --draw-inputs``), when each replication draws its own (docs/uncertainty.md)."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # ``uncertain`` is left out while empty, so a scenario without it keeps the content
        # hash and resolved file it had before the field existed
        data = handler(self)
        if isinstance(data, dict) and not data.get("uncertain", True):
            del data["uncertain"]
        return data

    @property
    def horizon_days(self) -> float:
        """Length of the simulated period in days."""
        return 7.0 * self.horizon_weeks

    @property
    def end_date(self) -> dt.date:
        """Calendar date of the horizon."""
        return self.start_date + dt.timedelta(days=self.horizon_days)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems: list[tuple[tuple[str | int, ...], str]] = []

        def add(*args: str | int) -> None:
            *path, message = args
            problems.append((tuple(path), str(message)))

        last = self.start_date.toordinal() + 7 * self.horizon_weeks
        if self.start_date < FIRST_DATE or last > LAST_DATE.toordinal():
            raise FieldProblems([(("start_date",), (
                f"{self.start_date} with horizon_weeks {self.horizon_weeks}: expected a horizon "
                f"from {FIRST_DATE} to {LAST_DATE} at most"))])
        if not self.teams:
            add("teams", "at least one team is needed")
        if not self.priority_classes:
            add("priority_classes", "at least one class is needed")
        start, end = self.start_date, self.end_date
        peak = self._peak_referrals_per_week()
        if peak > MAX_REFERRALS_PER_WEEK:
            add("demand", "referrals_per_week", (
                f"with growth, seasonality and step changes, referrals would reach about "
                f"{peak:,.0f} a week; at most {MAX_REFERRALS_PER_WEEK:,.0f} a week are simulated"))

        def check_date(day: dt.date, *path: str | int) -> None:
            if not start <= day <= end:
                problems.append((path, f"{day} is outside the horizon {start} to {end}"))

        for name, flag in self.demand.flags.items():
            if flag.priority is not None and flag.priority not in self.priority_classes:
                add("demand", "flags", name, "priority", (
                    f"{flag.priority!r} is not one of priority_classes {list(self.priority_classes)}"))
        for i, change in enumerate(self.demand.step_changes):
            check_date(change.date, "demand", "step_changes", i, "date")
        for i, point in enumerate(self.observed):
            check_date(point.date, "observed", i, "date")
            if point.period_start is not None:
                check_date(point.period_start, "observed", i, "period_start")
            if point.locality is not None and point.locality not in self.demand.localities:
                add("observed", i, "locality", f"{point.locality!r} is not a locality in "
                    "demand.localities")
        localities = set(self.demand.localities)
        for source in self.triage.outcomes_by_source:
            if source not in self.demand.sources:
                add("triage", "outcomes_by_source", source, (
                    f"not a source in demand.sources ({', '.join(sorted(self.demand.sources))})"))
        for loc in self.routing.uncovered_by_locality:
            if loc not in localities:
                add("routing", "uncovered_by_locality", loc, "not a locality in demand.localities")
        for loc in self.routing.rereferred_when_eligible:
            if loc not in localities:
                add("routing", "rereferred_when_eligible", loc, "not a locality in demand.localities")
        for name, team in self.teams.items():
            for i, loc in enumerate(team.localities or ()):
                if loc not in localities:
                    add("teams", name, "localities", i, (
                        f"{loc!r} is not a locality in demand.localities "
                        f"({', '.join(sorted(localities))})"))
        names = list(self.teams)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                ta, tb = self.teams[a], self.teams[b]
                shared = (
                    localities if ta.localities is None else set(ta.localities)
                ) & (localities if tb.localities is None else set(tb.localities))
                if shared and ta.min_age_years < tb.max_age_years and (
                    tb.min_age_years < ta.max_age_years
                ):
                    add("teams", b, "min_age_years", (
                        f"age ranges overlap with teams.{a} in {', '.join(sorted(shared))}, so "
                        "routing would be ambiguous"))
        for i, cap in enumerate(self.capacity_changes):
            check_date(cap.date, "capacity_changes", i, "date")
            changed = self.teams.get(cap.team)
            if changed is None:
                add("capacity_changes", i, "team", f"no team {cap.team!r}")
            elif cap.group is not None and cap.group not in changed.staff:
                add("capacity_changes", i, "group", f"team {cap.team!r} has no group {cap.group!r}")
            elif cap.clinicians is not None and changed.caseload is None:
                add("capacity_changes", i, "clinicians", f"team {cap.team!r} has no caseload")
        for i, block in enumerate(self.outsourcing):
            check_date(block.start_date, "outsourcing", i, "start_date")
            check_date(block.end_date, "outsourcing", i, "end_date")
            if block.team not in self.teams:
                add("outsourcing", i, "team", f"no team {block.team!r}")
        for i, group in enumerate(self.initial_state.backlog):
            if group.team is not None and group.team not in self.teams:
                add("initial_state", "backlog", i, "team", f"no team {group.team!r}")
            for loc in group.localities or {}:
                if loc not in self.demand.localities:
                    add("initial_state", "backlog", i, "localities", loc,
                        "not a locality in demand.localities")
        for i, day in enumerate(self.reporting.snapshot_dates):
            check_date(day, "reporting", "snapshot_dates", i)
        if self.reporting.cohort_from_date is not None:
            check_date(self.reporting.cohort_from_date, "reporting", "cohort_from_date")
        for i, text in enumerate(self.assumed):
            why = number_at(self, text)[1]
            if why is not None:
                add("assumed", i, f"{text!r}: {why}")
            elif text in self.assumed[:i]:
                add("assumed", i, f"{text!r} is listed twice")
        problems.extend(self._uncertain_problems())
        if problems:
            raise FieldProblems(problems)
        return self

    def _uncertain_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Problems of ``uncertain``: a path that names no number, is not listed under
        ``assumed:``, or whose distribution can give a value the scenario refuses (checked by
        validating the scenario at the lowest and the highest value a draw can give)."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if not self.uncertain:
            return problems
        assumed = {canonical_path(p) for p in self.assumed if parse_path(p) is not None}
        data = self.model_dump(mode="json")
        data.pop("uncertain", None)
        seen: dict[str, str] = {}
        for text, dist in self.uncertain.items():
            why = number_at(self, text)[1]
            if why is not None:
                problems.append((("uncertain", text), f"{text!r}: {why}"))
                continue
            canon = canonical_path(text)
            if canon == "horizon_weeks":
                problems.append((("uncertain", text), "the horizon must be the same in every "
                                 "replication; it cannot be uncertain"))
                continue
            if canon in seen:
                problems.append((("uncertain", text), f"{text!r} names the same number as "
                                 f"{seen[canon]!r}"))
                continue
            seen[canon] = text
            if canon not in assumed:
                problems.append((("uncertain", text), f"{text!r} is not listed under assumed:; an "
                                 "uncertain input is an assumption, so add it there"))
                continue
            keys = parse_path(text) or ()
            whole = isinstance(value_in(data, keys), int)
            for end, u in (("lowest", 0.0), ("highest", HIGHEST_UNIFORM)):
                value = float(dist.quantile(u))
                changed = json_copy(data)
                set_in(changed, keys, round(value) if whole else value)
                try:
                    Scenario.model_validate(changed)
                except ValidationError as exc:
                    first = exc.errors(include_url=False)[0]
                    field = "".join(f"[{k}]" if isinstance(k, int) else f".{k}"
                                    for k in first["loc"]).lstrip(".")
                    reason = str(first.get("msg", "")).removeprefix("Value error, ")
                    problems.append((("uncertain", text), (
                        f"the {end} value a draw can give, {value:.6g}, is refused ({field}: "
                        f"{reason}); narrow the range or choose another distribution")))
                    break
        return problems

    def _peak_referrals_per_week(self) -> float:
        """An upper bound on the weekly referral rate over the horizon (inf if it overflows)."""
        demand = self.demand
        factors = [demand.referrals_per_week, max(demand.monthly_factors, default=1.0)]
        factors += [c.factor for c in demand.step_changes if c.factor > 1.0]
        if min(factors) <= 0.0:
            return 0.0
        log_peak = math.fsum(math.log(f) for f in factors)
        if demand.annual_growth > 0:
            log_peak += self.horizon_days / 365.25 * math.log1p(demand.annual_growth)
        return math.exp(log_peak) if log_peak < 700 else math.inf

    def team_for(self, age_years: float, locality: str, date: dt.date | None = None) -> str | None:
        """Name of the team that covers a child of this age in this locality (open on ``date``,
        where given), if any."""
        for name, team in self.teams.items():
            if team.min_age_years <= age_years < team.max_age_years and team.serves(locality) and (
                    date is None or team.open_on(date)):
                return name
        return None

    def uncovered_rule(self, locality: str) -> UncoveredRule:
        """What happens to a child no team covers in a locality."""
        return self.routing.uncovered_by_locality.get(locality, self.routing.uncovered)
