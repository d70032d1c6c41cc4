"""The scenario format: a published distribution of waits to set the simulated spread against.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import Field, model_validator

from asdsim.scenario.base import FieldProblems, Model, NonNegative, Positive

WaitMeasure = Literal["referral_to_first_appointment", "referral_to_assessment_start",
                      "referral_to_diagnosis"]


class PublishedQuantile(Model):
    """One published point of a wait distribution: this share of children waited at most
    ``weeks`` (a share seen within 13 weeks is the point ``{probability: 0.18, weeks: 13}``)."""

    probability: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)]
    """Share of the children, strictly between 0 and 1."""
    weeks: NonNegative
    """The wait in weeks that share did not exceed."""


class PublishedWaits(Model):
    """A published distribution of completed waits (an audit's quantiles, or its sd/mean)."""

    source: Annotated[str, Field(min_length=1, max_length=500)]
    """Where the figures come from: the study, the place and the year."""
    measure: WaitMeasure = "referral_to_assessment_start"
    """Which wait the figures describe."""
    quantiles: tuple[PublishedQuantile, ...] = ()
    """Published quantiles, as (probability, weeks) points."""
    cv: Annotated[Positive, Field(le=10.0)] | None = None
    """Published coefficient of variation of the waits (standard deviation over mean)."""

    @model_validator(mode="after")
    def _something(self) -> PublishedWaits:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if not self.quantiles and self.cv is None:
            problems.append((("quantiles",), "give quantiles, a cv (sd/mean) or both"))
        points = sorted(self.quantiles, key=lambda q: q.probability)
        for i, (a, b) in enumerate(itertools.pairwise(points)):
            if b.probability == a.probability or b.weeks < a.weeks:
                problems.append((("quantiles", i + 1), (
                    f"quantiles must rise together: {a.probability:g} at {a.weeks:g} weeks and "
                    f"{b.probability:g} at {b.weeks:g} weeks do not")))
        if problems:
            raise FieldProblems(problems)
        return self
