"""The scenario format: immutable, validated descriptions of a diagnostic pathway.

A scenario is read from YAML once, at the edge, and checked here in full before any model is
built. Every model is frozen and forbids unknown keys; every field has a docstring, which becomes
its description in the JSON Schema. Units live in field names (``_per_week``, ``_days``,
``_years``, ``_gbp``). Checks that involve more than one field (age bands that overlap, a step
that needs a staff group its team lacks, a dated change outside the horizon) are made by the
``model_validator`` of the smallest model that sees all the fields involved.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import math
import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from asdsim.scenario.base import (
    Date,
    FieldProblems,
    Model,
    NonNegative,
    Number,
    Positive,
    Probability,
    Whole,
)
from asdsim.scenario.dates import DateRule
from asdsim.scenario.distributions import (
    Distribution,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
)

if TYPE_CHECKING:
    from asdsim.scenario.snapshot import Snapshot

SUM_TOLERANCE = 1e-6
MAX_AGE_YEARS = 25.0
"""Oldest age any age field may name (the pathway is for children; 25 allows for transition)."""
MAX_REFERRALS_PER_WEEK = 10_000.0
"""Most referrals a week, at the start and at the peak of growth, seasonality and step changes;
far above any one area's demand, and low enough for a run to fit in memory."""
MAX_HORIZON_WEEKS = 2600
"""Longest simulated period (50 years)."""
FIRST_DATE = dt.date(1900, 1, 1)
"""Earliest start date."""
LAST_DATE = dt.date(2200, 12, 31)
"""Latest end of the horizon (outputs carry calendar dates, which must stay representable)."""

Age = Annotated[NonNegative, Field(le=MAX_AGE_YEARS)]
PositiveAge = Annotated[Positive, Field(le=MAX_AGE_YEARS)]


