"""What every scenario model shares: frozen, no unknown keys, docstrings as descriptions.

Numbers in a scenario are finite and at most :data:`MAX_NUMBER` in size (``.inf``, ``.nan`` and
``1e300`` are refused), and true/false is never read as a number: YAML reads ``yes``, ``no``,
``on`` and ``off`` as true/false, and a validator that quietly took ``horizon_weeks: yes`` as 1
would hide the mistake.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from asdsim.scenario.values import spelling_problem

MAX_NUMBER = 1e9
"""Largest number accepted in any numeric field (a billion; far above any real value)."""


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError(
            "bool_not_number",
            "expected a number, not true/false (YAML reads yes, no, on and off as true/false)",
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("finite_number", "expected a finite number (not .inf or .nan)")
    if isinstance(value, str) and (why := spelling_problem(value)) is not None:
        raise PydanticCustomError("number_spelling", why)  # one reader of numbers: values.py
    return value


def _not_huge(value: float) -> float:
    if abs(value) > MAX_NUMBER:
        raise PydanticCustomError("number_too_large",
                                  "expected a number of at most 1,000,000,000 in size")
    return value


def _date_text(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        raise PydanticCustomError("date_type", "expected a date as YYYY-MM-DD")
    return value


# The size check runs after the field's own bounds, so a field with a tighter bound states that one.
Number = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False),
                   AfterValidator(_not_huge)]
"""A finite number."""
Probability = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False, ge=0.0, le=1.0)]
"""A number from 0 to 1."""
NonNegative = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False, ge=0.0),
                        AfterValidator(_not_huge)]
"""A finite number >= 0."""
Positive = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False, gt=0.0),
                     AfterValidator(_not_huge)]
"""A finite number > 0."""
Whole = Annotated[int, BeforeValidator(_no_bool), AfterValidator(_not_huge)]
"""A whole number."""
Date = Annotated[dt.date, BeforeValidator(_date_text)]
"""A calendar date, written YYYY-MM-DD (a number is not read as a date)."""


class Model(BaseModel):
    """Base of every scenario model: frozen, no unknown keys, docstrings as descriptions."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", use_attribute_docstrings=True, validate_default=True
    )


class FieldProblems(ValueError):
    """Problems a model's cross-field check found, each at a field below the model.

    Raised from a ``model_validator``; the loader reports each problem at its own field and
    line (``teams.mdt.steps[1].hours.slt``), not at the model that checked it.
    """

    def __init__(self, items: list[tuple[tuple[str | int, ...], str]]):
        self.items = list(items)
        """(field path below the model, message) of each problem."""
        super().__init__("\n".join(
            f"{_dotted(path)}: {message}" if path else message for path, message in self.items
        ))


def _dotted(keys: tuple[str | int, ...]) -> str:
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out
