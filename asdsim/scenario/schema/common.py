"""Limits and helpers shared by every section of the scenario format.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from pydantic import (
    Field,
    model_validator,
)

from asdsim.scenario.base import (
    FieldProblems,
    Model,
    NonNegative,
    Positive,
)

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


class AgeRange(Model):
    """A band of ages, [min_years, max_years): the base of every section's age bands."""

    min_years: Age
    """Youngest age in the band, in years (inclusive)."""
    max_years: PositiveAge
    """Oldest age in the band, in years (exclusive)."""

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.max_years <= self.min_years:
            raise FieldProblems([(("max_years",),
                                  f"{self.max_years:g} must be above min_years ({self.min_years:g})")])
        return self


def _check_sums_to_one(values: dict[str, float], what: str) -> None:
    total = math.fsum(values.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
        raise ValueError(f"{what} must sum to 1, but {shown} sum to {total:g}")
