"""Pinned KPI and statistics behaviour, worked out by hand on a handful of children.

Every expected value here is derived in a comment from the documented definitions (README,
``asdsim.analysis.kpis``), never copied from the code's output. The records are built directly,
so each test fixes the children's milestones exactly and checks one rule of the KPI layer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import asdsim
from asdsim.analysis.kpis import (
    MONTHS_3,
    WEEKS_13,
    kpi_table,
    per_replication_kpis,
    replication_kpis,
    snapshot_days,
)
from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.stats import km_quantile, mean_ci
from asdsim.model.child import MILESTONES

NAN = math.nan
DAY_COLUMNS = (*MILESTONES, "started_day")
"""Every milestone the model records (NaN where not reached), so a new one needs no change here."""

# t quantiles for a 95% interval, from printed tables (not from scipy)
T975 = {1: 12.7062047362, 2: 4.30265272975, 3: 3.18244630528}


def child(**given: Any) -> dict[str, Any]:
    """One child's columns: days default to NaN (not reached), ``referral_day`` to 0, and the
    first referral to the current one; a child on a list by default."""
    out: dict[str, Any] = dict.fromkeys(DAY_COLUMNS, NAN)
    out.update(from_backlog=False, outsourced=False, staff_hours=0.0, outcome=None,
               exit_reason="waiting", team="t")
    out["referral_day"] = 0.0
    out.update(given)
    if "first_referral_day" not in given:
        out["first_referral_day"] = out["referral_day"]
    if "list_join_day" not in given and "triage_day" not in given:
        out["list_join_day"] = out["referral_day"]
    return out


def make_record(children: list[dict[str, Any]], replication: int = 0,
                staff: dict | None = None, slots: dict | None = None,
                outsourced_cost_gbp: float = 0.0, rereferral_days: tuple[float, ...] = (),
                rereferral_gaps: tuple[tuple[int, float, float], ...] = (),
                triage_decisions: tuple[tuple[float, float], ...] = ()) -> ReplicationRecord:
    """A replication's record: the children's columns, and per referral the re-referrals
    (child, rejected day, back day) and first triage decisions (referral day, decision day)."""
    columns: dict[str, np.ndarray] = {}
    for name in DAY_COLUMNS:
        columns[name] = np.array([c.get(name, NAN) for c in children], dtype=float)
    for name in ("from_backlog", "outsourced"):
        columns[name] = np.array([c[name] for c in children], dtype=bool)
    columns["staff_hours"] = np.array([c["staff_hours"] for c in children], dtype=float)
    for name in ("outcome", "exit_reason", "team"):
        columns[name] = np.array([c[name] for c in children], dtype=object)
    return ReplicationRecord(
        replication=replication, columns=columns,
        rereferral_days=np.array(rereferral_days, dtype=float), staff=staff or {},
        slots=slots or {}, outsourced_cost_gbp=outsourced_cost_gbp,
        rereferral_gaps=np.array(rereferral_gaps, dtype=float).reshape(-1, 3),
        triage_decisions=np.array(triage_decisions, dtype=float).reshape(-1, 2))


def scenario(**over: Any) -> asdsim.Scenario:
    """20 weeks (horizon day 140) from Monday 6 January 2020; no referrals (records are built)."""
    data: dict[str, Any] = {
        "name": "pinned", "start_date": "2020-01-06", "horizon_weeks": 20,
        "demand": {"referrals_per_week": 0,
                   "age_bands": [{"min_years": 2, "max_years": 10, "weight": 1}]},
        "teams": {"t": {"staff": {"p": {"wte": 1, "cost_per_hour_gbp": 50},
                                  "q": {"wte": 1, "cost_per_hour_gbp": 20}},
                        "steps": [{"name": "a", "hours": {"p": 1}, "outcome": True}]}},
    }
    data.update(over)
    return asdsim.scenario_from_dict(data)


def kpis_of(rec: ReplicationRecord, scen: asdsim.Scenario) -> dict[str, float]:
    return {kpi: value for kpi, _, value in replication_kpis(rec, scen)}


# ---------------------------------------------------------------------- within-window shares


def window_children() -> list[dict[str, Any]]:
    """Horizon day 140. 13 weeks = 91 days; 3 months = 3 * 365.25 / 12 = 91.3125 days.

    A, B, C referred day 0 and seen (first appointment = assessment start) after 91, 91.3125
    and 92 days. D (referred day 49) and E (48.6875) and F (60) are not seen by the horizon;
    G (day 10) withdrew on day 30 unseen. H is from the backlog (referred before the cohort
    starts), I was rejected at triage (never on a list).
    """
    seen = {"A": 91.0, "B": 91.3125, "C": 92.0}
    out = [child(referral_day=0.0, first_appointment_day=d, assessment_started_day=d,
                 started_day=d, exit_reason="in_assessment") for d in seen.values()]
    out += [child(referral_day=49.0), child(referral_day=48.6875), child(referral_day=60.0),
            child(referral_day=10.0, exit_day=30.0, exit_reason="withdrawn"),
            child(referral_day=-10.0, first_appointment_day=5.0, assessment_started_day=5.0,
                  started_day=5.0, from_backlog=True, exit_reason="in_assessment"),
            child(referral_day=5.0, triage_day=5.0, exit_day=5.0, exit_reason="rejected")]
    return out


def test_the_windows_are_13_weeks_and_3_calendar_months_in_days():
    assert WEEKS_13 == 91.0
    assert MONTHS_3 == 91.3125


def test_first_appointment_within_13_weeks_counts_closed_windows_only():
    # The window of a child referred on day r closes on r + 91; only closed windows count.
    # Closed by day 140: A, B, C (r=0), D (49+91=140, closed exactly at the horizon),
    # E (139.6875) and G (10); F (60+91=151) is still open and left out; H is before the cohort
    # and I never reached a list. Met: only A (91 <= 91; B waited 91.3125, C 92). G left unseen:
    # not met. Share = 1/6.
    # (A 92-day window would give 3/4, a 90-day one 0, no closed-window rule 1/7.)
    k = kpis_of(make_record(window_children()), scenario())
    assert k["first_appointment_within_13_weeks"] == pytest.approx(1 / 6)


def test_assessment_started_within_3_months_counts_closed_windows_only():
    # Window 91.3125 days. Closed: A, B, C, E (48.6875 + 91.3125 = 140 exactly) and G;
    # D (49 + 91.3125 = 140.3125) is not yet closed, nor F. Met: A (91) and B (91.3125, on the
    # boundary). Share = 2/5.
    # (92.3125 days would give 3/4, 90.3125 days 0/6, no closed-window rule 2/7.)
    k = kpis_of(make_record(window_children()), scenario())
    assert k["assessment_started_within_3_months"] == pytest.approx(2 / 5)
    # the count behind the share: 2 children started within 3 months (H, from the backlog,
    # started within 3 months too but is not in the cohort)
    assert k["started_within_3_months_count"] == 2


def test_cohort_from_date_leaves_out_earlier_referrals():
    # cohort from 2020-01-16 = day 10: A, B, C (day 0) drop out; closed: D, E, G; met none.
    scen = scenario(reporting={"cohort_from_date": "2020-01-16"})
    k = kpis_of(make_record(window_children()), scen)
    assert k["first_appointment_within_13_weeks"] == 0.0
    # 3 months: closed E and G, met none
    assert k["assessment_started_within_3_months"] == 0.0


def test_within_window_shares_on_each_basis():
    # Referred day 0 (windows closed by day 140): S seen on day 50; N left as no_pathway (no
    # team covers it) on day 1; R rejected at triage on day 1; U still waiting for triage.
    # Headline basis, every referral not turned down at triage: S, N, U -> 1/3.
    # All referrals: S, N, R, U, Q -> 1/5. Listed (reached a list): S -> 1.
    # A fifth, Q, was rejected on day 5 and comes back only on day 200, after the horizon: for
    # now it is turned down, like R (in the all-referrals basis only).
    kids = [child(first_appointment_day=50.0, assessment_started_day=50.0),
            child(list_join_day=NAN, triage_day=1.0, exit_day=1.0, exit_reason="no_pathway"),
            child(list_join_day=NAN, triage_day=1.0, exit_day=1.0, exit_reason="rejected"),
            child(list_join_day=NAN, triage_day=NAN),
            child(list_join_day=NAN, triage_day=5.0)]
    k = kpis_of(make_record(kids, rereferral_gaps=((4, 5.0, 200.0),)), scenario())
    for kpi in ("first_appointment_within_13_weeks", "assessment_started_within_3_months"):
        assert k[kpi] == pytest.approx(1 / 3)
        assert k[kpi + "_all_referrals"] == pytest.approx(1 / 5)
        assert k[kpi + "_listed"] == 1.0


def test_within_window_shares_by_quarter_of_referral():
    # Start 6 January 2020, horizon day 140 (25 May). Referred in 2020Q1 (day 0 and day 80 =
    # 26 March): windows close on days 91 and 171; only the first is closed: seen on day 30 ->
    # 1/1. Referred in 2020Q2 (day 90 = 5 April): not closed -> NaN.
    kids = [child(first_appointment_day=30.0, assessment_started_day=30.0),
            child(referral_day=80.0), child(referral_day=90.0)]
    k = kpis_of(make_record(kids), scenario())
    assert k["first_appointment_within_13_weeks[2020Q1]"] == 1.0
    assert k["first_appointment_within_13_weeks[2020]"] == 1.0
    assert math.isnan(k["first_appointment_within_13_weeks[2020Q2]"])
    assert "first_appointment_within_13_weeks[2020Q3]" not in k


def test_an_outsourced_child_counts_though_it_never_joined_a_list():
    # outsourced children count as listed: referred day 0, seen on day 50 -> met; one other
    # child referred day 0 seen day 100 -> not met. Share 1/2.
    kids = [child(referral_day=0.0, list_join_day=NAN, triage_day=0.0, outsourced=True,
                  first_appointment_day=50.0, assessment_started_day=50.0),
            child(referral_day=0.0, first_appointment_day=100.0, assessment_started_day=100.0)]
    k = kpis_of(make_record(kids), scenario())
    assert k["first_appointment_within_13_weeks"] == 0.5
    assert k["assessment_started_within_3_months"] == 0.5


def test_no_closed_window_gives_nan_not_zero():
    # one child referred on day 100: its window closes after the horizon
    k = kpis_of(make_record([child(referral_day=100.0)]), scenario())
    assert math.isnan(k["first_appointment_within_13_weeks"])
    assert math.isnan(k["assessment_started_within_3_months"])
    assert k["started_within_3_months_count"] == 0


def test_a_rereferred_child_waits_from_its_current_referral():
    # first referred day 0, rejected, re-referred day 30, seen day 120: waited 90 days from the
    # current referral (met), though 120 from the first.
    kids = [child(first_referral_day=0.0, referral_day=30.0, list_join_day=35.0,
                  first_appointment_day=120.0, assessment_started_day=120.0)]
    k = kpis_of(make_record(kids), scenario())
    assert k["first_appointment_within_13_weeks"] == 1.0
    assert k["assessment_started_within_3_months"] == 1.0
    assert k["first_appointment_wait_median"] == pytest.approx(90 / 7)


# --------------------------------------------------------------------------------- triage


def test_triaged_within_target_per_referral_from_its_own_arrival():
    # Target 14 days (the default). Referrals (first or repeat) and their first decisions:
    #   day 0 -> day 14 (met, on the boundary); day 0 -> day 15 (not); day 0 -> never (not);
    #   a repeat referral on day 20 -> day 21 (met: 1 day from its own arrival);
    #   day 130 -> 130: 130 + 14 > 140, its window is still open: left out;
    #   a backlog referral (day -5) decided on day 3: before the cohort, left out.
    kids = [child(referral_day=0.0, triage_day=14.0), child(referral_day=0.0, triage_day=15.0),
            child(referral_day=0.0, triage_day=NAN, list_join_day=NAN),
            child(first_referral_day=0.0, referral_day=20.0, triage_day=21.0),
            child(referral_day=130.0, triage_day=130.0),
            child(referral_day=-5.0, triage_day=3.0, from_backlog=True),
            child(referral_day=126.0, triage_day=130.0)]
    # the child re-referred on day 20 had its first referral (day 0) decided on day 2; the
    # day-126 referral's window closes exactly at the horizon (126 + 14 = 140): it counts
    decisions = ((0.0, 14.0), (0.0, 15.0), (0.0, 2.0), (20.0, 21.0), (130.0, 130.0), (-5.0, 3.0),
                 (126.0, 130.0))
    rec = make_record(kids, rereferral_days=(20.0,), rereferral_gaps=((3, 2.0, 20.0),),
                      triage_decisions=decisions)
    # closed referrals: days 0, 0, 0, 0 (the repeat's first), 20 and 126; met: 14, 2, 21 and
    # 126 -> 130 -> 4/6
    assert kpis_of(rec, scenario())["triaged_within_target"] == pytest.approx(4 / 6)
    # a 1-day target: closed: days 0 (x4), 20, 126, 130 (131 <= 140); met: the day-130
    # referral, decided on arrival, and the repeat decided after 1 day -> 2/7
    k1 = kpis_of(rec, scenario(triage={"target_days": 1}))
    assert k1["triaged_within_target"] == pytest.approx(2 / 7)


def test_triaged_within_target_leaves_out_the_starting_lists_own_referrals():
    # A starting-list child referred on the start date (day 0, in the cohort), decided on day 0,
    # and a new referral on day 10 decided on day 30 (20 days: not within 14). The starting
    # list's referral was made before the run: no arrival of the run, so neither counted nor
    # met. Arrivals whose window closed: the day-10 referral; met: none -> 0 of 1. Counting the
    # starting-list decision without its arrival would give 1 of 1.
    kids = [child(referral_day=0.0, triage_day=0.0, from_backlog=True),
            child(referral_day=10.0, triage_day=30.0)]
    rec = make_record(kids, triage_decisions=((0.0, 0.0), (10.0, 30.0)))
    rec.starting_list_decisions = np.array([[0.0, 0.0]])
    assert kpis_of(rec, scenario())["triaged_within_target"] == 0.0
    # decided within the target, the day-10 referral alone makes it 1 of 1, never 2 of 1
    rec.triage_decisions = np.array([[0.0, 0.0], [10.0, 11.0]])
    assert kpis_of(rec, scenario())["triaged_within_target"] == 1.0


# -------------------------------------------------------------- Kaplan-Meier wait quantiles


def test_median_wait_censors_a_child_who_left_when_it_left():
    # Y left on day 5 unseen, X seen day 10, Z seen day 50 (all referred day 0).
    # KM: Y censored at 5; X at 10 with 2 at risk: S = 1/2 -> median 10 days.
    # (Censoring Y at the horizon instead gives S(10) = 2/3 and a median of 50 days.)
    kids = [child(exit_day=5.0, exit_reason="withdrawn"),
            child(first_appointment_day=10.0, diagnosis_day=10.0),
            child(first_appointment_day=50.0, diagnosis_day=60.0)]
    k = kpis_of(make_record(kids), scenario())
    assert k["first_appointment_wait_median"] == pytest.approx(10 / 7)
    assert k["diagnosis_wait_median"] == pytest.approx(10 / 7)
    # p90 needs S <= 0.1: after Z (1 at risk) S = 0, so 50 and 60 days
    assert k["first_appointment_wait_p90"] == pytest.approx(50 / 7)
    assert k["diagnosis_wait_p90"] == pytest.approx(60 / 7)


def test_wait_quantile_not_reached_is_nan():
    # two seen at days 10 and 20, three still waiting at the horizon (censored at 140):
    # S(10) = 4/5, S(20) = 3/5; never <= 1/2 -> median not reached
    kids = [child(first_appointment_day=10.0), child(first_appointment_day=20.0),
            child(), child(), child()]
    k = kpis_of(make_record(kids), scenario())
    assert math.isnan(k["first_appointment_wait_median"])
    assert math.isnan(k["first_appointment_wait_p90"])
    assert math.isnan(k["diagnosis_wait_median"])


def test_wait_quantiles_leave_out_the_backlog_and_unlisted_children():
    # cohort: seen 7 and 21 days after referral -> median 7 days (S(7) = 1/2), p90 21.
    # A backlog child (seen 700 days after referral) and a rejected child are not in it.
    kids = [child(first_appointment_day=7.0), child(referral_day=7.0, first_appointment_day=28.0),
            child(referral_day=-700.0, first_appointment_day=0.0, from_backlog=True),
            child(referral_day=1.0, triage_day=1.0, exit_day=1.0, exit_reason="rejected")]
    k = kpis_of(make_record(kids), scenario())
    assert k["first_appointment_wait_median"] == pytest.approx(1.0)
    assert k["first_appointment_wait_p90"] == pytest.approx(3.0)


def test_km_quantile_hand_worked_with_ties_and_censoring():
    # times 2e 3e 3c 5e 6c 8e 9c (e: event, c: censored); at a tie events come first.
    # S(2) = 6/7 = .857, S(3) = 6/7 * 5/6 = 5/7 = .714, S(5) = 5/7 * 3/4 = 15/28 = .536,
    # S(8) = 15/28 * 1/2 = 15/56 = .268.
    t = np.array([9, 3, 8, 3, 2, 6, 5], float)
    e = np.array([0, 1, 1, 0, 1, 0, 1], bool)
    assert km_quantile(t, e, 0.1) == 2.0      # S <= .9 first at 2
    assert km_quantile(t, e, 0.25) == 3.0     # S <= .75 first at 3
    assert km_quantile(t, e, 0.3) == 5.0      # S <= .7: .714 is not, .536 is
    assert km_quantile(t, e, 0.5) == 8.0      # S <= .5 first at 8
    assert km_quantile(t, e, 0.7) == 8.0
    assert math.isnan(km_quantile(t, e, 0.75))  # S never <= .25
    # had the censoring at 3 come first, S(3) would be 6/7 * 4/5 = .686 and q=.3 would give 3


def test_km_quantile_reaches_a_quantile_exactly_on_the_boundary():
    # four events at 1, 2, 3, 4: S(2) = 3/4 * 2/3 = 1/2 (in floating point 0.5000000000000001)
    # -> the median is 2, not 3; S(1) = 3/4 -> q = .25 gives 1
    t = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.ones(4, bool)
    assert km_quantile(t, e, 0.5) == 2.0
    assert km_quantile(t, e, 0.25) == 1.0
    assert km_quantile(t, e, 0.9) == 4.0
    assert math.isnan(km_quantile(np.zeros(0), np.zeros(0, bool), 0.5))
    # one event among one: S = 0 at once
    assert km_quantile(np.array([3.0]), np.array([True]), 0.99) == 3.0


def test_km_quantile_ignores_a_censored_child_with_the_lowest_time():
    # a censoring is never the answer: censored at 1, events at 4 and 6 -> S(4) = 1/2 -> 4
    assert km_quantile(np.array([1.0, 4.0, 6.0]), np.array([False, True, True]), 0.5) == 4.0


# ----------------------------------------------------------------------------- mean and CI


def test_mean_ci_hand_worked():
    # 1, 2, 3: mean 2, sd 1, half-width t(.975, 2) * 1 / sqrt(3) = 4.30265 / 1.73205 = 2.48414
    mean, low, high, n = mean_ci(np.array([1.0, 2.0, 3.0]))
    assert (mean, n) == (2.0, 3)
    assert low == pytest.approx(2.0 - 2.484138, abs=1e-6)
    assert high == pytest.approx(2.0 + 2.484138, abs=1e-6)
    # 10, 12: sd sqrt(2), half-width 12.7062 * sqrt(2) / sqrt(2) = 12.7062
    mean, low, high, n = mean_ci(np.array([10.0, 12.0]))
    assert (mean, n) == (11.0, 2)
    assert (low, high) == (pytest.approx(11 - T975[1]), pytest.approx(11 + T975[1]))
    # 0, 4, 4, 8: mean 4, sd sqrt(32/3) = 3.26599, half-width 3.18245 * 3.26599 / 2 = 5.19695
    mean, low, high, n = mean_ci(np.array([0.0, 4.0, 4.0, 8.0]))
    assert (mean, n) == (4.0, 4)
    assert high - mean == pytest.approx(T975[3] * math.sqrt(32 / 3) / 2)
    assert mean - low == pytest.approx(T975[3] * math.sqrt(32 / 3) / 2)


def test_mean_ci_other_level_nan_and_degenerate_cases():
    # 90%: t(.95, 2) = 2.919986; 1, 2, 3 -> half-width 2.919986 / sqrt(3) = 1.685854
    mean, low, high, _ = mean_ci(np.array([1.0, 2.0, 3.0]), level=0.9)
    assert high - mean == pytest.approx(1.685854, abs=1e-6)
    # NaN is ignored; one value has no interval; none has no mean
    mean, low, high, n = mean_ci(np.array([NAN, 5.0]))
    assert (mean, n) == (5.0, 1) and math.isnan(low) and math.isnan(high)
    mean, low, high, n = mean_ci(np.array([NAN, NAN]))
    assert n == 0 and all(math.isnan(v) for v in (mean, low, high))
    # equal values: zero width
    assert mean_ci(np.array([3.0, 3.0, 3.0]))[1:3] == (3.0, 3.0)


# ------------------------------------------------------------------------------ backlog


def test_backlog_cleared_is_the_last_backlog_child_seen_or_gone():
    # backlog children: started day 14, started day 35, withdrew day 21 -> max(14, 35, 21) = 35
    # days = 5 weeks. A new referral seen on day 70 does not count.
    kids = [child(referral_day=-50.0, from_backlog=True, started_day=14.0),
            child(referral_day=-60.0, from_backlog=True, started_day=35.0,
                  exit_day=80.0, exit_reason="assessed"),
            child(referral_day=-70.0, from_backlog=True, exit_day=21.0, exit_reason="withdrawn"),
            child(referral_day=1.0, started_day=70.0)]
    assert kpis_of(make_record(kids), scenario())["backlog_cleared_weeks"] == 5.0
    # one backlog child still waiting: not cleared (NaN)
    waiting = [*kids, child(referral_day=-1.0, from_backlog=True)]
    assert math.isnan(kpis_of(make_record(waiting), scenario())["backlog_cleared_weeks"])
    # no backlog: NaN
    assert math.isnan(kpis_of(make_record(kids[3:]), scenario())["backlog_cleared_weeks"])


# ------------------------------------------------------------------- open referrals, long waits


def snapshot_children() -> tuple[list[dict[str, Any]], tuple[tuple[int, float, float], ...]]:
    kids = [
        child(referral_day=0.0),                               # K1
        child(referral_day=-0.5),                              # K2
        child(first_referral_day=-400.0, referral_day=100.0),  # K3: rejected day -300, back 100
        child(referral_day=-300.0, exit_day=91.0, exit_reason="assessed"),  # K4: left day 91
        child(referral_day=120.0),                             # K5
        child(referral_day=-400.0),                            # K6
    ]
    return kids, ((2, -300.0, 100.0),)


def test_open_referrals_and_long_waits_at_snapshot_dates():
    # A reporting date is counted at its end (midnight after it), just before that instant:
    # 5 April 2020 (day 90) -> t = 91; the horizon (25 May) -> t = 140.
    # t = 91: open K1, K2, K4 (it left at 91, not before), K6; K3 is between its rejection and
    #   its return (not an open referral); K5 not yet referred -> 4. Over 13 weeks (more than 91
    #   days since the referral in force): K2 (91.5), K4 (391), K6 (491); K1 is exactly 91, not
    #   over -> 3. Over 52 weeks (364): K4, K6 -> 2. Over 104 weeks (728): none.
    # t = 140: open K1, K2, K3 (back since day 100), K5, K6 -> 5. Over 13 weeks: K1 (140),
    #   K2 (140.5), K6 (540); K3 is 40 days from its current referral (540 from its first), K5
    #   20 days -> 3. Over 52: K6 -> 1.
    scen = scenario(reporting={"snapshot_dates": ["2020-04-05", "2020-05-25"]})
    assert snapshot_days(scen) == [("2020-04-05", 91.0), ("2020-05-25", 140.0)]
    kids, gaps = snapshot_children()
    k = kpis_of(make_record(kids, rereferral_gaps=gaps), scen)
    assert k["open_referrals[2020-04-05]"] == 4
    assert k["waiting_over_13_weeks[2020-04-05]"] == 3
    assert k["waiting_over_52_weeks[2020-04-05]"] == 2
    assert k["waiting_over_104_weeks[2020-04-05]"] == 0
    assert k["open_referrals[2020-05-25]"] == 5
    assert k["waiting_over_13_weeks[2020-05-25]"] == 3
    assert k["waiting_over_52_weeks[2020-05-25]"] == 1
    assert k["waiting_over_104_weeks[2020-05-25]"] == 0


def test_snapshot_defaults_to_the_horizon_end():
    scen = scenario()
    assert snapshot_days(scen) == [("2020-05-25", 140.0)]
    kids, gaps = snapshot_children()
    k = kpis_of(make_record(kids, rereferral_gaps=gaps), scen)
    assert k["open_referrals[2020-05-25]"] == 5
    assert k["waiting_over_13_weeks[2020-05-25]"] == 3


def test_a_child_re_referred_after_the_date_counts_from_its_first_referral_then():
    # K3 without a recorded gap (it waited in triage the whole time): on 5 April (t = 91) its
    # referral in force is the first one (day -400; the current one, day 100, came later): open,
    # over 13 and 52 weeks (491 days).
    scen = scenario(reporting={"snapshot_dates": ["2020-04-05"]})
    kids = [child(first_referral_day=-400.0, referral_day=100.0)]
    k = kpis_of(make_record(kids), scen)
    assert (k["open_referrals[2020-04-05]"], k["waiting_over_13_weeks[2020-04-05]"],
            k["waiting_over_52_weeks[2020-04-05]"], k["waiting_over_104_weeks[2020-04-05]"]) == (
        1, 1, 1, 0)


def test_open_counts_on_an_exit_day_and_a_referral_day():
    # Snapshot at the end of 15 January 2020 (day 9, t = 10). Referred on day 10: not yet (it
    # came at t, not before); referred day 9.5: open; referred day -200 and left on day 10: still
    # open just before t; left on day 9.9: gone; referred day -800: open and over 13, 52 and 104
    # weeks (810 days). Over 13 weeks: the -200 and -800 children.
    scen = scenario(reporting={"snapshot_dates": ["2020-01-15"]})
    kids = [child(referral_day=10.0), child(referral_day=9.5),
            child(referral_day=-200.0, exit_day=10.0), child(referral_day=-200.0, exit_day=9.9),
            child(referral_day=-800.0)]
    k = kpis_of(make_record(kids), scen)
    assert (k["open_referrals[2020-01-15]"], k["waiting_over_13_weeks[2020-01-15]"],
            k["waiting_over_52_weeks[2020-01-15]"], k["waiting_over_104_weeks[2020-01-15]"]) == (
        3, 2, 1, 1)


# ------------------------------------------------------------------- counts, hours and costs


def test_counts_outcomes_hours_utilisation_and_cost():
    # Three new referrals and one from the backlog. Assessed in-house: 4 and 8 staff hours
    # (mean 6), outcomes autism and none; one outsourced assessment (autism, its hours not
    # counted); one held child still waiting.
    kids = [child(exit_day=50.0, exit_reason="assessed", outcome="autism", staff_hours=4.0,
                  diagnosis_day=50.0),
            child(referral_day=3.0, exit_day=60.0, exit_reason="assessed", outcome="none",
                  staff_hours=8.0, diagnosis_day=60.0),
            child(referral_day=5.0, exit_day=70.0, exit_reason="assessed", outcome="autism",
                  outsourced=True, staff_hours=0.0, diagnosis_day=70.0),
            child(referral_day=-10.0, from_backlog=True, held_day=1.0)]
    weeks = 20
    staff = {("t", "p"): (np.full(weeks, 10.0), np.full(weeks, 5.0)),   # 100 of 200 hours
             ("t", "q"): (np.full(weeks, 2.0), np.full(weeks, 1.5))}    # 30 of 40 hours
    rec = make_record(kids, staff=staff, outsourced_cost_gbp=1000.0)
    k = kpis_of(rec, scenario())
    assert k["referrals"] == 3
    assert k["exit[assessed]"] == 3 and k["exit[waiting]"] == 1 and k["exit[withdrawn]"] == 0
    assert k["held_until_old_enough"] == 1
    assert k["staff_hours_per_assessment"] == 6.0
    assert k["outcome_share[autism]"] == pytest.approx(2 / 3)
    assert k["outcome_share[none]"] == pytest.approx(1 / 3)
    assert k["outcome_share[other_neurodevelopmental]"] == 0.0
    assert k["utilisation[t/p]"] == 0.5
    assert k["utilisation[t/q]"] == 0.75
    # cost: 100 h * 50 + 30 h * 20 + 1000 outsourced = 6600; per assessment 6600 / 3 = 2200
    assert k["cost_total"] == 6600.0
    assert k["cost_outsourced"] == 1000.0
    assert k["cost_per_assessment"] == 2200.0


def test_no_assessment_gives_nan_hours_shares_and_unit_cost():
    staff = {("t", "p"): (np.zeros(20), np.zeros(20))}
    k = kpis_of(make_record([child()], staff=staff), scenario())
    assert math.isnan(k["staff_hours_per_assessment"])
    assert math.isnan(k["outcome_share[autism]"])
    assert math.isnan(k["cost_per_assessment"])
    assert math.isnan(k["utilisation[t/p]"])  # no hours available
    assert k["cost_total"] == 0.0


def test_slot_utilisation_is_busy_over_slots():
    # 2 slots for 20 weeks (40 slot-weeks), 1.5 busy on average for 20 weeks (30): 0.75
    slots = {"t": (np.full(20, 2.0), np.full(20, 1.5))}
    k = kpis_of(make_record([child()], slots=slots), scenario())
    assert k["slot_utilisation[t]"] == 0.75
    empty = {"t": (np.zeros(20), np.zeros(20))}
    assert math.isnan(kpis_of(make_record([child()], slots=empty), scenario())[
        "slot_utilisation[t]"])


# --------------------------------------------------------------------- across replications


def two_replications() -> list[ReplicationRecord]:
    # Replication 0: backlog child started day 14 (cleared at 2 weeks), a new child seen on
    #   day 7 and assessed with 6 staff hours.
    # Replication 1: the backlog child still waits (not cleared), nobody is seen, no assessment.
    rep0 = [child(referral_day=-5.0, from_backlog=True, started_day=14.0),
            child(first_appointment_day=7.0, assessment_started_day=7.0, started_day=7.0,
                  diagnosis_day=20.0, exit_day=20.0, exit_reason="assessed", outcome="autism",
                  staff_hours=6.0)]
    rep1 = [child(referral_day=-5.0, from_backlog=True), child()]
    return [make_record(rep0, 0), make_record(rep1, 1)]


def test_censored_kpis_are_nan_unless_reached_in_every_replication():
    scen = scenario()
    per_rep = per_replication_kpis(two_replications(), scen)
    value = per_rep.set_index(["kpi", "replication"]).value
    assert value["backlog_cleared_weeks", 0] == 2.0
    assert math.isnan(value["backlog_cleared_weeks", 1])
    assert value["first_appointment_wait_median", 0] == 1.0
    table = kpi_table(two_replications(), scen).set_index("kpi")
    # a mean of the one replication that cleared (2 weeks) would be biased low: NaN, n = 0
    for kpi in ("backlog_cleared_weeks", "first_appointment_wait_median",
                "first_appointment_wait_p90", "diagnosis_wait_median", "diagnosis_wait_p90"):
        assert math.isnan(table.loc[kpi, "mean"]), kpi
        assert table.loc[kpi, "n"] == 0, kpi
    # other KPIs with a value in only some replications are averaged over those
    assert table.loc["staff_hours_per_assessment", "mean"] == 6.0
    assert table.loc["staff_hours_per_assessment", "n"] == 1


def test_censored_kpi_reached_everywhere_is_averaged():
    # both replications clear the backlog: at 2 and 4 weeks -> mean 3, CI 3 +- 12.7062
    reps = two_replications()
    reps[1] = make_record([child(referral_day=-5.0, from_backlog=True, started_day=28.0)], 1)
    row = kpi_table(reps, scenario()).set_index("kpi").loc["backlog_cleared_weeks"]
    assert row["mean"] == 3.0 and row["n"] == 2
    assert row["ci_high"] == pytest.approx(3 + T975[1])
    assert row["ci_low"] == 0.0  # 3 - 12.7 clipped: a time is never negative
    assert row["unit"] == "weeks"


def test_share_intervals_are_clipped_to_zero_and_one():
    # replication 0: the one closed child is seen in time (1), replication 1: not (0).
    # Mean 0.5, half-width 12.7062 * sqrt(.5) / sqrt(2) = 6.35 -> clipped to [0, 1]
    seen = child(first_appointment_day=10.0, assessment_started_day=10.0)
    unseen = child()
    table = kpi_table([make_record([seen], 0), make_record([unseen], 1)], scenario())
    row = table.set_index("kpi").loc["first_appointment_within_13_weeks"]
    assert (row["mean"], row["ci_low"], row["ci_high"], row["n"]) == (0.5, 0.0, 1.0, 2)
    # a count is clipped at zero below but not at one above: 1 and 3 open referrals
    table = kpi_table([make_record([unseen], 0), make_record([unseen] * 3, 1)], scenario())
    row = table.set_index("kpi").loc["open_referrals[2020-05-25]"]
    assert row["mean"] == 2.0 and row["ci_low"] == 0.0
    assert row["ci_high"] == pytest.approx(2 + T975[1])
    assert list(table.columns) == ["kpi", "mean", "ci_low", "ci_high", "unit", "n"]


# ------------------------------------------------------------------ observed-figure measures


def observed_children() -> ReplicationRecord:
    """Just before t = 100:
    O1: referred day 0, accepted day 2, not started (waiting 100 days), north.
    O2: referred day 50, accepted day 51, started day 60 (in assessment), south.
    O3: referred day 90, not yet accepted, south.
    O4: left on day 80, north.
    O5: referred on day 100 (not before t), north.
    O6: referred day -300, accepted -290, starts exactly at t (still waiting just before), north.
    O7: referred day 20, accepted day 25, starts on day 150 (after t), north.
    """
    kids = [child(referral_day=0.0, accepted_day=2.0, locality="north"),
            child(referral_day=50.0, accepted_day=51.0, started_day=60.0, locality="south"),
            child(referral_day=90.0, locality="south"),
            child(referral_day=10.0, accepted_day=11.0, exit_day=80.0, locality="north"),
            child(referral_day=100.0, locality="north"),
            child(referral_day=-300.0, accepted_day=-290.0, started_day=100.0, locality="north"),
            child(referral_day=20.0, accepted_day=25.0, started_day=150.0, locality="north")]
    rec = make_record(kids)
    rec.columns["locality"] = np.array([k["locality"] for k in kids], dtype=object)
    return rec


def test_snapshot_measures_of_open_referrals():
    from asdsim.analysis.cohorts import snapshot_measure

    rec = observed_children()
    assert snapshot_measure(rec, "open_referrals", 100.0) == 5  # O1, O2, O3, O6, O7
    assert snapshot_measure(rec, "open_referrals", 100.0, locality="north") == 3  # O1, O6, O7
    # over 13 weeks (91 days since the referral in force): O1 (100) and O6 (400)
    assert snapshot_measure(rec, "open_referrals_over_weeks", 100.0, over_weeks=13) == 2
    assert snapshot_measure(rec, "open_referrals_over_weeks", 100.0, over_weeks=52) == 1
    assert snapshot_measure(rec, "longest_wait_weeks", 100.0) == pytest.approx(400 / 7)
    assert snapshot_measure(rec, "longest_wait_weeks", 100.0, locality="south") == pytest.approx(
        50 / 7)
    assert snapshot_measure(rec, "longest_wait_weeks", -400.0) == 0.0  # nobody open yet


def test_snapshot_measures_awaiting_assessment():
    # Awaiting assessment just before t = 100: open, accepted before t, not started before t:
    # O1 (never started), O6 (starts at t), O7 (starts on day 150) -> 3; O2 is in assessment,
    # O3 not yet accepted. Over 52 weeks (364 days): O6 -> 1.
    from asdsim.analysis.cohorts import snapshot_measure

    rec = observed_children()
    assert snapshot_measure(rec, "awaiting_assessment", 100.0) == 3
    assert snapshot_measure(rec, "awaiting_assessment_over_weeks", 100.0, over_weeks=52) == 1


# ------------------------------------------------------------------------- incremental cost


def test_incremental_cost_per_extra_child_by_the_delta_method():
    # Paired by replication. Baseline cost 100, 200, 300 and effect (children started within
    # 3 months) 10, 20, 30. Scenario B: cost 130, 260, 330 and effect 12, 23, 32.
    # Differences: cost 30, 60, 30 (mean 40); effect 2, 3, 2 (mean 7/3, sd sqrt(1/3),
    # half-width t(.975, 2) x sqrt(1/3) / sqrt(3) = 4.302653 / 3 = 1.434218: CI [0.899, 3.768],
    # clear of zero). Ratio 40 / (7/3) = 120/7 = 17.142857 GBP per extra child.
    # Residuals d_cost - ratio x d_effect = (30/7) x (-1, 2, -1): mean 0, sd (30/7) sqrt(3);
    # half-width 4.302653 x 30/7 = 18.439941, over |7/3| = 7.902832.
    # Scenario C: effect differences 1, -1, 0: its CI includes zero -> no price (NaN).
    import types

    from asdsim.analysis.paired import incremental_cost

    def run_of(cost: list[float], effect: list[float]) -> types.SimpleNamespace:
        rows = [(r, "cost_funded_total", c) for r, c in enumerate(cost)]
        rows += [(r, "started_within_3_months_count", e) for r, e in enumerate(effect)]
        import pandas as pd

        frame = pd.DataFrame(rows, columns=["replication", "kpi", "value"])
        return types.SimpleNamespace(kpis_by_replication=frame)

    runs = {"base": run_of([100, 200, 300], [10, 20, 30]),
            "B": run_of([130, 260, 330], [12, 23, 32]),
            "C": run_of([110, 190, 300], [11, 19, 30])}
    table = incremental_cost(runs, "base", cost="cost_funded_total").set_index("scenario")
    assert list(table.index) == ["B", "C"]
    b = table.loc["B"]
    assert b.extra_cost_gbp == pytest.approx(40.0)
    assert b.extra_children == pytest.approx(7 / 3)
    assert b.extra_children_ci_low == pytest.approx(7 / 3 - 1.434218, abs=1e-6)
    assert b.extra_children_ci_high == pytest.approx(7 / 3 + 1.434218, abs=1e-6)
    assert b.cost_per_extra_child_gbp == pytest.approx(120 / 7)
    assert b.ci_low == pytest.approx(120 / 7 - 7.902832, abs=1e-5)
    assert b.ci_high == pytest.approx(120 / 7 + 7.902832, abs=1e-5)
    c = table.loc["C"]
    assert c.extra_cost_gbp == pytest.approx(0.0) and c.extra_children == pytest.approx(0.0)
    assert math.isnan(c.cost_per_extra_child_gbp) and math.isnan(c.ci_low)
    assert math.isnan(c.ci_high)


# --------------------------------------------------------------------------- weekly table


def weekly_children() -> ReplicationRecord:
    """Eight children; counts are taken just before each week's end (t = 7, 14, 21, 28).

    W1: referred day 1, accepted and listed day 3, first appointment (started) day 10, assessed
        day 16.
    W2: referred day 2, rejected at triage on day 9.
    W3: from the backlog (day -30), held until listed on day 12, seen and assessed on day 20.
    W4: referred day 8, under review until listed on day 15, still waiting.
    W5: referred day 4, rejected day 5, referred again day 11, accepted and listed day 12.
    W6: referred day 0, not yet triaged.
    W7: referred day 7, not yet triaged.
    W8: referred, accepted and listed day 2, withdrew on day 13 unseen.
    W9: referred and accepted day 1, held, referred out of area on day 5 (never listed).
    """
    kids = [
        child(referral_day=1.0, accepted_day=3.0, list_join_day=3.0, started_day=10.0,
              first_appointment_day=10.0, assessment_started_day=10.0, diagnosis_day=16.0,
              exit_day=16.0, exit_reason="assessed", outcome="autism"),
        child(referral_day=2.0, triage_day=9.0, exit_day=9.0, exit_reason="rejected"),
        child(referral_day=-30.0, from_backlog=True, accepted_day=-30.0, held_day=-30.0,
              list_join_day=12.0, started_day=20.0, first_appointment_day=20.0,
              assessment_started_day=20.0, diagnosis_day=20.0, exit_day=20.0,
              exit_reason="assessed", outcome="none"),
        child(referral_day=8.0, accepted_day=8.0, review_day=8.0, list_join_day=15.0),
        child(first_referral_day=4.0, referral_day=11.0, accepted_day=12.0, list_join_day=12.0),
        child(referral_day=0.0, triage_day=NAN, list_join_day=NAN),
        child(referral_day=7.0, triage_day=NAN, list_join_day=NAN),
        child(referral_day=2.0, accepted_day=2.0, list_join_day=2.0, exit_day=13.0,
              exit_reason="withdrawn"),
        child(referral_day=1.0, accepted_day=1.0, held_day=1.0, list_join_day=NAN, exit_day=5.0,
              exit_reason="out_of_area"),
    ]
    return make_record(kids, rereferral_days=(11.0,), rereferral_gaps=((4, 5.0, 11.0),))


def test_weekly_table_by_hand():
    # referrals in (first referrals from day 0, and repeat referrals), by week:
    #   week 0: W1 (1), W2 (2), W5 (4), W6 (0), W8 (2), W9 (1) = 6; week 1: W4 (8), W7 (7), W5
    #   again (11)
    # open referrals: t=7: W1, W2, W3, W6, W8 (W5 is between rejection and return, W7 came at
    #   7) = 5; t=14: W1, W3, W4, W5, W6, W7 = 6 (W2 left day 9, W8 day 13); t=21: W4-W7 = 4.
    # awaiting triage (referred, not yet accepted or gone): t=7: W2, W5, W6 = 3 (the weekly
    #   table counts W5's wait for its repeat referral here); t=14: W6, W7 = 2; t=21: 2.
    # held or under review: t=7: W3 (held to day 12; W9 left on day 5); t=14: W4 (review to day
    #   15); t=21: 0.
    # waiting for assessment (listed, not yet started or gone): t=7: W1, W8; t=14: W3, W5;
    #   t=21: W4, W5.
    # mean waiting within each week (waiting-days / 7): week 0: W1 4 + W8 5 = 9; week 1:
    #   W1 3 + W8 6 + W3 2 + W5 2 = 13; week 2: W3 6 + W4 6 + W5 7 = 19; week 3: 14.
    # in assessment: W1 from day 10 to 16: t=14 only.
    # first appointments: W1 week 1, W3 week 2; assessments completed: W1 (16) and W3 (20) in
    #   week 2 (W2's rejection and W8's withdrawal are not completions).
    rec = weekly_children()
    results = asdsim.Results(scenario=scenario(), provenance={"replications": 1, "seed": 1},
                             records=[rec])
    w = results.weekly.iloc[:4]
    assert w.week.tolist() == [0, 1, 2, 3]
    assert w.referrals_in.tolist() == [6, 3, 0, 0]
    assert w.open_referrals.tolist() == [5, 6, 4, 4]
    assert w.awaiting_triage.tolist() == [3, 2, 2, 2]
    assert w.held_or_review.tolist() == [1, 1, 0, 0]
    assert w.waiting_for_assessment.tolist() == [2, 2, 2, 2]
    np.testing.assert_allclose(w.waiting_for_assessment_mean, [9 / 7, 13 / 7, 19 / 7, 2.0])
    assert w.in_assessment.tolist() == [0, 1, 0, 0]
    assert w.first_appointments.tolist() == [0, 1, 1, 0]
    assert w.assessments_completed.tolist() == [0, 0, 2, 0]
    assert w.waiting_over_13_weeks.tolist() == [0, 0, 0, 0]
    assert len(results.weekly) == 20


def test_results_text_forms():
    results = asdsim.Results(scenario=scenario(name="a <b> & c"),
                             provenance={"replications": 3, "seed": 42},
                             records=[weekly_children()])
    assert repr(results) == "Results(scenario='a <b> & c', replications=3, seed=42)"
    page = results._repr_html_()
    assert page.startswith("<p><b>a &lt;b&gt; &amp; c</b>: 3 replications, seed 42</p>")
    assert "<table" in page and "first_appointment_within_13_weeks" in page


def test_open_and_awaiting_boundaries_just_before_t():
    # Just before t = 100:
    # B1: referred day 0, rejected day 30, back exactly at t: between referrals, not open.
    # B2: referred day 0, rejected exactly at t: still open just before.
    # B3: referred day 0, rejected day 20 and back on day 50: open.
    # B4: referred day 0, left exactly at t: open just before.
    # B5: referred day 0, accepted exactly at t: open, not yet awaiting assessment.
    # B6: referred day 9, accepted day 50, not started: awaiting, exactly 91 days (13 weeks).
    # B7: referred day 95: open, 5 days.
    from asdsim.analysis.cohorts import snapshot_measure

    kids = [child(referral_day=0.0), child(referral_day=0.0), child(referral_day=0.0),
            child(referral_day=0.0, exit_day=100.0, exit_reason="withdrawn"),
            child(referral_day=0.0, accepted_day=100.0),
            child(referral_day=9.0, accepted_day=50.0), child(referral_day=95.0)]
    gaps = ((0, 30.0, 100.0), (1, 100.0, 150.0), (2, 20.0, 50.0))
    rec = make_record(kids, rereferral_gaps=gaps)
    assert snapshot_measure(rec, "open_referrals", 100.0) == 6          # all but B1
    assert snapshot_measure(rec, "awaiting_assessment", 100.0) == 1     # B6
    # B6 waited exactly 91 days: not over 13 weeks
    assert snapshot_measure(rec, "awaiting_assessment_over_weeks", 100.0, over_weeks=13) == 0
    # over 0 weeks: every open referral that has waited at all, B7's 5 days included
    assert snapshot_measure(rec, "open_referrals_over_weeks", 100.0, over_weeks=0) == 6
    assert snapshot_measure(rec, "open_referrals_over_weeks", 100.0, over_weeks=13) == 4


def test_incremental_cost_edge_cases():
    # Effect differences 0.1, -0.1, 0.3: mean 0.1, sd 0.2, half-width 4.302653 x 0.2 / sqrt(3)
    # = 0.4968 -> CI [-0.397, 0.597] includes zero: no price, though its top is below 1.
    # Effect differences -2, -3, -2 (fewer children seen in time, CI below zero): a price is
    # given, cost difference 30 over -7/3 -> -90/7.
    import types

    import pandas as pd

    from asdsim.analysis.paired import incremental_cost

    def run_of(cost: list[float], effect: list[float]) -> types.SimpleNamespace:
        rows = [(r, "cost_funded_total", c) for r, c in enumerate(cost)]
        rows += [(r, "started_within_3_months_count", e) for r, e in enumerate(effect)]
        return types.SimpleNamespace(
            kpis_by_replication=pd.DataFrame(rows, columns=["replication", "kpi", "value"]))

    base = run_of([100, 200, 300], [10, 20, 30])
    unclear = incremental_cost({"base": base, "U": run_of([100, 200, 300], [10.1, 19.9, 30.3])},
                               "base", cost="cost_funded_total").set_index("scenario").loc["U"]
    assert unclear.extra_children_ci_high == pytest.approx(0.1 + 0.49683, abs=1e-4)
    assert math.isnan(unclear.cost_per_extra_child_gbp)
    assert math.isnan(unclear.ci_low) and math.isnan(unclear.ci_high)
    worse = incremental_cost({"base": base, "W": run_of([130, 230, 330], [8, 17, 28])},
                             "base", cost="cost_funded_total").set_index("scenario").loc["W"]
    assert worse.cost_per_extra_child_gbp == pytest.approx(-90 / 7)
    # only the baseline: an empty table that still has its columns
    empty = incremental_cost({"base": base}, "base", cost="cost_funded_total")
    assert len(empty) == 0
    assert list(empty.columns) == ["scenario", "window_from", "window_to", "extra_cost_gbp",
                                   "extra_children", "extra_children_ci_low",
                                   "extra_children_ci_high", "cost_per_extra_child_gbp", "ci_low",
                                   "ci_high", "difference"]


def test_restricted_mean_and_mean_of_children_seen():
    # Cohort from day 0, horizon day 140: the longest possible follow-up is 20 weeks. Seen after
    # 1 and 3 weeks; one still waiting (censored at 20 weeks). KM: S = 2/3 from week 1, 1/3 from
    # week 3. Area under S to week 20: 1 x 1 + 2/3 x 2 + 1/3 x 17 = 8 weeks.
    # Mean of the children seen: (1 + 3) / 2 = 2 weeks. Median: S(3) = 1/3 <= 1/2 -> 3 weeks.
    kids = [child(first_appointment_day=7.0), child(first_appointment_day=21.0), child()]
    k = kpis_of(make_record(kids), scenario())
    assert k["first_appointment_wait_restricted_mean"] == pytest.approx(8.0)
    assert k["first_appointment_wait_mean_seen"] == pytest.approx(2.0)
    assert k["first_appointment_wait_median"] == pytest.approx(3.0)
    assert k["first_appointment_wait_median_at_least"] == pytest.approx(3.0)
    # nobody seen: no mean; the median is not reached and is at least the longest follow-up
    # (20 weeks); the restricted mean is the whole 20 weeks
    k = kpis_of(make_record([child(), child(referral_day=70.0)]), scenario())
    assert math.isnan(k["first_appointment_wait_mean_seen"])
    assert math.isnan(k["first_appointment_wait_median"])
    assert k["first_appointment_wait_median_at_least"] == pytest.approx(20.0)
    assert k["first_appointment_wait_restricted_mean"] == pytest.approx(20.0)


def test_kpi_table_keeps_the_order_of_the_kpis_and_its_columns_when_empty():
    scen = scenario()
    table = kpi_table([make_record([child()], 0), make_record([child()], 1)], scen)
    order = [kpi for kpi, _, _ in replication_kpis(make_record([child()]), scen)]
    assert table.kpi.tolist() == order  # as computed, not sorted by name
    assert order[0] == "first_appointment_within_13_weeks"
    empty = kpi_table([], scen)
    assert len(empty) == 0 and list(empty.columns) == ["kpi", "mean", "ci_low", "ci_high",
                                                       "unit", "n"]


def test_paired_differences_by_hand():
    # Three replications. A share, A: baseline 0.2, 0.4, 0.6; B 0.3, 0.6, 0.6 -> paired
    # differences 0.1, 0.2, 0 (mean 0.1, sd 0.1, half-width 4.302653 x 0.1 / sqrt(3) = 0.248414).
    # 'backlog_cleared_weeks' (censored): B did not clear in replication 1 -> no difference.
    # 'cost_total' (not censored): baseline NaN in replication 2 -> the other two: 10 and 30,
    # mean 20. 'referrals' exists only in B -> no difference. The baseline's own differences are 0.
    import types

    import pandas as pd

    from asdsim.analysis.paired import COLUMNS, paired_table

    A = "first_appointment_within_13_weeks"

    def run_of(values: dict[str, list[float]]) -> types.SimpleNamespace:
        rows = [(r, kpi, v) for kpi, vs in values.items() for r, v in enumerate(vs)]
        per_rep = pd.DataFrame(rows, columns=["replication", "kpi", "value"])
        kpis = pd.DataFrame([{"kpi": kpi, "mean": float(np.nanmean(vs)), "ci_low": 0.0,
                              "ci_high": 1.0, "unit": "x", "n": 3} for kpi, vs in values.items()])
        return types.SimpleNamespace(kpis_by_replication=per_rep, kpis=kpis)

    base = run_of({A: [0.2, 0.4, 0.6], "backlog_cleared_weeks": [2, 3, 4],
                   "cost_total": [100, 200, NAN]})
    b = run_of({A: [0.3, 0.6, 0.6], "backlog_cleared_weeks": [1, NAN, 2],
                "cost_total": [110, 230, 500], "referrals": [1, 2, 3]})
    table = paired_table({"base": base, "B": b}, "base")
    assert list(table.columns) == COLUMNS
    rows = table.set_index(["scenario", "kpi"])
    a = rows.loc[("B", A)]
    assert a.diff_mean == pytest.approx(0.1)
    assert (a.diff_ci_low, a.diff_ci_high) == (pytest.approx(0.1 - 0.248414, abs=1e-6),
                                               pytest.approx(0.1 + 0.248414, abs=1e-6))
    assert a["mean"] == pytest.approx(1.5 / 3)
    assert math.isnan(rows.loc[("B", "backlog_cleared_weeks")].diff_mean)
    assert rows.loc[("B", "cost_total")].diff_mean == pytest.approx(20.0)
    assert math.isnan(rows.loc[("B", "referrals")].diff_mean)
    assert rows.loc[("base", A)].diff_mean == 0.0
    assert rows.loc[("base", "cost_total")].diff_mean == 0.0


def test_validation_table_percentiles_and_locality():
    # Three replications with 0, 10 and 20 open referrals in the north (and 5 in the south
    # each) at the end of 5 April 2020. Simulated mean 10; 2.5th and 97.5th percentiles by
    # linear interpolation: 0 + 0.05 x 10 = 0.5 and 10 + 0.95 x 10 = 19.5. Observed 19 is
    # inside, 20 is not.
    from asdsim.analysis.validation import validation_table

    def rep(n_north: int, r: int) -> ReplicationRecord:
        kids = [child(referral_day=1.0) for _ in range(n_north + 5)]
        rec = make_record(kids, replication=r)
        rec.columns["locality"] = np.array(["north"] * n_north + ["south"] * 5, dtype=object)
        return rec

    point = {"date": "2020-04-05", "measure": "open_referrals", "locality": "north",
             "source": "hand-made"}
    scen = scenario(demand={"referrals_per_week": 0, "localities": {"north": 0.5, "south": 0.5},
                            "age_bands": [{"min_years": 2, "max_years": 10, "weight": 1}]},
                    observed=[{**point, "value": 19}, {**point, "value": 20}])
    table = validation_table([rep(0, 0), rep(10, 1), rep(20, 2)], scen)
    assert table.simulated_mean.tolist() == [10.0, 10.0]
    assert table.simulated_low.tolist() == pytest.approx([0.5, 0.5])
    assert table.simulated_high.tolist() == pytest.approx([19.5, 19.5])
    assert table.inside.tolist() == [True, False]


# ---------------------------------------------------------------------- names and years


def test_kpi_names_split_into_base_and_argument():
    from asdsim.analysis.definitions import definition, split

    assert split("open_referrals[2020-04-05]") == ("open_referrals", "2020-04-05")
    assert split("utilisation[t/p]") == ("utilisation", "t/p")
    assert split("referrals") == ("referrals", None)
    assert split("exit[withdrawn") == ("exit", None)  # no closing bracket: no argument
    assert definition("waiting_over_13_weeks[2020-04-05]").unit == "children"
    with pytest.raises(KeyError) as info:
        definition("no_such_kpi[x]")
    message = str(info.value)
    assert "no KPI 'no_such_kpi'" in message
    assert "valid KPIs: assessment_started_wait_mean_seen, assessment_started_wait_median," in (
        message)


def test_financial_years_april_to_march_cut_to_the_horizon():
    from asdsim.analysis.kpis import financial_years

    # From Monday 6 January 2020 for 70 weeks (490 days, to 11 May 2021): 1 April 2020 is day
    # 86 and 1 April 2021 day 451.
    assert financial_years(scenario(horizon_weeks=70)) == [
        ("FY2019/20", 0.0, 86.0), ("FY2020/21", 86.0, 451.0), ("FY2021/22", 451.0, 490.0)]
    # starting on 1 April: that year's first day; on 31 March: the year before, one day long
    assert financial_years(scenario(start_date="2020-04-01", horizon_weeks=10)) == [
        ("FY2020/21", 0.0, 70.0)]
    assert financial_years(scenario(start_date="2020-03-31", horizon_weeks=10)) == [
        ("FY2019/20", 0.0, 1.0), ("FY2020/21", 1.0, 70.0)]
    # two-digit end year
    assert financial_years(scenario(start_date="2000-06-05", horizon_weeks=1))[0][0] == "FY2000/01"


def test_counts_of_open_children_by_status_and_units():
    # at the horizon: one waiting (never started), one in assessment (started day 50, open)
    kids = [child(), child(started_day=50.0, first_appointment_day=50.0,
                           exit_reason="in_assessment")]
    slots = {"t": (np.full(20, 1.0), np.full(20, 0.5))}
    per_rep = per_replication_kpis([make_record(kids, slots=slots)], scenario()).set_index("kpi")
    assert per_rep.value["exit[waiting]"] == 1 and per_rep.value["exit[in_assessment]"] == 1
    assert per_rep.unit["slot_utilisation[t]"] == "share"
    assert per_rep.value["slot_utilisation[t]"] == 0.5
    assert per_rep.unit["exit[in_assessment]"] == "children"
    assert per_rep.unit["backlog_cleared_weeks"] == "weeks"


def test_utilisation_with_less_than_an_hour_available():
    # half an hour available in all, a quarter used: utilisation 0.5
    staff = {("t", "p"): (np.array([0.5] + [0.0] * 19), np.array([0.25] + [0.0] * 19))}
    assert kpis_of(make_record([child()], staff=staff), scenario())["utilisation[t/p]"] == 0.5


def test_restricted_mean_runs_from_the_cohort_start_and_exists_for_one_child():
    # cohort from day 70 (16 March 2020): the longest possible follow-up is 140 - 70 = 70 days
    # = 10 weeks. One child referred day 70, never seen: restricted mean 10 weeks.
    scen = scenario(reporting={"cohort_from_date": "2020-03-16"})
    k = kpis_of(make_record([child(referral_day=70.0)]), scen)
    assert k["first_appointment_wait_restricted_mean"] == pytest.approx(10.0)
    # seen after 2 weeks: S = 0 from week 2 -> area 2 weeks
    k = kpis_of(make_record([child(referral_day=70.0, first_appointment_day=84.0)]), scen)
    assert k["first_appointment_wait_restricted_mean"] == pytest.approx(2.0)


def test_long_waits_just_before_t_with_rereferral_gaps():
    # Snapshot at the end of 5 April 2020 (t = 91); all first referred on day -200.
    # G1: rejected day -100, back exactly at t (its current referral, day 91, is not yet in
    #     force): between referrals just before t, not open.
    # G2: rejected exactly at t: open, its referral (day -200) 291 days old -> over 13 weeks.
    # G3: rejected day -100, back day -50: open, 141 days -> over 13 weeks.
    # G4: referred day -400, re-referred exactly at t while waiting in triage (no gap): its
    #     referral in force is still the first -> 491 days, over 13 and 52 weeks.
    scen = scenario(reporting={"snapshot_dates": ["2020-04-05"]})
    kids = [child(first_referral_day=-200.0, referral_day=91.0),
            child(referral_day=-200.0),
            child(first_referral_day=-200.0, referral_day=-50.0),
            child(first_referral_day=-400.0, referral_day=91.0)]
    gaps = ((0, -100.0, 91.0), (1, 91.0, 150.0), (2, -100.0, -50.0))
    k = kpis_of(make_record(kids, rereferral_gaps=gaps), scen)
    assert k["open_referrals[2020-04-05]"] == 3
    assert k["waiting_over_13_weeks[2020-04-05]"] == 3
    assert k["waiting_over_52_weeks[2020-04-05]"] == 1


def test_referral_periods_are_calendar_years_and_quarters_within_the_horizon():
    from asdsim.analysis.cohorts import referral_periods

    # 52 weeks from Monday 6 January 2020 (to 4 January 2021). P1 day 0 (6 Jan), P2 day 80
    # (26 Mar), P3 day 100 (15 Apr), P4 from the backlog (day -10), P5 day 300 (1 Nov), P6 day
    # 361 (1 Jan 2021).
    scen = scenario(horizon_weeks=52)
    days = np.array([0.0, 80.0, 100.0, -10.0, 300.0, 361.0])
    periods = {k: v.tolist() for k, v in referral_periods(scen, days).items()}
    assert periods == {
        "2020": [True, True, True, False, True, False],
        "2021": [False, False, False, False, False, True],
        "2020Q1": [True, True, False, False, False, False],
        "2020Q2": [False, False, True, False, False, False],
        "2020Q3": [False] * 6,
        "2020Q4": [False, False, False, False, True, False],
        "2021Q1": [False, False, False, False, False, True],
    }
    # a quarter counts if it overlaps the horizon: from 28 March a quarter ending 31 March does
    # (checked on its 28th day), from 29 March it does not; ending exactly on 1 April 2020
    # (from 18 March, 2 weeks) takes in the second quarter
    def keys(start: str, weeks: int) -> list[str]:
        return sorted(referral_periods(scenario(start_date=start, horizon_weeks=weeks),
                                       np.zeros(1)))

    assert keys("2020-03-28", 2) == ["2020", "2020Q1", "2020Q2"]
    assert keys("2020-03-29", 2) == ["2020", "2020Q2"]
    assert keys("2020-03-18", 2) == ["2020", "2020Q1", "2020Q2"]


def test_shares_by_period_leave_out_the_backlog():
    # 52 weeks from 6 January 2020. P1 (day 0) seen day 30: met; P2 (day 80) seen day 200: not;
    # P3 (day 100) seen day 120: met; P4 from the backlog (day -10) seen day 5: not counted.
    # 2020Q1: 1/2; 2020Q2: 1; 2020: 2/3.
    kids = [child(first_appointment_day=30.0, assessment_started_day=30.0),
            child(referral_day=80.0, first_appointment_day=200.0, assessment_started_day=200.0),
            child(referral_day=100.0, first_appointment_day=120.0, assessment_started_day=120.0),
            child(referral_day=-10.0, from_backlog=True, first_appointment_day=5.0,
                  assessment_started_day=5.0)]
    k = kpis_of(make_record(kids), scenario(horizon_weeks=52))
    assert k["first_appointment_within_13_weeks[2020Q1]"] == 0.5
    assert k["first_appointment_within_13_weeks[2020Q2]"] == 1.0
    assert k["first_appointment_within_13_weeks[2020]"] == pytest.approx(2 / 3)


def test_funded_and_outsourcing_cost_by_financial_year():
    # 70 weeks from 6 January 2020: FY2019/20 days [0, 86), FY2020/21 [86, 451), FY2021/22
    # [451, 490). One psychologist post, 1 WTE, all autism, 36,525 a year with no on-costs:
    # 100 a day. Outsourced assessments bought on days 0 (500), 85.5 (600), 86 (700) and
    # 450 (800).
    staff = {"p": {"wte": 1, "annual_cost_per_wte_gbp": 36_525}}
    scen = scenario(horizon_weeks=70, teams={"t": {
        "staff": staff, "steps": [{"name": "a", "hours": {"p": 1}, "outcome": True}]}})
    rec = make_record([child(exit_day=10.0, exit_reason="assessed", outcome="autism",
                             diagnosis_day=10.0)])
    rec.outsourcing_bought = np.array([[0.0, 500.0], [85.5, 600.0], [86.0, 700.0],
                                       [450.0, 800.0]])
    k = kpis_of(rec, scen)
    assert k["funded_cost[FY2019/20]"] == pytest.approx(8_600)
    assert k["funded_cost[FY2020/21]"] == pytest.approx(36_500)
    assert k["funded_cost[FY2021/22]"] == pytest.approx(3_900)
    assert k["outsourcing_cost[FY2019/20]"] == 1100.0
    assert k["outsourcing_cost[FY2020/21]"] == 1500.0
    assert k["outsourcing_cost[FY2021/22]"] == 0.0
    # total 49,000 staff + 2,600 bought; one assessment, one autism diagnosis
    assert k["cost_funded_total"] == pytest.approx(51_600)
    assert k["cost_per_assessment_funded"] == pytest.approx(51_600)
    assert k["cost_per_diagnosis"] == pytest.approx(51_600)
    assert k["funded_cost_per_year"] == pytest.approx(49_000 * 365.25 / 490)


def test_results_kpi_lookup():
    results = asdsim.Results(scenario=scenario(), provenance={"replications": 1, "seed": 1},
                             records=[make_record([child()])])
    assert results.kpi("exit[waiting]") == 1.0
    with pytest.raises(KeyError, match="no KPI 'nope'"):
        results.kpi("nope")
    page = results._repr_html_()
    assert "<th>0</th>" not in page  # no index column
    assert "–" in page  # NaN shown as a dash
