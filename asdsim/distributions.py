"""Turning the scenario's distributions into samplers by inverse transform.

The model draws each child's uniforms in advance, in child order, and turns a uniform ``u`` into
a value with the distribution's inverse CDF. A child therefore gets the same draw for the same
activity in two scenarios, even where a parameter differs (common random numbers), and a larger
mean moves every child's value the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

from asdsim.scenario.schema import Exponential, Fixed, Gamma, Lognormal, Triangular, Uniform

Sampler = Callable[[float], float]


def sampler(dist: Fixed | Exponential | Uniform | Lognormal | Gamma | Triangular) -> Sampler:
    """A function mapping a uniform in (0, 1) to a value of ``dist``."""
    if isinstance(dist, Fixed):
        value = float(dist.value)
        return lambda u: value
    if isinstance(dist, Exponential):
        mean = float(dist.mean)
        return lambda u: -mean * math.log1p(-u)
    if isinstance(dist, Uniform):
        low, width = float(dist.low), float(dist.high - dist.low)
        return lambda u: low + width * u
    if isinstance(dist, Lognormal):
        sigma2 = math.log1p((dist.sd / dist.mean) ** 2)
        mu, sigma = math.log(dist.mean) - sigma2 / 2.0, math.sqrt(sigma2)
        return lambda u: math.exp(mu + sigma * float(special.ndtri(u)))
    if isinstance(dist, Gamma):
        shape, scale = (dist.mean / dist.sd) ** 2, dist.sd**2 / dist.mean
        return lambda u: float(special.gammaincinv(shape, u)) * scale
    if isinstance(dist, Triangular):
        a, c, b = float(dist.low), float(dist.mode), float(dist.high)
        cut = (c - a) / (b - a)

        def triangular(u: float) -> float:
            if u < cut:
                return a + math.sqrt(u * (b - a) * (c - a))
            return b - math.sqrt((1.0 - u) * (b - a) * (b - c))

        return triangular
    raise TypeError(f"not a distribution: {dist!r}")


def mean_of(dist: Fixed | Exponential | Uniform | Lognormal | Gamma | Triangular) -> float:
    """The distribution's mean."""
    if isinstance(dist, Fixed):
        return float(dist.value)
    if isinstance(dist, Uniform):
        return (dist.low + dist.high) / 2.0
    if isinstance(dist, Triangular):
        return (dist.low + dist.mode + dist.high) / 3.0
    return float(dist.mean)


def categorical(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index of the category each uniform falls in, for weights summing to any positive total."""
    cumulative = np.cumsum(weights, dtype=float)
    cumulative /= cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(weights) - 1)
