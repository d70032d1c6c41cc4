"""Dated pathway changes and unmet need that comes back, on small hand-worked scenarios."""

from __future__ import annotations

import numpy as np
import pytest

import asdsim
from tests.conftest import BASE, deep_update


def _two_age_teams(**over) -> asdsim.Scenario:
    # Children aged 2-3 only (all under 4); a pre-school team in the south from the start and a
    # pre-school team in the east that opens on 2020-07-06 (day 182); no school-age team.
    data = deep_update(BASE, {
        "horizon_weeks": 52,
        "demand": {"age_bands": [{"min_years": 2, "max_years": 3, "weight": 1}]},
        "routing": {"uncovered": "hold"},
    })
    data["demand"]["localities"] = {"east": 0.5, "south": 0.5}
    mdt = data["teams"].pop("mdt")
    mdt["staff"] = {"paediatrician": {"wte": 10}, "psychologist": {"wte": 10}}
    data["teams"] = {
        "south_preschool": {**mdt, "max_age_years": 4, "localities": ["south"]},
        "east_preschool": {**mdt, "max_age_years": 4, "localities": ["east"],
                           "opens_on": "2020-07-06"},
    }
    return asdsim.scenario_from_dict(deep_update(data, over))


def test_a_team_that_opens_on_a_date_takes_the_children_held_for_it():
    results = asdsim.simulate(_two_age_teams(), replications=1, seed=4)
    p = results.patients
    east = p[(p.locality == "east") & p.list_join_day.notna()]
    opens = 182.0
    # nobody joins the eastern list before it opens; children referred (and accepted) before
    # then were held, and join on the opening day itself
    assert (east.list_join_day >= opens).all()
    early = east[east.accepted_day < opens]
    assert len(early) > 20
    np.testing.assert_allclose(early.list_join_day, opens)
    assert early.held_day.notna().all()
    # after opening, children join at acceptance; the south never waited for anything
    late = east[east.accepted_day >= opens]
    np.testing.assert_allclose(late.list_join_day, late.accepted_day)
    south = p[(p.locality == "south") & p.list_join_day.notna()]
    assert south.held_day.isna().all()
    assert (p.team[p.locality == "east"].dropna() == "east_preschool").all()


def test_a_team_that_closes_takes_no_new_children():
    scenario = _two_age_teams(teams={"south_preschool": {"closes_on": "2020-04-06"}},
                              routing={"uncovered": "no_pathway"})
    p = asdsim.simulate(scenario, replications=1, seed=4).patients
    south = p[p.locality == "south"]
    closes = 91.0
    assert (south.list_join_day.dropna() < closes).all()
    after = south[south.accepted_day >= closes]
    assert len(after) > 20 and (after.exit_reason == "no_pathway").all()


def test_unmet_need_that_comes_back_when_old_enough():
    # Under-4s in the east have no pathway; a school-age team takes 4+. Every such child is
    # recorded as unmet need and (probability 1) referred again on reaching 4: its new referral
    # starts the clock then, and it is not an open referral in between.
    data = deep_update(BASE, {
        "horizon_weeks": 156,
        "demand": {"age_bands": [{"min_years": 3.5, "max_years": 3.9, "weight": 1}]},
        "routing": {"uncovered": "no_pathway", "rereferred_when_eligible": {"east": 1.0}},
    })
    data["demand"]["localities"] = {"east": 1.0}
    data["teams"]["mdt"].update({"min_age_years": 4, "max_age_years": 18})
    results = asdsim.simulate(asdsim.scenario_from_dict(data), replications=1, seed=2)
    p = results.patients[results.patients.referral_day.notna()]
    assert p.unmet_need_day.notna().all()
    back = p[p.referrals == 2]
    assert len(back) > 100
    age_then = back.age_at_referral_years + (back.referral_day - back.first_referral_day) / 365.25
    np.testing.assert_allclose(age_then, 4.0, atol=1e-3)
    assert (back.exit_reason != "no_pathway").all()
    assert results.kpi("unmet_need") == pytest.approx(p.unmet_need_day.notna().sum())
    # with probability 0 they leave as no pathway, as before
    data["routing"]["rereferred_when_eligible"] = {"east": 0.0}
    gone = asdsim.simulate(asdsim.scenario_from_dict(data), replications=1, seed=2).patients
    assert (gone.referrals == 1).all()
    assert (gone.exit_reason == "no_pathway").sum() == gone.unmet_need_day.notna().sum() > 100


def test_bad_dates_are_refused():
    with pytest.raises(asdsim.ScenarioError, match="closes_on"):
        _two_age_teams(teams={"east_preschool": {"closes_on": "2020-01-01"}})
