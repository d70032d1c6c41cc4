"""The scenario format: routing of accepted referrals and the starting state.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from asdsim.scenario.base import (
    FieldProblems,
    Model,
    NonNegative,
    Probability,
    Whole,
)
from asdsim.scenario.dates import DateRule
from asdsim.scenario.schema.common import PositiveAge, _check_sums_to_one
from asdsim.scenario.schema.demand import AgeBand

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
    warm: bool = False
    """Also start with the children a running service has part-way through assessment, added to
    the list above (any kind): for each team, its starts a week (capacity in force at the start,
    or demand if lower) times the weeks from its first step to its outcome (Little's law), split
    over the steps done in proportion to the days between steps (asdsim.scenario.warm). Leave it
    off where a snapshot already lists its children in assessment."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # ``dates`` is left out while iso, so a scenario that does not say keeps the content
        # hash and resolved file it had before the field existed; so is ``warm`` while off
        data = handler(self)
        if isinstance(data, dict) and data.get("dates", "iso") == "iso":
            data.pop("dates", None)
        if isinstance(data, dict) and not data.get("warm", False):
            data.pop("warm", None)
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
