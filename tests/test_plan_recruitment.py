"""Recruitment lead time and ramp to full productivity: hours by week worked by hand, the schema's
checks, and a plan that says by when to approve the posts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import asdsim
from asdsim.errors import AsdsimError
from asdsim.experiments import plan as planning
from asdsim.experiments.backends import make_backend
from asdsim.experiments.plan import PlanError, make_levers, option_data, plan
from asdsim.model.capacity import hours_available, productive_wte_by_week, wte_by_day
from tests.conftest import BASE, deep_update

ONE_GROUP = {"staff": {"paediatrician": {"wte": 1.0, "autism_share": 1.0, "hours_per_wte_week": 40,
                                         "weeks_lost_per_year": 0},
                       "psychologist": {"wte": 1.0}}}


def team(changes: list[dict]) -> asdsim.Scenario:
    """One team from Monday 6 January 2020, the paediatrician at 40 clinic hours a WTE week
    (whole autism share, no weeks lost, no monthly factor)."""
    return asdsim.scenario_from_dict(deep_update(BASE, {"teams": {"mdt": ONE_GROUP},
                                                        "capacity_changes": changes}))


def test_a_change_with_a_lead_time_and_a_ramp_by_hand():
    """Approved on 20 January 2020 (day 14, week 2) from 1 to 2 WTE, 2 weeks' lead time: it
    applies on day 28, week 4. A 4-week ramp: the added WTE works at its mid-week value of a
    linear ramp, 1/8, 3/8, 5/8 and 7/8, in weeks 4 to 7, and in full from week 8. Funded in
    full from day 28."""
    scenario = team([{"date": "2020-01-20", "team": "mdt", "group": "paediatrician", "wte": 2.0,
                      "lead_time_weeks": 2, "ramp_weeks": 4}])
    hours = hours_available(scenario, "mdt", 10)[0]
    assert hours.tolist() == [40, 40, 40, 40, 45, 55, 65, 75, 80, 80]
    funded = wte_by_day(scenario, "mdt", "paediatrician", 35)
    assert funded[:28].tolist() == [1.0] * 28 and funded[28:].tolist() == [2.0] * 7
    (change,) = scenario.capacity_changes
    assert change.applies == dt.date(2020, 2, 3)
    # the ramp loses half its length of the added WTE's hours: 4 weeks x 40 h / 2
    assert hours.sum() == pytest.approx(10 * 40 + 6 * 40 - 4 * 40 / 2)


def test_a_fall_applies_at_once_and_lead_times_set_the_order():
    """A change approved first but with a longer lead time applies after one approved later;
    a fall in WTE ignores its ramp (leavers do not ramp down)."""
    scenario = team([
        {"date": "2020-01-13", "team": "mdt", "group": "paediatrician", "wte": 3.0,
         "lead_time_weeks": 6},                                    # applies week 7
        {"date": "2020-01-27", "team": "mdt", "group": "paediatrician", "wte": 2.0},   # week 3
        {"date": "2020-03-16", "team": "mdt", "group": "paediatrician", "wte": 0.5,
         "ramp_weeks": 4}])                                        # week 10, a fall
    wte = productive_wte_by_week(scenario, "mdt", "paediatrician", 12)
    assert wte.tolist() == [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 0.5, 0.5]


def test_a_ramp_of_part_weeks_and_past_the_horizon():
    scenario = team([{"date": "2020-01-06", "team": "mdt", "group": "paediatrician", "wte": 2.0,
                      "ramp_weeks": 2.5}])
    wte = productive_wte_by_week(scenario, "mdt", "paediatrician", 4)
    assert wte == pytest.approx([1.2, 1.6, 2.0, 2.0])  # 0.5/2.5, 1.5/2.5, then full
    late = team([{"date": "2021-12-20", "team": "mdt", "group": "paediatrician", "wte": 2.0,
                  "lead_time_weeks": 10}])  # applies after the 104-week horizon
    assert np.all(productive_wte_by_week(late, "mdt", "paediatrician", 104) == 1.0)


def test_zero_lead_time_and_ramp_leave_the_scenario_as_it_was():
    """The fields are left out of the scenario's data when 0, so its content hash, resolved
    file and tables are those of a scenario written before the fields existed."""
    plain = team([{"date": "2020-03-02", "team": "mdt", "group": "paediatrician", "wte": 2.0}])
    zero = team([{"date": "2020-03-02", "team": "mdt", "group": "paediatrician", "wte": 2.0,
                  "lead_time_weeks": 0, "ramp_weeks": 0}])
    assert asdsim.scenario_hash(plain) == asdsim.scenario_hash(zero)
    assert "lead_time_weeks" not in plain.model_dump(mode="json")["capacity_changes"][0]
    slow = team([{"date": "2020-03-02", "team": "mdt", "group": "paediatrician", "wte": 2.0,
                  "lead_time_weeks": 3}])
    assert slow.model_dump(mode="json")["capacity_changes"][0]["lead_time_weeks"] == 3
    again = asdsim.scenario_from_dict(slow.model_dump(mode="json"))
    assert asdsim.scenario_hash(again) == asdsim.scenario_hash(slow) != asdsim.scenario_hash(plain)


@pytest.mark.parametrize(("change", "why"), [
    ({"lead_time_weeks": -1}, r"capacity_changes\[0\].lead_time_weeks: got -1: expected a number >= 0"),
    ({"ramp_weeks": 1000}, r"capacity_changes\[0\].ramp_weeks: got 1000: expected a number <= 520"),
    ({"clinicians": 3, "wte": None, "group": None, "ramp_weeks": 4}, "ramp to full productivity"),
])
def test_bad_lead_times_and_ramps_are_refused(change, why):
    base = {"date": "2020-03-02", "team": "mdt", "group": "paediatrician", "wte": 2.0}
    data = {k: v for k, v in {**base, **change}.items() if v is not None}
    with pytest.raises(AsdsimError, match=why):
        team([data])


# ------------------------------------------------------------------------------------ the plan


def test_the_plans_change_is_approved_a_lead_time_before_it_applies(make_scenario):
    """Posts in post from 1 June 2020 with 12 weeks' lead time are approved on 9 March 2020;
    the change applies on 1 June and ramps up over 8 weeks; later changes shift as before."""
    scenario = make_scenario(capacity_changes=[
        {"date": "2021-01-04", "team": "mdt", "group": "psychologist", "wte": 0.5}])
    on = dt.date(2020, 6, 1)
    levers = make_levers(scenario, "psychologist", on, lead_time_weeks=12, ramp_weeks=8)
    data = option_data(scenario.model_dump(mode="json"), levers, (3,), on, scenario)
    changed = asdsim.scenario_from_dict(data)
    added = next(c for c in changed.capacity_changes if c.date == dt.date(2020, 3, 9))
    assert (added.applies, added.wte, added.lead_time_weeks, added.ramp_weeks) == (on, 1.3, 12, 8)
    later = next(c for c in changed.capacity_changes if c.date == dt.date(2021, 1, 4))
    assert later.wte == pytest.approx(0.8)


def test_a_lead_time_reaching_before_the_start_is_refused(make_scenario):
    with pytest.raises(PlanError, match="must be approved by 2019-12-09, before the scenario starts"):
        plan(make_scenario(), None, "2020-03-02", vary="paediatrician", lead_time_weeks=12)
    with pytest.raises(PlanError, match="lead_time_weeks must be a number of weeks"):
        plan(make_scenario(), None, "2020-03-02", vary="paediatrician", lead_time_weeks=-2)


def test_a_plan_with_a_lead_time_says_by_when_to_approve_and_costs_no_less():
    """The small area's plan for the standard from 2020 Q3 with posts in post from 1 June
    2020: with 8 weeks' lead time they must be approved by 6 April 2020; with a ramp the same
    posts give fewer hours at first, so the plan funds at least as much."""
    from tests.test_plan_standard import small_area

    common = {"by_date": "2020-07-01", "vary": "paediatrician", "replications": 4,
              "confirm_replications": 8, "seed": 3, "bounds": {"paediatrician": (0, 1)}}
    with make_backend(2) as backend:
        quick = plan(small_area(), None, "2020-06-01", backend=backend, **common)
        slow = plan(small_area(), None, "2020-06-01", backend=backend, lead_time_weeks=8,
                    ramp_weeks=12, **common)
    assert quick.feasible and slow.feasible
    assert slow.approve_by == dt.date(2020, 4, 6)
    assert slow.summary().startswith("Approve +")
    assert "by 6 April 2020 (8 weeks' recruitment lead time), in post from 1 June 2020, at full " \
           "productivity 12 weeks later (24 August 2020)" in slow.summary()
    assert slow.added_cost >= quick.added_cost
    change = next(c for c in slow.scenario.capacity_changes if c.group == "paediatrician")
    assert (change.date, change.applies, change.ramp_weeks) == (dt.date(2020, 4, 6),
                                                                dt.date(2020, 6, 1), 12)
    assert planning.lead_days(8) == 56


# -------------------------------------------------------------------------- triage as a lever


def test_triage_capacity_is_a_lever_priced_per_referral_a_week(make_scenario):
    """Triage at 12 referrals a week, bounds +0 to +6 in steps of 2, at GBP 2,000 a year per
    referral a week: 4 levels, GBP 4,000 a step; the option's scenario triages 16 a week (the
    scenario's one triage capacity, for the whole run)."""
    scenario = make_scenario(triage={"capacity_per_week": 12})
    on = dt.date(2020, 3, 2)
    (triage,) = make_levers(scenario, "triage", on, bounds={"triage": (0, 6)}, step={"triage": 2},
                            triage_cost_gbp=2000)
    assert (triage.kind, triage.base, triage.low, triage.high) == ("triage", 12.0, 0, 3)
    assert triage.cost_per_step == 4000
    assert triage.words(2) == "+4 referrals triaged a week (triage capacity 16 a week)"
    data = option_data(scenario.model_dump(mode="json"), [triage], (2,), on, scenario)
    assert asdsim.scenario_from_dict(data).triage.capacity_per_week == 16
    with pytest.raises(PlanError, match="--triage-cost"):
        make_levers(scenario, "triage", on)
    with pytest.raises(PlanError, match="triages each referral on arrival"):
        make_levers(make_scenario(), "triage", on, triage_cost_gbp=2000)


