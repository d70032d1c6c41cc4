"""Pinned scenario-format behaviour: derived quantities, defaults, boundaries and distributions,
each value worked out by hand in a comment from the documented definitions."""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

import asdsim
from asdsim.scenario.distributions import (
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
    categorical,
)
from asdsim.scenario.schema import Caseload, StaffGroup

BASE: dict[str, Any] = {
    "name": "pinned-scenario", "start_date": "2020-01-06", "horizon_weeks": 10,
    "demand": {"referrals_per_week": 5,
               "age_bands": [{"min_years": 2, "max_years": 10, "weight": 1}]},
    "teams": {"t": {"staff": {"p": {"wte": 1}},
                    "steps": [{"name": "assess", "hours": {"p": 1}, "outcome": True}]}},
}


def build(**over: Any) -> asdsim.Scenario:
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(over))
    return asdsim.scenario_from_dict(data)


def problems(**over: Any) -> str:
    """Every problem message of an invalid scenario, one per line."""
    with pytest.raises(asdsim.ScenarioError) as info:
        build(**over)
    return "\n".join(f"{p.field}: {p.message}" for p in info.value.problems)


# ---------------------------------------------------------------------------- staff and slots


def test_staff_hours_per_wte_and_per_week():
    # 0.4 x 37.5 h x (52 - 7.8) / 52 = 15 x 0.85 = 12.75 h per WTE; x 1.5 WTE = 19.125 h
    group = StaffGroup(wte=1.5, autism_share=0.4, hours_per_wte_week=37.5, weeks_lost_per_year=7.8)
    assert group.hours_per_wte == pytest.approx(12.75)
    assert group.hours_per_week == pytest.approx(19.125)
    # defaults: all of the job plan, 37.5 h, no weeks lost: 2 WTE = 75 h
    assert StaffGroup(wte=2).hours_per_week == 75.0
    # 26 weeks lost of 52: half the hours
    assert StaffGroup(wte=1, weeks_lost_per_year=26).hours_per_week == 18.75


def test_funded_cost_per_wte_includes_on_costs():
    # 50,000 a year with 30% on-costs: 65,000
    group = StaffGroup(wte=1, annual_cost_per_wte_gbp=50_000, on_costs_share=0.3)
    assert group.funded_cost_per_wte_gbp == pytest.approx(65_000)
    assert StaffGroup(wte=1, annual_cost_per_wte_gbp=40_000).funded_cost_per_wte_gbp == 40_000


def test_caseload_slots_round_down_with_a_floating_point_allowance():
    assert Caseload(clinicians=2.5, cases_per_clinician=3).slots == 7   # 7.5
    assert Caseload(clinicians=0.29, cases_per_clinician=100).slots == 29  # 28.999999999999996
    assert Caseload(clinicians=0.999, cases_per_clinician=1).slots == 0
    assert Caseload(clinicians=3).slots == 3  # one case each by default


# ------------------------------------------------------------------------- horizon and routing


def test_horizon_in_days_and_end_date():
    s = build(horizon_weeks=10)
    assert s.horizon_days == 70.0
    assert s.end_date == dt.date(2020, 3, 16)  # 6 January + 70 days


def test_team_for_is_inclusive_below_and_exclusive_above():
    teams = {
        "young": {"max_age_years": 5, "localities": ["north"], "staff": {"p": {"wte": 1}},
                  "steps": [{"name": "a", "hours": {"p": 1}, "outcome": True}]},
        "older": {"min_age_years": 5, "staff": {"p": {"wte": 1}},
                  "opens_on": "2020-02-03", "closes_on": "2020-03-02",
                  "steps": [{"name": "a", "hours": {"p": 1}, "outcome": True}]},
    }
    s = build(teams=teams, demand={"referrals_per_week": 1, "localities": {"north": 0.5,
                                                                           "south": 0.5},
                                   "age_bands": [{"min_years": 0, "max_years": 18, "weight": 1}]},
              routing={"uncovered": "hold", "uncovered_by_locality": {"south": "out_of_area"}})
    assert s.team_for(0.0, "north") == "young"
    assert s.team_for(4.999, "north") == "young"
    assert s.team_for(5.0, "north") == "older"
    assert s.team_for(17.99, "south") == "older"
    assert s.team_for(18.0, "south") is None
    assert s.team_for(3.0, "south") is None  # the young team serves only the north
    # open from 3 February (inclusive) to 2 March (exclusive)
    assert s.team_for(6.0, "north", dt.date(2020, 2, 2)) is None
    assert s.team_for(6.0, "north", dt.date(2020, 2, 3)) == "older"
    assert s.team_for(6.0, "north", dt.date(2020, 3, 1)) == "older"
    assert s.team_for(6.0, "north", dt.date(2020, 3, 2)) is None
    assert s.uncovered_rule("north") == "hold"
    assert s.uncovered_rule("south") == "out_of_area"


