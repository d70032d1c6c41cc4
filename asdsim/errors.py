"""Errors the user can act on: each names the file, line, field, value and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    """File the problem is in."""
    line: int | None
    """Line number in that file (1-based), where known."""
    field: str
    """Dotted path of the field (``teams.mdt.steps[0].hours``), or empty for the whole file."""
    message: str
    """What is wrong, or what was expected."""
    value: str | None = None
    """The offending value as written, where there is one."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.field:
            parts.append(self.field)
        if self.value is not None:
            parts.append(f"got {self.value}")
        return ": ".join(parts) + f": {self.message}"


class AsdsimError(Exception):
    """Base class of the errors asdsim raises on purpose."""


class ScenarioError(AsdsimError, ValueError):
    """A scenario (or its CSV snapshot) is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in scenario"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))
