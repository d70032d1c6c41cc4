"""How varied the simulated waits are: quantiles, mean, standard deviation and the coefficient
of variation (sd/mean) of completed waits, to set against a published wait distribution.

A published audit reports the waits of children who were seen, so the simulated figure here is
the same: the waits that ended (the milestone reached) from the cohort date
(``reporting.cohort_from_date``) to the horizon, whenever the child was referred, pooled over
replications. Counting by the day a wait ended, not the day of referral, keeps the long waits of
a growing list in: children referred late in the run whose wait has not ended are not yet seen
either way, but those referred early and seen late are. Children still waiting at the horizon
are not in it (the KPI table's Kaplan-Meier medians count them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from asdsim.analysis import cohorts
from asdsim.analysis.record import ReplicationRecord
from asdsim.scenario.schema import Scenario

MILESTONES = {
    "referral_to_first_appointment": "first_appointment_day",
    "referral_to_assessment_start": "assessment_started_day",
    "referral_to_diagnosis": "diagnosis_day",
}
"""The waits a spread can be measured for, by name, and the milestone that ends each."""
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
"""The quantiles reported by default."""


@dataclass(frozen=True)
class WaitSpread:
    """The distribution of completed waits, in weeks."""

    measure: str
    """Which wait (a key of :data:`MILESTONES`)."""
    waits_weeks: np.ndarray
    """Every completed wait, pooled over replications."""
    quantiles: dict[float, float]
    """Wait in weeks at each probability (NaN with no waits)."""

    @property
    def n(self) -> int:
        """Number of completed waits."""
        return int(self.waits_weeks.size)

    @property
    def mean(self) -> float:
        """Mean wait in weeks."""
        return float(self.waits_weeks.mean()) if self.n else math.nan

    @property
    def sd(self) -> float:
        """Standard deviation of the waits in weeks (n - 1 in the denominator)."""
        return float(self.waits_weeks.std(ddof=1)) if self.n > 1 else math.nan

    @property
    def cv(self) -> float:
        """Coefficient of variation: sd / mean."""
        mean = self.mean
        return self.sd / mean if mean > 0 else math.nan

    def share_within(self, weeks: float) -> float:
        """Share of the waits no longer than ``weeks``."""
        return float((self.waits_weeks <= weeks).mean()) if self.n else math.nan


def wait_spread(records: Sequence[ReplicationRecord], scenario: Scenario,
                measure: str = "referral_to_assessment_start",
                probabilities: Sequence[float] = QUANTILES) -> WaitSpread:
    """The waits that ended from the cohort date to the horizon, pooled over replications.

    Parameters
    ----------
    records
        The run's replication records.
    scenario
        The scenario they ran.
    measure
        Which wait: a key of :data:`MILESTONES`.
    probabilities
        The quantiles to report, each in [0, 1].

    Raises
    ------
    ValueError
        For an unknown ``measure``.
    """
    if measure not in MILESTONES:
        raise ValueError(f"unknown wait measure {measure!r}; expected one of {', '.join(MILESTONES)}")
    milestone = MILESTONES[measure]
    cohort_from = cohorts.cohort_start_day(scenario)
    parts = []
    for rec in records:
        c = rec.columns
        referral = c["referral_day"]
        reached = c[milestone]
        chosen = reached >= cohort_from  # (NaN, not reached, compares False)
        parts.append((reached[chosen] - referral[chosen]) / 7.0)
    waits = np.concatenate(parts) if parts else np.empty(0)
    quantiles = {float(p): float(np.quantile(waits, p)) if waits.size else math.nan
                 for p in probabilities}
    return WaitSpread(measure, waits, quantiles)
