"""How big a run of the app is, before it runs: the estimate behind the size cap."""

from __future__ import annotations

import math

from asdsim.scenario.loading import scenario_snapshot
from asdsim.scenario.schema import Scenario


def expected_children(scenario: Scenario, replications: int) -> int:
    """About how many children a run simulates: replications x horizon x demand.

    Referrals over the horizon at the base weekly rate, its compound growth and the step
    changes that raise it (the monthly factors average about one), plus the starting list;
    re-referrals are left out. A bound for the size cap, not a forecast.
    """
    d = scenario.demand
    years = scenario.horizon_weeks * 7 / 365.25
    g = d.annual_growth
    growth = 1.0 if abs(g) < 1e-12 else ((1 + g) ** years - 1) / (years * math.log1p(g))
    steps = 1.0
    for change in d.step_changes:
        steps = max(steps, steps * change.factor)
    seasonal = sum(d.monthly_factors) / max(len(d.monthly_factors), 1)
    referrals = d.referrals_per_week * scenario.horizon_weeks * growth * steps * seasonal
    state = scenario.initial_state
    start = sum(group.count for group in state.backlog) if state.kind == "generated" else 0
    snapshot = scenario_snapshot(scenario)
    if snapshot is not None:
        start += len(snapshot.rows)
    return math.ceil(replications * (referrals + start))
