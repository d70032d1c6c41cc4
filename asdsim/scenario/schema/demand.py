"""The scenario format: demand (referrals, age bands, step changes, flags).
"""

from __future__ import annotations

import itertools
from typing import Annotated

from pydantic import (
    Field,
    model_validator,
)

from asdsim.scenario.base import (
    Date,
    FieldProblems,
    Model,
    NonNegative,
    Number,
    Positive,
    Probability,
)
from asdsim.scenario.schema.common import MAX_REFERRALS_PER_WEEK, AgeRange, _check_sums_to_one

# ---------------------------------------------------------------------------------------- demand


class AgeBand(AgeRange):
    """A band of ages at referral, [min_years, max_years), and its share of referrals."""

    weight: NonNegative
    """Relative share of referrals in this band; weights are normalised to sum to 1."""


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
