"""List policies: clinical prioritisation, leaving for another provider, list validation.

Each is pinned from first principles: a hand-worked booking order for prioritisation, the
exponential survival of a list nobody serves for leaving, and a binomial share of a list of
known size for validation. Absent or inert, a policy changes nothing (the tables are equal).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

import asdsim
from tests.conftest import BASE, deep_update

# the school-age team of BASE, given no clinic hours: nobody is ever seen
UNSERVED = {"paediatrician": {"wte": 0.0}, "psychologist": {"wte": 0.0}}


def _within_binomial(k: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """Whether k successes in n trials are within ``sigmas`` standard errors of p."""
    return abs(k - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1e-9


# -- clinical prioritisation -----------------------------------------------------------------------


def _one_slot_run(tmp_path, waiting_list: dict) -> dict[str, float]:
    """A one-clinician caseload team (one case at a time, 14 days each) and a starting list:
    Zed part-way through assessment holds the slot for its first 14 days, and five children
    wait, referred in the order Ann, Bea, Cal, Dot, Eli; Bea and Dot are under 5."""
    (tmp_path / "list.csv").write_text(
        "referral_date,age_years,stage,steps_done,locality,name\n"
        "2019-06-03,9.0,in_assessment,0,north,Zed\n"
        "2019-07-01,8.0,awaiting_assessment,,north,Ann\n"
        "2019-07-08,3.0,awaiting_assessment,,north,Bea\n"
        "2019-07-15,9.0,awaiting_assessment,,north,Cal\n"
        "2019-07-22,4.0,awaiting_assessment,,north,Dot\n"
        "2019-07-29,10.0,awaiting_assessment,,north,Eli\n")
    data = deep_update(BASE, {"horizon_weeks": 20, "demand": {"referrals_per_week": 0},
                              "initial_state": {"kind": "csv", "csv": "list.csv"}})
    data["teams"] = {"one": {
        "capacity_mode": "caseload", "caseload": {"clinicians": 1, "cases_per_clinician": 1},
        "staff": {"clinician": {"wte": 1}}, "waiting_list": waiting_list,
        "steps": [{"name": "case", "hours": {"clinician": 1}, "outcome": True,
                   "duration_days": {"dist": "fixed", "value": 14}}]}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    p = asdsim.simulate(tmp_path / "s.yaml", replications=1, seed=5).patients
    names = {"2019-06-03": "Zed", "2019-07-01": "Ann", "2019-07-08": "Bea", "2019-07-15": "Cal",
             "2019-07-22": "Dot", "2019-07-29": "Eli"}
    days = {names[str(row.referral_date)[:10]]: row.assessment_started_day for row in p.itertuples()}
    return days


def test_prioritisation_books_urgent_children_first_in_a_hand_worked_order(tmp_path):
    # Zed holds the slot to day 14. Under-5s are flagged urgent (share 1), the others never
    # (share 0): Bea then Dot (urgent, in referral order), then Ann, Cal, Eli (routine, in
    # referral order), each 14 days after the one before.
    urgent = {"discipline": "priority", "prioritisation": {
        "share": 0.0, "age_bands": [{"min_years": 0, "max_years": 5, "share": 1.0}]}}
    days = _one_slot_run(tmp_path, urgent)
    assert days == {"Zed": 0.0, "Bea": 14.0, "Dot": 28.0, "Ann": 42.0, "Cal": 56.0, "Eli": 70.0}
    # without prioritisation the same list is seen in referral order
    fifo = _one_slot_run(tmp_path, {"discipline": "priority"})
    assert fifo == {"Zed": 0.0, "Ann": 14.0, "Bea": 28.0, "Cal": 42.0, "Dot": 56.0, "Eli": 70.0}


def test_prioritisation_in_clinic_hours_books_one_child_a_week_urgent_first(tmp_path):
    # One clinician with exactly one clinic hour a week and a one-hour assessment: the weekly
    # booking pass books one child a week, in list order: Bea and Dot (urgent), then Ann, Cal, Eli.
    (tmp_path / "list.csv").write_text(
        "referral_date,age_years,stage,locality,name\n"
        "2019-07-01,8.0,awaiting_assessment,north,Ann\n"
        "2019-07-08,3.0,awaiting_assessment,north,Bea\n"
        "2019-07-15,9.0,awaiting_assessment,north,Cal\n"
        "2019-07-22,4.0,awaiting_assessment,north,Dot\n"
        "2019-07-29,10.0,awaiting_assessment,north,Eli\n")
    data = deep_update(BASE, {"horizon_weeks": 8, "demand": {"referrals_per_week": 0},
                              "initial_state": {"kind": "csv", "csv": "list.csv"}})
    data["teams"] = {"one": {
        "staff": {"clinician": {"wte": 1, "hours_per_wte_week": 1.0}},
        "waiting_list": {"discipline": "priority", "prioritisation": {
            "age_bands": [{"min_years": 0, "max_years": 5, "share": 1.0}]}},
        "steps": [{"name": "assessment", "hours": {"clinician": 1}, "outcome": True}]}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    p = asdsim.simulate(tmp_path / "s.yaml", replications=1, seed=5).patients
    names = {"2019-07-01": "Ann", "2019-07-08": "Bea", "2019-07-15": "Cal", "2019-07-22": "Dot",
             "2019-07-29": "Eli"}
    week = {names[str(row.referral_date)[:10]]: int(row.assessment_started_day // 7)
            for row in p.itertuples()}
    assert week == {"Bea": 0, "Dot": 1, "Ann": 2, "Cal": 3, "Eli": 4}


def test_prioritisation_flags_the_stated_share():
    # no staff: everyone waits; the share flagged urgent is the stated one, by age band
    data = deep_update(BASE, {"teams": {"mdt": {"staff": UNSERVED, "waiting_list": {
        "discipline": "priority", "prioritisation": {
            "share": 0.1, "age_bands": [{"min_years": 0, "max_years": 6, "share": 0.5}]}}}}})
    p = asdsim.simulate(asdsim.scenario_from_dict(data), replications=1, seed=2).patients
    listed = p[p.list_join_day.notna()]
    age = listed.age_at_referral_years + (
        listed.list_join_day - listed.referral_day) / 365.25  # age on joining the list
    urgent = listed.priority == "urgent"
    young = age < 6
    assert young.sum() > 100 and (~young).sum() > 300
    assert _within_binomial(int(urgent[young].sum()), int(young.sum()), 0.5)
    assert _within_binomial(int(urgent[~young].sum()), int((~young).sum()), 0.1)


def test_prioritisation_needs_a_priority_list():
    data = deep_update(BASE, {"teams": {"mdt": {"waiting_list": {"prioritisation": {"share": 0.1}}}}})
    with pytest.raises(asdsim.ScenarioError, match=r"teams\.mdt\.waiting_list\.prioritisation.*"
                                                    r"discipline: priority"):
        asdsim.scenario_from_dict(data)


def test_overlapping_urgent_bands_are_refused():
    data = deep_update(BASE, {"teams": {"mdt": {"waiting_list": {
        "discipline": "priority", "prioritisation": {"age_bands": [
            {"min_years": 0, "max_years": 6, "share": 0.5},
            {"min_years": 5, "max_years": 9, "share": 0.2}]}}}}})
    with pytest.raises(asdsim.ScenarioError, match=r"age_bands\[1\].*overlaps"):
        asdsim.scenario_from_dict(data)


# -- leaving for another provider ------------------------------------------------------------------


def _leaving_run(per_year: float, after_weeks: float, seed: int = 4):
    data = deep_update(BASE, {"horizon_weeks": 156, "demand": {
        "referrals_per_week": 20, "age_bands": [{"min_years": 2, "max_years": 8, "weight": 1}]},
        "teams": {"mdt": {"staff": UNSERVED, "waiting_list": {
            "leaving": {"per_year": per_year, "after_weeks": after_weeks}}}}})
    scenario = asdsim.scenario_from_dict(data)
    return scenario, asdsim.simulate(scenario, replications=1, seed=seed)


def test_with_no_service_the_list_empties_as_exp_minus_h_t():
    # Nobody is seen and nobody else leaves, so each child stays on the list for after_weeks
    # plus an exponential time with rate h: S(t) = exp(-h (t - after)) for t past after_weeks.
    h, after = 0.8, 10.0
    scenario, results = _leaving_run(h, after)
    p = results.patients
    listed = p[p.list_join_day.notna()]
    left = listed.exit_reason == "left_to_other_provider"
    assert set(listed.exit_reason) <= {"left_to_other_provider", "waiting"}
    on_list = np.where(left, listed.exit_day - listed.list_join_day, np.inf) / 7.0
    assert on_list.min() >= after - 1e-9  # nobody leaves before after_weeks
    horizon = scenario.horizon_days
    for t in (20.0, 40.0, 70.0):
        followed = (listed.list_join_day + 7.0 * t <= horizon).to_numpy()
        still = int((on_list[followed] > t).sum())
        n = int(followed.sum())
        expected = math.exp(-h * (t - after) / 52.18)  # h a year; t in weeks
        assert n > 500
        assert _within_binomial(still, n, expected), (t, still / n, expected)
    # counted in the KPI table, and every child accounted for
    assert results.kpi("exit[left_to_other_provider]") == left.sum()


def test_leaving_exits_balance_the_kpi_accounting():
    _, results = _leaving_run(0.5, 0.0)
    kpis = results.kpis.set_index("kpi")["mean"]
    exits = [k for k in kpis.index if k.startswith("exit[")]
    assert "exit[left_to_other_provider]" in exits
    assert "exit[discharged_on_validation]" not in exits  # no validation: no row
    assert sum(kpis[k] for k in exits) == len(results.patients)


# -- list validation -------------------------------------------------------------------------------


def test_validation_discharges_the_stated_share_of_long_waiters_only(tmp_path):
    # 800 children waited over a year at the start, 400 under half a year; nobody is seen.
    # On the validation date (day 21) each long waiter is discharged with chance 0.25; the
    # recent ones are untouched.
    rows = ["referral_date,age_years,stage,locality,id"]
    rows += [f"2018-0{1 + i % 6}-{1 + i % 28:02d},6.0,awaiting_assessment,north,{i}" for i in range(800)]
    rows += [f"2019-{9 + i % 3:02d}-{1 + i % 28:02d},6.0,awaiting_assessment,north,{800 + i}"
             for i in range(400)]
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    data = deep_update(BASE, {"horizon_weeks": 8, "demand": {"referrals_per_week": 0},
                              "initial_state": {"kind": "csv", "csv": "list.csv"},
                              "teams": {"mdt": {"staff": UNSERVED, "waiting_list": {
                                  "validation": {"dates": ["2020-01-27"], "over_weeks": 52,
                                                 "discharge_share": 0.25}}}}})
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    results = asdsim.simulate(tmp_path / "s.yaml", replications=1, seed=8)
    p = results.patients
    long = p.referral_day < 21.0 - 52 * 7
    assert long.sum() == 800
    gone = p.exit_reason == "discharged_on_validation"
    assert (p.exit_day[gone] == 21.0).all()
    assert not gone[~long].any()  # children under 52 weeks untouched
    assert _within_binomial(int(gone[long].sum()), 800, 0.25)
    assert results.kpi("exit[discharged_on_validation]") == gone.sum()
    assert results.kpi("exit[discharged_on_validation]") + results.kpi("exit[waiting]") == 1200


def test_validation_every_n_weeks_repeats_and_is_independent(tmp_path):
    # every 4 weeks over 12 weeks: rounds on days 28 and 56 (84 is the horizon); a child kept
    # at the first round faces the second with the same chance, so (1 - 0.3)^2 stay
    data = deep_update(BASE, {"horizon_weeks": 12, "demand": {"referrals_per_week": 0},
                              "initial_state": {"kind": "generated", "backlog": [
                                  {"stage": "awaiting_assessment", "count": 2000,
                                   "weeks_waited_max": 10}]},
                              "teams": {"mdt": {"staff": UNSERVED, "waiting_list": {
                                  "validation": {"every_weeks": 4, "discharge_share": 0.3}}}}})
    p = asdsim.simulate(asdsim.scenario_from_dict(data), replications=1, seed=9).patients
    gone = p[p.exit_reason == "discharged_on_validation"]
    assert set(gone.exit_day) == {28.0, 56.0}
    stayed = int((p.exit_reason == "waiting").sum())
    assert _within_binomial(stayed, len(p), 0.7 ** 2)


@pytest.mark.parametrize("validation, match", [
    ({"discharge_share": 0.1}, "exactly one of every_weeks or dates"),
    ({"every_weeks": 4, "dates": ["2020-03-02"], "discharge_share": 0.1},
     "exactly one of every_weeks or dates"),
    ({"dates": ["2030-03-02"], "discharge_share": 0.1}, r"dates\[0\].*outside the horizon"),
    ({"every_weeks": 4, "discharge_share": 1.5}, "discharge_share"),
])
def test_bad_validation_settings_are_refused(validation, match):
    data = deep_update(BASE, {"teams": {"mdt": {"waiting_list": {"validation": validation}}}})
    with pytest.raises(asdsim.ScenarioError, match=match):
        asdsim.scenario_from_dict(data)


# -- absent or inert: nothing changes --------------------------------------------------------------


@pytest.mark.parametrize("policy", [
    {"discipline": "priority", "prioritisation": {"share": 0.0}},
    {"validation": {"every_weeks": 8, "discharge_share": 0.0}},
    {"leaving": {"per_year": 1e-9}},
])
def test_an_inert_policy_leaves_every_table_unchanged(policy):
    # each policy draws from its own stream, so switching one on shifts no other draw
    base_list = {"discipline": "priority"} if "prioritisation" in policy else {}
    without = asdsim.scenario_from_dict(deep_update(BASE, {"teams": {"mdt": {
        "waiting_list": {**base_list, "withdrawal_per_year": 0.2}}}}))
    with_ = asdsim.scenario_from_dict(deep_update(BASE, {"teams": {"mdt": {
        "waiting_list": {**policy, "withdrawal_per_year": 0.2}}}}))
    a = asdsim.simulate(without, replications=2, seed=11)
    b = asdsim.simulate(with_, replications=2, seed=11)
    assert a.patients.equals(b.patients)
    assert a.weekly.equals(b.weekly)
    kpis = b.kpis[~b.kpis.kpi.isin(["exit[left_to_other_provider]",
                                     "exit[discharged_on_validation]"])].reset_index(drop=True)
    assert a.kpis.equals(kpis)


def test_without_policies_nothing_of_theirs_is_built_or_drawn():
    from asdsim.model.pathway import Pathway

    plain = Pathway(asdsim.scenario_from_dict(BASE), 1, 0)
    plain.run()
    assert plain._policies is None
    assert not {"prioritisation", "leaving", "validation"} & set(plain.streams._streams)
    managed = Pathway(asdsim.scenario_from_dict(deep_update(BASE, {"teams": {"mdt": {
        "waiting_list": {"leaving": {"per_year": 0.1}}}}})), 1, 0)
    assert managed._policies is not None and "leaving" in managed.streams._streams


def test_prioritisation_needs_two_priority_classes():
    data = deep_update(BASE, {"priority_classes": ["routine"], "teams": {"mdt": {"waiting_list": {
        "discipline": "priority", "prioritisation": {"share": 0.1}}}}})
    with pytest.raises(asdsim.ScenarioError, match=r"prioritisation.*at least two priority_classes"):
        asdsim.scenario_from_dict(data)


def test_a_bad_policy_in_a_file_is_reported_by_file_line_and_field(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(BASE))
    (tmp_path / "s.yaml").write_text(
        "extends: base.yaml\n"
        "teams:\n"
        "  mdt:\n"
        "    waiting_list:\n"
        "      leaving: {per_year: -0.1}\n"
        "      validation: {every_weeks: 4, over_weeks: 52}\n")
    with pytest.raises(asdsim.ScenarioError) as caught:
        asdsim.load_scenario(tmp_path / "s.yaml")
    text = str(caught.value)
    assert "s.yaml:5: teams.mdt.waiting_list.leaving.per_year" in text
    assert "s.yaml:6: teams.mdt.waiting_list.validation.discharge_share" in text


def test_a_scenario_without_policies_keeps_its_content_hash():
    # unset, the new fields are left out of the scenario's data, so every existing scenario keeps
    # the hash its stored regression results were written with; set, they are in it
    plain = asdsim.scenario_from_dict(BASE)
    data = plain.model_dump(mode="json")
    assert "published_waits" not in data
    assert set(data["teams"]["mdt"]["waiting_list"]) == {"discipline", "withdrawal_per_year"}
    managed = asdsim.scenario_from_dict(deep_update(BASE, {
        "teams": {"mdt": {"waiting_list": {"leaving": {"per_year": 0.1}}}},
        "published_waits": [{"source": "x", "cv": 0.6}]}))
    assert asdsim.scenario_hash(managed) != asdsim.scenario_hash(plain)
    again = asdsim.scenario_from_dict(managed.model_dump(mode="json"))
    assert again == managed and asdsim.scenario_hash(again) == asdsim.scenario_hash(managed)