def test_a_plan_on_triage_writes_a_recommended_scenario_that_loads_back(tmp_path):
    """A scenario whose first bottleneck is triage (4 a week for 10 referrals): the plan must
    raise triage capacity, and recommended.yaml, extending the input file, carries it."""
    scenario = asdsim.scenario_from_dict(deep_update(BASE, {
        "horizon_weeks": 52, "triage": {"capacity_per_week": 4}, "teams": {"mdt": {"staff": {
            "paediatrician": {"wte": 3.0}, "psychologist": {"wte": 3.0}}}}}))
    source = tmp_path / "area.yaml"
    source.write_text(asdsim.scenario_to_yaml(scenario))
    with make_backend(2) as backend:
        result = plan(source, ["triaged_within_target >= 0.8"], "2020-01-06", vary="triage",
                      triage_cost_gbp=2000, bounds={"triage": (0, 12)}, replications=3,
                      confirm_replications=3, seed=2, backend=backend)
    assert result.feasible and result.changes["triage"] > 0
    planning.write_plan(result, tmp_path / "plan", source)
    loaded = asdsim.load_scenario(tmp_path / "plan" / "recommended.yaml")
    assert loaded.triage.capacity_per_week == 4 + result.changes["triage"]
    assert result.added_cost == 2000 * result.changes["triage"]


def test_an_outsourced_block_can_bridge_the_gap_until_the_posts_are_productive(make_scenario):
    """Posts in post from 1 June 2020 after 12 weeks (approved 9 March) and 8 weeks' ramp (full
    from 27 July): the bridging block runs 9 March to 26 July 2020, 140 days = 4.60 months, so a
    step of 1 assessment a month at GBP 2,000 costs 2,000 x 140 / 30.4375 a year."""
    scenario = make_scenario()
    on = dt.date(2020, 6, 1)
    levers = make_levers(scenario, "paediatrician", on, lead_time_weeks=12, ramp_weeks=8,
                         outsourcing={"team": "mdt", "price_gbp": 2000, "bridge": True})
    bridge = levers[-1]
    assert bridge.block == (dt.date(2020, 3, 9), dt.date(2020, 7, 26), 2000.0)
    assert bridge.cost_per_step == pytest.approx(2000 * 140 / (365.25 / 12))
    assert "from 9 March 2020 to 26 July 2020" in bridge.words(3)
    with pytest.raises(PlanError, match="give a lead time or a ramp"):
        make_levers(scenario, "paediatrician", on,
                    outsourcing={"team": "mdt", "price_gbp": 2000, "bridge": True})
