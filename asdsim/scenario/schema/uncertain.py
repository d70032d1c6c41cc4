"""The scenario format: what is not known about an assumed number.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BeforeValidator,
    Field,
)
from pydantic_core import PydanticCustomError

from asdsim.scenario.distributions import (
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
)

# ----------------------------------------------------------------------------------- uncertain

HIGHEST_UNIFORM = 1.0 - 2.0**-53
"""The largest uniform a draw can give (NumPy's ``random()`` is below 1 by one 53-bit step), so
the value of an unbounded distribution at it is the largest value a draw can give."""


def _range_is_uniform(value: object) -> object:
    if isinstance(value, list | tuple) and len(value) == 2:
        return {"dist": "uniform", "low": value[0], "high": value[1]}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    if not isinstance(value, dict):
        raise PydanticCustomError("uncertain_type", "expected a range [low, high] or a "
                                  "distribution such as {dist: uniform, low: 1.6, high: 2.4}")
    return value


UncertainInput = Annotated[
    Annotated[Fixed | Exponential | Uniform | Lognormal | Gamma | Triangular,
              Field(discriminator="dist")],
    BeforeValidator(_range_is_uniform),
]
"""What is not known about one number: a range ``[low, high]`` (uniform), a distribution with a
``dist`` key, or a plain number (no uncertainty)."""
