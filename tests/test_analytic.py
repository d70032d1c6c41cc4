"""Analytic validation against queueing theory through the public API (the rest is in
``asdsim verify``, run by tests/test_verify.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import asdsim
from asdsim.analysis.stats import mean_ci
from tests.conftest import caseload_scenario


def erlang_c(servers: int, offered: float) -> float:
    """Probability of waiting in an M/M/c queue with offered load a = lambda / mu."""
    top = offered**servers / math.factorial(servers) * servers / (servers - offered)
    bottom = sum(offered**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom


def test_caseload_mode_matches_erlang_c():
    """Mean wait and chance of waiting in an M/M/3 caseload at rho 0.5 against Erlang C.

    One Erlang C check through the public API; ``asdsim verify`` (tests/test_verify.py) checks
    1, 2, 5 and 10 servers at higher loads, Cobham's formula, Little's law and fluid clearance.
    """
    rho, servers, weeks, replications = 0.5, 3, 600, 8
    mean_days = 0.5
    lam = rho * servers / mean_days
    scenario = caseload_scenario(lam, servers, mean_days, weeks)
    p = asdsim.simulate(scenario, replications=replications, seed=2024, jobs=2).patients
    warm = p[(p.referral_day > 50.0) & p.assessment_started_day.notna()]
    wait = warm.assessment_started_day - warm.list_join_day
    prob_wait = erlang_c(servers, lam * mean_days)
    theory = prob_wait / (servers / mean_days - lam)
    per_rep = wait.groupby(warm.replication).mean().to_numpy()
    mean, low, high, _ = mean_ci(per_rep)
    assert mean == pytest.approx(theory, rel=0.05)
    assert low <= theory <= high
    assert (wait > 1e-9).mean() == pytest.approx(prob_wait, abs=0.01)


def test_clinic_hours_list_grows_at_demand_minus_capacity():
    """Fluid balance: demand 20 a week against capacity for 12 assessments a week."""
    scenario = asdsim.scenario_from_dict({
        "name": "fluid", "start_date": "2020-01-06", "horizon_weeks": 200,
        "demand": {"referrals_per_week": 20,
                   "age_bands": [{"min_years": 1, "max_years": 2, "weight": 1}]},
        "teams": {"t": {"staff": {"p": {"wte": 1, "hours_per_wte_week": 36}},
                        "steps": [{"name": "assess", "hours": {"p": 3}, "outcome": True}]}},
    })
    weekly = asdsim.simulate(scenario, replications=3, seed=5).weekly
    mean = weekly.groupby("week").waiting_for_assessment.mean()
    weeks = np.arange(20, 200)
    slope = np.polyfit(weeks, mean.loc[weeks].to_numpy(), 1)[0]
    assert slope == pytest.approx(20 - 12, rel=0.05)
    done = weekly.groupby("week").assessments_completed.mean().loc[weeks].mean()
    assert done == pytest.approx(12, rel=0.02)
