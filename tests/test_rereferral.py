"""One child followed by hand through each path a re-referred or ageing child can take.

Every test starts from one child of a CSV snapshot, referred on Sunday 5 January 2020 (day -1;
day 0 is Monday 6 January 2020) and waiting for triage, with no new referrals. Triage has no
capacity limit, so a referral is decided on the day it arrives: the snapshot child on day 0, a
re-referral on its own day. A snapshot keeps a child's age at referral as whole months, and the
model uses the middle of that month: ``age_years`` 3.9 is 46 months, 46.5 / 12 = 3.875 years;
17.9 is 214 months, 214.5 / 12 = 17.875 years.

The date of birth comes from the FIRST referral: day -1 minus the age then. For 3.875 years,
born on day -1 - 3.875 x 365.25 = -1416.34375, so 4 on day -1416.34375 + 4 x 365.25 = 44.65625.
For 17.875 years, born on day -1 - 6528.84375 = -6529.84375, so 18 on day 44.65625 as well.

Triage outcomes are drawn per decision. Where a test needs "rejected, then accepted", it takes
the first seed whose child had exactly that path (two referrals, accepted), and asserts the
premise before anything else; every other number is worked out here from the documented rules.

In clinic-hours mode a child on a team's list is booked at the next weekly pass (days 0, 7, 14,
...), into the first five days of the week booked, on its own random point; so the week is
pinned exactly and the day by bounds.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import asdsim

BIRTHDAY = 44.65625
"""Day the child turns 4 (aged 3.875 on day -1) or 18 (aged 17.875 on day -1)."""


def team(hours: float = 10.0, **over: Any) -> dict[str, Any]:
    """Clinic hours: one group 'p' with ``hours`` a week; one step of 1 hour that decides."""
    out: dict[str, Any] = {
        "staff": {"p": {"wte": 1 if hours else 0, "hours_per_wte_week": hours or 10}},
        "steps": [{"name": "assess", "hours": {"p": 1}, "outcome": True}],
    }
    out.update(over)
    return out


def one_child(tmp_path: Path, age_years: float, teams: dict[str, Any], *,
              accept: float = 0.5, delay_days: float = 60.0, weeks: int = 20,
              referral_date: str = "2020-01-05", **over: Any) -> asdsim.Scenario:
    """The scenario of one snapshot child referred on day -1 (or ``referral_date``) aged
    ``age_years``; a rejected referral always comes back ``delay_days`` later."""
    path = tmp_path / "snapshot.csv"
    path.write_text(textwrap.dedent(f"""\
        referral_date,age_years,stage
        {referral_date},{age_years},awaiting_triage
    """), encoding="utf-8")
    data: dict[str, Any] = {
        "name": "one child", "start_date": "2020-01-06", "horizon_weeks": weeks,
        "demand": {"referrals_per_week": 0,
                   "age_bands": [{"min_years": 5, "max_years": 6, "weight": 1}]},
        "triage": {"outcomes": {"accept": accept, "reject": 1 - accept},
                   "rereferral_probability": 1, "rereferral_delay_days": delay_days,
                   "target_days": 14},
        "teams": teams,
        "initial_state": {"kind": "csv", "csv": str(path)},
    }
    data.update(over)
    return asdsim.scenario_from_dict(data)


def rejected_then_accepted(scenario: asdsim.Scenario) -> tuple[asdsim.Results, pd.Series]:
    """The run of the first seed whose child was rejected once and accepted on its return."""
    for seed in range(1, 60):
        results = asdsim.simulate(scenario, replications=1, seed=seed)
        child = results.patients.iloc[0]
        if child.referrals == 2 and not math.isnan(child.accepted_day):
            return results, child
    raise AssertionError("no seed in 1-59 rejects the child once and then accepts it")


def kpis(results: asdsim.Results) -> dict[str, float]:
    return results.kpis.set_index("kpi")["mean"].to_dict()


def exits(results: asdsim.Results) -> dict[str, float]:
    """The exit counts of the KPI table that are not zero."""
    return {k: v for k, v in kpis(results).items() if k.startswith("exit[") and v}


# ----------------------------------------------------------- turned down, then re-referred


def test_turned_down_then_rereferred_starts_a_new_clock_and_is_routed_by_its_age_then(tmp_path):
    # Aged 3.875 on day -1, triaged on day 0 and rejected: under 4, but no team sees it then.
    # Back on day 0 + 60 = 60, triaged (accepted) that day, aged 3.875 + 61 / 365.25 = 4.042
    # (born day -1416.34375, so 4 since day 44.65625): the school-age team, not the under-4 one.
    s = one_child(tmp_path, 3.9, {"young": team(max_age_years=4), "school": team(min_age_years=4)})
    results, child = rejected_then_accepted(s)
    # the clock: the first referral is kept, the referral in force is the re-referral
    assert (child.first_referral_day, child.referral_day) == (-1.0, 60.0)
    assert child.age_at_referral_years == 3.875  # the age at the FIRST referral
    # the triage record: the current referral's decision, on the day it came back
    assert (child.triage_day, child.accepted_day, child.list_join_day) == (60.0, 60.0, 60.0)
    assert child.team == "school"
    # listed on day 60: booked at the day-63 pass into week 9, seen in [63, 68) and decided there
    # (one step); the wait runs from the re-referral, 3 to 8 days, not from day -1
    assert 63.0 <= child.first_appointment_day < 68.0
    assert 3.0 <= child.wait_first_appointment_days < 8.0
    assert child.wait_diagnosis_days == child.first_appointment_day - 60.0
    assert child.exit_reason == "assessed"
    # each referral's first decision: (day -1, decided day 0) and (day 60, decided day 60)
    decisions = results.records[0].triage_decisions
    assert decisions.tolist() == [[-1.0, 0.0], [60.0, 60.0]]
    # counts: no new child referred in the horizon (the first referral was before it), one
    # referral in (the re-referral, week 8: days 56-63), one exit
    k = kpis(results)
    assert k["referrals"] == 0
    assert results.weekly.referrals_in.tolist() == [0] * 8 + [1] + [0] * 11
    assert exits(results) == {"exit[assessed]": 1.0}
    # triaged within 14 days: referrals arriving in the horizon (day 60) whose first decision
    # came within the target: 1 of 1
    assert k["triaged_within_target"] == 1.0
    # open at the end of each week: rejected on day 0 and back on day 60, so not an open
    # referral at the ends of weeks 0-7 (days 7 to 56); open at the end of week 8 (day 63),
    # seen and gone by the end of week 9 (day 70)
    assert results.weekly.open_referrals.tolist() == [0] * 8 + [1] + [0] * 11


def test_a_starting_list_referral_dated_the_start_date_is_no_arrival_for_triage(tmp_path):
    # The snapshot child is referred on the start date (day 0: in the cohort, which starts then)
    # and waits for triage; decided on day 0 and rejected, back on day 60 and accepted that day.
    # Its first referral was made before the run (it is on the starting list), so it is no
    # arrival of the run, as a starting-list referral of day -1 is not; the re-referral is.
    # Arrivals whose 14-day window closed (60 + 14 <= 140): the re-referral; decided within 14
    # days: it, on arrival -> 1 of 1. (Its day-0 decision counted without its arrival: 2 of 1.)
    s = one_child(tmp_path, 10.0, {"school": team()}, referral_date="2020-01-06")
    results, child = rejected_then_accepted(s)
    assert (child.first_referral_day, child.referral_day) == (0.0, 60.0)
    record = results.records[0]
    assert record.triage_decisions.tolist() == [[0.0, 0.0], [60.0, 60.0]]
    assert record.starting_list_decisions.tolist() == [[0.0, 0.0]]
    assert kpis(results)["triaged_within_target"] == 1.0


def test_turned_down_and_back_after_the_horizon_counts_once_and_is_not_open(tmp_path):
    # Rejected on day 0 every time (accept 0), back 200 days later: beyond the horizon (140), so
    # the child has one referral, is not an open referral at any week's end, and is counted once,
    # as waiting (its return is still to come), never as rejected or as a second child.
    s = one_child(tmp_path, 3.9, {"school": team()}, accept=0.0, delay_days=200.0)
    results = asdsim.simulate(s, replications=1, seed=1)
    p = results.patients
    assert len(p) == 1
    child = p.iloc[0]
    assert (child.referrals, child.first_referral_day, child.referral_day) == (1, -1.0, -1.0)
    assert child.triage_day == 0.0 and math.isnan(child.accepted_day)
    assert exits(results) == {"exit[waiting]": 1.0}
    assert results.weekly.open_referrals.sum() == 0
    assert results.weekly.referrals_in.sum() == 0
    assert results.records[0].triage_decisions.tolist() == [[-1.0, 0.0]]


# ----------------------------------------------------------------- discharged after DNAs


def test_rereferred_then_discharged_after_two_dnas_is_final(tmp_path):
    # Aged 5.375 (64 months: 64.5 / 12), rejected on day 0, back and accepted on day 60; every
    # appointment is missed; discharge after the second miss; rebook 14 days after a miss.
    # Booked at the day-63 pass into [63, 68): missed. Rebooked from 14 days later, a day in
    # [77, 82): week 11 (days 77-84), on a day from that earliest day to day 82: missed again,
    # discharged that day. Never attended: no first appointment, no hours. The discharge is
    # final: the model does not re-refer a child discharged after DNAs, so the row still has two
    # referrals, the one of day 60 in force.
    s = one_child(tmp_path, 5.4, {"school": team(
        steps=[{"name": "assess", "hours": {"p": 1}, "outcome": True, "dna_probability": 1}],
        dna={"discharge_after": 2, "rebook_after_days": 14})})
    results, child = rejected_then_accepted(s)
    assert child.age_at_referral_years == 64.5 / 12
    assert (child.first_referral_day, child.referral_day, child.triage_day) == (-1.0, 60.0, 60.0)
    assert child.exit_reason == "discharged_dna" and child.dna_count == 2
    assert 77.0 <= child.exit_day < 82.0
    assert math.isnan(child.first_appointment_day) and child.staff_hours == 0.0
    k = kpis(results)
    assert exits(results) == {"exit[discharged_dna]": 1.0}
    assert k["dna_share[school/assess]"] == 1.0  # 2 appointments, 2 missed
    assert k["referrals"] == 0 and results.weekly.referrals_in.sum() == 1
    # open at the ends of weeks 8 to 10 (days 63, 70, 77; discharged on or after 77), not after
    assert results.weekly.open_referrals.tolist()[7:12] == [0, 1, 1, 1, 0]


# ------------------------------------------------ waiting across the under-4 boundary


def test_transfer_at_four_counts_from_the_birth_date_of_the_first_referral(tmp_path):
    # Aged 3.875 on day -1, rejected on day 0, back and accepted on day 30 aged
    # 3.875 + 31 / 365.25 = 3.960: the under-4 team (no hours), which transfers children who
    # turn 4. The 4th birthday is day 44.65625 (from the first referral's age and day), not
    # day 30 + 45.65625 = 75.65625 (from the re-referral's day with the first referral's age).
    # Transferred then to the school-age team (10 hours), keeping its list join day (30); booked
    # at the day-49 pass into [49, 54). Its wait runs from day 30.
    teams = {"young": team(hours=0, max_age_years=4, on_age_boundary="transfer"),
             "school": team(min_age_years=4)}
    results, child = rejected_then_accepted(one_child(tmp_path, 3.9, teams, delay_days=30.0))
    assert (child.first_referral_day, child.referral_day, child.accepted_day) == (-1.0, 30.0, 30.0)
    assert child.team == "school" and child.transfers == 1
    assert child.list_join_day == 30.0
    assert 49.0 <= child.first_appointment_day < 54.0
    assert 19.0 <= child.wait_first_appointment_days < 24.0
    assert exits(results) == {"exit[assessed]": 1.0}
    assert kpis(results)["referrals"] == 0 and results.weekly.referrals_in.sum() == 1
    # waiting for assessment at the end of each week: listed on day 30, so not at the end of
    # week 3 (day 28); waiting at the ends of weeks 4, 5 and 6 (days 35, 42, 49: seen on or
    # after day 49), not at the end of week 7 (day 56)
    assert results.weekly.waiting_for_assessment.tolist()[3:8] == [0, 1, 1, 1, 0]


def test_staying_past_four_keeps_the_under_4_team(tmp_path):
    # As above, but the under-4 team keeps children who turn 4 ('stay'): still on its list at the
    # horizon (day 140), aged 3.875 + 141 / 365.25 = 4.26, no transfer; one child waiting.
    teams = {"young": team(hours=0, max_age_years=4, on_age_boundary="stay"),
             "school": team(min_age_years=4)}
    results, child = rejected_then_accepted(one_child(tmp_path, 3.9, teams, delay_days=30.0))
    assert child.team == "young" and child.transfers == 0
    assert child.exit_reason == "waiting" and math.isnan(child.exit_day)
    assert exits(results) == {"exit[waiting]": 1.0}
    teams_weekly = results.teams_weekly
    last = teams_weekly[teams_weekly.week == 19].set_index("team").waiting_for_assessment
    assert last.to_dict() == {"young": 1, "school": 0}


# ---------------------------------------------------------------- ageing out while waiting


def test_ageing_out_while_waiting_after_a_rereferral(tmp_path):
    # Aged 17.875 on day -1, rejected on day 0, back and accepted on day 20 aged
    # 17.875 + 21 / 365.25 = 17.932: listed with the team, which has no hours. 18 on day
    # 44.65625 (birth from the first referral), not 20 + 45.65625 = 65.65625: aged out then.
    s = one_child(tmp_path, 17.9, {"school": team(hours=0)}, delay_days=20.0)
    results, child = rejected_then_accepted(s)
    assert child.age_at_referral_years == 17.875
    assert (child.first_referral_day, child.referral_day, child.list_join_day) == (-1.0, 20.0, 20.0)
    assert child.exit_reason == "aged_out"
    assert child.exit_day == pytest.approx(BIRTHDAY, abs=1e-9)
    assert exits(results) == {"exit[aged_out]": 1.0}
    # rejected on day 0 and back on day 20: not open at the end of week 1 (day 14); open at
    # the ends of weeks 2 to 5 (days 21, 28, 35, 42); aged out by the end of week 6 (day 49)
    assert results.weekly.open_referrals.tolist()[1:8] == [0, 1, 1, 1, 1, 0, 0]


def test_rereferred_after_turning_18_ages_out_at_triage(tmp_path):
    # Back on day 60, aged 17.875 + 61 / 365.25 = 18.042: accepted, and aged out that day at
    # routing, before any list.
    s = one_child(tmp_path, 17.9, {"school": team()}, delay_days=60.0)
    results, child = rejected_then_accepted(s)
    assert (child.referral_day, child.accepted_day, child.exit_day) == (60.0, 60.0, 60.0)
    assert child.exit_reason == "aged_out"
    assert math.isnan(child.list_join_day) and pd.isna(child.team)
    assert exits(results) == {"exit[aged_out]": 1.0}


# ----------------------------------------------------- not covered, referred again when old enough


def test_unmet_need_referred_again_at_four(tmp_path):
    # Only a school-age team; a child no team covers is unmet need and, with probability 1,
    # referred again when old enough. Accepted on day 0 aged 3.875 + 1 / 365.25: unmet need that
    # day; referred again at 4, (4 - 3.875) x 365.25 - 1 = 44.65625 days later (plus a hair, so
    # the age is surely 4); accepted and listed that day; booked at the day-49 pass into [49, 54).
    # The wait runs from the second referral.
    s = one_child(tmp_path, 3.9, {"school": team(min_age_years=4)}, accept=1.0,
                  routing={"uncovered": "no_pathway", "rereferred_when_eligible": {"all": 1.0}})
    results = asdsim.simulate(s, replications=1, seed=1)
    child = results.patients.iloc[0]
    assert child.unmet_need_day == 0.0 and child.referrals == 2
    assert child.referral_day == pytest.approx(BIRTHDAY, abs=1e-5)
    assert child.list_join_day == child.referral_day and child.team == "school"
    assert 49.0 <= child.first_appointment_day < 54.0
    assert child.wait_first_appointment_days == pytest.approx(
        child.first_appointment_day - BIRTHDAY, abs=1e-5)
    k = kpis(results)
    assert k["unmet_need"] == 1 and k["referrals"] == 0
    assert exits(results) == {"exit[assessed]": 1.0}
    assert np.array_equal(results.records[0].triage_decisions[:, 1],
                          [0.0, child.referral_day])
