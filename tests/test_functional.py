"""Functional behaviour of the simulator: reproducibility, capacity, durations, routing."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import asdsim
from asdsim.model.child import EXIT_REASONS, OPEN_REASONS


def test_same_seed_gives_identical_tables(make_scenario):
    scenario = make_scenario()
    a = asdsim.simulate(scenario, replications=2, seed=7)
    b = asdsim.simulate(scenario, replications=2, seed=7)
    pd.testing.assert_frame_equal(a.patients, b.patients)
    pd.testing.assert_frame_equal(a.weekly, b.weekly)
    pd.testing.assert_frame_equal(a.kpis, b.kpis)


def test_different_seed_or_replication_differs(make_scenario):
    scenario = make_scenario()
    a = asdsim.simulate(scenario, replications=2, seed=7)
    b = asdsim.simulate(scenario, replications=1, seed=8)
    rep0 = a.patients[a.patients.replication == 0]
    rep1 = a.patients[a.patients.replication == 1]
    assert not np.array_equal(rep0.referral_day.to_numpy()[:50], rep1.referral_day.to_numpy()[:50])
    assert not np.array_equal(rep0.referral_day.to_numpy()[:50],
                              b.patients.referral_day.to_numpy()[:50])


def test_parallel_equals_serial(make_scenario):
    scenario = make_scenario()
    serial = asdsim.simulate(scenario, replications=3, seed=3, jobs=1)
    parallel = asdsim.simulate(scenario, replications=3, seed=3, jobs=2)
    pd.testing.assert_frame_equal(serial.patients, parallel.patients)
    pd.testing.assert_frame_equal(serial.weekly, parallel.weekly)
    pd.testing.assert_frame_equal(serial.staff_weekly, parallel.staff_weekly)
    pd.testing.assert_frame_equal(serial.kpis, parallel.kpis)


def test_results_tables_have_documented_columns(make_scenario):
    results = asdsim.simulate(make_scenario(), replications=2, seed=1)
    p = results.patients
    for col in ("replication", "patient_id", "referral_day", "first_appointment_day",
                "assessment_started_day", "diagnosis_day", "exit_day", "exit_reason",
                "referral_date", "first_appointment_date", "team", "locality"):
        assert col in p.columns
    assert set(p.replication) == {0, 1}
    assert list(results.kpis.columns[:5]) == ["kpi", "mean", "ci_low", "ci_high", "unit"]
    assert len(results.weekly) == 2 * 104
    assert results.provenance["seed"] == 1 and results.provenance["replications"] == 2
    assert len(results.provenance["scenario_hash"]) == 16
    # calendar dates agree with day numbers
    seen = p.dropna(subset=["first_appointment_day"]).iloc[0]
    expected = pd.Timestamp("2020-01-06") + pd.Timedelta(days=int(seen.first_appointment_day))
    assert seen.first_appointment_date == expected
    # missing milestones are NaN, never a sentinel
    waiting = p[p.exit_reason == "waiting"]
    assert waiting.diagnosis_day.isna().all()
    html = results._repr_html_()
    assert "<table" in html and "first_appointment_within_13_weeks" in html


def test_more_staff_never_lengthens_the_mean_wait(make_scenario):
    """Under common random numbers, adding WTE to the bottleneck never lengthens waits."""
    means = []
    for wte in (0.8, 1.0, 1.3, 1.8, 2.5):
        scenario = make_scenario(teams={"mdt": {"staff": {
            "paediatrician": {"wte": wte, "autism_share": 0.4},
            "psychologist": {"wte": wte, "autism_share": 0.4}}}})
        p = asdsim.simulate(scenario, replications=3, seed=11).patients
        p = p[p.list_join_day.notna()]
        horizon = scenario.horizon_days
        # restricted mean: children not yet seen count with the wait they have had so far
        wait = p.first_appointment_day.fillna(horizon) - p.referral_day
        means.append(float(wait.mean()))
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(means)), means
    assert means[-1] < 0.5 * means[0], means


def test_caseload_with_fixed_durations_and_ample_capacity_sums_durations():
    scenario = asdsim.scenario_from_dict({
        "name": "fixed", "start_date": "2020-01-06", "horizon_weeks": 30,
        "demand": {"referrals_per_week": 5,
                   "age_bands": [{"min_years": 3, "max_years": 10, "weight": 1}]},
        "teams": {"t": {
            "capacity_mode": "caseload", "caseload": {"clinicians": 500},
            "staff": {"c": {"wte": 1}},
            "steps": [
                {"name": "a", "hours": {"c": 1}, "duration_days": 3},
                {"name": "b", "hours": {"c": 1}, "duration_days": 5, "outcome": True},
                {"name": "c", "hours": {"c": 1}, "duration_days": 7},
            ]}},
    })
    p = asdsim.simulate(scenario, replications=1, seed=1).patients
    done = p[p.exit_reason == "assessed"]
    assert len(done) > 100
    np.testing.assert_allclose(done.exit_day - done.referral_day, 15.0, atol=1e-9)
    np.testing.assert_allclose(done.diagnosis_day - done.referral_day, 8.0, atol=1e-9)
    np.testing.assert_allclose(done.first_appointment_day, done.referral_day, atol=1e-9)


def test_clinic_hours_with_ample_capacity_follows_the_gaps(make_scenario):
    scenario = make_scenario(teams={"mdt": {"staff": {
        "paediatrician": {"wte": 50}, "psychologist": {"wte": 50}}}})
    p = asdsim.simulate(scenario, replications=1, seed=2).patients
    done = p[p.exit_reason == "assessed"]
    assert len(done) > 500
    # first appointment in the working days (the first five) of the week of the first weekly
    # booking pass after joining the list, spread over those days rather than at its first instant
    week_start = 7.0 * np.ceil(done.list_join_day / 7.0)
    offset = done.first_appointment_day - week_start
    assert (offset >= 0).all() and (offset < 5.0).all()
    assert offset.std() > 1.0  # spread (uniform over 5 days: sd 1.44), not all on day 0
    # each later step keeps its 7-day gap, and lands in the working days of that gap's week
    gap = done.diagnosis_day - done.first_appointment_day
    assert (gap >= 14.0 - 1e-9).all() and (gap < 14.0 + 2 * 5.0).all()
    again = asdsim.simulate(scenario, replications=1, seed=2).patients
    np.testing.assert_array_equal(again.first_appointment_day, p.first_appointment_day)


def _team(min_age, max_age, localities=None, **extra):
    team = {
        "min_age_years": min_age, "max_age_years": max_age,
        "staff": {"p": {"wte": 20}},
        "steps": [{"name": "assess", "hours": {"p": 2}, "outcome": True}],
        **extra,
    }
    if localities is not None:
        team["localities"] = localities
    return team


def _under4_scenario(rule: str):
    return asdsim.scenario_from_dict({
        "name": "under4", "start_date": "2020-01-06", "horizon_weeks": 156,
        "demand": {"referrals_per_week": 20,
                   "age_bands": [{"min_years": 1, "max_years": 4, "weight": 1},
                                 {"min_years": 4, "max_years": 12, "weight": 1}],
                   "localities": {"north": 0.5, "south": 0.5}},
        "routing": {"uncovered": rule},
        "teams": {"preschool": _team(0, 4, ["south"]), "school": _team(4, 18)},
    })


def test_under4_without_pathway_recorded_as_unmet_need():
    p = asdsim.simulate(_under4_scenario("no_pathway"), replications=2, seed=5).patients
    young = p.age_at_referral_years < 4
    north, south = p.locality == "north", p.locality == "south"
    assert (young & north).sum() > 500
    assert p.loc[young & north, "assessment_started_day"].isna().all()
    assert (p.loc[young & north, "exit_reason"] == "no_pathway").all()
    assessed_south = (p.loc[young & south, "exit_reason"] == "assessed").mean()
    assert assessed_south > 0.9
    assert (p.loc[young & south, "team"] == "preschool").all()


def test_under4_held_until_eligible_then_assessed_by_school_team():
    p = asdsim.simulate(_under4_scenario("hold"), replications=1, seed=5).patients
    young_north = (p.age_at_referral_years < 4) & (p.locality == "north")
    held = p[young_north]
    assert held.held_day.notna().all()
    assert (held.exit_reason != "no_pathway").all()
    started = held.dropna(subset=["assessment_started_day"])
    assert len(started) > 50
    age_at_start = started.age_at_referral_years + (
        started.assessment_started_day - started.first_referral_day) / 365.25
    assert (age_at_start >= 4.0 - 1e-6).all()
    assert (started.team == "school").all()


def test_under4_out_of_area():
    p = asdsim.simulate(_under4_scenario("out_of_area"), replications=1, seed=5).patients
    young_north = (p.age_at_referral_years < 4) & (p.locality == "north")
    assert (p.loc[young_north, "exit_reason"] == "out_of_area").all()


def test_age_out_and_transfer_at_team_boundary():
    scenario = asdsim.scenario_from_dict({
        "name": "ageing", "start_date": "2020-01-06", "horizon_weeks": 156,
        "demand": {"referrals_per_week": 20,
                   "age_bands": [{"min_years": 10, "max_years": 18, "weight": 1}]},
        "teams": {
            # too little capacity: children wait long enough to cross boundaries
            "junior": _team(0, 12, on_age_boundary="transfer", staff={"p": {"wte": 0.1}}),
            "senior": _team(12, 18, staff={"p": {"wte": 0.1}}),
        },
    })
    p = asdsim.simulate(scenario, replications=1, seed=9).patients
    aged_out = p[p.exit_reason == "aged_out"]
    assert len(aged_out) > 50
    age_at_exit = aged_out.age_at_referral_years + (
        aged_out.exit_day - aged_out.first_referral_day) / 365.25
    np.testing.assert_allclose(age_at_exit, 18.0, atol=1e-6)
    moved = p[p.transfers > 0]
    assert len(moved) > 20
    assert set(moved.team) <= {"senior"} | set(moved.team[moved.exit_reason == "aged_out"])
    assert (moved.team == "senior").mean() > 0.9


def test_review_route_delays_very_young_children():
    scenario = asdsim.scenario_from_dict({
        "name": "review", "start_date": "2020-01-06", "horizon_weeks": 104,
        "demand": {"referrals_per_week": 10,
                   "age_bands": [{"min_years": 1, "max_years": 6, "weight": 1}]},
        "teams": {"t": _team(0, 18, review={"under_years": 2.5, "duration_days": 90})},
    })
    p = asdsim.simulate(scenario, replications=1, seed=4).patients
    young = p[p.age_at_referral_years < 2.5]
    older = p[p.age_at_referral_years >= 2.5]
    assert young.review_day.notna().all() and older.review_day.isna().all()
    joined = young.dropna(subset=["list_join_day"])
    np.testing.assert_allclose(joined.list_join_day - joined.review_day, 90.0, atol=1e-9)


def test_priority_discipline_serves_urgent_children_first(make_scenario):
    over = {"demand": {"flags": {"looked_after": {"probability": 0.2, "priority": "urgent"}}},
            "teams": {"mdt": {"waiting_list": {"discipline": "priority"},
                              "staff": {"paediatrician": {"wte": 1.0, "autism_share": 0.3},
                                        "psychologist": {"wte": 1.0, "autism_share": 0.3}}}}}
    p = asdsim.simulate(make_scenario(**over), replications=2, seed=3).patients
    wait = p.first_appointment_day.fillna(208 * 7) - p.referral_day
    assert wait[p.priority == "urgent"].mean() < 0.3 * wait[p.priority == "routine"].mean()
    fifo = asdsim.simulate(make_scenario(**deep(over, "fifo")), replications=2, seed=3).patients
    wait_f = fifo.first_appointment_day.fillna(208 * 7) - fifo.referral_day
    assert wait_f[fifo.priority == "urgent"].mean() > 0.6 * wait_f[fifo.priority == "routine"].mean()


def deep(over, discipline):
    import copy

    out = copy.deepcopy(over)
    out["teams"]["mdt"]["waiting_list"]["discipline"] = discipline
    return out


def test_withdrawal_hazard_matches_its_rate():
    scenario = asdsim.scenario_from_dict({
        "name": "withdraw", "start_date": "2020-01-06", "horizon_weeks": 104,
        "demand": {"referrals_per_week": 30,
                   "age_bands": [{"min_years": 2, "max_years": 8, "weight": 1}]},
        "teams": {"t": _team(0, 18, staff={"p": {"wte": 0.01}},
                             waiting_list={"withdrawal_per_year": 0.5})},
    })
    p = asdsim.simulate(scenario, replications=2, seed=2).patients
    listed = p[p.list_join_day.notna()]
    exposure = (listed.exit_day.fillna(scenario.horizon_days) - listed.list_join_day).sum()
    withdrawals = (listed.exit_reason == "withdrawn").sum()
    rate_per_year = withdrawals / exposure * 365.25
    assert rate_per_year == pytest.approx(0.5, rel=0.1)


def test_dna_discharge_after_two_missed_appointments(make_scenario):
    scenario = make_scenario(teams={"mdt": {
        "staff": {"paediatrician": {"wte": 5}, "psychologist": {"wte": 5}},
        "steps": [{"name": "history", "hours": {"paediatrician": 2}, "dna_probability": 0.4},
                  {"name": "mdt", "hours": {"psychologist": 1}, "contact": False,
                   "outcome": True}]}})
    p = asdsim.simulate(scenario, replications=1, seed=6).patients
    discharged = p[p.exit_reason == "discharged_dna"]
    assert (discharged.dna_count == 2).all()
    # about 0.4 * 0.4 of those booked are discharged
    booked = p[p.exit_reason.isin(["assessed", "discharged_dna"])]
    assert len(discharged) / len(booked) == pytest.approx(0.16, abs=0.04)
    assert (p.dna_count <= 2).all()


def test_triage_capacity_reject_rereferral_and_information_loops(make_scenario):
    scenario = make_scenario(triage={
        "capacity_per_week": 100,
        "outcomes": {"accept": 0.6, "reject": 0.2, "more_information": 0.2},
        "rereferral_probability": 0.5, "rereferral_delay_days": 30,
        "information_return_probability": 0.5, "information_wait_days": 20})
    p = asdsim.simulate(scenario, replications=2, seed=8).patients
    reasons = p.exit_reason.value_counts(normalize=True)
    # rejected for good: 0.2 * 0.5 of triage decisions; not returned: 0.2 * 0.5
    assert reasons["rejected"] == pytest.approx(0.1 / 0.8, abs=0.04)
    assert reasons["information_not_returned"] == pytest.approx(0.1 / 0.8, abs=0.04)
    assert (p.referrals > 1).any()
    rereferred = p[p.referrals > 1]
    assert (rereferred.referral_day >= rereferred.first_referral_day + 30 - 1e-9).all()
    slow = make_scenario(triage={"capacity_per_week": 5})
    triaged = asdsim.simulate(slow, replications=1, seed=8).patients
    per_week = triaged.triage_day.dropna() // 7
    assert per_week.value_counts().max() <= 5 + 1


def test_outsourced_block_takes_children_each_month(make_scenario):
    scenario = make_scenario(outsourcing=[{
        "team": "mdt", "start_date": "2020-07-01", "end_date": "2020-12-31",
        "assessments_per_month": 25, "price_gbp": 1500}],
        teams={"mdt": {"staff": {"paediatrician": {"wte": 0.3}, "psychologist": {"wte": 0.3}}}})
    results = asdsim.simulate(scenario, replications=1, seed=1)
    p = results.patients
    out = p[p.outsourced]
    assert len(out) == 6 * 25
    assert (out.exit_reason == "assessed").all()
    assert results.kpi("cost_outsourced") == pytest.approx(150 * 1500)
    months = pd.to_datetime(out.first_appointment_date).dt.month.value_counts()
    assert len(months) == 6


def test_capacity_change_raises_hours_from_its_date(make_scenario):
    scenario = make_scenario(capacity_changes=[
        {"date": "2021-01-04", "team": "mdt", "group": "psychologist", "wte": 3.0}])
    staff = asdsim.simulate(scenario, replications=1, seed=1).staff_weekly
    psych = staff[staff.group == "psychologist"].set_index("week").hours_available
    assert psych[10] == pytest.approx(1.0 * 0.4 * 37.5)
    assert psych[60] == pytest.approx(3.0 * 0.4 * 37.5)


def test_every_child_has_a_known_exit_reason(make_scenario):
    p = asdsim.simulate(make_scenario(), replications=1, seed=1).patients
    assert set(p.exit_reason.astype(str)) <= set(EXIT_REASONS) | set(OPEN_REASONS)


def test_uncertain_outcome_adds_steps_and_is_likelier_in_very_young_children():
    scenario = asdsim.scenario_from_dict({
        "name": "uncertain", "start_date": "2020-01-06", "horizon_weeks": 104,
        "demand": {"referrals_per_week": 20,
                   "age_bands": [{"min_years": 1, "max_years": 2, "weight": 1},
                                 {"min_years": 2, "max_years": 10, "weight": 1}]},
        "teams": {"t": {
            "capacity_mode": "caseload", "caseload": {"clinicians": 1000},
            "staff": {"p": {"wte": 1}},
            "steps": [{"name": "mdt", "hours": {"p": 2}, "outcome": True, "duration_days": 10}],
            "outcomes": {"autism": 0.7, "other_neurodevelopmental": 0.1, "none": 0.1,
                         "uncertain": 0.1},
            "uncertain_steps": [{"name": "second opinion", "hours": {"p": 3},
                                 "duration_days": 60}],
            "young_child": {"under_years": 2.0, "uncertain_probability": 0.6},
        }},
    })
    p = asdsim.simulate(scenario, replications=1, seed=3).patients
    # referred early enough that even the uncertain branch ends before the horizon
    done = p[(p.exit_reason == "assessed") & (p.referral_day < 728 - 75)]
    took = (done.diagnosis_day - done.referral_day).round(6)
    assert set(took) == {10.0, 70.0}
    longer = took == 70.0
    young = done.age_at_referral_years < 1.95  # still under 2 at the outcome, ten days on
    older = done.age_at_referral_years >= 2
    assert young.sum() > 500 and older.sum() > 500
    assert longer[young].mean() == pytest.approx(0.6, abs=0.05)
    assert longer[older].mean() == pytest.approx(0.1, abs=0.03)
    assert set(done.outcome) <= {"autism", "other_neurodevelopmental", "none"}
    np.testing.assert_allclose(done.staff_hours[longer], 5.0)


def test_monthly_capacity_factor_dips_august(make_scenario):
    factors = [1.0] * 7 + [0.5] + [1.0] * 4
    scenario = make_scenario(teams={"mdt": {"monthly_capacity_factors": factors}})
    staff = asdsim.simulate(scenario, replications=1, seed=1).staff_weekly
    paed = staff[staff.group == "paediatrician"].set_index("week").hours_available
    week_start = pd.Timestamp("2020-01-06") + pd.to_timedelta(7 * paed.index + 3, unit="D")
    august = paed[week_start.month == 8]
    assert len(august) >= 8
    np.testing.assert_allclose(august, 0.5 * 15.0)
    assert paed[week_start.month == 3].iloc[0] == pytest.approx(15.0)


def test_backlog_clearance_week_and_censoring(make_scenario):
    fast = make_scenario(
        initial_state={"kind": "generated", "backlog": [
            {"stage": "awaiting_assessment", "count": 60, "weeks_waited_max": 20}]},
        teams={"mdt": {"staff": {"paediatrician": {"wte": 3}, "psychologist": {"wte": 3}}}})
    results = asdsim.simulate(fast, replications=2, seed=1)
    p = results.patients
    last = p[p.from_backlog].groupby("replication").apply(
        lambda g: np.fmin(g.assessment_started_day, g.exit_day).max() / 7, include_groups=False)
    assert results.kpi("backlog_cleared_weeks") == pytest.approx(last.mean())
    assert 0 < last.max() < 52
    slow = make_scenario(
        initial_state={"kind": "generated", "backlog": [
            {"stage": "awaiting_assessment", "count": 3000, "weeks_waited_max": 20}]})
    assert np.isnan(asdsim.simulate(slow, replications=2, seed=1).kpi("backlog_cleared_weeks"))


def test_assessment_longer_than_the_booking_horizon_is_booked_in_parts(make_scenario):
    """Steps beyond the booking horizon are booked as it reaches them, not never."""
    scenario = make_scenario(teams={"mdt": {
        "booking_horizon_weeks": 4,
        "staff": {"paediatrician": {"wte": 5}, "psychologist": {"wte": 5}},
        "steps": [
            {"name": "history", "hours": {"paediatrician": 2}},
            {"name": "observation", "hours": {"psychologist": 2}, "min_gap_days": 42},
            {"name": "mdt", "hours": {"paediatrician": 1, "psychologist": 1}, "joint": True,
             "contact": False, "outcome": True, "min_gap_days": 42},
        ]}})
    p = asdsim.simulate(scenario, replications=1, seed=2).patients
    done = p[p.exit_reason == "assessed"]
    assert len(done) > 300
    # with ample hours the gaps are kept, though each spans past the 4-week horizon: each later
    # step falls at least its gap after the one before, and within that week's working days
    gap = done.diagnosis_day - done.first_appointment_day
    assert (gap >= 84.0 - 1e-9).all() and (gap < 84.0 + 2 * 5.0).all()


@pytest.mark.parametrize("path", ["scenarios/as_is_2018.yaml", "scenarios/recovery.yaml",
                                  "scenarios/as_happened_2018_2020.yaml",
                                  "scenarios/regression/caseload.yaml"])
def test_a_finished_replication_leaves_no_reference_cycles(path):
    """run_replication disposes of its pathway, so the cyclic garbage collector (paused while
    it runs) has nothing of it to find afterwards: it was freed by reference counting."""
    import gc

    from asdsim.experiments.runner import run_replication
    from asdsim.model.pathway import Pathway

    scenario = asdsim.load_scenario(path)
    run_replication(scenario, 3, 0)  # imports and caches settled
    gc.collect()
    gc.disable()
    try:
        run_replication(scenario, 3, 1)
        left = gc.collect()
        pathway = Pathway(scenario, 3, 1)  # the same run, not disposed of: thousands in cycles
        pathway.run()
        del pathway
        undisposed = gc.collect()
    finally:
        gc.enable()
    assert left < 100 < 1000 < undisposed
