"""The starting list as it stood: its own mix, no re-routing on day 0, children part-way through."""

from __future__ import annotations

import numpy as np

import asdsim
from tests.conftest import BASE, deep_update


def _area(backlog: list[dict], **over) -> asdsim.Scenario:
    # Two localities; the east has no pre-school team (as the 2018 inspection found).
    data = deep_update(BASE, {"horizon_weeks": 26, "initial_state": {"kind": "generated",
                                                                     "backlog": backlog}})
    data["demand"]["localities"] = {"east": 0.5, "south": 0.5}
    mdt = data["teams"].pop("mdt")
    data["teams"] = {"preschool": {**mdt, "max_age_years": 4, "localities": ["south"]},
                     "school": {**mdt, "min_age_years": 4, "max_age_years": 18}}
    return asdsim.scenario_from_dict(deep_update(data, over))


def test_a_starting_list_keeps_its_own_mix_and_nobody_is_turned_away_on_day_0():
    # 100 eastern children aged 2-3 now, waiting 20-40 weeks: no team covers them by age, but
    # they were on a list: they join the locality's nearest team (school age), none exits on day 0.
    scenario = _area([{"stage": "awaiting_assessment", "count": 100, "weeks_waited_min": 20,
                       "weeks_waited_max": 40, "age_bands": [{"min_years": 2, "max_years": 3,
                                                              "weight": 1}],
                       "localities": {"east": 1.0}}])
    p = asdsim.simulate(scenario, replications=1, seed=3).patients
    start = p[p.from_backlog]
    assert len(start) == 100
    assert (start.locality == "east").all()
    age_now = start.age_at_referral_years - start.referral_day / 365.25
    assert ((age_now >= 2 - 1e-9) & (age_now < 3 + 1e-9)).all()
    assert not (start.exit_day == 0).any()
    assert (start.team == "school").all()
    weeks = -start.referral_day / 7
    assert ((weeks >= 20) & (weeks <= 40)).all()


def test_children_part_way_through_assessment_resume_where_they_were():
    # 30 children have done the history and observation already; only the MDT meeting is left,
    # so with ample hours each is assessed in the first week, using only the meeting's hours
    # (1 + 1), and none is counted as a new start.
    scenario = _area([{"stage": "in_assessment", "count": 30, "weeks_waited_min": 30,
                       "weeks_waited_max": 40, "steps_done": 2, "team": "school"}],
                     demand={"referrals_per_week": 0},
                     teams={"school": {"staff": {"paediatrician": {"wte": 10},
                                                 "psychologist": {"wte": 10}}}})
    results = asdsim.simulate(scenario, replications=1, seed=3)
    p = results.patients
    assert len(p) == 30
    assert (p.exit_reason == "assessed").all()
    assert (p.exit_day < 7.0).all() and p.outcome.notna().all()
    np.testing.assert_allclose(p.staff_hours, 2.0)  # no flags: no hours factor
    assert (p.assessment_started_day == 0).all()
    used = results.staff_weekly.groupby("group").hours_used.sum()
    np.testing.assert_allclose(used.sum(), 2.0 * len(p))


def test_steps_done_only_with_in_assessment():
    import pytest

    with pytest.raises(asdsim.ScenarioError, match="steps_done"):
        _area([{"stage": "awaiting_assessment", "count": 3, "steps_done": 1}])


def test_a_csv_snapshot_with_children_part_way_through(tmp_path):
    # Two children on the list, three part-way (history and observation done, steps_done 2):
    # with ample hours the three finish in the first week on the MDT meeting's hours alone.
    import yaml

    (tmp_path / "list.csv").write_text(
        "referral_date,age_years,stage,steps_done,locality,name\n"
        "2019-06-03,6.5,awaiting_assessment,,north,Ann\n"
        "2019-07-01,7.5,awaiting_assessment,,south,Bob\n"
        "2019-05-06,8.5,in_assessment,2,north,Cy\n"
        "2019-05-13,9.5,In Assessment,2,south,Di\n"
        "2019-05-20,10.5,in_assessment,2,north,Ed\n")
    data = deep_update(BASE, {"horizon_weeks": 10, "demand": {"referrals_per_week": 0},
                              "initial_state": {"kind": "csv", "csv": "list.csv"}})
    data["teams"]["mdt"]["staff"] = {"paediatrician": {"wte": 10}, "psychologist": {"wte": 10}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    p = asdsim.simulate(tmp_path / "s.yaml", replications=1, seed=1).patients
    resumed = p[p.staff_hours == 2.0]  # the MDT meeting only (1 + 1 hours)
    assert len(resumed) == 3 and (resumed.exit_day < 7.0).all()
    assert (p.exit_reason == "assessed").all()
    assert (p.staff_hours == 6.0).sum() == 2  # the other two did all three steps (2 + 2 + 2)


def test_steps_done_in_a_csv_needs_in_assessment(tmp_path):
    import pytest
    import yaml

    (tmp_path / "list.csv").write_text(
        "referral_date,age_years,stage,steps_done,locality\n"
        "2019-06-03,6.5,awaiting_assessment,2,north\n")
    data = deep_update(BASE, {"initial_state": {"kind": "csv", "csv": "list.csv"}})
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(asdsim.ScenarioError, match="steps_done"):
        asdsim.load_scenario(tmp_path / "s.yaml")
