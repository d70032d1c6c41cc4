"""The scenario format: reporting dates and the observed figures to set the model against.
"""

from __future__ import annotations

import math
import re
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
)


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