# ------------------------------------------------------------------------------ defaults


def test_documented_defaults():
    s = build()
    assert s.triage.target_days == 14.0
    assert s.triage.capacity_per_week is None
    assert s.triage.rereferral_probability == 0.0
    assert s.triage.rereferral_delay_days.mean == 90.0
    assert s.triage.information_return_probability == 1.0
    assert s.triage.information_wait_days.mean == 28.0
    assert (s.triage.outcomes.accept, s.triage.outcomes.reject,
            s.triage.outcomes.more_information) == (1.0, 0.0, 0.0)
    team = s.teams["t"]
    assert (team.min_age_years, team.max_age_years) == (0.0, 18.0)
    assert team.booking_horizon_weeks == 12
    assert team.dna.discharge_after == 2 and team.dna.rebook_after_days.mean == 14.0
    assert team.waiting_list.discipline == "fifo" and team.waiting_list.withdrawal_per_year == 0
    assert team.monthly_capacity_factors == (1.0,) * 12
    assert (team.outcomes.autism, team.outcomes.other_neurodevelopmental,
            team.outcomes.none) == (0.7, 0.19, 0.11)
    assert s.routing.age_out_years == 18.0 and s.routing.uncovered == "no_pathway"
    assert s.priority_classes == ("urgent", "routine")
    assert s.demand.sources == {"gp": 1.0} and s.demand.localities == {"all": 1.0}
    assert s.demand.monthly_factors == (1.0,) * 12 and s.demand.annual_growth == 0.0


# ------------------------------------------------------------------------------ validation


def test_shares_must_sum_to_one_within_a_millionth():
    # 0.5 + 0.5000005 = 1.0000005: within 1e-6 of 1, accepted; 0.5 + 0.50001: refused
    build(demand={"referrals_per_week": 1, "localities": {"a": 0.5, "b": 0.5000005},
                  "age_bands": [{"min_years": 0, "max_years": 18, "weight": 1}]})
    text = problems(demand={"referrals_per_week": 1, "localities": {"a": 0.5, "b": 0.50001},
                            "age_bands": [{"min_years": 0, "max_years": 18, "weight": 1}]})
    assert "demand.localities must sum to 1" in text and "sum to 1.00001" in text
    text = problems(triage={"outcomes": {"accept": 0.5, "reject": 0.4}})
    assert "triage outcomes must sum to 1" in text


def test_age_bands_must_be_contiguous_ordered_and_weighted():
    def bands(*b: tuple[float, float, float]) -> dict[str, Any]:
        return {"referrals_per_week": 1,
                "age_bands": [{"min_years": lo, "max_years": hi, "weight": w} for lo, hi, w in b]}

    build(demand=bands((4, 18, 1), (0, 4, 0)))  # contiguous though listed out of order
    assert "overlap" in problems(demand=bands((0, 5, 1), (4, 18, 1)))
    assert "gap between 4 and 5" in problems(demand=bands((0, 4, 1), (5, 18, 1)))
    assert "must not all be zero" in problems(demand=bands((0, 4, 0), (4, 18, 0)))
    assert "must be above min_years" in problems(demand=bands((5, 5, 1)))


def test_team_age_range_and_overlap():
    assert "must be above min_age_years" in problems(teams={"t": {
        **BASE["teams"]["t"], "min_age_years": 5, "max_age_years": 5}})
    two = {"a": {**BASE["teams"]["t"], "max_age_years": 6},
           "b": {**BASE["teams"]["t"], "min_age_years": 5}}
    assert "age ranges overlap" in problems(teams=two)
    two["b"]["min_age_years"] = 6  # [0, 6) and [6, 18): touching, not overlapping
    build(teams=two)


def test_dates_must_lie_within_the_horizon():
    # horizon 6 January to 16 March 2020 (both ends allowed)
    build(capacity_changes=[{"date": "2020-03-16", "team": "t", "group": "p", "wte": 2}])
    build(capacity_changes=[{"date": "2020-01-06", "team": "t", "group": "p", "wte": 2}])
    text = problems(capacity_changes=[{"date": "2020-03-17", "team": "t", "group": "p",
                                       "wte": 2}])
    assert "outside the horizon 2020-01-06 to 2020-03-16" in text
    assert "outside the horizon" in problems(reporting={"snapshot_dates": ["2020-01-05"]})


def test_capacity_change_needs_exactly_one_kind():
    assert "exactly one of" in problems(capacity_changes=[
        {"date": "2020-02-03", "team": "t", "group": "p"}])
    assert "needs the staff 'group'" in problems(capacity_changes=[
        {"date": "2020-02-03", "team": "t", "wte": 1}])
    assert "has no caseload" in problems(capacity_changes=[
        {"date": "2020-02-03", "team": "t", "clinicians": 1}])


