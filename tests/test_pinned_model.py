"""Pinned model behaviour, worked out by hand on a handful of children.

Each test builds a tiny scenario whose answer can be computed on paper: no new referrals (or
referrals only in a known month), children placed by a generated backlog with a fixed wait or a
CSV snapshot, fixed durations, probabilities of 0 or 1, and capacities of a few hours. The
expected values are derived in the comments from the documented rules, never copied from the
code's output.

A CSV snapshot keeps a child's age at referral as whole months completed, and the model uses
the middle of that month, (months + 0.5) / 12 years.

Day 0 is Monday 6 January 2020 unless a test says otherwise; week w is days [7w, 7w + 7).
In clinic-hours mode a booked appointment falls in the first five days of its week, at the
child's own random point of [max(7w, earliest day), 7w + 5) (or on its earliest day where that
is later), so clinic-hours tests pin the week exactly and the day by hand-worked bounds.
"""

from __future__ import annotations

import copy
import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import asdsim
from asdsim.model.capacity import hours_available, slot_changes, week_months
from asdsim.model.demand import daily_rates, draw_children, referral_days
from asdsim.scenario.schema import Demand


def team(**over: Any) -> dict[str, Any]:
    """Clinic hours: one group 'p' with 10 hours a week; one step of 1 hour that decides."""
    out: dict[str, Any] = {
        "staff": {"p": {"wte": 1, "hours_per_wte_week": 10}},
        "steps": [{"name": "assess", "hours": {"p": 1}, "outcome": True}],
    }
    out.update(over)
    return out


def scenario(teams: dict[str, Any] | None = None, **over: Any) -> asdsim.Scenario:
    data: dict[str, Any] = {
        "name": "pinned-model", "start_date": "2020-01-06", "horizon_weeks": 10,
        "demand": {"referrals_per_week": 0,
                   "age_bands": [{"min_years": 5, "max_years": 6, "weight": 1}]},
        "teams": teams if teams is not None else {"t": team()},
    }
    data.update(copy.deepcopy(over))
    return asdsim.scenario_from_dict(data)


def backlog(count: int, weeks: float = 0.0, stage: str = "awaiting_assessment",
            **extra: Any) -> dict[str, Any]:
    """A generated backlog group whose children were all referred exactly ``weeks`` ago."""
    return {"stage": stage, "count": count, "weeks_waited_min": weeks,
            "weeks_waited_max": weeks, **extra}


def generated(*groups: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "generated", "backlog": list(groups)}


