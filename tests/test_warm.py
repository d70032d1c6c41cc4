"""The warm start: a running service's children part-way through assessment, by Little's law.

Each count is worked by hand from the scenario's own figures: starts a week (capacity in force or
demand, the lower) times the weeks from the first step to the outcome, split over the steps done
in proportion to the days between steps.
"""

from __future__ import annotations

import numpy as np
import pytest

import asdsim
from asdsim.cli import main
from asdsim.model.backlog import BACKLOG_STAGES, generate_backlog
from asdsim.scenario.warm import running_service, split, warm_start_children

# One group, paediatrician 1 WTE: 37.5 h a week x 0.4 autism share, no weeks lost = 15 h a week.
STAFF = {"paediatrician": {"wte": 1.0, "autism_share": 0.4, "weeks_lost_per_year": 0}}


def _scenario(steps: list[dict], referrals: float = 10.0, warm: bool = True,
              **over: object) -> asdsim.Scenario:
    data: dict = {
        "name": "warm", "start_date": "2020-01-06", "horizon_weeks": 26,
        "demand": {"referrals_per_week": referrals,
                   "age_bands": [{"min_years": 2, "max_years": 16, "weight": 1}]},
        "teams": {"clinic": {"staff": STAFF, "steps": steps}},
        "initial_state": {"kind": "generated", "warm": warm, "backlog": [
            {"stage": "awaiting_assessment", "count": 40, "weeks_waited_min": 10,
             "weeks_waited_max": 30}]},
    }
    data.update(over)
    return asdsim.scenario_from_dict(data)


TWO_STEPS = [
    {"name": "history", "hours": {"paediatrician": 2}, "dna_probability": 0.2},
    {"name": "decision", "hours": {"paediatrician": 1}, "min_gap_days": 28, "contact": False,
     "outcome": True},
]


def test_two_steps_count_and_waits_by_hand():
    # Hours an assessment: 2 / (1 - 0.2) booked for the history (a missed one is booked again)
    # + 1 = 3.5, so 15 / 3.5 = 4.2857 starts a week, below the 10 children sent a week. From the
    # history to the decision: 28 days = 4 weeks. In assessment: 4.2857 x 4 = 17.14 -> 17, all
    # with one step done, each after the list's longest wait (30 weeks) and 0-4 weeks since.
    [team] = running_service(_scenario(TWO_STEPS))
    assert team.capacity_per_week == pytest.approx(15 / 3.5)
    assert team.demand_per_week == pytest.approx(10.0)
    assert team.weeks_to_outcome == pytest.approx(4.0)
    assert team.counts == (17,)
    assert team.weeks_waited(1) == pytest.approx((30.0, 34.0))


def test_three_steps_split_in_proportion_to_the_days_between_them():
    # Demand 2 a week is below capacity (15 h over 1 + 1 + 1 h = 5 a week), so 2 start a week.
    # Gaps 14 and 42 days: 8 weeks to the outcome, 2 x 8 = 16 in assessment, split 14 : 42 =
    # 4 with the history done (waited 30-32 weeks) and 12 with two steps done (32-38 weeks).
    steps = [{"name": "history", "hours": {"paediatrician": 1}},
             {"name": "observation", "hours": {"paediatrician": 1}, "min_gap_days": 14},
             {"name": "decision", "hours": {"paediatrician": 1}, "min_gap_days": 42,
              "outcome": True},
             {"name": "feedback", "hours": {"paediatrician": 0.5}, "min_gap_days": 100}]
    [team] = running_service(_scenario(steps, referrals=2.0))
    assert team.capacity_per_week == pytest.approx(15 / 3.5)  # feedback's hours count too
    assert team.starts_per_week == pytest.approx(2.0)
    assert team.counts == (4, 12)  # nobody past the outcome: feedback's gap is not counted
    assert team.weeks_waited(1) == pytest.approx((30.0, 32.0))
    assert team.weeks_waited(2) == pytest.approx((32.0, 38.0))


def test_capacity_is_the_one_in_force_at_the_start_date():
    # A change dated the start date doubles the WTE; January's factor is 0.5: 15 h a week again,
    # so the count is the one worked above.
    scenario = _scenario(
        TWO_STEPS,
        capacity_changes=[{"date": "2020-01-06", "team": "clinic", "group": "paediatrician",
                           "wte": 2.0}])
    assert running_service(scenario)[0].capacity_per_week == pytest.approx(30 / 3.5)
    halved = _scenario(TWO_STEPS, capacity_changes=[
        {"date": "2020-01-06", "team": "clinic", "group": "paediatrician", "wte": 2.0}])
    data = halved.model_dump(mode="json")
    data["teams"]["clinic"]["monthly_capacity_factors"] = [0.5] + [1.0] * 11
    assert running_service(asdsim.scenario_from_dict(data))[0].counts == (17,)