def test_outsourced_block_and_backlog_group_order():
    block = {"team": "t", "start_date": "2020-02-03", "end_date": "2020-02-02",
             "assessments_per_month": 1}
    assert "is before start_date" in problems(outsourcing=[block])
    block.update(end_date="2020-02-03", first_appointment_after_days=30, turnaround_days=29)
    assert "turnaround_days must be at least" in problems(outsourcing=[block])
    block.update(turnaround_days=30)  # the same day: allowed
    build(outsourcing=[block])
    assert "weeks_waited_max must be at least" in problems(initial_state={
        "kind": "generated",
        "backlog": [{"stage": "awaiting_triage", "count": 1, "weeks_waited_min": 3,
                     "weeks_waited_max": 2}]})


# --------------------------------------------------------------------------- distributions


def test_distribution_quantiles_by_hand():
    u = np.array([0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(Fixed(value=3).quantile(u), 3.0)
    # exponential, mean 2: -2 ln(1 - u) -> 0, 2 ln(4/3), 2 ln 2, 2 ln 4
    np.testing.assert_allclose(Exponential(dist="exponential", mean=2).quantile(u),
                               [0, 2 * math.log(4 / 3), 2 * math.log(2), 2 * math.log(4)])
    np.testing.assert_allclose(Uniform(dist="uniform", low=2, high=6).quantile(u), [2, 3, 4, 5])
    # lognormal with mean m and sd s: median exp(mu) = m / sqrt(1 + (s/m)^2); m=10, s=10 ->
    # 10 / sqrt(2)
    assert Lognormal(dist="lognormal", mean=10, sd=10).quantile(0.5) == pytest.approx(
        10 / math.sqrt(2))
    # gamma with sd = mean is the exponential: median mean x ln 2
    assert Gamma(dist="gamma", mean=3, sd=3).quantile(0.5) == pytest.approx(3 * math.log(2))
    # triangular 0, 1, 4: F(mode) = (1 - 0) / 4 = 0.25 -> quantile(.25) = 1; quantile(0) = 0;
    # right branch at u = .75: 4 - sqrt(.25 x 4 x 3) = 4 - sqrt(3)
    tri = Triangular(dist="triangular", low=0, mode=1, high=4)
    np.testing.assert_allclose(tri.quantile(u), [0, 1, 4 - math.sqrt(4 * 3 * 0.5),
                                                 4 - math.sqrt(3)])
    # left branch at u = 0.2: sqrt(0.2 x 4 x 1) = sqrt(0.8)
    assert tri.quantile(0.2) == pytest.approx(math.sqrt(0.8))


def test_distribution_samplers_equal_their_quantiles_and_means():
    dists = [Fixed(value=3), Exponential(dist="exponential", mean=2),
             Uniform(dist="uniform", low=2, high=6), Lognormal(dist="lognormal", mean=10, sd=4),
             Gamma(dist="gamma", mean=6, sd=2), Triangular(dist="triangular", low=0, mode=1,
                                                           high=4)]
    for dist in dists:
        draw = dist.sampler()
        for x in (0.0, 0.1, 0.25, 0.5, 0.9):
            assert draw(x) == pytest.approx(float(dist.quantile(x))), (dist, x)
    assert Uniform(dist="uniform", low=2, high=6).mean == 4.0
    assert Triangular(dist="triangular", low=0, mode=1, high=5).mean == 2.0
    assert Fixed(value=3).mean == 3.0


def test_a_plain_number_is_a_fixed_distribution():
    s = build(triage={"rereferral_delay_days": 45})
    assert s.triage.rereferral_delay_days == Fixed(value=45)


def test_distribution_parameters_are_checked():
    assert "must be at least low" in problems(triage={
        "rereferral_delay_days": {"dist": "uniform", "low": 5, "high": 4}})
    assert "low <= mode <= high" in problems(triage={
        "rereferral_delay_days": {"dist": "triangular", "low": 1, "mode": 5, "high": 4}})
    assert "low <= mode <= high" in problems(triage={
        "rereferral_delay_days": {"dist": "triangular", "low": 2, "mode": 2, "high": 2}})


def test_categorical_by_cumulative_weight():
    # weights 1, 0, 3: cumulative shares .25, .25, 1 -> u < .25 is 0; .25 <= u is 2 (never 1)
    u = np.array([0.0, 0.2499, 0.25, 0.9999])
    assert categorical(u, np.array([1.0, 0.0, 3.0])).tolist() == [0, 0, 2, 2]
    # weights need not sum to 1
    assert categorical(np.array([0.49, 0.5]), np.array([2.0, 2.0])).tolist() == [0, 1]
