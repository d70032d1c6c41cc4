"""The plan's outsourcing lever (a block from the plan's date, priced from the scenario or as
given), the search's corner with a free lever, and settings refused before anything runs: each
worked by hand."""

from __future__ import annotations

import datetime as dt
import math

import pytest

import asdsim
from asdsim.experiments.plan import Outsourcing, PlanError, make_levers, option_data, plan, search
from tests.conftest import BASE, deep_update
from tests.test_plan import _levers, _Oracle

MONTH_DAYS = 365.25 / 12
"""Days in an average month: a block's cost a year counts its months so."""

BLOCK = {"team": "mdt", "start_date": "2020-01-06", "end_date": "2020-06-30", "assessments_per_month": 3,
         "price_gbp": 1800}


def test_a_block_runs_its_months_from_the_plans_date_at_the_scenarios_price(make_scenario):
    """From 1 June 2020 for 3 months: 1 June to 31 August, 30 + 31 + 31 = 92 days. The price is
    that of the team's block in the scenario (GBP 1,800); steps of 2 up to 8 a month are levels
    0..4, and a step costs 2 x 1,800 x 92 / 30.4375 a year. At 3 steps the option's scenario
    buys 6 a month over those dates, after the scenario's own block."""
    scenario = make_scenario(outsourcing=[BLOCK])
    on = dt.date(2020, 6, 1)
    (lever,) = make_levers(scenario, "", on, outsourcing={"max_per_month": 8, "step": 2, "months": 3})
    assert (lever.name, lever.kind, lever.team, lever.low, lever.high, lever.step) == (
        "mdt/outsourcing", "outsourcing", "mdt", 0, 4, 2.0)
    assert lever.block == (on, dt.date(2020, 8, 31), 1800.0)
    assert lever.cost_per_step == pytest.approx(2 * 1800 * 92 / MONTH_DAYS)
    assert lever.words(3) == ("6 outsourced assessments a month for mdt from June 2020 to 31 August "
                              "2020 at GBP 1,800 each")
    changed = asdsim.scenario_from_dict(option_data(scenario.model_dump(mode="json"), [lever], (3,), on,
                                                    scenario))
    first, added = changed.outsourcing
    assert first.start_date == dt.date(2020, 1, 6)
    assert (added.team, added.start_date, added.end_date, added.assessments_per_month, added.price_gbp) == (
        "mdt", on, dt.date(2020, 8, 31), 6, 1800)


def test_a_block_stops_at_the_horizon_and_costs_at_most_a_year(make_scenario):
    """The scenario ends on 3 January 2022 (104 weeks from 6 January 2020). From 1 June 2021 for
    30 months the block is cut there: 214 days to 31 December plus 3 = 217 days, 7.1 months.
    From 1 June 2020 for 24 months it runs 582 days, over a year, so a step costs 12 months."""
    scenario = make_scenario()
    late = make_levers(scenario, "", dt.date(2021, 6, 1),
                       outsourcing=Outsourcing(price_gbp=1000, months=30))[0]
    assert late.block == (dt.date(2021, 6, 1), dt.date(2022, 1, 3), 1000.0)
    assert late.cost_per_step == pytest.approx(1000 * 217 / MONTH_DAYS)
    long = make_levers(scenario, "", dt.date(2020, 6, 1),
                       outsourcing=Outsourcing(price_gbp=1000, months=24))[0]
    assert (long.block[1] - long.block[0]).days + 1 == 582
    assert long.cost_per_step == 1000 * 12.0
    assert (long.low, long.high) == (0, 10)  # the default: 0 to 10 a month in steps of 1


