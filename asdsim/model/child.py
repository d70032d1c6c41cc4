"""A child's record while the model runs, and the reasons a child leaves the pathway."""

from __future__ import annotations

import math
from typing import Protocol

NAN = math.nan

EXIT_REASONS = (
    "assessed",
    "rejected",
    "information_not_returned",
    "no_pathway",
    "out_of_area",
    "aged_out",
    "withdrawn",
    "discharged_dna",
)
"""Ways a child leaves the pathway before the horizon."""

LIST_EXIT_REASONS = ("left_to_other_provider", "discharged_on_validation")
"""Ways a child leaves a list under its team's list policies (:mod:`asdsim.model.listpolicy`):
for another provider (right to choose), or discharged when the list is validated. Counted in the
KPI tables only in scenarios where some team has the policy, so other runs' tables are unchanged."""

OPEN_REASONS = ("waiting", "in_assessment")
"""Status of a child still in the pathway at the horizon (not yet started, or part way)."""

MILESTONES = (
    "first_referral_day",
    "referral_day",
    "triage_day",
    "accepted_day",
    "held_day",
    "unmet_need_day",
    "review_day",
    "list_join_day",
    "first_appointment_day",
    "assessment_started_day",
    "diagnosis_day",
    "exit_day",
)
"""Milestone times recorded for every child, in days from the scenario start (NaN: not reached)."""


class OpenCase(Protocol):
    """What a child knows of its case with a team (a :class:`~asdsim.model.case.Case`): the
    team's name and whether the case is closed. Named here so that the child, at the bottom of
    the model's layers, imports nothing above it."""

    team: str

    @property
    def closed(self) -> bool:
        """Whether the child has left the team."""


class Child:
    """One child's identity and milestones during a run; turned into a table row at the end.

    What a team does with the child (its place in the assessment, its bookings) lives in the
    child's current :class:`~asdsim.model.case.Case`, not here.
    """

    __slots__ = (
        "accepted_day",
        "age_years",
        "appointments",
        "assessment_started_day",
        "case",
        "diagnosis_day",
        "dna_count",
        "exit_day",
        "exit_reason",
        "first_appointment_day",
        "first_referral_day",
        "from_backlog",
        "held_day",
        "hours_factor",
        "id",
        "list_join_day",
        "locality",
        "outcome",
        "outsourced",
        "priority",
        "referral_day",
        "referrals",
        "review_day",
        "source",
        "staff_hours",
        "started_day",
        "team",
        "transfers",
        "triage_count",
        "triage_day",
        "unmet_need_day",
        "withdraw_day",
    )

    def __init__(self, cid: int, age_years: float, source: int, locality: int, priority: int,
                 hours_factor: float, referral_day: float, from_backlog: bool):
        self.id = cid
        self.age_years = age_years
        self.source = source
        self.locality = locality
        self.priority = priority
        self.hours_factor = hours_factor
        self.from_backlog = from_backlog
        self.first_referral_day = referral_day
        self.referral_day = referral_day
        self.referrals = 1
        self.triage_count = 0
        self.triage_day = NAN
        self.accepted_day = NAN
        self.held_day = NAN
        self.unmet_need_day = NAN
        self.review_day = NAN
        self.team: str | None = None
        self.case: OpenCase | None = None
        self.list_join_day = NAN
        self.first_appointment_day = NAN
        self.assessment_started_day = NAN
        self.started_day = NAN
        self.diagnosis_day = NAN
        self.outcome: str | None = None
        self.exit_day = NAN
        self.exit_reason: str | None = None
        self.appointments = 0  # appointments booked so far: indexes the child's pre-drawn uniforms
        self.dna_count = 0
        self.staff_hours = 0.0
        self.outsourced = False
        self.transfers = 0
        self.withdraw_day = NAN

    @property
    def exited(self) -> bool:
        """Whether the child has left the pathway."""
        return self.exit_reason is not None

    def age_at(self, day: float) -> float:
        """Age in years on a day."""
        return self.age_years + (day - self.first_referral_day) / 365.25
