"""Referrals: when children are referred, and who they are.

Referrals follow a non-homogeneous Poisson process. Its rate is constant within each day and
equals the base weekly rate over 7, times compound annual growth, times the month's seasonal
factor, times the factors of step changes in force. A Poisson process with a piecewise-constant
rate is simulated exactly by a Poisson count per day with uniform times within the day, which
NumPy does for a whole horizon in a few vector operations.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from asdsim.scenario.distributions import categorical
from asdsim.scenario.schema import AgeBand, Demand, Scenario

DAYS_PER_YEAR = 365.25


def daily_rates(demand: Demand, start_date: dt.date, days: int) -> np.ndarray:
    """Expected referrals on each day from the start (length ``days``)."""
    day = np.arange(days, dtype=float)
    month = (np.datetime64(start_date, "D") + np.arange(days)).astype("datetime64[M]")
    month_index = month.astype(int) % 12
    rates = demand.referrals_per_week / 7.0 * np.asarray(demand.monthly_factors)[month_index]
    rates = rates * (1.0 + demand.annual_growth) ** (day / DAYS_PER_YEAR)
    for change in demand.step_changes:
        first = (change.date - start_date).days
        rates[max(first, 0):] *= change.factor
    return rates


def referral_days(demand: Demand, start_date: dt.date, horizon_days: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Sorted referral times (days from the start) over the horizon."""
    days = math.ceil(horizon_days)
    counts = rng.poisson(daily_rates(demand, start_date, days))
    times = np.repeat(np.arange(days, dtype=float), counts) + rng.random(int(counts.sum()))
    times.sort()
    return times[times < horizon_days]


@dataclass(frozen=True)
class Children:
    """Attributes of a batch of children, one array element per child."""

    age_years: np.ndarray
    """Age at (first) referral."""
    source: np.ndarray
    """Index into the scenario's sources."""
    locality: np.ndarray
    """Index into the scenario's localities."""
    priority: np.ndarray
    """Priority rank (0 is most urgent)."""
    hours_factor: np.ndarray
    """Multiplier on assessment hours."""


def draw_children(scenario: Scenario, n: int, rng: np.random.Generator,
                  age_bands: tuple[AgeBand, ...] | None = None,
                  localities: dict[str, float] | None = None) -> Children:
    """Draw ``n`` children's attributes from one stream, in a fixed order per child; ``age_bands``
    and ``localities`` replace the referral mix (for a starting list with its own mix)."""
    demand = scenario.demand
    flags = list(demand.flags.values())
    u = rng.random((n, 4 + len(flags)))
    bands = age_bands or demand.age_bands
    band = categorical(u[:, 0], np.array([b.weight for b in bands]))
    low = np.array([b.min_years for b in bands])[band]
    high = np.array([b.max_years for b in bands])[band]
    age = low + (high - low) * u[:, 1]
    source = categorical(u[:, 2], np.array(list(demand.sources.values())))
    mix = {**dict.fromkeys(demand.localities, 0.0), **localities} if localities else demand.localities
    locality = categorical(u[:, 3], np.array(list(mix.values())))
    default_rank = len(scenario.priority_classes) - 1
    priority = np.full(n, default_rank, dtype=np.int64)
    hours_factor = np.ones(n)
    for j, flag in enumerate(flags):
        has = u[:, 4 + j] < flag.probability
        if flag.priority is not None:
            rank = scenario.priority_classes.index(flag.priority)
            priority[has] = np.minimum(priority[has], rank)
        hours_factor[has] *= flag.hours_factor
    return Children(age, source, locality, priority, hours_factor)
