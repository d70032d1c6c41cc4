"""The scenario format: how a service manages its waiting list beyond its order.

Three mechanisms real services have, each optional on a team's ``waiting_list`` (absent: the
list is managed by its order and withdrawals alone):

* :class:`Prioritisation`: a share of the children joining the list (optionally by age band) is
  flagged urgent at triage and booked ahead of routine children;
* :class:`Leaving`: children leave the list for another provider (the patient's right to choose)
  with a hazard a year, optionally only after some weeks waited;
* :class:`Validation`: on given dates (or every N weeks) each child waiting over M weeks since
  referral is contacted, and a share is discharged as no longer needing the assessment.

Each carries an optional ``source``: where its setting comes from (a citation, or "assumption").
"""

from __future__ import annotations

import itertools
from typing import Annotated

from pydantic import Field, model_validator

from asdsim.scenario.base import (
    Date,
    FieldProblems,
    Model,
    NonNegative,
    Positive,
    Probability,
)
from asdsim.scenario.schema.common import AgeRange

Source = Annotated[str, Field(max_length=500)]


class UrgentBand(AgeRange):
    """Share flagged urgent among children of an age band, [min_years, max_years), by their age
    at joining the list."""

    share: Probability
    """Share of these children flagged urgent."""


class Prioritisation(Model):
    """Clinical prioritisation: a share of children flagged urgent when they join the list.

    A flagged child takes the first (most urgent) of the scenario's ``priority_classes`` and is
    booked ahead of every routine child; within each class the list keeps its order. The list's
    ``discipline`` must be ``priority``.
    """

    share: Probability = 0.0
    """Share flagged urgent among children whose age is in no ``age_bands`` band."""
    age_bands: tuple[UrgentBand, ...] = ()
    """Shares by age at joining the list, in bands that do not overlap."""
    source: Source | None = None
    """Where the shares come from (a citation, or "assumption")."""

    @model_validator(mode="after")
    def _bands(self) -> Prioritisation:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        order = sorted(range(len(self.age_bands)), key=lambda i: self.age_bands[i].min_years)
        for i, j in itertools.pairwise(order):
            a, b = self.age_bands[i], self.age_bands[j]
            if b.min_years < a.max_years:
                problems.append((("age_bands", j), (
                    f"band [{b.min_years:g}, {b.max_years:g}) overlaps band "
                    f"[{a.min_years:g}, {a.max_years:g})")))
        if problems:
            raise FieldProblems(problems)
        return self

    def share_at(self, age_years: float) -> float:
        """Share flagged urgent at an age."""
        for band in self.age_bands:
            if band.min_years <= age_years < band.max_years:
                return band.share
        return self.share


class Leaving(Model):
    """Children leaving the list for another provider (right to choose), as a hazard."""

    per_year: Annotated[Positive, Field(le=100.0)]
    """Hazard of leaving per year waited (0.1: about 10% of those waiting leave in a year)."""
    after_weeks: Annotated[NonNegative, Field(le=520.0)] = 0.0
    """Weeks on the list before the hazard applies (families ask to move once the wait is long)."""
    source: Source | None = None
    """Where the setting comes from (a citation, or "assumption")."""


class Validation(Model):
    """List validation: children waiting long are contacted and some are discharged."""

    every_weeks: Annotated[Positive, Field(le=520.0)] | None = None
    """Validate every this many weeks from the start (or give ``dates``)."""
    dates: tuple[Date, ...] = ()
    """Dates on which the list is validated (or give ``every_weeks``)."""
    over_weeks: Annotated[NonNegative, Field(le=520.0)] = 0.0
    """Only children waiting more than this many weeks since referral are contacted."""
    discharge_share: Probability
    """Share of the children contacted who are discharged (no longer needing the assessment)."""
    source: Source | None = None
    """Where the setting comes from (a citation, or "assumption")."""

    @model_validator(mode="after")
    def _when(self) -> Validation:
        if (self.every_weeks is None) == (not self.dates):
            raise FieldProblems([(("every_weeks",),
                                  "give exactly one of every_weeks or dates (when the list is validated)")])
        return self
