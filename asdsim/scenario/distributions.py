"""Random quantities in a scenario, each able to turn uniforms into values by inverse transform.

The model draws each child's uniforms in advance, in child order, and turns a uniform ``u`` into
a value with the distribution's inverse CDF (``quantile``). A child therefore gets the same draw
for the same activity in two scenarios, even where a parameter differs (common random numbers),
and a larger mean moves every child's value the same way.

Each distribution offers ``quantile(u)`` (vectorised over an array of uniforms), ``sampler()``
(the same inverse CDF as a plain function of one float, for the event loop, where a NumPy call
per draw would cost more than the draw) and ``mean``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator
from scipy import special

from asdsim.scenario.base import Model, NonNegative, Positive

Sampler = Callable[[float], float]
"""A function from a uniform in [0, 1) to a value."""


class _Distribution(Model):
    """A distribution: ``quantile``, ``sampler`` and ``mean`` (a field or a property)."""

    def quantile(self, u: np.ndarray | float) -> np.ndarray:
        """Values for uniforms ``u`` in [0, 1), by the inverse CDF (vectorised)."""
        raise NotImplementedError

    def sampler(self) -> Sampler:
        """The inverse CDF as a function of one float, for the event loop."""
        raise NotImplementedError


class Fixed(_Distribution):
    """Always the same value."""

    dist: Literal["fixed"] = "fixed"
    """Distribution name."""
    value: NonNegative
    """The value."""

    def quantile(self, u: np.ndarray | float) -> np.ndarray:
        """Values for uniforms ``u``: all equal to ``value``."""
        return np.full(np.shape(u), float(self.value))

    def sampler(self) -> Sampler:
        """The constant as a function of one float."""
        value = float(self.value)
        return lambda u: value

    @property
    def mean(self) -> float:
        """The value."""
        return float(self.value)


class Exponential(_Distribution):
    """Exponential with the given mean (memoryless; the M in M/M/c)."""

    dist: Literal["exponential"]
    """Distribution name."""
    mean: Positive
    """Mean of the distribution."""

    def quantile(self, u: np.ndarray | float) -> np.ndarray:
        """Values for uniforms ``u``: ``-mean * log(1 - u)``."""
        return -self.mean * np.log1p(-np.asarray(u, dtype=float))

    def sampler(self) -> Sampler:
        """The inverse CDF as a function of one float."""
        mean = float(self.mean)
        return lambda u: -mean * math.log1p(-u)


class Uniform(_Distribution):
    """Uniform between low and high."""

    dist: Literal["uniform"]
    """Distribution name."""
    low: NonNegative
    """Smallest value."""
    high: NonNegative
    """Largest value."""

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) must be at least low ({self.low:g})")
        return self

    def quantile(self, u: np.ndarray | float) -> np.ndarray:
        """Values for uniforms ``u``: ``low + (high - low) * u``."""
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    def sampler(self) -> Sampler:
        """The inverse CDF as a function of one float."""
        low, width = float(self.low), float(self.high - self.low)
        return lambda u: low + width * u

    @property
    def mean(self) -> float:
        """The midpoint."""
        return (self.low + self.high) / 2.0


class Lognormal(_Distribution):
    """Lognormal given by the mean and standard deviation of the values themselves."""

    dist: Literal["lognormal"]
    """Distribution name."""
    mean: Positive
    """Mean of the values."""
    sd: Positive
    """Standard deviation of the values."""

    def _log_parameters(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2.0, math.sqrt(sigma2)

    def quantile(self, u: np.ndarray | float) -> np.ndarray:
        """Values for uniforms ``u``: ``exp(mu + sigma * Phi^-1(u))``."""
        mu, sigma = self._log_parameters()
        return np.exp(mu + sigma * special.ndtri(np.asarray(u, dtype=float)))

    def sampler(self) -> Sampler:
        """The inverse CDF as a function of one float."""
        mu, sigma = self._log_parameters()
        return lambda u: math.exp(mu + sigma * float(special.ndtri(u)))


class Gamma(_Distribution):
    """Gamma given by its mean and standard deviation."""

    dist: Literal["gamma"]
    """Distribution name."""
    mean: Positive
    """Mean of the values."""
    sd: Positive
    """Standard deviation of the values."""

    def quantile(self, u: np.ndarray | float) -> np.ndarray:
        """Values for uniforms ``u``: the regularised incomplete gamma function inverted."""
        shape, scale = (self.mean / self.sd) ** 2, self.sd**2 / self.mean
        return special.gammaincinv(shape, np.asarray(u, dtype=float)) * scale

    def sampler(self) -> Sampler:
        """The inverse CDF as a function of one float."""
        shape, scale = (self.mean / self.sd) ** 2, self.sd**2 / self.mean
        return lambda u: float(special.gammaincinv(shape, u)) * scale


class Triangular(_Distribution):
    """Triangular between low and high with the given mode."""

    dist: Literal["triangular"]
    """Distribution name."""
    low: NonNegative
    """Smallest value."""
    mode: NonNegative
    """Most likely value."""
    high: NonNegative
    """Largest value."""

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(
                f"need low <= mode <= high and low < high, got "
                f"{self.low:g}, {self.mode:g}, {self.high:g}"
            )
        return self

    def quantile(self, u: np.ndarray | float) -> np.ndarray:
        """Values for uniforms ``u``: the two branches of the triangle's inverse CDF."""
        a, c, b = float(self.low), float(self.mode), float(self.high)
        u = np.asarray(u, dtype=float)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < (c - a) / (b - a), left, right)

    def sampler(self) -> Sampler:
        """The inverse CDF as a function of one float."""
        a, c, b = float(self.low), float(self.mode), float(self.high)
        cut = (c - a) / (b - a)

        def triangular(u: float) -> float:
            if u < cut:
                return a + math.sqrt(u * (b - a) * (c - a))
            return b - math.sqrt((1.0 - u) * (b - a) * (b - c))

        return triangular

    @property
    def mean(self) -> float:
        """``(low + mode + high) / 3``."""
        return (self.low + self.mode + self.high) / 3.0


def _number_is_fixed(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    return value


Distribution = Annotated[
    Fixed | Exponential | Uniform | Lognormal | Gamma | Triangular,
    BeforeValidator(_number_is_fixed),
    Field(discriminator="dist"),
]
"""A non-negative random quantity: a plain number (fixed) or a mapping with a ``dist`` key."""


def categorical(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index of the category each uniform falls in, for weights summing to any positive total."""
    cumulative = np.cumsum(weights, dtype=float)
    cumulative /= cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(weights) - 1)
