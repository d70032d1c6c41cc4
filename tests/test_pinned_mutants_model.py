"""Pinned model behaviour that mutation testing found unpinned (see docs/mutation-survivors.md).

Each test is a hand-worked case in the style of tests/test_pinned_model.py (its helpers build
the tiny scenarios: day 0 is Monday 6 January 2020, no new referrals, a generated backlog or a
CSV snapshot); the comment above each test names the mutant it kills.
"""

from __future__ import annotations

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
