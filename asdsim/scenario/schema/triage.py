"""The scenario format: triage of referrals.
"""

from __future__ import annotations

from pydantic import (
    Field,
    model_validator,
)

from asdsim.scenario.base import (
    Model,
    NonNegative,
    Positive,
    Probability,
)
from asdsim.scenario.distributions import (
    Distribution,
    Fixed,
)
from asdsim.scenario.schema.common import _check_sums_to_one

# ---------------------------------------------------------------------------------------- triage


class TriageOutcomes(Model):
    """What triage decides about a referral."""

    accept: Probability
    """Share accepted onto a pathway."""
    reject: Probability = 0.0
    """Share rejected (some are re-referred later)."""
    more_information: Probability = 0.0
    """Share for which more information is requested before deciding."""

    @model_validator(mode="after")
    def _sums(self) -> TriageOutcomes:
        _check_sums_to_one(
            {"accept": self.accept, "reject": self.reject,
             "more_information": self.more_information},
            "triage outcomes",
        )
        return self


class Triage(Model):
    """Triage of new referrals: limited weekly capacity, then accept, reject or ask for more."""

    capacity_per_week: Positive | None = None
    """Referrals triaged a week, in referral order; empty means every referral on arrival."""
    target_days: NonNegative = 14.0
    """Target from referral to triage decision, for the triage KPI."""
    outcomes: TriageOutcomes = TriageOutcomes(accept=1.0)
    """Outcome shares for referrals from any source not listed in ``outcomes_by_source``."""
    outcomes_by_source: dict[str, TriageOutcomes] = Field(default_factory=dict)
    """Outcome shares for particular referral sources."""
    rereferral_probability: Probability = 0.0
    """Share of rejected referrals that are referred again later."""
    rereferral_delay_days: Distribution = Fixed(value=90.0)
    """Time from rejection to the new referral."""
    information_return_probability: Probability = 1.0
    """Share of requests for more information that are answered (the rest close)."""
    information_wait_days: Distribution = Fixed(value=28.0)
    """Time to answer a request for more information; the referral is then triaged again."""
