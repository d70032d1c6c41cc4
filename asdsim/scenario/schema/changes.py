"""The scenario format: dated capacity changes and outsourced blocks.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

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
    Whole,
)

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
