"""The scenario format: the whole scenario, and the checks across its sections.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator
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
from asdsim.scenario.schema.published import PublishedWaits
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
    published_waits: tuple[PublishedWaits, ...] = ()
    """Published distributions of waits (quantiles, or sd/mean), each with its source and the
    wait it describes, to set the simulated spread of waits against: ``asdsim run`` writes a
    table and a chart of both (docs/model.md)."""
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
        # ``uncertain`` and ``published_waits`` are left out while empty, so a scenario without
        # them keeps the content hash and resolved file it had before the fields existed
        data = handler(self)
        if isinstance(data, dict):
            if not data.get("uncertain", True):
                del data["uncertain"]
            if not data.get("published_waits", True):
                del data["published_waits"]
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
        last = self.start_date.toordinal() + 7 * self.horizon_weeks
        if self.start_date < FIRST_DATE or last > LAST_DATE.toordinal():
            # before every other check: the end date of a longer horizon is not representable
            raise FieldProblems([(("start_date",), (
                f"{self.start_date} with horizon_weeks {self.horizon_weeks}: expected a horizon "
                f"from {FIRST_DATE} to {LAST_DATE} at most"))])
        problems = [problem for check in SCENARIO_CHECKS for problem in check(self)]
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


# --------------------------------------------------------------- checks across the sections

FieldProblem = tuple[tuple[str | int, ...], str]
"""Where in the scenario (a path of keys) and what is wrong."""


def _outside(scenario: Scenario, day: dt.date, *path: str | int) -> Iterator[FieldProblem]:
    start, end = scenario.start_date, scenario.end_date
    if not start <= day <= end:
        yield path, f"{day} is outside the horizon {start} to {end}"


def _something_to_run(s: Scenario) -> Iterator[FieldProblem]:
    """At least one team and one priority class."""
    if not s.teams:
        yield ("teams",), "at least one team is needed"
    if not s.priority_classes:
        yield ("priority_classes",), "at least one class is needed"


def _referrals_simulable(s: Scenario) -> Iterator[FieldProblem]:
    """Referrals stay within what a run can hold, at their peak."""
    peak = s._peak_referrals_per_week()
    if peak > MAX_REFERRALS_PER_WEEK:
        yield ("demand", "referrals_per_week"), (
            f"with growth, seasonality and step changes, referrals would reach about "
            f"{peak:,.0f} a week; at most {MAX_REFERRALS_PER_WEEK:,.0f} a week are simulated")


def _flag_priorities(s: Scenario) -> Iterator[FieldProblem]:
    """A flag's priority is one of the priority classes."""
    for name, flag in s.demand.flags.items():
        if flag.priority is not None and flag.priority not in s.priority_classes:
            yield ("demand", "flags", name, "priority"), (
                f"{flag.priority!r} is not one of priority_classes {list(s.priority_classes)}")


def _step_changes_in_horizon(s: Scenario) -> Iterator[FieldProblem]:
    for i, change in enumerate(s.demand.step_changes):
        yield from _outside(s, change.date, "demand", "step_changes", i, "date")


def _observed_points(s: Scenario) -> Iterator[FieldProblem]:
    """An observed figure falls within the horizon, in a locality of the demand."""
    for i, point in enumerate(s.observed):
        yield from _outside(s, point.date, "observed", i, "date")
        if point.period_start is not None:
            yield from _outside(s, point.period_start, "observed", i, "period_start")
        if point.locality is not None and point.locality not in s.demand.localities:
            yield ("observed", i, "locality"), (f"{point.locality!r} is not a locality in "
                                                "demand.localities")


def _sources_and_localities_named(s: Scenario) -> Iterator[FieldProblem]:
    """Triage by source, routing by locality and a team's localities name the demand's."""
    localities = set(s.demand.localities)
    for source in s.triage.outcomes_by_source:
        if source not in s.demand.sources:
            yield ("triage", "outcomes_by_source", source), (
                f"not a source in demand.sources ({', '.join(sorted(s.demand.sources))})")
    for loc in s.routing.uncovered_by_locality:
        if loc not in localities:
            yield ("routing", "uncovered_by_locality", loc), "not a locality in demand.localities"
    for loc in s.routing.rereferred_when_eligible:
        if loc not in localities:
            yield ("routing", "rereferred_when_eligible", loc), "not a locality in demand.localities"
    for name, team in s.teams.items():
        for i, loc in enumerate(team.localities or ()):
            if loc not in localities:
                yield ("teams", name, "localities", i), (
                    f"{loc!r} is not a locality in demand.localities "
                    f"({', '.join(sorted(localities))})")


