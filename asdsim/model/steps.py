"""A team's assessment steps resolved for the event loop: staff-group indices, samplers, flags.

:class:`CompiledStep` is what a :class:`~asdsim.model.case.Case` walks through and what both
capacity modes book; it sits below them so that a case can name it without importing a team.
"""

from __future__ import annotations

from dataclasses import dataclass

from asdsim.scenario.distributions import Sampler
from asdsim.scenario.schema import Step

EPS = 1e-9
"""Slack on hours comparisons, so that rounding never refuses hours that are there."""


@dataclass(frozen=True, slots=True)
class CompiledStep:
    """A step resolved to group indices and samplers, for the event loop."""

    name: str
    needs: tuple[tuple[int, float], ...]
    joint: bool
    dna_probability: float
    min_gap_days: float
    duration: Sampler
    contact: bool
    first_appointment: bool
    assessment_started: bool
    outcome: bool
    hours: float
    scaled: tuple[tuple[int, float, float], ...]
    """(group, hours, least hours left that will do) for each group, for an hours factor of 1."""


def compile_steps(steps: tuple[Step, ...], groups: list[str], flag_first: bool,
                  flag_started: bool) -> tuple[CompiledStep, ...]:
    """Resolve steps; without flagged steps the first contact step is the first appointment
    and the first step starts the assessment."""
    out = []
    first_contact = next((i for i, s in enumerate(steps) if s.contact), 0)
    for i, s in enumerate(steps):
        needs = tuple((groups.index(g), h) for g, h in s.hours.items() if h > 0)
        out.append(CompiledStep(
            name=s.name, needs=needs, joint=s.joint or len(needs) <= 1, contact=s.contact,
            dna_probability=s.dna_probability if s.contact else 0.0,
            min_gap_days=s.min_gap_days, duration=s.duration_days.sampler(),
            first_appointment=s.first_appointment if flag_first else i == first_contact,
            assessment_started=s.assessment_started if flag_started else i == 0,
            outcome=s.outcome, hours=sum(h for _, h in needs),
            scaled=tuple((g, h, h - EPS) for g, h in needs),
        ))
    return tuple(out)
