"""Pinned model behaviour that mutation testing found unpinned (see docs/mutation-survivors.md).

Each test is a hand-worked case in the style of tests/test_pinned_model.py (its helpers build
the tiny scenarios: day 0 is Monday 6 January 2020, no new referrals, a generated backlog or a
CSV snapshot); the comment above each test names the mutant it kills.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_pinned_model import CASELOAD, backlog, generated, run, scenario, snapshot, team


def test_caseload_hours_used_are_summed_per_week_from_week_0():
    # Kills teams._weekly_sum `index >= 0` -> `index > 0` (week 0 dropped) and
    # `weights=values` -> `weights=None` (steps counted instead of hours summed).
    # One slot; two children on day 0; one step needing 2 h of p, 10 days long.
    # Child A: step on day 0 (week 0), 2 h, released on day 10; child B starts on day 10
    # (week 1), 2 h. Hours used per week: 2, 2, then 0.
    steps = [{"name": "assess", "hours": {"p": 2}, "outcome": True, "duration_days": 10}]
    s = scenario(teams={"t": team(steps=steps, **CASELOAD)}, initial_state=generated(backlog(2)))
    staff = run(s).staff_weekly
    used = staff[(staff.team == "t") & (staff.group == "p")].sort_values("week").hours_used
    assert used.tolist()[:3] == [2.0, 2.0, 0.0]


def test_clinic_hours_dna_rebook_beyond_the_booking_horizon_waits_and_is_booked_later():
    # Kills ClinicTeam._rebook_rest `if not self._book(...)` -> `if self._book(...)` (a rebook
    # that cannot be booked yet is dropped instead of queued).
    # Clinic hours (10 h a week, ample), booking horizon 1 week, one step always missed, rebook
    # 20 days after a DNA, discharged after 2 DNAs (the default). Missed on m in [0, 5); the
    # rebook's earliest day m + 20 is in week 2 or 3, beyond the 1-week horizon from week 0, so
    # it waits and a later weekly pass books it; missed again -> discharged, on a day >= m + 20.
    steps = [{"name": "assess", "hours": {"p": 1}, "outcome": True, "dna_probability": 1.0}]
    s = scenario(teams={"t": team(steps=steps, booking_horizon_weeks=1,
                                  dna={"rebook_after_days": 20})},
                 initial_state=generated(backlog(1)))
    row = run(s).patients.iloc[0]
    assert (row.exit_reason, row.dna_count) == ("discharged_dna", 2)
    assert 20.0 <= row.exit_day < 35.0


def test_outsourcing_block_from_the_day_after_the_start_buys_on_that_day():
    # Kills Pathway._outsourcing `if delay > 0` -> `if delay > 1` (a one-day wait skipped).
    # Two children on a list with no hours, referred 2 and 1 weeks before the start; a block of
    # 2 a month from Tuesday 7 January 2020 (day 1): both taken on day 1, first appointment 14
    # days later (day 15), outcome 56 days after being taken (day 57).
    s = scenario(horizon_weeks=20, teams={"t": team(staff={"p": {"wte": 0}})},
                 initial_state=generated(backlog(1, 2), backlog(1, 1)),
                 outsourcing=[{"team": "t", "start_date": "2020-01-07",
                               "end_date": "2020-01-31", "assessments_per_month": 2,
                               "price_gbp": 800}])
    p = run(s).patients
    assert p.first_appointment_day.tolist() == [15.0, 15.0]
    assert p.diagnosis_day.tolist() == [57.0, 57.0]


def test_starting_list_is_chosen_by_the_age_on_day_0_not_day_1(tmp_path):
    # Kills Pathway._starting_team `child.age_at(0.0)` -> `age_at(1.0)`.
    # Referred Sunday 22 December 2019 (day -15), born 6 January 2016: 47 whole months at
    # referral -> 47.5 / 12 = 3.958333 years; on day 0, 15 days on, 3.958333 + 15 / 365.25 =
    # 3.999401: under 4 by 0.21875 days (on day 1 it would be 4.002). It starts on the under-4
    # list, which transfers at its upper age, and moves to the 4+ list on day 0.21875.
    rows = """\
        referral_date,date_of_birth,stage
        2019-12-22,2016-01-06,awaiting_assessment
    """
    teams = {"young": team(max_age_years=4, on_age_boundary="transfer", staff={"p": {"wte": 0}}),
             "older": team(min_age_years=4, staff={"p": {"wte": 0}})}
    row = run(scenario(teams=teams, initial_state=snapshot(tmp_path, rows))).patients.iloc[0]
    assert row.referral_day == -15.0
    assert (row.team, row.transfers) == ("older", 1)


def test_a_starting_child_older_than_every_team_goes_to_the_nearest_by_age(tmp_path):
    # Kills Pathway._starting_team's distance `age - t.max_age_years` -> `age + t.max_age_years`.
    # Aged 14 on day 0 (referred on the start date; 168 whole months -> 14.04 years). No team
    # takes 14: the nearest by age is the 6-12 team (2.04 years above it), not the 0-6 team
    # (8.04 years above it).
    rows = """\
        referral_date,age_years,stage
        2020-01-06,14.0,awaiting_assessment
    """
    teams = {"junior": team(max_age_years=6, staff={"p": {"wte": 0}}),
             "senior": team(min_age_years=6, max_age_years=12, staff={"p": {"wte": 0}})}
    row = run(scenario(teams=teams, initial_state=snapshot(tmp_path, rows))).patients.iloc[0]
    assert row.team == "senior"


def test_a_later_step_without_hours_in_its_window_waits_and_is_booked_when_hours_come():
    # Kills ClinicTeam._book `if not math.isnan(deferred)` -> `if math.isnan(deferred)` (a later
    # step deferred for want of hours is never queued again).
    # Booking horizon 1 week. Step 1 (p 1 h) on day d in [0, 5); step 2 (q 1 h) from d, but q
    # has no hours until Monday 27 January (day 21, week 3): deferred and retried at each weekly
    # pass, booked at the day-21 pass into week 3, on a day in [21, 26): assessed then.
    staff = {"p": {"wte": 1, "hours_per_wte_week": 10}, "q": {"wte": 0, "hours_per_wte_week": 10}}
    steps = [{"name": "history", "hours": {"p": 1}},
             {"name": "decision", "hours": {"q": 1}, "outcome": True}]
    s = scenario(teams={"t": team(staff=staff, steps=steps, booking_horizon_weeks=1)},
                 capacity_changes=[{"date": "2020-01-27", "team": "t", "group": "q", "wte": 1}],
                 initial_state=generated(backlog(1)))
    row = run(s).patients.iloc[0]
    assert 0.0 <= row.first_appointment_day < 5.0
    assert row.exit_reason == "assessed"
    assert 21.0 <= row.diagnosis_day < 26.0


def test_a_later_step_is_booked_in_the_week_of_its_earliest_day():
    # Kills ClinicTeam._book `int(day // 7.0)` -> `int(day // 8.0)` (a later step's first week).
    # Step 1 (p 1 h) on day d in [0, 5); step 2 (q 1 h) at least 49 days later, from d + 49 in
    # [49, 54): week 7 (days 49-55). q's hour is used in week 7 and no other.
    staff = {"p": {"wte": 1, "hours_per_wte_week": 10}, "q": {"wte": 1, "hours_per_wte_week": 10}}
    steps = [{"name": "history", "hours": {"p": 1}},
             {"name": "decision", "hours": {"q": 1}, "outcome": True, "min_gap_days": 49}]
    s = scenario(teams={"t": team(staff=staff, steps=steps)}, horizon_weeks=12,
                 initial_state=generated(backlog(1)))
    results = run(s)
    used = results.staff_weekly.pivot(index="week", columns="group", values="hours_used")
    assert used.q.tolist() == [0.0] * 7 + [1.0] + [0.0] * 4
    assert 49.0 <= results.patients.diagnosis_day.iloc[0] < 54.0


def test_a_missed_step_gives_back_the_hours_booked_later_in_the_same_week():
    # Kills ClinicTeam._give_back `w >= current_week` -> `w > current_week`.
    # Step 1 (p 1 h) always missed; step 2 (q 1 h) booked with it in week 0. The miss gives
    # back the rest of the package, week 0 included; the rebook (10 days on) is missed again
    # and the child discharged, giving back step 2 again: q's hours are never used.
    staff = {"p": {"wte": 1, "hours_per_wte_week": 10}, "q": {"wte": 1, "hours_per_wte_week": 10}}
    steps = [{"name": "history", "hours": {"p": 1}, "dna_probability": 1.0},
             {"name": "decision", "hours": {"q": 1}, "outcome": True}]
    s = scenario(teams={"t": team(staff=staff, steps=steps, dna={"rebook_after_days": 10})},
                 initial_state=generated(backlog(1)))
    results = run(s)
    assert results.patients.exit_reason.iloc[0] == "discharged_dna"
    used = results.staff_weekly.pivot(index="week", columns="group", values="hours_used")
    assert used.q.sum() == 0.0
    assert used.p.sum() == 2.0


def test_a_package_of_25_steps_draws_the_session_days_past_the_pre_drawn_ones():
    # Kills ClinicTeam._session_day's activity "session" -> None (at 5674519; the session day
    # is now worked out in ClinicTeam._book): 24 session days are pre-drawn
    # per child (BOOKINGS); step 25 draws from the "session" stream. 25 steps of 0.2 h of p,
    # all in week 0 (10 h a week): assessed in week 0 with 5 h attended.
    steps = [{"name": f"s{i}", "hours": {"p": 0.2}} for i in range(24)]
    steps.append({"name": "s24", "hours": {"p": 0.2}, "outcome": True})
    s = scenario(teams={"t": team(steps=steps)}, initial_state=generated(backlog(1)))
    row = run(s).patients.iloc[0]
    assert row.exit_reason == "assessed" and 0.0 <= row.diagnosis_day < 5.0
    assert row.staff_hours == pytest.approx(5.0)


def test_staff_hours_are_step_hours_times_the_childs_hours_factor():
    # Kills attend_or_dna `step.hours * child.hours_factor` -> `/`.
    # New referrals (2 a week) all flagged with hours factor 2; one step of 1 h of p (10 h a
    # week, ample): each child assessed attends 2 h.
    s = scenario(demand={"referrals_per_week": 2,
                         "age_bands": [{"min_years": 5, "max_years": 6, "weight": 1}],
                         "flags": {"complex": {"probability": 1.0, "hours_factor": 2.0}}})
    p = run(s).patients
    assessed = p[p.exit_reason == "assessed"]
    assert len(assessed) > 0
    assert (assessed.staff_hours == 2.0).all()


def test_routed_at_the_age_out_age_leaves_aged_out_on_that_day(tmp_path):
    # Kills Pathway.route `release(child, "aged_out", now)` -> `release(..., None)`.
    # Triage 1 a week; seven children awaiting triage since 30 December 2019 go first. Child X,
    # referred on the start date aged 17.9 (214 months -> 17.875 years), is 18 on day
    # (18 - 17.875) x 365.25 = 45.66 and is triaged after the seven, on a day past 45.66 (and
    # before the horizon, day 70): routed at 18 or more, it leaves aged out that day.
    rows = "id,referral_date,age_years,stage\n" + "".join(
        f"{i},2019-12-30,5.0,awaiting_triage\n" for i in range(7)) + "x,2020-01-06,17.9,awaiting_triage\n"
    s = scenario(triage={"capacity_per_week": 1}, initial_state=snapshot(tmp_path, rows))
    p = run(s).patients
    x = p[p.referral_day == 0.0].iloc[0]
    assert x.exit_reason == "aged_out"
    assert x.exit_day == x.triage_day
    assert 45.65 < x.exit_day < 70.0


@pytest.mark.parametrize("teams", [
    {"ta": team(localities=["a"]), "tb": team(localities=["b"], max_age_years=4)},
    # a team of locality a opening in March is no reason to hold a child of b
    {"ta": team(localities=["a"], max_age_years=10),
     "tc": team(localities=["a"], min_age_years=10, opens_on="2020-03-02"),
     "tb": team(localities=["b"], max_age_years=4)},
])
def test_hold_waits_only_for_a_team_opening_in_the_childs_locality(tmp_path, teams):
    # Kills Pathway.route's `opening = any(opens_on ... and serves(locality) and min <= age <
    # max)` -> `(opens_on ... and serves(locality)) or min <= age < max` (first team set) and
    # -> `(opens_on ... > today) or (serves(locality) and ...)` (second set, at a7e97dd).
    # Rule 'hold'. Locality b's only team takes under-4s; locality a's teams take every age. A
    # child of b aged 5 (60 months -> 5.04) referred on the start date: no team in b for it now,
    # none older and none opening, so it is recorded as no pathway on day 0 (not held).
    rows = """\
        referral_date,age_years,stage,locality
        2020-01-06,5.0,awaiting_triage,b
    """
    s = scenario(teams=teams, routing={"uncovered": "hold"},
                 demand={"referrals_per_week": 0, "localities": {"a": 0.5, "b": 0.5},
                         "age_bands": [{"min_years": 5, "max_years": 6, "weight": 1}]},
                 initial_state=snapshot(tmp_path, rows))
    row = run(s).patients.iloc[0]
    assert (row.exit_reason, row.exit_day) == ("no_pathway", 0.0)
    assert np.isnan(row.held_day)


def test_a_child_waiting_to_be_referred_again_when_eligible_is_not_open(tmp_path):
    # Kills Pathway.route's gap `(child.id, now, now + wait)` -> `now - wait`.
    # The only team takes children from 4; rule no pathway, and every such child is referred
    # again when old enough. A child aged 3 (36.5 / 12 years) referred on the start date is
    # triaged on day 0, recorded as no pathway and waits (4 - 36.5 / 12) x 365.25 = 350 days
    # to be referred again: not an open referral at any week's end of the 10-week horizon.
    rows = """\
        referral_date,age_years,stage
        2020-01-06,3.0,awaiting_triage
    """
    s = scenario(teams={"t": team(min_age_years=4)},
                 routing={"rereferred_when_eligible": {"all": 1.0}},
                 initial_state=snapshot(tmp_path, rows))
    results = run(s)
    assert results.patients.unmet_need_day.iloc[0] == 0.0
    assert results.weekly.open_referrals.tolist() == [0] * 10


def test_a_team_opening_the_day_after_the_start_takes_the_held_child_that_day(tmp_path):
    # Kills Pathway.__init__'s `0 < self.day(team.opens_on)` -> `1 < ...` (an opening on day 1
    # never scheduled). Rule 'hold'; the only team opens on Tuesday 7 January 2020 (day 1). A
    # child aged 5 referred on the start date is triaged on day 0, held (a team for it opens),
    # and put on the list when the team opens, on day 1.
    rows = """\
        referral_date,age_years,stage
        2020-01-06,5.0,awaiting_triage
    """
    s = scenario(teams={"t": team(opens_on="2020-01-07")}, routing={"uncovered": "hold"},
                 initial_state=snapshot(tmp_path, rows))
    row = run(s).patients.iloc[0]
    assert (row.held_day, row.list_join_day) == (0.0, 1.0)


def test_without_contact_steps_the_first_step_is_the_first_appointment():
    # Kills compile_steps' default `next(..., 0)` -> `next(..., None)`: where no step is a
    # contact, the first step counts as the first appointment. One non-contact step (1 h of p,
    # 10 h a week), booked in week 0: first appointment and outcome on the same day in [0, 5).
    steps = [{"name": "file_review", "hours": {"p": 1}, "contact": False, "outcome": True}]
    s = scenario(teams={"t": team(steps=steps)}, initial_state=generated(backlog(1)))
    row = run(s).patients.iloc[0]
    assert 0.0 <= row.first_appointment_day < 5.0
    assert row.first_appointment_day == row.diagnosis_day


def test_the_rereferral_delay_is_drawn_apart_from_the_decision_to_come_back():
    # Kills Pathway.uniform's default part `j=0` -> `j=1`: the decision to come back would then
    # reuse the delay's uniform, so only short delays would follow a 'yes'.
    # 200 children awaiting triage on day 0, all rejected; half come back, after a delay uniform
    # on [0, 60) days. The children referred exactly twice by the horizon (day 70) came back
    # once, on day d1 = their first delay: about half (at least, since a later delay pushes a
    # third referral past the horizon more often after a long first one) have d1 >= 30. Were
    # the two draws the same uniform u, a 'yes' (u < 0.5) would mean d1 = 60u < 30 always.
    s = scenario(triage={"outcomes": {"accept": 0, "reject": 1}, "rereferral_probability": 0.5,
                         "rereferral_delay_days": {"dist": "uniform", "low": 0, "high": 60}},
                 initial_state=generated(backlog(200, 0, "awaiting_triage")))
    p = run(s).patients
    back_once = p[p.referrals == 2]
    assert len(back_once) >= 30
    assert (back_once.referral_day >= 30).mean() > 0.3


def test_an_outsourcing_block_buys_nothing_while_the_list_is_under_its_threshold():
    # Kills Pathway._skip_purchase's `return True` -> `return False` (skip_when_list_under).
    # Two children on a list with no hours; a block of 2 a month from the start date, skipped
    # while fewer than 3 wait: nothing is bought over the 10 weeks.
    s = scenario(teams={"t": team(staff={"p": {"wte": 0}})}, initial_state=generated(backlog(2)),
                 outsourcing=[{"team": "t", "start_date": "2020-01-06",
                               "end_date": "2020-03-01", "assessments_per_month": 2,
                               "price_gbp": 800, "skip_when_list_under": 3}])
    results = run(s)
    assert not results.patients.outsourced.any()
    assert results.kpi("cost_outsourced") == 0.0


def test_an_outsourcing_block_buys_once_the_longest_wait_reaches_its_weeks(tmp_path):
    # Kills Pathway._skip_purchase's `7.0 * weeks` -> `8.0 * weeks`.
    # One child referred Sunday 22 December 2019 (day -15) on a list with no hours; a block
    # from the start date skipped while the longest wait is under 2 weeks (14 days): on day 0
    # the child has waited 15 days, so it is bought then (first appointment 14 days on).
    rows = """\
        referral_date,age_years,stage
        2019-12-22,5.0,awaiting_assessment
    """
    s = scenario(teams={"t": team(staff={"p": {"wte": 0}})},
                 initial_state=snapshot(tmp_path, rows),
                 outsourcing=[{"team": "t", "start_date": "2020-01-06",
                               "end_date": "2020-01-31", "assessments_per_month": 1,
                               "price_gbp": 800, "skip_when_longest_wait_under_weeks": 2}])
    row = run(s).patients.iloc[0]
    assert bool(row.outsourced) and row.first_appointment_day == 14.0
    # an outsourced assessment starts at its first appointment (kills Pathway._outsourcing's
    # `assessment_started_day = first_appointment_day` -> None)
    assert row.assessment_started_day == 14.0


def test_hold_until_old_enough_for_an_older_team_in_the_childs_own_locality(tmp_path):
    # Kills Pathway.route's `_older_team_age(age, locality, today)` -> `(age, None, today)`.
    # Rule 'hold'. In locality b one team takes under-4s and another from 6; a child of b aged
    # 5 (60.5 / 12 years) referred on the start date is held on day 0 until it is 6 (past the
    # 10-week horizon), not recorded as no pathway.
    rows = """\
        referral_date,age_years,stage,locality
        2020-01-06,5.0,awaiting_triage,b
    """
    teams = {"ta": team(localities=["a"]), "young": team(localities=["b"], max_age_years=4),
             "older": team(localities=["b"], min_age_years=6)}
    s = scenario(teams=teams, routing={"uncovered": "hold"},
                 demand={"referrals_per_week": 0, "localities": {"a": 0.5, "b": 0.5},
                         "age_bands": [{"min_years": 5, "max_years": 6, "weight": 1}]},
                 initial_state=snapshot(tmp_path, rows))
    row = run(s).patients.iloc[0]
    assert row.held_day == 0.0
    assert np.isnan(row.unmet_need_day) and np.isnan(row.exit_day)


# ------------------------------------------------ survivors of the model sample at a7e97dd


FLAGGED = {"referrals_per_week": 0, "age_bands": [{"min_years": 5, "max_years": 6, "weight": 1}],
           "flags": {"complex": {"probability": 1.0, "hours_factor": 2.0}}}
"""No new referrals; every child flagged with an hours factor of 2."""


@pytest.mark.parametrize("mode", [{}, CASELOAD])
def test_the_hours_booked_in_a_week_are_the_steps_hours_times_the_childs_hours_factor(mode):
    # Kills ClinicTeam._book's `step.scaled if factor == 1.0 else self._needs(...)` -> `!=`
    # (clinic hours booked without the factor) and CaseloadTeam._start's hours log
    # `h * child.hours_factor` -> `/`. One child of the backlog, hours factor 2, one step of
    # 1 h of p on day 0 to 5: 2 h used in week 0, none after; the child attends 2 h.
    s = scenario(teams={"t": team(**mode)}, demand=FLAGGED, initial_state=generated(backlog(1)))
    results = run(s)
    assert results.staff_weekly.hours_used.tolist() == [2.0] + [0.0] * 9
    assert results.patients.staff_hours.tolist() == [2.0]


def test_a_joint_step_waits_for_the_first_week_in_which_every_group_has_the_hours():
    # Kills _first_common_week's `return -1` -> `return +1` (no common week read as week 1).
    # One joint step of 1 h of p and 1 h of q; q has no hours until Monday 27 January (day 21,
    # week 3); booking horizon 1 week, so each weekly pass looks at its own week only. Passes on
    # days 0, 7 and 14 find no common week; day 21 books week 3: assessed on a day in [21, 26).
    staff = {"p": {"wte": 1, "hours_per_wte_week": 10}, "q": {"wte": 0, "hours_per_wte_week": 10}}
    steps = [{"name": "mdt", "hours": {"p": 1, "q": 1}, "joint": True, "outcome": True}]
    s = scenario(teams={"t": team(staff=staff, steps=steps, booking_horizon_weeks=1)},
                 capacity_changes=[{"date": "2020-01-27", "team": "t", "group": "q", "wte": 1}],
                 initial_state=generated(backlog(1)))
    results = run(s)
    row = results.patients.iloc[0]
    assert row.exit_reason == "assessed" and 21.0 <= row.diagnosis_day < 26.0
    weekly = results.staff_weekly
    assert (weekly.hours_used <= weekly.hours_available).all()
    assert weekly[weekly.group == "q"].hours_used.tolist() == [0.0] * 3 + [1.0] + [0.0] * 6


def test_a_missed_appointment_past_the_pre_drawn_uniforms_is_not_settled_in_advance():
    # Kills ClinicTeam._judge's `return False` -> `return True` for an appointment past the
    # pre-drawn DNA uniforms (24 a child): such a package cannot be settled in advance, since
    # its later misses are drawn in clock order. 25 steps of 0.2 h of p, all booked in week 0;
    # the 25th is always missed (probability 1): missed, rebooked 10 days on, missed again,
    # discharged after the second miss (the default), with no outcome.
    steps = [{"name": f"s{i}", "hours": {"p": 0.2}} for i in range(24)]
    steps.append({"name": "s24", "hours": {"p": 0.2}, "outcome": True, "dna_probability": 1.0})
    s = scenario(teams={"t": team(steps=steps, dna={"rebook_after_days": 10})},
                 initial_state=generated(backlog(1)))
    row = run(s).patients.iloc[0]
    assert row.exit_reason == "discharged_dna" and row.dna_count == 2
    assert np.isnan(row.diagnosis_day) and row.outcome != row.outcome  # no outcome (NaN)
    assert row.staff_hours == pytest.approx(24 * 0.2)


def test_a_child_part_way_through_assessment_at_the_start_is_on_its_teams_books(tmp_path):
    # Kills TeamRunner.resume's `child.team = self.name` -> None. A child of the snapshot in
    # assessment (no step done) resumes with team t, attends its one step in week 0.
    rows = """\
        referral_date,age_years,stage
        2019-12-02,5.0,in_assessment
    """
    row = run(scenario(initial_state=snapshot(tmp_path, rows))).patients.iloc[0]
    assert row.team == "t" and row.exit_reason == "assessed"
    assert row.first_appointment_day == row.assessment_started_day == 0.0



def test_a_joint_step_is_booked_in_one_week_for_every_group():
    # Kills compile_steps' `joint=s.joint or len(needs) <= 1` -> `joint=None` (a joint step
    # booked as separate parts). Joint step of 1 h of p and 1 h of q; booking horizon 2 weeks.
    # p has no hours in week 3 only (wte 0 from day 21, back on day 28); q none until week 3.
    # Passes on days 0 and 7 see no q; day 14 looks at weeks 2-3: q only in 3, p not in 3, so no
    # common week; day 21 looks at weeks 3-4: week 4 has both. Assessed on a day in [28, 33),
    # with p's and q's hours in week 4. (Booked as parts, it would take p in week 2 and q in
    # week 3 at the day-14 pass.)
    staff = {"p": {"wte": 1, "hours_per_wte_week": 10}, "q": {"wte": 0, "hours_per_wte_week": 10}}
    steps = [{"name": "mdt", "hours": {"p": 1, "q": 1}, "joint": True, "outcome": True}]
    changes = [{"date": "2020-01-27", "team": "t", "group": "p", "wte": 0},
               {"date": "2020-02-03", "team": "t", "group": "p", "wte": 1},
               {"date": "2020-01-27", "team": "t", "group": "q", "wte": 1}]
    s = scenario(teams={"t": team(staff=staff, steps=steps, booking_horizon_weeks=2)},
                 capacity_changes=changes, initial_state=generated(backlog(1)))
    results = run(s)
    row = results.patients.iloc[0]
    assert row.exit_reason == "assessed" and 28.0 <= row.diagnosis_day < 33.0
    used = results.staff_weekly.pivot(index="week", columns="group", values="hours_used")
    assert used.p.tolist() == used.q.tolist() == [0.0] * 4 + [1.0] + [0.0] * 5


def test_a_step_needing_two_groups_apart_is_booked_in_week_0_when_both_have_hours():
    # Kills ClinicTeam._book's `if week < 0` -> `if week <= 0` for a step that needs several
    # groups, not jointly (week 0 taken for no week). 1 h of p and 1 h of q, both with hours
    # in week 0: booked at the day-0 pass, assessed on a day in [0, 5).
    staff = {"p": {"wte": 1, "hours_per_wte_week": 10}, "q": {"wte": 1, "hours_per_wte_week": 10}}
    steps = [{"name": "assess", "hours": {"p": 1, "q": 1}, "outcome": True}]
    row = run(scenario(teams={"t": team(staff=staff, steps=steps)},
                       initial_state=generated(backlog(1)))).patients.iloc[0]
    assert row.exit_reason == "assessed" and 0.0 <= row.diagnosis_day < 5.0


def test_the_flagged_steps_mark_the_first_appointment_and_the_start_of_assessment():
    # Kills TeamRunner.__init__'s `compile_steps(..., flag_first, ...)` -> None (flags ignored,
    # the first contact step taken as the first appointment) and attend_or_dna's
    # `step.assessment_started and (...)` -> `or` (the start stamped at the first step
    # attended). Step a on a day in [0, 5); step b, flagged as both, 14 days after a, in
    # week 2 or 3: both milestones on b's day, at least 14 days after a, before the outcome.
    steps = [{"name": "a", "hours": {"p": 1}},
             {"name": "b", "hours": {"p": 1}, "min_gap_days": 14, "first_appointment": True,
              "assessment_started": True},
             {"name": "c", "hours": {"p": 1}, "min_gap_days": 7, "outcome": True}]
    row = run(scenario(teams={"t": team(steps=steps)},
                       initial_state=generated(backlog(1)))).patients.iloc[0]
    assert row.exit_reason == "assessed"
    assert row.first_appointment_day == row.assessment_started_day
    assert 14.0 <= row.first_appointment_day < 26.0
    assert row.diagnosis_day >= row.first_appointment_day + 7.0


def test_a_team_closing_on_the_start_date_takes_no_child_routed_that_day(tmp_path):
    # Kills Pathway.route's `today < closes` -> `today <= closes`. The only team closes on
    # the start date; a child referred that day is triaged and routed on day 0, when the team
    # is already closed: no pathway, on day 0.
    rows = """\
        referral_date,age_years,stage
        2020-01-06,5.0,awaiting_triage
    """
    s = scenario(teams={"t": team(closes_on="2020-01-06")}, initial_state=snapshot(tmp_path, rows))
    row = run(s).patients.iloc[0]
    assert (row.exit_reason, row.exit_day, row.unmet_need_day) == ("no_pathway", 0.0, 0.0)