def test_a_caseload_team_starts_its_slots_over_the_weeks_each_is_held():
    # 2 clinicians x 3 cases = 6 slots, each held 7 + 7 + 7 + 14 = 35 days (5 weeks): 1.2 starts
    # a week. With one step done a child is in the history's 7 days and the 7-day gap after it:
    # 2 weeks, 1.2 x 2 = 2.4 -> 2.
    steps = [{"name": "history", "hours": {"paediatrician": 1}, "duration_days": 7},
             {"name": "decision", "hours": {"paediatrician": 1}, "min_gap_days": 7,
              "duration_days": 7, "outcome": True},
             {"name": "feedback", "hours": {"paediatrician": 1}, "min_gap_days": 14}]
    data = _scenario(steps).model_dump(mode="json")
    data["teams"]["clinic"].update(capacity_mode="caseload",
                                   caseload={"clinicians": 2, "cases_per_clinician": 3})
    [team] = running_service(asdsim.scenario_from_dict(data))
    assert team.capacity_per_week == pytest.approx(1.2)
    assert team.step_days == (14.0,)
    assert team.counts == (2,)


def test_split_keeps_the_rounded_total():
    assert split(10, (1.0, 1.0, 1.0)) == (4, 3, 3)
    assert split(7.6, (0.0, 3.0, 1.0)) == (0, 6, 2)
    assert split(5, (0.0, 0.0)) == (0, 0)
    assert sum(split(1234.4, (42.0, 42.0, 28.0, 0.0, 28.0))) == 1234


def test_a_team_not_yet_open_or_sent_nobody_starts_cold():
    # Referrals are aged 2-16: a 16-18 team is sent nobody; one not open at the start is left out.
    data = _scenario(TWO_STEPS).model_dump(mode="json")
    data["teams"]["clinic"]["max_age_years"] = 16
    teens = {**data["teams"]["clinic"], "min_age_years": 16, "max_age_years": 18}
    data["teams"]["teens"] = teens
    teams = {t.team: t for t in running_service(asdsim.scenario_from_dict(data))}
    assert teams["teens"].demand_per_week == 0 and teams["teens"].total == 0
    assert teams["clinic"].counts == (17,)
    data["teams"]["teens"] = {**teens, "opens_on": "2020-03-02"}
    assert [t.team for t in running_service(asdsim.scenario_from_dict(data))] == ["clinic"]


def test_warm_children_are_drawn_after_the_explicit_list_which_stays_as_it_was():
    warm, cold = _scenario(TWO_STEPS), _scenario(TWO_STEPS, warm=False)
    hot = generate_backlog(warm, np.random.default_rng(5))
    plain = generate_backlog(cold, np.random.default_rng(5))
    assert len(plain) == 40 and len(hot) == 57
    assert np.array_equal(hot.referral_day[:40], plain.referral_day[:40])
    assert np.array_equal(hot.age_years[:40], plain.age_years[:40])
    added = slice(40, None)
    assert (hot.stage[added] == BACKLOG_STAGES.index("in_assessment")).all()
    assert (hot.steps_done[added] == 1).all()
    assert set(hot.team[added]) == {"clinic"}
    assert ((-hot.referral_day[added] >= 7 * 30) & (-hot.referral_day[added] <= 7 * 34)).all()
    assert warm_start_children(warm) == 17 and warm_start_children(cold) == 0


def test_warm_children_are_of_the_teams_ages_and_localities():
    data = _scenario(TWO_STEPS).model_dump(mode="json")
    data["demand"]["localities"] = {"east": 0.5, "south": 0.5}
    data["teams"]["clinic"].update(min_age_years=4, max_age_years=10, localities=["south"])
    hot = generate_backlog(asdsim.scenario_from_dict(data), np.random.default_rng(2))
    added = slice(40, None)
    assert len(hot) > 40
    assert ((hot.age_years[added] >= 4) & (hot.age_years[added] < 10)).all()
    assert (hot.locality[added] == 1).all()  # south, the team's only locality


