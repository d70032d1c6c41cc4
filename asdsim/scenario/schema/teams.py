"""The scenario format: teams, their staff groups and steps.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from asdsim.scenario.base import (
    Date,
    FieldProblems,
    Model,
    NonNegative,
    Positive,
    Probability,
    Whole,
)
from asdsim.scenario.distributions import (
    Distribution,
    Fixed,
)
from asdsim.scenario.schema.common import Age, PositiveAge, _check_sums_to_one
from asdsim.scenario.schema.listpolicy import Leaving, Prioritisation, Validation

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
    prioritisation: Prioritisation | None = None
    """Clinical prioritisation: a share flagged urgent and booked first (needs ``priority``)."""
    leaving: Leaving | None = None
    """Children leaving the list for another provider (right to choose)."""
    validation: Validation | None = None
    """List validation: long waiters contacted, a share discharged."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # the list policies are left out while unset, so a scenario without them keeps the
        # content hash and resolved file it had before they existed
        data = handler(self)
        if isinstance(data, dict):
            for key in ("prioritisation", "leaving", "validation"):
                if data.get(key, 0) is None:
                    del data[key]
        return data

    @model_validator(mode="after")
    def _prioritised(self) -> WaitingList:
        if self.prioritisation is not None and self.discipline != "priority":
            raise FieldProblems([(("prioritisation",), (
                "prioritisation flags children urgent, which only a list in priority order books "
                f"first: set discipline: priority (it is {self.discipline!r})"))])
        return self

    @property
    def has_policies(self) -> bool:
        """Whether any of prioritisation, leaving or validation is set."""
        return (self.prioritisation is not None or self.leaving is not None
                or self.validation is not None)


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
        problems = self._form_problems() + self._step_hours_problems() + self._outcome_step_problems()
        if problems:
            raise FieldProblems(problems)
        return self

    def _form_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Dates, ages, monthly factors, steps and caseload section, each on its own."""
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
        return problems

    def _step_hours_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every step's hours come from the team's staff groups (and some hours in clinic_hours
        mode)."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
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
        return problems

    def _outcome_step_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """One outcome step; uncertain steps where an outcome can be uncertain; at most one step
        marked as the first appointment and as the assessment's start."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
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
        return problems

    def open_on(self, date: dt.date) -> bool:
        """Whether the team takes new children on a date."""
        return (self.opens_on is None or date >= self.opens_on) and (
            self.closes_on is None or date < self.closes_on)

    def serves(self, locality: str) -> bool:
        """Whether the team serves a locality."""
        return self.localities is None or locality in self.localities