def _teams_do_not_overlap(s: Scenario) -> Iterator[FieldProblem]:
    """No two teams cover the same age in the same locality (routing would be ambiguous)."""
    localities = set(s.demand.localities)
    names = list(s.teams)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ta, tb = s.teams[a], s.teams[b]
            shared = (
                localities if ta.localities is None else set(ta.localities)
            ) & (localities if tb.localities is None else set(tb.localities))
            if shared and ta.min_age_years < tb.max_age_years and (
                tb.min_age_years < ta.max_age_years
            ):
                yield ("teams", b, "min_age_years"), (
                    f"age ranges overlap with teams.{a} in {', '.join(sorted(shared))}, so "
                    "routing would be ambiguous")


def _capacity_changes(s: Scenario) -> Iterator[FieldProblem]:
    """A capacity change falls within the horizon and changes what its team has."""
    for i, cap in enumerate(s.capacity_changes):
        yield from _outside(s, cap.date, "capacity_changes", i, "date")
        changed = s.teams.get(cap.team)
        if changed is None:
            yield ("capacity_changes", i, "team"), f"no team {cap.team!r}"
        elif cap.group is not None and cap.group not in changed.staff:
            yield ("capacity_changes", i, "group"), f"team {cap.team!r} has no group {cap.group!r}"
        elif cap.clinicians is not None and changed.caseload is None:
            yield ("capacity_changes", i, "clinicians"), f"team {cap.team!r} has no caseload"


def _outsourced_blocks(s: Scenario) -> Iterator[FieldProblem]:
    """An outsourced block falls within the horizon, for a team the scenario has."""
    for i, block in enumerate(s.outsourcing):
        yield from _outside(s, block.start_date, "outsourcing", i, "start_date")
        yield from _outside(s, block.end_date, "outsourcing", i, "end_date")
        if block.team not in s.teams:
            yield ("outsourcing", i, "team"), f"no team {block.team!r}"


def _backlog_groups(s: Scenario) -> Iterator[FieldProblem]:
    """A generated backlog group names a team and localities the scenario has."""
    for i, group in enumerate(s.initial_state.backlog):
        if group.team is not None and group.team not in s.teams:
            yield ("initial_state", "backlog", i, "team"), f"no team {group.team!r}"
        for loc in group.localities or {}:
            if loc not in s.demand.localities:
                yield (("initial_state", "backlog", i, "localities", loc),
                       "not a locality in demand.localities")


def _reporting_dates(s: Scenario) -> Iterator[FieldProblem]:
    for i, day in enumerate(s.reporting.snapshot_dates):
        yield from _outside(s, day, "reporting", "snapshot_dates", i)
    if s.reporting.cohort_from_date is not None:
        yield from _outside(s, s.reporting.cohort_from_date, "reporting", "cohort_from_date")


def _assumed_paths(s: Scenario) -> Iterator[FieldProblem]:
    """Each ``assumed:`` path names one number, once."""
    for i, text in enumerate(s.assumed):
        why = number_at(s, text)[1]
        if why is not None:
            yield ("assumed", i), f"{text!r}: {why}"
        elif text in s.assumed[:i]:
            yield ("assumed", i), f"{text!r} is listed twice"


def _prioritisation_classes(s: Scenario) -> Iterator[FieldProblem]:
    """Prioritisation flags children into the first of two or more priority classes."""
    for name, team in s.teams.items():
        if team.waiting_list.prioritisation is not None and len(s.priority_classes) < 2:
            yield ("teams", name, "waiting_list", "prioritisation"), (
                "prioritisation books urgent children ahead of routine ones, which needs at least "
                f"two priority_classes (there is {len(s.priority_classes)})")


def _validation_dates(s: Scenario) -> Iterator[FieldProblem]:
    """A list validation date falls within the horizon."""
    for name, team in s.teams.items():
        rule = team.waiting_list.validation
        for i, day in enumerate(rule.dates if rule is not None else ()):
            yield from _outside(s, day, "teams", name, "waiting_list", "validation", "dates", i)


def _uncertain_inputs(s: Scenario) -> Iterator[FieldProblem]:
    yield from s._uncertain_problems()


SCENARIO_CHECKS: tuple[Callable[[Scenario], Iterable[FieldProblem]], ...] = (
    _something_to_run,
    _referrals_simulable,
    _flag_priorities,
    _step_changes_in_horizon,
    _observed_points,
    _sources_and_localities_named,
    _teams_do_not_overlap,
    _capacity_changes,
    _outsourced_blocks,
    _backlog_groups,
    _reporting_dates,
    _validation_dates,
    _prioritisation_classes,
    _assumed_paths,
    _uncertain_inputs,
)
"""The checks across the sections of a scenario, in the order their problems are reported
(after the horizon, which is checked first)."""