def test_the_blocks_team_is_its_own_the_plans_or_the_only_one(make_scenario):
    two = deep_update(BASE, {"teams": {"other": {**BASE["teams"]["mdt"], "min_age_years": 16}}})
    two["teams"]["mdt"]["max_age_years"] = 16
    scenario = asdsim.scenario_from_dict(two)
    on = dt.date(2020, 6, 1)
    with pytest.raises(PlanError, match=r"outsourcing: give its team \(the teams are: mdt, other\)"):
        make_levers(scenario, "", on, outsourcing={"price_gbp": 100})
    assert make_levers(scenario, "", on, team="other", outsourcing={"price_gbp": 100})[0].team == "other"
    assert make_levers(scenario, "", on, team="other",
                       outsourcing={"team": "mdt", "price_gbp": 100})[0].name == "mdt/outsourcing"
    with pytest.raises(PlanError, match="outsourcing: no team 'zzz'; the teams are: mdt, other"):
        make_levers(scenario, "", on, outsourcing={"team": "zzz", "price_gbp": 100})
    assert make_levers(make_scenario(), "", on, outsourcing={"price_gbp": 100})[0].team == "mdt"


@pytest.mark.parametrize(("spec", "why"), [
    ({"price_gbp": 5, "colour": 1, "alpha": 2},
     "outsourcing: unknown field(s) alpha, colour; expected team, max_per_month, price_gbp, months, "
     "step, bridge"),
    ({}, "outsourcing: give the price of an assessment (team 'mdt' has no outsourcing block in the "
         "scenario to take it from)"),
    ({"price_gbp": -1}, "outsourcing: the price must be a number >= 0, got -1"),
    ({"price_gbp": math.inf}, "outsourcing: the price must be a number >= 0, got inf"),
    ({"price_gbp": 5, "months": 0}, "outsourcing: months, max_per_month and step must be at least 1"),
    ({"price_gbp": 5, "step": 0}, "outsourcing: months, max_per_month and step must be at least 1"),
    ({"price_gbp": 5, "max_per_month": 7, "step": 2},
     "mdt/outsourcing: the bound 7 is not a whole number of steps of 2"),
    ({"price_gbp": 5, "bridge": True}, "outsourcing: a bridge covers the gap until added staff are at full "
                                       "productivity; give a lead time or a ramp"),
])
def test_a_bad_block_is_refused_naming_what_is_wrong(make_scenario, spec, why):
    with pytest.raises(PlanError) as caught:
        make_levers(make_scenario(), "paediatrician", dt.date(2020, 6, 1), outsourcing=spec)
    assert str(caught.value).startswith(why)


def test_a_free_lever_is_raised_only_as_far_as_needed():
    """Lever 0 costs 1 a step, lever 1 nothing; feasible when x0 >= 2 and x1 >= 1. Every option
    (2, k) with k >= 1 costs 2; the per-lever bisection (each lever's least level with the other
    at its maximum) finds the corner (2, 1), below which nothing is feasible: it is the answer,
    proved, with no free step added beyond need."""
    oracle = _Oracle(_levers((1.0, 0.0), 10), lambda x: min(x[0] - 2, x[1] - 1))
    outcome = search._search(oracle, budget=None)
    assert outcome.best == (2, 1) and outcome.optimal


@pytest.mark.parametrize(("settings", "why"), [
    ({"confidence_rule": "lower_ci", "replications": 1}, "replications must be at least 2"),
    ({"confidence_rule": "lower_ci", "replications": 2, "confirm_replications": 1},
     "confirm_replications must be at least 2"),
    ({"max_evaluations": 1}, "max_evaluations must be at least 2"),
    ({"budget": math.nan}, "the budget must be a number of GBP >= 0, got nan"),
    ({"ramp_weeks": "3"}, "ramp_weeks must be a number of weeks from 0 to 520, got '3'"),
])
def test_settings_a_plan_cannot_use_are_refused_before_it_runs(make_scenario, settings, why):
    with pytest.raises(PlanError, match=why):
        plan(make_scenario(), None, "2020-03-02", vary="paediatrician", **settings)


def test_a_plan_needs_its_start_date(make_scenario):
    with pytest.raises(PlanError, match="--from is required: the date the changes start"):
        plan(make_scenario(), None, None, vary="paediatrician")  # type: ignore[arg-type]