def _check_sums_to_one(values: dict[str, float], what: str) -> None:
    total = math.fsum(values.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
        raise ValueError(f"{what} must sum to 1, but {shown} sum to {total:g}")


# ---------------------------------------------------------------------------------------- demand


class AgeBand(Model):
    """A band of ages at referral, [min_years, max_years), and its share of referrals."""

    min_years: Age
    """Youngest age in the band, in years (inclusive)."""
    max_years: PositiveAge
    """Oldest age in the band, in years (exclusive)."""
    weight: NonNegative
    """Relative share of referrals in this band; weights are normalised to sum to 1."""

    @model_validator(mode="after")
    def _ordered(self) -> AgeBand:
        if self.max_years <= self.min_years:
            raise FieldProblems([(("max_years",),
                                  f"{self.max_years:g} must be above min_years ({self.min_years:g})")])
        return self


class StepChange(Model):
    """A lasting change in the referral rate from a date (a new referral route, a campaign)."""

    date: Date
    """Date from which the factor applies."""
    factor: NonNegative
    """Multiplier on the referral rate from that date (1.2 is 20% more referrals)."""


class Flag(Model):
    """A characteristic some children have, which may carry priority or lengthen assessment."""

    probability: Probability
    """Share of referred children with this flag."""
    priority: str | None = None
    """Priority class given to children with this flag (a name in ``priority_classes``)."""
    hours_factor: Positive = 1.0
    """Multiplier on assessment hours for these children (co-occurring conditions > 1)."""


class Demand(Model):
    """Referrals: a non-homogeneous Poisson process and the children it brings."""

    referrals_per_week: Annotated[NonNegative, Field(le=MAX_REFERRALS_PER_WEEK)]
    """Mean referrals a week at the scenario start, before seasonality."""
    annual_growth: Annotated[Number, Field(gt=-1.0, le=10.0)] = 0.0
    """Compound growth of the referral rate a year (0.1 is 10% more each year; at most 10)."""
    monthly_factors: tuple[NonNegative, ...] = (1.0,) * 12
    """Twelve multipliers on the rate, January to December (school-term seasonality)."""
    step_changes: tuple[StepChange, ...] = ()
    """Dated lasting changes in the rate; factors of changes in force multiply."""
    age_bands: tuple[AgeBand, ...]
    """Age at referral: contiguous bands, uniform within each band."""
    sources: dict[str, Probability] = Field(default_factory=lambda: {"gp": 1.0})
    """Share of referrals from each source (GP, school, health visitor, ...); sums to 1."""
    localities: dict[str, Probability] = Field(default_factory=lambda: {"all": 1.0})
    """Share of referrals from each locality of the area; sums to 1."""
    flags: dict[str, Flag] = Field(default_factory=dict)
    """Optional flags (looked-after child, safeguarding, co-occurring conditions)."""

    @model_validator(mode="after")
    def _consistent(self) -> Demand:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if len(self.monthly_factors) != 12:
            problems.append((("monthly_factors",), f"monthly_factors needs 12 values (January to "
                             f"December), got {len(self.monthly_factors)}"))
        if not self.age_bands:
            problems.append((("age_bands",), "age_bands needs at least one band"))
        order = sorted(range(len(self.age_bands)), key=lambda i: self.age_bands[i].min_years)
        for i, j in itertools.pairwise(order):
            a, b = self.age_bands[i], self.age_bands[j]
            if b.min_years < a.max_years:
                problems.append((("age_bands", j), f"age_bands overlap: [{a.min_years:g}, "
                                 f"{a.max_years:g}) and [{b.min_years:g}, {b.max_years:g})"))
            elif b.min_years > a.max_years:
                problems.append((("age_bands", j), f"age_bands leave a gap between "
                                 f"{a.max_years:g} and {b.min_years:g} years"))
        if self.age_bands and sum(b.weight for b in self.age_bands) <= 0:
            problems.append((("age_bands",), "age_bands weights must not all be zero"))
        for name in ("sources", "localities"):
            try:
                _check_sums_to_one(getattr(self, name), f"demand.{name}")
            except ValueError as exc:
                problems.append(((name,), str(exc)))
        if problems:
            raise FieldProblems(problems)
        return self


# ---------------------------------------------------------------------------------------- triage


class TriageOutcomes(Model):
    """What triage decides about a referral."""

    accept: Probability
    """Share accepted onto a pathway."""
    reject: Probability = 0.0
    """Share rejected (some are re-referred later)."""
    more_information: Probability = 0.0
    """Share for which more information is requested before deciding."""

    @model_validator(mode="after")
    def _sums(self) -> TriageOutcomes:
        _check_sums_to_one(
            {"accept": self.accept, "reject": self.reject,
             "more_information": self.more_information},
            "triage outcomes",
        )
        return self


class Triage(Model):
    """Triage of new referrals: limited weekly capacity, then accept, reject or ask for more."""

    capacity_per_week: Positive | None = None
    """Referrals triaged a week, in referral order; empty means every referral on arrival."""
    target_days: NonNegative = 14.0
    """Target from referral to triage decision, for the triage KPI."""
    outcomes: TriageOutcomes = TriageOutcomes(accept=1.0)
    """Outcome shares for referrals from any source not listed in ``outcomes_by_source``."""
    outcomes_by_source: dict[str, TriageOutcomes] = Field(default_factory=dict)
    """Outcome shares for particular referral sources."""
    rereferral_probability: Probability = 0.0
    """Share of rejected referrals that are referred again later."""
    rereferral_delay_days: Distribution = Fixed(value=90.0)
    """Time from rejection to the new referral."""
    information_return_probability: Probability = 1.0
    """Share of requests for more information that are answered (the rest close)."""
    information_wait_days: Distribution = Fixed(value=28.0)
    """Time to answer a request for more information; the referral is then triaged again."""


# ----------------------------------------------------------------------------------------- teams


class StaffGroup(Model):
    """A profession in a team and the clinic hours it gives to autism assessment."""

    wte: NonNegative
    """Whole-time equivalents in post."""
    autism_share: Probability = 1.0
    """Share of the job plan spent on autism assessment."""
    hours_per_wte_week: Annotated[Positive, Field(le=168.0)] = 37.5
    """Contracted hours per WTE per week (37.5 in the NHS)."""
    weeks_lost_per_year: Annotated[NonNegative, Field(lt=52.0)] = 0.0
    """Weeks a year lost to leave, training and sickness, spread evenly."""
    cost_per_hour_gbp: NonNegative = 0.0
    """Cost of one hour of this group's time, for the cost of hours used."""
    annual_cost_per_wte_gbp: Annotated[NonNegative, Field(le=10_000_000)] = 0.0
    """Salary cost of one whole-time post a year, before on-costs, for the funded cost."""
    on_costs_share: Annotated[NonNegative, Field(le=2.0)] = 0.0
    """Employer's on-costs (pension, national insurance) as a share of salary: a funded post costs
    ``annual_cost_per_wte_gbp * (1 + on_costs_share)`` a year."""

    @property
    def hours_per_wte(self) -> float:
        """Clinic hours a week one WTE gives to autism assessment, leave spread evenly: the one
        place this formula lives."""
        return self.autism_share * self.hours_per_wte_week * (52.0 - self.weeks_lost_per_year) / 52.0

    @property
    def hours_per_week(self) -> float:
        """Clinic hours a week available for autism assessment."""
        return self.wte * self.hours_per_wte

    @property
    def funded_cost_per_wte_gbp(self) -> float:
        """What one funded WTE costs a year, on-costs included."""
        return self.annual_cost_per_wte_gbp * (1.0 + self.on_costs_share)


class Step(Model):
    """One step of an assessment: an appointment or a piece of non-contact work."""

    name: str
    """Name of the step (shown in outputs)."""
    hours: dict[str, NonNegative]
    """Hours needed from each staff group (names from the team's ``staff``)."""
    joint: bool = False
    """All groups must give their hours in the same week (an MDT observation or meeting)."""
    contact: bool = True
    """An appointment with the family; only contact steps can be missed (DNA)."""
    dna_probability: Probability = 0.0
    """Chance the family does not attend a booking of this step."""
    min_gap_days: NonNegative = 0.0
    """Least time after the previous step before this one can take place."""
    duration_days: Distribution = Fixed(value=0.0)
    """Caseload mode: elapsed time the step takes while holding the case's slot."""
    first_appointment: bool = False
    """This step is the first attended care contact (ends the NHS England AWTS wait)."""
    assessment_started: bool = False
    """This step marks the assessment as started (NICE QS51's 3-month measure)."""
    outcome: bool = False
    """This step decides the outcome (the MDT meeting)."""


class Outcomes(Model):
    """Outcome of the MDT decision; "uncertain" adds further steps and then decides."""

    autism: Probability
    """Share diagnosed autistic."""
    other_neurodevelopmental: Probability
    """Share given another neurodevelopmental diagnosis."""
    none: Probability
    """Share with no diagnosis."""
    uncertain: Probability = 0.0
    """Share uncertain at first: further assessment or second opinion, then one of the above."""

    @model_validator(mode="after")
    def _sums(self) -> Outcomes:
        _check_sums_to_one(
            {"autism": self.autism, "other_neurodevelopmental": self.other_neurodevelopmental,
             "none": self.none, "uncertain": self.uncertain},
            "outcomes",
        )
        if self.autism + self.other_neurodevelopmental + self.none <= 0:
            raise ValueError("outcomes need some chance of a definite outcome")
        return self


class YoungChild(Model):
    """Diagnosis in very young children is more often uncertain."""

    under_years: PositiveAge
    """Age at the outcome step below which the rule applies."""
    uncertain_probability: Probability
    """Chance of an uncertain first outcome for these children."""


class Review(Model):
    """Watchful waiting for very young children before they join the waiting list."""

    under_years: PositiveAge
    """Children routed to the team younger than this are reviewed first."""
    duration_days: Distribution
    """Time under review before joining the waiting list."""


class WaitingList(Model):
    """How the team's list is ordered and how families leave it."""

    discipline: Literal["fifo", "priority", "longest_wait"] = "fifo"
    """fifo: by the day the child joined this list; priority: by priority class, then fifo;
    longest_wait: by the date of referral (time already waited anywhere)."""
    withdrawal_per_year: NonNegative = 0.0
    """Hazard of a family leaving the list (going private, moving away), per year waited."""


class DnaRules(Model):
    """Did-not-attend: rebooking and discharge."""

    discharge_after: Annotated[Whole, Field(ge=1, le=100)] = 2
    """Discharge after this many DNAs in one assessment."""
    rebook_after_days: Distribution = Fixed(value=14.0)
    """Time after a DNA before the step can be booked again."""


class Caseload(Model):
    """Caseload mode: each clinician holds at most K open cases."""

    clinicians: Annotated[NonNegative, Field(le=100_000)]
    """Clinicians holding cases."""
    cases_per_clinician: Annotated[Whole, Field(ge=1, le=1000)] = 1
    """Open cases each clinician can hold (K)."""

    @property
    def slots(self) -> int:
        """Cases the team can hold at once."""
        return math.floor(self.clinicians * self.cases_per_clinician + 1e-9)


class Team(Model):
    """A team that assesses children of an age range in some localities."""

    min_age_years: Age = 0.0
    """Youngest age the team accepts (inclusive)."""
    max_age_years: PositiveAge = 18.0
    """Age at which children leave the team's range (exclusive)."""
    localities: tuple[str, ...] | None = None
    """Localities the team serves; empty means every locality."""
    on_age_boundary: Literal["stay", "transfer"] = "stay"
    """A waiting child who reaches max_age_years stays on this list, or transfers to the team
    for the new age (keeping the referral date)."""
    review: Review | None = None
    """Watchful waiting for very young children before they join the list."""
    waiting_list: WaitingList = WaitingList()
    """Order of the list and withdrawal from it."""
    capacity_mode: Literal["clinic_hours", "caseload"] = "clinic_hours"
    """clinic_hours: steps booked into weekly staff hours; caseload: slots held for a duration."""
    staff: dict[str, StaffGroup]
    """Staff groups of the team by name (paediatrician, psychologist, slt, ...)."""
    caseload: Caseload | None = None
    """Caseload mode only: clinicians and cases each holds."""
    booking_horizon_weeks: Annotated[Whole, Field(ge=1, le=104)] = 12
    """Clinic-hours mode: how many weeks ahead appointments are booked."""
    monthly_capacity_factors: tuple[NonNegative, ...] = (1.0,) * 12
    """Twelve multipliers on clinic hours, January to December (an August dip)."""
    steps: tuple[Step, ...]
    """The assessment, in order."""
    outcomes: Outcomes = Outcomes(autism=0.7, other_neurodevelopmental=0.19, none=0.11)
    """Outcome shares at the outcome step."""
    uncertain_steps: tuple[Step, ...] = ()
    """Further steps after an uncertain outcome, before the outcome is decided."""
    young_child: YoungChild | None = None
    """Higher chance of an uncertain outcome for very young children."""
    dna: DnaRules = DnaRules()
    """Rebooking and discharge after missed appointments."""
    opens_on: Date | None = None
    """The team takes new children from this date (unset: from the start). Children held until
    a team covers them are routed again on the day it opens."""
    closes_on: Date | None = None
    """The team takes no new children from this date (unset: never); children already on its
    list are still seen."""

    @model_validator(mode="after")
    def _consistent(self) -> Team:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if self.opens_on is not None and self.closes_on is not None and self.closes_on <= self.opens_on:
            problems.append((("closes_on",), f"closes_on ({self.closes_on}) must be after opens_on "
                             f"({self.opens_on})"))
        if self.max_age_years <= self.min_age_years:
            problems.append((("max_age_years",), f"max_age_years ({self.max_age_years:g}) must "
                             f"be above min_age_years ({self.min_age_years:g})"))
        if len(self.monthly_capacity_factors) != 12:
            problems.append((("monthly_capacity_factors",), "monthly_capacity_factors needs 12 "
                             f"values, got {len(self.monthly_capacity_factors)}"))
        if not self.steps:
            problems.append((("steps",), "steps needs at least one step"))
        if self.capacity_mode == "caseload" and self.caseload is None:
            problems.append((("capacity_mode",), "capacity_mode 'caseload' needs a 'caseload' section"))
        for where, steps in (("steps", self.steps), ("uncertain_steps", self.uncertain_steps)):
            for i, step in enumerate(steps):
                for group in step.hours:
                    if group not in self.staff:
                        problems.append(((where, i, "hours", group), (
                            f"{where}[{i}] ({step.name!r}) needs staff group {group!r}, which "
                            f"this team does not have (it has: {', '.join(sorted(self.staff))})")))
                if self.capacity_mode == "clinic_hours" and not any(step.hours.values()):
                    problems.append(((where, i, "hours"), (
                        f"{where}[{i}] ({step.name!r}) needs no staff hours; in clinic_hours "
                        "mode every step must need some hours from a group")))
        if self.steps and sum(s.outcome for s in self.steps) != 1:
            problems.append((("steps",),
                             "exactly one step must have 'outcome: true' (the MDT decision)"))
        for i, step in enumerate(self.uncertain_steps):
            if step.outcome:
                problems.append((("uncertain_steps", i, "outcome"),
                                 "uncertain_steps must not contain an outcome step"))
        if self.outcomes.uncertain > 0 and not self.uncertain_steps:
            problems.append((("outcomes", "uncertain"), "outcomes.uncertain > 0 needs uncertain_steps"))
        if self.young_child is not None and self.young_child.uncertain_probability > 0 and (
            not self.uncertain_steps
        ):
            problems.append((("young_child", "uncertain_probability"),
                             "young_child.uncertain_probability > 0 needs uncertain_steps"))
        for flag in ("first_appointment", "assessment_started"):
            marked = [i for i, s in enumerate(self.steps) if getattr(s, flag)]
            if len(marked) > 1:
                problems.append((("steps", marked[1], flag),
                                 f"at most one step may have '{flag}: true'"))
        if problems:
            raise FieldProblems(problems)
        return self

    def open_on(self, date: dt.date) -> bool:
        """Whether the team takes new children on a date."""
        return (self.opens_on is None or date >= self.opens_on) and (
            self.closes_on is None or date < self.closes_on)

    def serves(self, locality: str) -> bool:
        """Whether the team serves a locality."""
        return self.localities is None or locality in self.localities


# -------------------------------------------------------------------------- changes and blocks


class CapacityChange(Model):
    """A dated change of capacity: recruitment, a vacancy, a new caseload.

    With a recruitment lead time, ``date`` is when the change is decided (posts approved) and
    it applies ``lead_time_weeks`` later; with a ramp, added WTE reaches full productivity
    linearly over ``ramp_weeks`` from then (funded in full from the day it applies).
    """

    date: Date
    """Date the change is decided; it applies from this date plus ``lead_time_weeks``."""
    team: str
    """Team whose capacity changes."""
    group: str | None = None
    """Staff group whose WTE changes (clinic-hours mode)."""
    wte: NonNegative | None = None
    """New WTE of the group once the change applies."""
    clinicians: Annotated[NonNegative, Field(le=100_000)] | None = None
    """New number of caseload clinicians once the change applies (caseload mode)."""
    lead_time_weeks: Annotated[NonNegative, Field(le=520)] = 0.0
    """Weeks from ``date`` (approval) until the change applies: recruitment, notice, induction.
    0 (the default): it applies on ``date``."""
    ramp_weeks: Annotated[NonNegative, Field(le=520)] = 0.0
    """Weeks over which added WTE rises linearly from no clinic hours to full productivity,
    from the day the change applies (each week counts at its mid-week value); a fall in WTE
    applies at once. Clinic-hours mode only. 0 (the default): full productivity at once."""

    @model_validator(mode="after")
    def _one_change(self) -> CapacityChange:
        if (self.wte is None) == (self.clinicians is None):
            raise ValueError("give exactly one of 'wte' (with 'group') or 'clinicians'")
        if self.wte is not None and self.group is None:
            raise FieldProblems([(("wte",), "a change of 'wte' needs the staff 'group'")])
        if self.ramp_weeks and self.clinicians is not None:
            raise FieldProblems([(("ramp_weeks",), "a ramp to full productivity is for a change "
                                  "of 'wte'; a change of caseload 'clinicians' applies at once")])
        return self

    @property
    def applies(self) -> dt.date:
        """The date the change applies: ``date`` plus the lead time (in whole days, rounded up)."""
        return self.date + dt.timedelta(days=math.ceil(7.0 * self.lead_time_weeks - 1e-9))

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # a lead time or ramp of 0 is left out, so a scenario without them keeps the content
        # hash and resolved file it had before the fields existed
        data = handler(self)
        if isinstance(data, dict):
            for name in ("lead_time_weeks", "ramp_weeks"):
                if not data.get(name, 1):
                    del data[name]
        return data


class OutsourcedBlock(Model):
    """A time-limited block of outsourced (or Right to Choose) assessments."""

    team: str
    """Team whose waiting list the block takes children from, longest waiting first."""
    start_date: Date
    """First day of the block."""
    end_date: Date
    """Last day of the block."""
    assessments_per_month: Annotated[Whole, Field(ge=0, le=100_000)]
    """Children taken off the list each month of the block."""
    price_gbp: NonNegative = 0.0
    """Price of one outsourced assessment."""
    first_appointment_after_days: NonNegative = 14.0
    """Time from being taken off the list to the provider's first appointment."""
    turnaround_days: NonNegative = 56.0
    """Time from being taken off the list to the outcome."""
    skip_when_longest_wait_under_weeks: NonNegative | None = None
    """Stop rule: buy nothing in a month when no child on the team's list has waited this many
    weeks since referral (unset: always buy)."""
    skip_when_list_under: Annotated[Whole, Field(ge=0)] | None = None
    """Stop rule: buy nothing in a month when fewer children than this wait on the team's list
    (unset: always buy)."""

    @model_validator(mode="after")
    def _ordered(self) -> OutsourcedBlock:
        if self.end_date < self.start_date:
            raise FieldProblems([(("end_date",),
                                  f"{self.end_date} is before start_date {self.start_date}")])
        if self.turnaround_days < self.first_appointment_after_days:
            raise FieldProblems([(("turnaround_days",),
                                  "turnaround_days must be at least first_appointment_after_days")])
        return self


# ------------------------------------------------------------------------- routing and state

UncoveredRule = Literal["no_pathway", "hold", "out_of_area"]


class Routing(Model):
    """Where accepted children go, and what happens where no team covers them."""

    uncovered: UncoveredRule = "no_pathway"
    """A child no team covers (by age and locality): recorded as no pathway (unmet need), held
    until old enough for a team, or referred out of area."""
    uncovered_by_locality: dict[str, UncoveredRule] = Field(default_factory=dict)
    """The same rule for particular localities."""
    age_out_years: PositiveAge = 18.0
    """Children still waiting at this age leave for adult services (aged out)."""
    rereferred_when_eligible: dict[str, Probability] = Field(default_factory=dict)
    """By locality: the chance that a child recorded as no pathway (no team for its age there)
    is referred again when it reaches the youngest age a team there takes. The unmet need is
    counted when it happens, and the child comes back as later demand."""


class BacklogGroup(Model):
    """Children already waiting at the scenario start."""

    stage: Literal["awaiting_triage", "awaiting_assessment", "in_assessment"]
    """Where they are: waiting for triage, on a team's list, or part-way through assessment."""
    count: Annotated[Whole, Field(ge=0, le=1_000_000)]
    """How many."""
    weeks_waited_min: NonNegative = 0.0
    """Shortest time already waited since referral, in weeks."""
    weeks_waited_max: NonNegative = 0.0
    """Longest time already waited since referral, in weeks (uniform in between)."""
    team: str | None = None
    """For awaiting_assessment and in_assessment: the team whose list they are on; empty: the
    team for their age and locality (the nearest by age among the locality's teams where none
    covers the age: a child on a list as it stood is not turned away on day 0)."""
    steps_done: Annotated[Whole, Field(ge=0, le=50)] = 0
    """For in_assessment: steps of the team's assessment already done (up to its outcome step)."""
    age_bands: tuple[AgeBand, ...] | None = None
    """Their own mix of ages at the start (empty: the mix of new referrals, at referral)."""
    localities: dict[str, Probability] | None = None
    """Their own mix of localities (empty: the mix of new referrals)."""

    @model_validator(mode="after")
    def _ordered(self) -> BacklogGroup:
        if self.weeks_waited_max < self.weeks_waited_min:
            raise FieldProblems([(("weeks_waited_max",),
                                  "weeks_waited_max must be at least weeks_waited_min")])
        if self.steps_done and self.stage != "in_assessment":
            raise FieldProblems([(("steps_done",), "steps_done goes only with stage in_assessment")])
        if self.localities is not None:
            _check_sums_to_one(dict(self.localities), "localities")
        return self


class InitialState(Model):
    """Who is already in the pathway at the start."""

    kind: Literal["empty", "generated", "csv"] = "empty"
    """empty; generated from ``backlog``; or read from the CSV snapshot ``csv``."""
    backlog: tuple[BacklogGroup, ...] = ()
    """Generated backlog groups (kind: generated)."""
    csv: str | None = None
    """Path of a CSV snapshot, one row per child (kind: csv), relative to the scenario file that
    names it. Columns read: referral_date, age_years or date_of_birth, stage, priority, locality;
    the file is read once, when the scenario is loaded."""
    dates: DateRule = "iso"
    """How the snapshot's dates are written (kind: csv): iso (YYYY-MM-DD only); day_first (also
    DD/MM/YYYY, as Excel writes UK dates); or month_first (also MM/DD/YYYY)."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # ``dates`` is left out while iso, so a scenario that does not say keeps the content
        # hash and resolved file it had before the field existed
        data = handler(self)
        if isinstance(data, dict) and data.get("dates", "iso") == "iso":
            data.pop("dates", None)
        return data

    @model_validator(mode="after")
    def _matches_kind(self) -> InitialState:
        if self.kind != "csv" and self.dates != "iso":
            raise FieldProblems([(("dates",), f"'dates' is only read with kind 'csv', not "
                                  f"{self.kind!r}")])
        if self.kind == "generated" and not self.backlog:
            raise FieldProblems([(("kind",), "kind 'generated' needs 'backlog' groups")])
        if self.kind == "csv" and not self.csv:
            raise FieldProblems([(("kind",), "kind 'csv' needs the path 'csv'")])
        if self.kind != "csv" and self.csv:
            raise FieldProblems([(("csv",), f"'csv' is only read with kind 'csv', not {self.kind!r}")])
        if self.kind != "generated" and self.backlog:
            raise FieldProblems([(("backlog",), f"'backlog' is only read with kind 'generated', "
                                  f"not {self.kind!r}")])
        return self


class Reporting(Model):
    """What the KPIs measure."""

    snapshot_dates: tuple[Date, ...] = ()
    """Dates at which open referrals and long waits are reported; empty means the horizon end."""
    cohort_from_date: Date | None = None
    """Wait KPIs count children referred from this date; empty means the scenario start."""


ObservedMeasure = Literal["open_referrals", "awaiting_assessment", "waiting_over_weeks",
                          "awaiting_assessment_over_weeks", "longest_wait_weeks",
                          "referrals_received", "assessments_started",
                          "first_contacts_within_13_weeks"]
FLOW_MEASURES = ("referrals_received", "assessments_started", "first_contacts_within_13_weeks")
"""Measures counted over a period (``period_start`` to ``date``) rather than on a date."""
_AGE_GROUP = re.compile(r"(\d{1,2})(?:-(\d{1,2})|(\+))")


class ObservedPoint(Model):
    """A published figure to set the simulation against: a count or a wait on a date, or a count
    over a period."""

    date: Date
    """Date the figure describes (counted at the end of that date); for a count over a period,
    the period's last day."""
    measure: ObservedMeasure
    """What was counted. open_referrals: referred and not yet discharged, at any stage (NHS
    England's open referrals; "assessments outstanding"); awaiting_assessment: accepted at triage
    and not yet started ("waiting for an assessment"); waiting_over_weeks and
    awaiting_assessment_over_weeks: those of the two over ``over_weeks`` weeks since referral;
    longest_wait_weeks: the longest wait since referral among open referrals. Over a period
    (``period_start`` to ``date``): referrals_received (new referrals and re-referrals);
    assessments_started; first_contacts_within_13_weeks (first appointments in the period that
    came within 13 weeks of the referral)."""
    value: NonNegative
    """The published value."""
    over_weeks: Annotated[NonNegative, Field(le=520)] | None = None
    """For the ..._over_weeks measures: the N of 'over N weeks'."""
    locality: str | None = None
    """A locality, where the figure is for one; empty: the whole area."""
    age_group: str | None = None
    """Ages at referral the figure counts, in whole years as published: ``0-17`` (0 to 17
    inclusive, so under 18) or ``18+``; empty: every age."""
    period_start: Date | None = None
    """For the measures over a period: its first day."""
    use: Literal["calibration", "validation"] = "validation"
    """calibration: a figure some input was chosen to match; validation: held out, only compared."""
    source: str
    """Where the figure was published."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # left out while empty, so a scenario without them keeps its content hash
        data = handler(self)
        if isinstance(data, dict):
            for key in ("age_group", "period_start"):
                if data.get(key, 0) is None:
                    del data[key]
        return data

    @property
    def is_flow(self) -> bool:
        """Whether the figure is a count over a period (``period_start`` to ``date``)."""
        return self.measure in FLOW_MEASURES

    @property
    def age_years(self) -> tuple[float, float] | None:
        """The ages at referral counted, ``[low, high)`` in years (None: every age)."""
        if self.age_group is None:
            return None
        match = _AGE_GROUP.fullmatch(self.age_group)
        if match is None:  # refused by the validator
            raise ValueError(self.age_group)
        low, high, plus = match.groups()
        return float(low), math.inf if plus else float(high) + 1.0

    @model_validator(mode="after")
    def _weeks(self) -> ObservedPoint:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        needs = self.measure.endswith("_over_weeks")
        if needs != (self.over_weeks is not None):
            problems.append((("over_weeks",), f"give over_weeks with {self.measure}" if needs
                             else "over_weeks goes only with the ..._over_weeks measures"))
        if self.is_flow and self.period_start is None:
            problems.append((("period_start",), f"give period_start with {self.measure}, a count "
                             "over a period"))
        elif not self.is_flow and self.period_start is not None:
            problems.append((("period_start",), f"period_start goes only with the counts over a "
                             f"period ({', '.join(FLOW_MEASURES)})"))
        elif self.period_start is not None and self.period_start > self.date:
            problems.append((("period_start",), f"{self.period_start} is after date {self.date}"))
        if self.age_group is not None:
            match = _AGE_GROUP.fullmatch(self.age_group)
            if match is None or (match.group(2) is not None
                                 and int(match.group(2)) < int(match.group(1))):
                problems.append((("age_group",), "expected whole years as 0-17 (inclusive) or 18+"))
        if problems:
            raise FieldProblems(problems)
        return self


# ----------------------------------------------------------------------------------- uncertain

HIGHEST_UNIFORM = 1.0 - 2.0**-53
"""The largest uniform a draw can give (NumPy's ``random()`` is below 1 by one 53-bit step), so
the value of an unbounded distribution at it is the largest value a draw can give."""


def _range_is_uniform(value: object) -> object:
    if isinstance(value, list | tuple) and len(value) == 2:
        return {"dist": "uniform", "low": value[0], "high": value[1]}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    if not isinstance(value, dict):
        raise PydanticCustomError("uncertain_type", "expected a range [low, high] or a "
                                  "distribution such as {dist: uniform, low: 1.6, high: 2.4}")
    return value


UncertainInput = Annotated[
    Annotated[Fixed | Exponential | Uniform | Lognormal | Gamma | Triangular,
              Field(discriminator="dist")],
    BeforeValidator(_range_is_uniform),
]
"""What is not known about one number: a range ``[low, high]`` (uniform), a distribution with a
``dist`` key, or a plain number (no uncertainty)."""


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


def parse_path(text: str) -> tuple[str | int, ...] | None:
    """Keys of a dotted field path (``outsourcing[0].price_gbp`` -> ``("outsourcing", 0,
    "price_gbp")``), or None when it is not one."""
    keys: list[str | int] = []
    for part in text.split("."):
        match = re.fullmatch(r"([A-Za-z_][\w\-]*|\d+)((?:\[\d+\])*)", part.strip())
        if match is None:
            return None
        name, indices = match.groups()
        keys.append(int(name) if name.isdigit() else name)
        keys.extend(int(i) for i in re.findall(r"\[(\d+)\]", indices))
    return tuple(keys)


def canonical_path(text: str) -> str:
    """The one spelling of a dotted field path (``demand.monthly_factors.7`` and ``demand.
    monthly_factors[7]`` are both ``demand.monthly_factors[7]``); the text as given when it is
    not a path."""
    keys = parse_path(text)
    if keys is None:
        return text
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")


def value_in(data: object, keys: tuple[str | int, ...]) -> object:
    """The value at ``keys`` in nested plain data (a dumped scenario)."""
    for key in keys:
        data = data[key]  # type: ignore[index]
    return data


def set_in(data: object, keys: tuple[str | int, ...], value: object) -> None:
    """Set the value at ``keys`` in nested plain data (a dumped scenario), in place."""
    for key in keys[:-1]:
        data = data[key]  # type: ignore[index]
    data[keys[-1]] = value  # type: ignore[index]


def json_copy(data: dict[str, object]) -> dict[str, object]:
    """A deep copy of plain JSON-like data (dicts, lists, numbers and text)."""
    def copy(item: object) -> object:
        if isinstance(item, dict):
            return {k: copy(v) for k, v in item.items()}
        if isinstance(item, list):
            return [copy(v) for v in item]
        return item
    return copy(data)  # type: ignore[return-value]


def number_at(scenario: Scenario, text: str) -> tuple[float | None, str | None]:
    """The number a dotted field path names in a scenario, or why it names none.

    Returns
    -------
    tuple
        ``(value, None)``, or ``(None, reason)`` (no such field; not a single number).
    """
    keys = parse_path(text)
    if keys is None:
        return None, "not a dotted field path like teams.mdt.staff.psychologist.wte"
    node: object = scenario
    for depth, key in enumerate(keys):
        here = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys[:depth]).lstrip(".")
        here = here or "the scenario"
        if isinstance(node, Model) and isinstance(key, str) and key in type(node).model_fields:
            node = getattr(node, key)
        elif isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, tuple) and isinstance(key, int):
            if key >= len(node):
                return None, f"{here} has {len(node)} items, so no [{key}]"
            node = node[key]
        elif node is None:
            return None, f"{here} is not set, so it has no field {key!r}"
        else:
            names = list(type(node).model_fields) if isinstance(node, Model) else \
                list(node) if isinstance(node, dict) else []
            close = difflib.get_close_matches(str(key), [str(n) for n in names], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return None, f"{here} has no field {key!r}{hint}"
    if isinstance(node, bool) or not isinstance(node, int | float):
        what = f"a list of {len(node)}" if isinstance(node, tuple) else \
            "a mapping" if isinstance(node, Model | dict) else "not a number"
        return None, f"is {what}, not a single number; name one number in it"
    return float(node), None