def test_off_by_default_and_left_out_of_the_scenario_so_its_hash_is_unchanged():
    cold = _scenario(TWO_STEPS, warm=False)
    data = cold.model_dump(mode="json")
    assert "warm" not in data["initial_state"]
    del data["initial_state"]
    assert asdsim.scenario_from_dict(data).initial_state.warm is False
    assert asdsim.scenario_hash(cold) != asdsim.scenario_hash(_scenario(TWO_STEPS))


def test_a_warm_start_from_an_empty_state_adds_only_the_running_service():
    data = _scenario(TWO_STEPS).model_dump(mode="json")
    data["initial_state"] = {"kind": "empty", "warm": True}
    hot = generate_backlog(asdsim.scenario_from_dict(data), np.random.default_rng(1))
    # no list: each started as soon as referred, so waits are the 0-4 weeks in assessment
    assert len(hot) == 17 and ((-hot.referral_day >= 0) & (-hot.referral_day <= 28)).all()


def test_a_warm_start_brings_the_first_diagnosis_into_the_first_weeks():
    # Cold, the first diagnosis waits for a child started on day 0 to reach the decision 28 days
    # on; warm, those with the history done are decided in the first week's booking.
    firsts = {}
    for warm in (False, True):
        patients = asdsim.simulate(_scenario(TWO_STEPS, warm=warm), replications=1,
                                   seed=4).patients
        firsts[warm] = float(patients.diagnosis_day.min())
        # 17 h of decisions against 15 h a week: all 17 are decided within the first weeks
        assert (patients.diagnosis_day < 28).sum() == (17 if warm else 0)
    assert firsts[False] >= 28 and firsts[True] < 7


def test_validate_says_how_many_children_the_warm_start_adds(tmp_path, capsys):
    import yaml

    path = tmp_path / "warm.yaml"
    path.write_text(yaml.safe_dump(_scenario(TWO_STEPS).model_dump(mode="json")), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert "warm start adds 17 children part-way through assessment (clinic 17)" in (
        capsys.readouterr().out)


def test_a_snapshots_longest_wait_for_assessment_is_the_wait_before_the_first_step(tmp_path):
    (tmp_path / "list.csv").write_text(
        "referral_date,age_years,stage\n"
        "2019-10-28,6,awaiting_assessment\n"   # 10 weeks before the start
        "2019-08-19,7,awaiting_assessment\n"   # 20 weeks
        "2019-01-07,8,awaiting_triage\n",      # longer, but not yet on the team's list
        encoding="utf-8")
    data = _scenario(TWO_STEPS).model_dump(mode="json")
    data["initial_state"] = {"kind": "csv", "csv": str(tmp_path / "list.csv"), "warm": True}
    scenario = asdsim.scenario_from_dict(data)
    [team] = running_service(scenario)
    assert team.list_weeks == pytest.approx(20.0)
    hot = generate_backlog(scenario, np.random.default_rng(0))
    assert len(hot) == 3 + 17 and (hot.steps_done[3:] == 1).all()


def test_the_shipped_as_is_design_diagnoses_in_its_first_weeks_not_months_in():
    # Measured: cold, the first diagnosis came 145 days in (a child started on day 0 reaches the
    # decision after gaps of 42 + 42 + 28 + 28 days and weekly booking); warm, in the first week.
    shipped = asdsim.load_scenario("scenarios/as_is_2018.yaml")
    assert shipped.initial_state.warm
    cold = shipped.model_copy(update={"initial_state": shipped.initial_state.model_copy(
        update={"warm": False})})
    first = {}
    for name, scenario in (("warm", shipped), ("cold", cold)):
        data = scenario.model_dump(mode="json")
        data.update(horizon_weeks=26, reporting={})
        patients = asdsim.simulate(asdsim.scenario_from_dict(data), replications=1,
                                   seed=1).patients
        first[name] = float(patients.diagnosis_day.min())
    assert first["warm"] < 14 and first["cold"] > 140


def test_run_says_how_many_children_the_warm_start_adds(tmp_path, capsys):
    # minimal.yaml: 2.45 children a week sent to its team (3 referrals x 0.8 accepted, each
    # referred 1 / (1 - 0.1 x 0.2) times) x 2 weeks from history to decision = 4.9 -> 5
    assert main(["run", "scenarios/minimal.yaml", "--replications", "1",
                 "--out", str(tmp_path / "out")]) == 0
    assert "minimal: warm start adds 5 children part-way through assessment (clinic 5)" in (
        capsys.readouterr().out)