def snapshot(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "snapshot.csv"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return {"kind": "csv", "csv": str(path)}


def run(s: asdsim.Scenario, seed: int = 1) -> asdsim.Results:
    return asdsim.simulate(s, replications=1, seed=seed)


# ------------------------------------------------------------------------ did not attend


def test_caseload_dna_rebooks_after_the_stated_delay():
    # One slot; two children referred on day 0. Each has one step that is always missed
    # (dna_probability 1); rebook after 10 days; discharge after 3 DNAs.
    # Child 1 starts day 0: DNA day 0, DNA day 10, DNA day 20 -> discharged day 20.
    # Child 2 takes the slot on day 20: discharged on day 40.
    s = scenario(
        teams={"t": team(capacity_mode="caseload", caseload={"clinicians": 1},
                         steps=[{"name": "assess", "hours": {"p": 1}, "outcome": True,
                                 "dna_probability": 1.0, "duration_days": 5}],
                         dna={"discharge_after": 3, "rebook_after_days": 10})},
        initial_state=generated(backlog(2)))
    p = run(s).patients.sort_values("exit_day")
    assert p.exit_day.tolist() == [20.0, 40.0]
    assert (p.exit_reason == "discharged_dna").all()
    assert p.dna_count.tolist() == [3, 3]
    assert p.first_appointment_day.isna().all() and p.diagnosis_day.isna().all()


def dna_after_attended(mode: dict[str, Any]) -> asdsim.Scenario:
    """Step 1 (3 days, attended) on day 0; step 2 after a 4-day gap, always missed; rebook
    10 days after a DNA; discharged after 2 DNAs (the default)."""
    steps = [{"name": "history", "hours": {"p": 1}, "duration_days": 3},
             {"name": "observe", "hours": {"p": 1}, "outcome": True, "min_gap_days": 4,
              "dna_probability": 1.0}]
    return scenario(teams={"t": team(steps=steps, dna={"rebook_after_days": 10}, **mode)},
                    initial_state=generated(backlog(1)))


CASELOAD = {"capacity_mode": "caseload", "caseload": {"clinicians": 1}}


def test_caseload_dna_after_an_attended_step():
    # history day 0, done day 3; observation from day 3 + 4 = 7, missed; missed again later
    row = run(dna_after_attended(CASELOAD)).patients.iloc[0]
    assert row.first_appointment_day == 0.0
    assert row.exit_reason == "discharged_dna" and row.dna_count == 2
    assert row.exit_day >= 17.0


def test_caseload_dna_rebooks_after_the_delay_not_the_delay_and_the_gap_again():
    # The gap runs from the previous step (day 3 + 4 = 7); the rebook delay from the DNA:
    # missed on day 7, rebooked for day 7 + 10 = 17, missed -> discharged on day 17.
    row = run(dna_after_attended(CASELOAD)).patients.iloc[0]
    assert row.exit_day == 17.0


def test_clinic_hours_dna_after_an_attended_step():
    # The same in clinic hours (10 h a week, ample): history on h in [0, 5); observation from
    # h + 4, missed on o >= h + 4; rebooked from o + 10, missed again -> discharged, at least
    # 4 + 10 = 14 days after h (durations are a caseload notion).
    row = run(dna_after_attended({})).patients.iloc[0]
    assert 0.0 <= row.first_appointment_day < 5.0
    assert (row.exit_reason, row.dna_count) == ("discharged_dna", 2)
    assert row.exit_day - row.first_appointment_day >= 14.0
    assert row.exit_day < 26.0


def test_clinic_hours_dna_rebooks_after_the_stated_delay():
    # Booked at the day-0 pass into week 0, on some day d in [0, 5); missed. Rebooked from
    # d + 10 in [10, 15): in week 1 at a day in [d + 10, 12) or on d + 10 itself if later, or in
    # week 2 at [d + 10, 19); missed again -> discharged. So 10 <= exit < 19 (a zero delay would
    # give exit < 5, a doubled one exit >= 20). The default delay, 14 days: 14 <= exit < 19.
    steps = [{"name": "assess", "hours": {"p": 1}, "outcome": True, "dna_probability": 1.0}]
    s = scenario(teams={"t": team(steps=steps, dna={"rebook_after_days": 10})},
                 initial_state=generated(backlog(1)))
    row = run(s).patients.iloc[0]
    assert (row.exit_reason, row.dna_count) == ("discharged_dna", 2)
    assert 10.0 <= row.exit_day < 19.0
    s = scenario(teams={"t": team(steps=steps)}, initial_state=generated(backlog(1)))
    assert 14.0 <= run(s).patients.iloc[0].exit_day < 19.0


def test_clinic_hours_missed_appointment_after_the_decision_still_ends_assessed():
    # 'history' (the deciding step) is attended on day h in [0, 5): first appointment and
    # diagnosis on h. 'feedback' from h + 7 (week 1) is always missed: three DNAs, each rebooked
    # at least 3 days after the last, so the child leaves at least 7 + 3 + 3 = 13 days after h.
    # The outcome was decided, so the child leaves assessed, not discharged.
    steps = [{"name": "history", "hours": {"p": 1}, "outcome": True},
             {"name": "feedback", "hours": {"p": 1}, "min_gap_days": 7, "dna_probability": 1.0}]
    s = scenario(teams={"t": team(steps=steps, dna={"discharge_after": 3,
                                                    "rebook_after_days": 3})},
                 initial_state=generated(backlog(1)))
    row = run(s).patients.iloc[0]
    assert 0.0 <= row.first_appointment_day < 5.0
    assert row.diagnosis_day == row.first_appointment_day
    assert (row.exit_reason, row.dna_count) == ("assessed", 3)
    assert row.exit_day - row.diagnosis_day >= 13.0
    assert row.exit_day < 28.0  # weeks 1, 2 and at latest 3, on a working day


# -------------------------------------------------------------------- clinic hours capacity


def capacity_scenario(**over: Any) -> asdsim.Scenario:
    # p: 1.5 WTE x 0.4 x 37.5 h x (52 - 7.8) / 52 = 22.5 x 0.85 = 19.125 h a week
    # q: no WTE at first; 0.5 x 30 h = 15 h per WTE
    teams = {
        "t": {"max_age_years": 10,
              "staff": {"p": {"wte": 1.5, "autism_share": 0.4, "hours_per_wte_week": 37.5,
                              "weeks_lost_per_year": 7.8},
                        "q": {"wte": 0, "autism_share": 0.5, "hours_per_wte_week": 30}},
              "steps": [{"name": "assess", "hours": {"p": 1, "q": 1}, "outcome": True}]},
        "other": {"min_age_years": 10, "staff": {"p": {"wte": 1, "hours_per_wte_week": 8}},
                  "steps": [{"name": "assess", "hours": {"p": 1}, "outcome": True}]},
    }
    return scenario(teams=teams, horizon_weeks=12, **over)


def test_hours_available_is_wte_share_hours_and_weeks_not_lost():
    s = capacity_scenario()
    assert s.teams["t"].staff["p"].hours_per_week == pytest.approx(19.125)
    hours = hours_available(s, "t", 12)
    assert hours.shape == (2, 12)
    np.testing.assert_allclose(hours[0], 19.125)
    np.testing.assert_allclose(hours[1], 0.0)
    np.testing.assert_allclose(hours_available(s, "other", 3), [[8.0, 8.0, 8.0]])


def test_dated_wte_changes_apply_from_the_week_containing_their_date():
    # q: 0 -> 2 WTE on Wednesday 22 January (day 16, in week 2): weeks 0-1 nothing, then
    #    2 x 0.5 x 30 = 30 h. p: listed out of date order: 1.0 WTE from Monday 2 March (day 56,
    #    week 8) and 3.0 WTE from Monday 3 February (day 28, week 4): 19.125 h in weeks 0-3,
    #    3 x 12.75 = 38.25 h in weeks 4-7, 12.75 h from week 8. A change to the other team's
    #    'p' changes nothing here.
    s = capacity_scenario(capacity_changes=[
        {"date": "2020-01-22", "team": "t", "group": "q", "wte": 2.0},
        {"date": "2020-03-02", "team": "t", "group": "p", "wte": 1.0},
        {"date": "2020-02-03", "team": "t", "group": "p", "wte": 3.0},
        {"date": "2020-01-06", "team": "other", "group": "p", "wte": 5.0},
    ])
    hours = hours_available(s, "t", 12)
    np.testing.assert_allclose(hours[1], [0, 0] + [30.0] * 10)
    np.testing.assert_allclose(hours[0], [19.125] * 4 + [38.25] * 4 + [12.75] * 4)
    # the other team: 5 WTE x 8 h from day 0
    np.testing.assert_allclose(hours_available(s, "other", 2), [[40.0, 40.0]])


def test_staff_weekly_reports_the_hours_available_and_used():
    # A change on the first day of a week (Monday 20 January, day 14) applies from that week.
    # Two children referred on day 0 each need 1 h of p and 1 h of q: q has no hours until
    # week 2, so both are booked into week 2 (days 14 to 19); 2 h used of each group that week.
    s = capacity_scenario(capacity_changes=[
        {"date": "2020-01-20", "team": "t", "group": "q", "wte": 2.0}],
        initial_state=generated(backlog(2)))
    results = run(s)
    staff = results.staff_weekly
    q = staff[(staff.team == "t") & (staff.group == "q")].set_index("week")
    assert q.hours_available.tolist() == [0.0, 0.0] + [30.0] * 10
    assert q.hours_used.tolist() == [0.0, 0.0, 2.0] + [0.0] * 9
    assert (results.patients.first_appointment_day // 7).tolist() == [2, 2]
    # utilisation of q: 2 h used of 300 available
    assert results.kpi("utilisation[t/q]") == pytest.approx(2 / 300)


def test_monthly_capacity_factor_is_the_month_of_mid_week():
    # Week k's middle is start + 7k + 3 days.
    # From Tuesday 28 July 2020: middles 31 Jul, 7 Aug, ..., 28 Aug, 4 Sep.
    assert week_months(dt.date(2020, 7, 28), 6).tolist() == [6, 7, 7, 7, 7, 8]
    # From Wednesday 29 July 2020: middles 1 Aug, ..., 29 Aug, 5 Sep.
    assert week_months(dt.date(2020, 7, 29), 6).tolist() == [7, 7, 7, 7, 7, 8]
    # December into January
    assert week_months(dt.date(2020, 12, 26), 2).tolist() == [11, 0]
    factors = [1.0] * 12
    factors[6], factors[7] = 0.9, 0.5
    s = scenario(start_date="2020-07-28", horizon_weeks=6,
                 teams={"t": team(monthly_capacity_factors=factors)})
    # 10 h a week times the factor of each week's month
    np.testing.assert_allclose(hours_available(s, "t", 6)[0], [9, 5, 5, 5, 5, 10])


# ---------------------------------------------------------------------------- caseload slots


def test_caseload_slots_are_clinicians_times_cases_rounded_down():
    def slots(clinicians: float, cases: int) -> int:
        s = scenario(teams={"t": team(capacity_mode="caseload",
                                      caseload={"clinicians": clinicians,
                                                "cases_per_clinician": cases})})
        return s.teams["t"].caseload.slots

    assert slots(2.5, 3) == 7          # 7.5 -> 7
    assert slots(0.29, 100) == 29      # 28.999999999999996 in floating point is 29
    assert slots(0.3, 1) == 0
    assert slots(4, 2) == 8


def test_slot_changes_from_their_day():
    # 2.5 clinicians x 2 cases = 5 slots; 1.15 clinicians x 2 = 2 from Wednesday 22 January
    # (day 16); 0.29 x 2 = 0 from day 30 (1 February 2020 is day 26: use 5 February).
    t = team(capacity_mode="caseload", caseload={"clinicians": 2.5, "cases_per_clinician": 2})
    s = scenario(teams={"t": t}, capacity_changes=[
        {"date": "2020-02-05", "team": "t", "clinicians": 0.29},
        {"date": "2020-01-22", "team": "t", "clinicians": 1.15}])
    assert slot_changes(s, "t", s.teams["t"]) == [(0.0, 5), (16.0, 2), (30.0, 0)]
    t100 = {**t, "caseload": {"clinicians": 1, "cases_per_clinician": 100}}
    s = scenario(teams={"t": t100}, capacity_changes=[
        {"date": "2020-01-22", "team": "t", "clinicians": 0.57}])
    assert slot_changes(s, "t", s.teams["t"]) == [(0.0, 100), (16.0, 57)]


def test_a_new_slot_is_used_on_the_day_of_the_change():
    # One slot, cases of 10 days; three children referred on day 0; a second clinician from
    # Monday 20 January (day 14). Child 1: days 0-10; child 2: 10-20; child 3 takes the new
    # slot on day 14 and finishes on day 24.
    t = team(capacity_mode="caseload", caseload={"clinicians": 1},
             steps=[{"name": "assess", "hours": {"p": 1}, "outcome": True,
                     "duration_days": 10}])
    s = scenario(teams={"t": t}, initial_state=generated(backlog(3)),
                 capacity_changes=[{"date": "2020-01-20", "team": "t", "clinicians": 2}])
    results = run(s)
    p = results.patients.sort_values("exit_day")
    assert p.exit_day.tolist() == [10.0, 20.0, 24.0]
    assert p.assessment_started_day.tolist() == [0.0, 10.0, 14.0]
    slots = results.teams_weekly.set_index("week")
    assert slots.slots_available.tolist() == [1, 1] + [2] * 8
    # case-days held: week 0 (days 0-7): 7 (child 1); week 1 (7-14): child 1 to day 10 (3) and
    # child 2 from day 10 (4): 7; week 2 (14-21): child 2 to day 20 (6) and child 3 from day 14
    # (7): 13; week 3 (21-28): child 3 to day 24: 3. Average cases held = case-days / 7.
    np.testing.assert_allclose(slots.slots_busy.tolist()[:5], [1, 1, 13 / 7, 3 / 7, 0])


# ---------------------------------------------------------------------- waiting-list order


SNAPSHOT_ORDER = """\
    referral_date,age_years,stage,priority
    2019-12-02,5.0,awaiting_assessment,routine
    2019-10-28,5.0,awaiting_triage,routine
    2019-12-30,5.0,awaiting_assessment,urgent
"""


@pytest.mark.parametrize(("discipline", "week_seen"), [
    # A: referred day -35, on the list since then; B: referred day -70, triaged (and put on the
    # list) on day 0; C: referred day -7, urgent, on the list since then.
    # One hour a week and one hour a child: one first appointment a week, weeks 0, 1 and 2.
    ("fifo", {"A": 0, "C": 1, "B": 2}),          # by list join: -35, -7, 0
    ("longest_wait", {"B": 0, "A": 1, "C": 2}),  # by referral: -70, -35, -7
    ("priority", {"C": 0, "A": 1, "B": 2}),      # urgent first, then by list join
])
def test_waiting_list_order(tmp_path, discipline, week_seen):
    s = scenario(teams={"t": team(staff={"p": {"wte": 1, "hours_per_wte_week": 1}},
                                  waiting_list={"discipline": discipline})},
                 initial_state=snapshot(tmp_path, SNAPSHOT_ORDER))
    p = run(s).patients.set_index("referral_day")
    by_name = {"A": -35.0, "B": -70.0, "C": -7.0}
    assert {k: p.first_appointment_day[v] // 7 for k, v in by_name.items()} == week_seen
    assert p.list_join_day[-70.0] == 0.0 and p.list_join_day[-35.0] == -35.0


def test_longest_wait_orders_by_first_referral_in_caseload_mode(tmp_path):
    # Same children, one slot, 5-day cases. A caseload team starts a case the moment a slot is
    # free: A joins the list first (while the start state is set up, before B is triaged) and
    # takes the slot on day 0. On day 5 B (referred day -70) goes before C (day -7), though C
    # joined the list first (day -7 against day 0): B day 5, C day 10.
    t = team(capacity_mode="caseload", caseload={"clinicians": 1},
             waiting_list={"discipline": "longest_wait"},
             steps=[{"name": "assess", "hours": {"p": 1}, "outcome": True, "duration_days": 5}])
    s = scenario(teams={"t": t}, initial_state=snapshot(tmp_path, SNAPSHOT_ORDER))
    p = run(s).patients.set_index("referral_day")
    assert p.assessment_started_day.to_dict() == {-35.0: 0.0, -70.0: 5.0, -7.0: 10.0}


def test_the_first_child_who_cannot_be_booked_stops_new_starts():
    # 3 h a week, three children referred on day 0 needing 2 h each, booking horizon 1 week.
    # Week 0: child 1 (2 h); child 2 does not fit in the 1 h left, and nobody after it starts
    # that week. One start a week: weeks 0, 1, 2, each on a working day.
    steps = [{"name": "assess", "hours": {"p": 2}, "outcome": True}]
    s = scenario(teams={"t": team(staff={"p": {"wte": 1, "hours_per_wte_week": 3}},
                                  booking_horizon_weeks=1, steps=steps)},
                 initial_state=generated(backlog(3)))
    results = run(s)
    days = sorted(results.patients.first_appointment_day)
    assert [d // 7 for d in days] == [0, 1, 2]
    assert all(d % 7 < 5 for d in days)
    assert results.staff_weekly.hours_used.tolist()[:4] == [2.0, 2.0, 2.0, 0.0]


def test_a_package_is_booked_in_the_earliest_weeks_with_hours_and_keeps_its_gaps():
    # Steps: history (p 2 h), observation at least 7 days later (joint: p 1 h and q 1 h),
    # decision (q 1 h) at least 2 days after that. p has 3 h a week, q 1 h a week. One child.
    # History: week 0, day h in [0, 5). Observation from h + 7 in [7, 12): week 1 (p 1 h and
    # q 1 h free), day in [h + 7, 12). Decision from there + 2, in [9, 14): q's week-1 hour is
    # taken, so week 2, day in [14, 19).
    staff = {"p": {"wte": 1, "hours_per_wte_week": 3}, "q": {"wte": 1, "hours_per_wte_week": 1}}
    steps = [{"name": "history", "hours": {"p": 2}},
             {"name": "observation", "hours": {"p": 1, "q": 1}, "joint": True,
              "min_gap_days": 7},
             {"name": "decision", "hours": {"q": 1}, "outcome": True, "contact": False,
              "min_gap_days": 2}]
    s = scenario(teams={"t": team(staff=staff, steps=steps)}, initial_state=generated(backlog(1)))
    results = run(s)
    row = results.patients.iloc[0]
    assert row.first_appointment_day == row.assessment_started_day
    assert 0.0 <= row.first_appointment_day < 5.0
    assert 14.0 <= row.diagnosis_day < 19.0 and row.exit_day == row.diagnosis_day
    assert row.staff_hours == 5.0
    used = results.staff_weekly.pivot(index="week", columns="group", values="hours_used")
    assert used.p.tolist()[:4] == [2.0, 1.0, 0.0, 0.0]
    assert used.q.tolist()[:4] == [0.0, 1.0, 1.0, 0.0]


def test_clinic_appointments_fall_on_the_first_five_days_of_their_week():
    # 30 children referred on day 0; 10 h a week, 1 h each: 10 a week in weeks 0, 1 and 2,
    # every one on a day d with d mod 7 < 5.
    s = scenario(initial_state=generated(backlog(30)))
    days = run(s).patients.first_appointment_day
    assert (days // 7).value_counts().sort_index().tolist() == [10, 10, 10]
    assert (days % 7 < 5).all()


# ------------------------------------------------------------------------------------ triage


def march_only(per_week: float, capacity: float) -> asdsim.Scenario:
    """Referrals only in March (days 55 to 85 from 6 January 2020), 14 weeks (to day 98)."""
    factors = [0.0] * 12
    factors[2] = 1.0
    return scenario(horizon_weeks=14, demand={
        "referrals_per_week": per_week, "monthly_factors": factors,
        "age_bands": [{"min_years": 5, "max_years": 6, "weight": 1}]},
        triage={"capacity_per_week": capacity})


def test_idle_triage_capacity_is_not_banked():
    # One triage a day (7 a week), no referrals before day 55 (1 March). Each daily session adds
    # a day's credit, triages while the credit covers one, and with the queue empty keeps at
    # most one day's credit. Days 0-55: nothing to triage, credit held at 1. The day-55 session
    # runs before that day's referrals arrive. Day 56: credit 1 + 1 = 2 -> two triaged; then one
    # a day to day 97 (the horizon is day 98): 43 decisions, and nothing else saved from the
    # 55 idle days. About 300 referrals arrive, far more than 43.
    p = run(march_only(70, 7)).patients
    assert len(p) > 200 and p.first_referral_day.min() >= 55
    assert sorted(p.triage_day.dropna()) == [56.0] + [float(d) for d in range(56, 98)]


def test_fractional_triage_capacity_accumulates_only_while_there_is_a_queue():
    # Half a triage a day: credit 0.5 a day, capped at 0.5 while the queue is empty. Day 56:
    # 0.5 + 0.5 = 1.0 -> one triage; then every second day: 56, 58, ..., 96 (21 decisions).
    p = run(march_only(70, 3.5)).patients
    assert sorted(p.triage_day.dropna()) == [float(d) for d in range(56, 98, 2)]


def test_triage_in_referral_order_with_capacity(tmp_path):
    # A queue of three at the start (referred days -70, -35, -7) and one triage a day:
    # triaged on days 0, 1, 2 in referral order.
    rows = """\
        referral_date,age_years,stage
        2019-12-02,5.0,awaiting_triage
        2019-10-28,5.0,awaiting_triage
        2019-12-30,5.0,awaiting_triage
    """
    s = scenario(initial_state=snapshot(tmp_path, rows), triage={"capacity_per_week": 7})
    p = run(s).patients.set_index("referral_day")
    assert p.triage_day.to_dict() == {-70.0: 0.0, -35.0: 1.0, -7.0: 2.0}


# --------------------------------------------------------------------------- CSV snapshots


def test_snapshot_age_is_at_referral_and_stage_is_read(tmp_path):
    # Start 6 January 2020.
    # Row 1: referred 6 July 2019 (day -184), born 6 July 2015: 48 whole months at referral
    #   (54 by the start) -> 48.5 / 12 years; awaiting assessment.
    # Row 2: referred 5 July 2019 (day -185), born 6 July 2015: a day short of 4 years, 47 whole
    #   months -> 47.5 / 12; awaiting triage.
    # Row 3: referred 1 December 2019 (day -36), 3.5 years old then: 42 months -> 42.5 / 12;
    #   awaiting triage.
    rows = """\
        referral_date,date_of_birth,age_years,stage
        2019-07-06,2015-07-06,,awaiting_assessment
        2019-07-05,2015-07-06,,awaiting_triage
        2019-12-01,,3.5,awaiting_triage
    """
    s = scenario(initial_state=snapshot(tmp_path, rows))
    p = run(s).patients.set_index("referral_day")
    assert p.age_at_referral_years.to_dict() == pytest.approx(
        {-184.0: 48.5 / 12, -185.0: 47.5 / 12, -36.0: 42.5 / 12})
    # awaiting assessment: triaged and listed at referral; awaiting triage: triaged (no triage
    # capacity limit) and listed on day 0
    assert p.triage_day.to_dict() == {-184.0: -184.0, -185.0: 0.0, -36.0: 0.0}
    assert p.list_join_day.to_dict() == {-184.0: -184.0, -185.0: 0.0, -36.0: 0.0}
    assert ((p.first_appointment_day >= 0) & (p.first_appointment_day < 5)).all()


def test_snapshot_age_decides_routing_at_the_start(tmp_path):
    # Referred 6 July 2019, born 4 October 2015: 45 whole months -> 45.5 / 12 = 3.79 years at
    # referral; by the start, 184 days on, 4.30: routed to the 4+ team, not the under-4 team.
    rows = """\
        referral_date,date_of_birth,stage
        2019-07-06,2015-10-04,awaiting_assessment
    """
    teams = {"young": team(max_age_years=4), "older": team(min_age_years=4)}
    s = scenario(teams=teams, initial_state=snapshot(tmp_path, rows))
    row = run(s).patients.iloc[0]
    assert row.age_at_referral_years == pytest.approx(45.5 / 12)
    assert row.team == "older"


# ------------------------------------------------------------------ long waits over time


def test_weekly_long_waits_count_from_the_current_referral():
    # Child R: referred 20 weeks before the start, awaiting triage; one triage a day (sessions on
    # whole days); every referral is rejected and referred again 9.5 days later. Triaged on day 0,
    # back on 9.5, triaged on day 10, back on 19.5, ..., back on 69.5 and not yet triaged at the
    # horizon (day 70): an open referral 0.5 days old, though first referred 210 days ago.
    # Child L: referred 20 weeks before the start, on a list with no hours: 210 days old.
    # End of the last week (just before day 70): 2 open, 1 over 13 weeks (L), none over 52.
    s = scenario(
        teams={"t": team(staff={"p": {"wte": 0}})},
        triage={"capacity_per_week": 7, "outcomes": {"accept": 0, "reject": 1},
                "rereferral_probability": 1, "rereferral_delay_days": 9.5},
        initial_state=generated(backlog(1, 20, "awaiting_triage"), backlog(1, 20)))
    results = run(s)
    p = results.patients
    rereferred = p[p.list_join_day.isna()].iloc[0]
    assert (rereferred.first_referral_day, rereferred.referral_day) == (-140.0, 69.5)
    assert rereferred.referrals == 8
    last = results.weekly.iloc[-1]
    assert (last.open_referrals, last.waiting_over_13_weeks, last.waiting_over_52_weeks) == (
        2, 1, 0)
    assert results.kpi("waiting_over_13_weeks[2020-03-16]") == 1
    assert results.kpi("open_referrals[2020-03-16]") == 2


def test_weekly_open_referrals_by_stage_hand_counted():
    # Three children referred on day 0 join a list with 1 hour a week (1 h each): each is seen,
    # and assessed in one step, in weeks 0, 1 and 2 (on a day in the first five of the week).
    # Counts are taken at the end of each week, just before days 7, 14, 21, 28: waiting (and
    # open) 2, 1, 0, 0; one first appointment and one completion in each of weeks 0, 1, 2.
    s = scenario(teams={"t": team(staff={"p": {"wte": 1, "hours_per_wte_week": 1}})},
                 initial_state=generated(backlog(3)))
    weekly = run(s).weekly
    assert weekly.waiting_for_assessment.tolist()[:4] == [2, 1, 0, 0]
    assert weekly.assessments_completed.tolist()[:4] == [1, 1, 1, 0]
    assert weekly.first_appointments.tolist()[:4] == [1, 1, 1, 0]
    assert weekly.open_referrals.tolist()[:4] == [2, 1, 0, 0]
    assert weekly.in_assessment.tolist()[:4] == [0, 0, 0, 0]


# ----------------------------------------------------------------------------- routing


def test_held_until_old_enough_then_listed(tmp_path):
    # Referred on the start date aged 3 (36 months: 36.5 / 12 years used) and triaged
    # (accepted) on day 0, in a locality whose only team takes children from 4: held on day 0,
    # put on the list when 4, (4 - 36.5 / 12) x 365.25 = 350.03125 days later (plus a hair, so the
    # age is surely 4); booked at the next weekly pass, day 357 (week 51).
    rows = """\
        referral_date,age_years,stage
        2020-01-06,3.0,awaiting_triage
    """
    s = scenario(teams={"t": team(min_age_years=4)}, horizon_weeks=60,
                 routing={"uncovered": "hold"}, initial_state=snapshot(tmp_path, rows))
    row = run(s).patients.iloc[0]
    assert row.held_day == 0.0
    assert row.list_join_day == pytest.approx(350.03125, abs=1e-5)
    assert 357.0 <= row.first_appointment_day < 362.0
    assert run(s).kpi("held_until_old_enough") == 1


def _junior_senior(**senior: Any) -> dict[str, Any]:
    """Two teams with no hours: 'junior' up to 12, transferring at 12, and 'senior' from 12."""
    return {"junior": team(max_age_years=12, on_age_boundary="transfer", staff={"p": {"wte": 0}}),
            "senior": team(min_age_years=12, staff={"p": {"wte": 0}}, **senior)}


def test_age_out_and_transfer_at_exact_ages(tmp_path):
    # On a list with no hours, referred on day 0: aged 17.9 (214 months: 214.5 / 12 = 17.875
    # years) -> aged out at 18, (18 - 17.875) x 365.25 = 45.65625 days. Aged 11.9 (142 months:
    # 11.875) in a 'transfer' team up to 12 -> moves to the 12+ team on day 45.65625, keeping its
    # list join day 0.
    rows = """\
        referral_date,age_years,stage
        2020-01-06,17.9,awaiting_assessment
        2020-01-06,11.9,awaiting_assessment
    """
    s = scenario(teams=_junior_senior(), initial_state=snapshot(tmp_path, rows))
    results = run(s)
    p = results.patients.sort_values("age_at_referral_years")
    young, old = p.iloc[0], p.iloc[1]
    assert old.age_at_referral_years == pytest.approx(17.875)
    assert old.exit_reason == "aged_out"
    assert old.exit_day == pytest.approx(45.65625, abs=1e-6)
    assert young.team == "senior" and young.transfers == 1
    assert young.list_join_day == 0.0 and np.isnan(young.exit_day)
    # Week by week (a list is counted at the end of each week, days 7, 14, ...), each list for
    # its own time: the younger child waits on the junior list until its transfer on day 45.66
    # (week 6), then on the senior list, where the older one waited until it aged out that same
    # day. So junior counts 1 at the end of weeks 0-5 and none after; senior 1 every week.
    waiting = results.teams_weekly.pivot(index="week", columns="team",
                                         values="waiting_for_assessment")
    assert waiting["junior"].tolist() == [1] * 6 + [0] * 4
    assert waiting["senior"].tolist() == [1] * 10
    stays = results.list_stays
    assert stays[["patient_id", "team", "joined_day"]].values.tolist() == [
        [young.patient_id, "junior", 0.0], [young.patient_id, "senior", pytest.approx(45.65625)]]
    assert stays.left_day.iloc[0] == pytest.approx(45.65625) and np.isnan(stays.left_day.iloc[1])


def test_a_child_transferred_to_a_team_not_yet_open_waits_on_no_list_until_it_opens(tmp_path):
    # Aged 11.875 on the junior list (no hours) from day 0; transferred on day 45.66 (week 6)
    # to the senior team, which opens on day 63 (Monday 9 March 2020, week 9): held from the
    # transfer until the opening, then on the senior list. Junior counts it at the end of weeks
    # 0-5, senior at the end of weeks 9-11, and neither in weeks 6-8, while it is held.
    rows = """\
        referral_date,age_years,stage
        2020-01-06,11.9,awaiting_assessment
    """
    s = scenario(teams=_junior_senior(opens_on="2020-03-09"), horizon_weeks=12,
                 routing={"uncovered": "hold"}, initial_state=snapshot(tmp_path, rows))
    results = run(s)
    child = results.patients.iloc[0]
    assert child.transfers == 1 and child.team == "senior" and child.list_join_day == 0.0
    waiting = results.teams_weekly.pivot(index="week", columns="team",
                                         values="waiting_for_assessment")
    assert waiting["junior"].tolist() == [1] * 6 + [0] * 6
    assert waiting["senior"].tolist() == [0] * 9 + [1] * 3
    stays = results.list_stays
    assert stays.team.tolist() == ["junior", "senior"]
    assert stays.joined_day.tolist() == [0.0, 63.0]
    assert stays.left_day.iloc[0] == pytest.approx(45.65625) and np.isnan(stays.left_day.iloc[1])


def test_review_then_list(tmp_path):
    # Referred on the start date aged 1.5 and 2.5 (18.5 and 30.5 months used), triaged on day 0;
    # the team reviews under-2s for 30 days before they join the list: the younger joins on day
    # 30 and is booked at the day-35 pass; the older joins on day 0 and is booked in week 0.
    rows = """\
        referral_date,age_years,stage
        2020-01-06,1.5,awaiting_triage
        2020-01-06,2.5,awaiting_triage
    """
    s = scenario(teams={"t": team(review={"under_years": 2, "duration_days": 30})},
                 initial_state=snapshot(tmp_path, rows))
    p = run(s).patients.sort_values("age_at_referral_years")
    young, old = p.iloc[0], p.iloc[1]
    assert young.review_day == 0.0 and young.list_join_day == 30.0
    assert 35.0 <= young.first_appointment_day < 40.0
    assert np.isnan(old.review_day) and old.list_join_day == 0.0
    assert 0.0 <= old.first_appointment_day < 5.0


# --------------------------------------------------------------------------- outsourcing


def test_outsourced_block_takes_the_longest_waiting_each_month():
    # Five children on a list with no hours, referred 5, 4, 3, 2 and 1 weeks before the start.
    # A block of 2 a month from 31 January 2020 (day 25): on day 25 the two referred longest ago
    # (days -35, -28), on 29 February (day 54, the month's last day) the next two. First
    # appointment 14 days and outcome 56 days after being taken; 800 GBP each.
    s = scenario(horizon_weeks=30, teams={"t": team(staff={"p": {"wte": 0}})},
                 initial_state=generated(*(backlog(1, w) for w in (5, 4, 3, 2, 1))),
                 outsourcing=[{"team": "t", "start_date": "2020-01-31",
                               "end_date": "2020-03-15", "assessments_per_month": 2,
                               "price_gbp": 800}])
    results = run(s)
    p = results.patients.set_index("referral_day")
    assert p.first_appointment_day.fillna(-1).to_dict() == {
        -35.0: 39.0, -28.0: 39.0, -21.0: 68.0, -14.0: 68.0, -7.0: -1}
    assert p.diagnosis_day[-35.0] == 81.0 and p.diagnosis_day[-14.0] == 110.0
    assert p.outsourced.sum() == 4 and (p.exit_reason[p.outsourced] == "assessed").all()
    assert results.kpi("cost_outsourced") == 3200.0


# --------------------------------------------------------------------------------- demand


def test_daily_rates_growth_seasonality_and_step_changes_by_hand():
    # 14 a week = 2 a day; 10% a year compound; February factor 0.5; a step x3 from a date
    # before the start (applies from day 0) and x0.5 from 10 February 2021.
    factors = [1.0] * 12
    factors[1] = 0.5
    demand = Demand(referrals_per_week=14, annual_growth=0.1, monthly_factors=factors,
                    step_changes=[{"date": "2019-06-01", "factor": 3.0},
                                  {"date": "2021-02-10", "factor": 0.5}],
                    age_bands=[{"min_years": 0, "max_years": 18, "weight": 1}])
    start = dt.date(2020, 1, 30)
    rates = daily_rates(demand, start, 400)
    assert rates[0] == pytest.approx(2 * 3)                                  # 30 January 2020
    assert rates[2] == pytest.approx(2 * 3 * 0.5 * 1.1 ** (2 / 365.25))      # 1 February
    assert rates[30] == pytest.approx(2 * 3 * 0.5 * 1.1 ** (30 / 365.25))    # 29 February
    assert rates[31] == pytest.approx(2 * 3 * 1.1 ** (31 / 365.25))          # 1 March
    day = (dt.date(2021, 2, 10) - start).days                                # 377
    assert rates[day - 1] == pytest.approx(2 * 3 * 0.5 * 1.1 ** ((day - 1) / 365.25))
    assert rates[day] == pytest.approx(2 * 3 * 0.5 * 0.5 * 1.1 ** (day / 365.25))


def test_referrals_fall_only_on_days_with_demand():
    factors = [0.0] * 12
    factors[2] = 1.0  # March only
    demand = Demand(referrals_per_week=70, monthly_factors=factors,
                    age_bands=[{"min_years": 0, "max_years": 18, "weight": 1}])
    days = referral_days(demand, dt.date(2020, 1, 6), 98.5, np.random.default_rng(3))
    assert len(days) > 200
    assert days.min() >= 55 and days.max() < 86  # 1 March is day 55, 1 April day 86
    assert (np.diff(days) >= 0).all()
    # a horizon that cuts a day: nothing at or after it
    assert referral_days(demand, dt.date(2020, 1, 6), 60.5, np.random.default_rng(3)).max() < 60.5


def test_children_drawn_with_certain_flags_and_fixed_bands():
    s = scenario(demand={
        "referrals_per_week": 0,
        "age_bands": [{"min_years": 2, "max_years": 4, "weight": 0},
                      {"min_years": 4, "max_years": 6, "weight": 1}],
        "sources": {"gp": 0.0, "school": 1.0},
        "localities": {"north": 1.0, "south": 0.0},
        "flags": {"looked_after": {"probability": 1.0, "priority": "urgent"},
                  "co_occurring": {"probability": 1.0, "hours_factor": 1.5},
                  "also": {"probability": 1.0, "hours_factor": 2.0},
                  "never": {"probability": 0.0, "hours_factor": 10.0}}},
        priority_classes=["urgent", "soon", "routine"])
    kids = draw_children(s, 50, np.random.default_rng(1))
    assert ((kids.age_years >= 4) & (kids.age_years < 6)).all()
    assert (kids.source == 1).all() and (kids.locality == 0).all()
    assert (kids.priority == 0).all()
    np.testing.assert_allclose(kids.hours_factor, 3.0)
    # without flags: the last (least urgent) class, factor 1
    plain = draw_children(scenario(priority_classes=["urgent", "soon", "routine"]), 5,
                          np.random.default_rng(1))
    assert (plain.priority == 2).all() and (plain.hours_factor == 1.0).all()


# ------------------------------------------------------ settled assessments (fewer events)


def test_a_settled_assessment_cut_by_the_horizon_keeps_only_what_happened_before_it():
    # One child, three 1-hour steps 7 days apart (no DNA, definite outcome: settled in advance),
    # booked at the first weekly pass: days in weeks 0, 1 and 2 (10 hours a week, ample). With
    # a horizon of 2 weeks the third appointment (week 2) is past it: two attended (2 hours),
    # no outcome, still in assessment; with 3 weeks all three, assessed in week 2.
    steps = [{"name": "a", "hours": {"p": 1}}, {"name": "b", "hours": {"p": 1}, "min_gap_days": 7},
             {"name": "c", "hours": {"p": 1}, "min_gap_days": 7, "outcome": True}]
    for weeks, hours, reason in ((2, 2.0, "in_assessment"), (3, 3.0, "assessed")):
        s = scenario(teams={"t": team(steps=steps)}, horizon_weeks=weeks,
                     initial_state=generated(backlog(1)))
        row = run(s).patients.iloc[0]
        assert row.staff_hours == hours and row.exit_reason == reason
        assert 0.0 <= row.first_appointment_day < 5.0
        if reason == "assessed":
            assert 14.0 <= row.diagnosis_day == row.exit_day < 19.0
        else:
            assert np.isnan(row.diagnosis_day) and np.isnan(row.exit_day)


@pytest.mark.parametrize("path", ["scenarios/as_is_2018.yaml", "scenarios/nice_mdt.yaml",
                                  "scenarios/recovery.yaml", "scenarios/as_happened_2018_2020.yaml",
                                  "benchmarks/standard.yaml"])
def test_settled_assessments_give_the_tables_of_one_event_per_appointment(path, monkeypatch):
    """The shortcut for settled assessments (ClinicTeam._finish) must change nothing: the same
    run with every appointment its own event (no assessment ever settled) gives equal tables."""
    from asdsim.model.clinic import ClinicTeam

    scenario_ = asdsim.load_scenario(path)
    fast = asdsim.simulate(scenario_, replications=2, seed=8)
    monkeypatch.setattr(ClinicTeam, "_settled", lambda self, case, bookings: False)
    slow = asdsim.simulate(scenario_, replications=2, seed=8)  # jobs=1: the patch applies
    for name in ("patients", "weekly", "staff_weekly", "kpis"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name), check_exact=True)
