"""KPI definitions pinned by small hand-worked cases: clocks, bases, counts and censoring.

Each case is built so the answer can be worked out on paper; a comment says how.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import asdsim
from asdsim.analysis import cohorts, definitions
from asdsim.analysis.record import ReplicationRecord
from tests.conftest import BASE, deep_update


def _record(columns: dict[str, list], gaps: list[tuple[int, float, float]] = ()) -> ReplicationRecord:
    n = len(next(iter(columns.values())))
    cols = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    for name in ("exit_day", "list_join_day", "started_day"):
        cols.setdefault(name, np.full(n, np.nan))
    cols.setdefault("referral_day", cols["first_referral_day"])
    cols["exit_reason"] = np.array([""] * n, dtype=object)
    cols["outsourced"] = np.zeros(n, dtype=bool)
    return ReplicationRecord(0, cols, np.zeros(0), {}, {}, 0.0,
                             rereferral_gaps=np.asarray(gaps, dtype=float).reshape(-1, 3))


def test_a_stock_is_counted_at_the_end_of_the_period():
    # Child 0 joins the list on day 3 and is seen at day 7.0, the first instant of week 1: at the
    # end of week 0 it was still waiting. Child 1 is referred at day 7.0 itself: not yet by then.
    starts, ends = np.array([3.0, 7.0]), np.array([7.0, np.nan])
    assert cohorts.count_within(starts, ends, np.array([7.0])).tolist() == [1.0]
    assert cohorts.count_within(starts, ends, np.array([7.5])).tolist() == [1.0]  # only child 1
    assert cohorts.count_within(starts, ends, np.array([14.0])).tolist() == [1.0]


def test_a_reporting_date_is_counted_at_its_end(make_scenario):
    # A date's count is taken at midnight after it: one day after the date's own start.
    scenario = make_scenario(reporting={"snapshot_dates": ["2020-01-10"]})
    from asdsim.analysis.kpis import snapshot_days

    assert snapshot_days(scenario) == [("2020-01-10", 5.0)]  # start 2020-01-06: day 4, end 5


def test_a_rejected_child_waiting_to_come_back_is_not_an_open_referral():
    # Child 0 referred day 0, rejected day 10, referred again day 100; child 1 referred day 0
    # and still open. At day 50 only child 1 is open; at day 150 both are, and child 0's wait is
    # counted from its current referral (day 100): 50 days, under 13 weeks; child 1: 150 days.
    rec = _record({"first_referral_day": [0.0, 0.0], "referral_day": [100.0, 0.0]},
                  gaps=[(0, 10.0, 100.0)])
    counts = cohorts.open_counts(rec, np.array([50.0, 150.0]))
    assert counts["open_referrals"].tolist() == [1.0, 2.0]
    assert counts["waiting_over_13_weeks"].tolist() == [0.0, 1.0]


def _instant_triage(**triage) -> dict:
    data = deep_update(BASE, {"triage": triage})
    data["horizon_weeks"] = 60
    return data


def test_triage_is_measured_from_each_referrals_arrival_to_its_first_decision():
    # Triage is instant (no capacity limit): every referral's first decision is on its arrival
    # day, so every referral is triaged within any target, even the half whose first decision is
    # a request for more information answered 30 days later (before: measured to the last
    # decision, those failed by construction).
    data = _instant_triage(
        target_days=14, outcomes={"accept": 0.5, "reject": 0.0, "more_information": 0.5},
        information_return_probability=1.0, information_wait_days=30)
    results = asdsim.simulate(asdsim.scenario_from_dict(data), replications=2, seed=5)
    assert results.kpi("triaged_within_target") == pytest.approx(1.0)
    p = results.patients
    late = (p.triage_day - p.referral_day) > 14  # last decision after the information came back
    assert 0.3 < late[p.referral_day >= 0].mean() < 0.7  # the information loop did happen


def test_bases_of_the_wait_shares(make_scenario):
    # Half of all referrals are rejected at triage with no return; the rest reach the list and,
    # with ample staff, are seen within days. Listed and headline bases: all seen in time (1.0);
    # all referrals: only the accepted half (about 0.5).
    data = _instant_triage(outcomes={"accept": 0.5, "reject": 0.5, "more_information": 0.0},
                           rereferral_probability=0.0)
    data["teams"]["mdt"]["staff"] = {"paediatrician": {"wte": 20}, "psychologist": {"wte": 20}}
    results = asdsim.simulate(asdsim.scenario_from_dict(data), replications=2, seed=5)
    k = results.kpis.set_index("kpi")["mean"]
    assert k["first_appointment_within_13_weeks_listed"] == pytest.approx(1.0)
    assert k["first_appointment_within_13_weeks"] == pytest.approx(1.0)
    assert k["first_appointment_within_13_weeks_all_referrals"] == pytest.approx(0.5, abs=0.05)
    p = results.patients
    closed = p[(p.referral_day >= 0) & (p.referral_day + 91 <= results.scenario.horizon_days)]
    rejected = (closed.exit_reason == "rejected").groupby(closed.replication).mean()
    assert k["first_appointment_within_13_weeks_all_referrals"] == pytest.approx(
        1.0 - rejected.mean(), abs=1e-9)


def test_a_decided_outcome_stands_when_feedback_is_missed():
    # The only contact after the outcome is a feedback appointment that every child misses, and
    # discharge comes after one DNA: every child is assessed with its outcome, none discharged,
    # and the feedback step shows a 100% DNA share.
    data = deep_update(BASE, {"teams": {"mdt": {"dna": {"discharge_after": 1}}}})
    data["teams"]["mdt"]["steps"] = [
        {"name": "history", "hours": {"paediatrician": 2}},
        {"name": "mdt", "hours": {"paediatrician": 1, "psychologist": 1}, "joint": True,
         "contact": False, "outcome": True, "min_gap_days": 7},
        {"name": "feedback", "hours": {"paediatrician": 1}, "min_gap_days": 14,
         "dna_probability": 1.0},
    ]
    results = asdsim.simulate(asdsim.scenario_from_dict(data), replications=2, seed=1)
    p = results.patients
    assert (p.exit_reason == "discharged_dna").sum() == 0
    assessed = p[p.exit_reason == "assessed"]
    assert len(assessed) > 100 and assessed.outcome.notna().all()
    assert results.kpi("dna_share[mdt/feedback]") == pytest.approx(1.0)
    assert results.kpi("dna_share[mdt/history]") == pytest.approx(0.0)


def test_what_is_known_when_the_median_is_not_reached():
    # Nobody is ever seen (no staff hours): the median is not reached; what is known is that it
    # is longer than the longest follow-up, and the restricted mean is the whole follow-up.
    data = deep_update(BASE, {"horizon_weeks": 30})
    data["teams"]["mdt"]["staff"] = {"paediatrician": {"wte": 0.0}, "psychologist": {"wte": 0.0}}
    results = asdsim.simulate(asdsim.scenario_from_dict(data), replications=2, seed=1)
    k = results.kpis.set_index("kpi")["mean"]
    assert math.isnan(k["first_appointment_wait_median"])
    assert 28.0 < k["first_appointment_wait_median_at_least"] <= 30.0
    assert k["first_appointment_wait_restricted_mean"] == pytest.approx(30.0)
    assert math.isnan(k["first_appointment_wait_mean_seen"])


def test_restricted_mean_of_a_hand_worked_sample():
    from asdsim.analysis.stats import km_restricted_mean

    # waits 1, 2 (censored), 3, 4 weeks: survival 1 on [0,1), .75 on [1,3), .375 on [3,4),
    # 0 after: area to 10 = 1 + .75*2 + .375*1 = 2.875
    observed = np.array([True, False, True, True])
    assert km_restricted_mean(np.array([1.0, 2, 3, 4]), observed, 10.0) == pytest.approx(2.875)
    # uncensored: the plain mean of min(wait, tau)
    assert km_restricted_mean(np.array([1.0, 2, 3, 4]), np.ones(4, bool), 3.0) == pytest.approx(2.25)


def test_shares_per_year_and_quarter_of_referral(make_scenario):
    scenario = make_scenario(start_date="2020-01-06", horizon_weeks=104)
    results = asdsim.simulate(scenario, replications=2, seed=3)
    names = set(results.kpis.kpi)
    for period in ("2020", "2021", "2020Q1", "2021Q4", "2022Q1"):
        assert f"assessment_started_within_3_months[{period}]" in names
    # a quarter is the mean over replications of that quarter's children, by hand
    p = results.patients
    q = p[(p.referral_date >= "2020-04-01") & (p.referral_date < "2020-07-01")
          & ~p.exit_reason.isin(["rejected", "information_not_returned"])]
    met = (q.assessment_started_day - q.referral_day) <= cohorts.MONTHS_3
    by_hand = met.groupby(q.replication).mean().mean()
    assert results.kpi("assessment_started_within_3_months[2020Q2]") == pytest.approx(by_hand)
    # the horizon ends on 2022-01-03: no window of 2022Q1 has closed, so it has no value
    assert math.isnan(results.kpi("assessment_started_within_3_months[2022Q1]"))


def test_every_kpi_produced_is_in_the_registry(make_scenario):
    results = asdsim.simulate(make_scenario(), replications=1, seed=1)
    for name in results.kpis.kpi:
        entry = definitions.definition(name)
        assert entry.unit == results.kpis.set_index("kpi").loc[name, "unit"], name
    with pytest.raises(KeyError, match="valid KPIs"):
        definitions.definition("no_such_kpi")


def test_the_docs_kpi_table_is_the_registry():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "kpis.md").read_text()
    assert definitions.markdown_table() in doc


def test_the_weekly_mean_count_integrates_each_interval():
    # [1, 3) and [2, open): over [0, 2) they are open 1 + 0 days (mean 0.5); over [2, 4),
    # 1 + 2 days (mean 1.5)
    means = cohorts.mean_within(np.array([1.0, 2.0]), np.array([3.0, np.nan]),
                                np.array([0.0, 2.0, 4.0]))
    np.testing.assert_allclose(means, [0.5, 1.5])


def test_visits_are_counted_before_the_horizon_in_the_order_of_each_steps_first_day():
    from types import SimpleNamespace

    from asdsim.analysis.record import _visits

    # steps a, b, c, d (codes 0, 2, 4, 6; +1 when missed), recorded out of clock order, horizon 10:
    #   b on day 4 (missed), a on day 6, b on day 2, a on day 2 (missed), c on day 10 (the
    #   horizon: not counted), d on day 9 (missed), a on day 3.
    # Counted: a 3 visits (1 missed), b 2 (1 missed), d 1 (1 missed); c none.
    # First days: a 2, b 2 (a tie, broken by the order recorded: b before a), d 9.
    team = SimpleNamespace(visit_steps=["a", "b", "c", "d"],
                           visit_days=[4.0, 6.0, 2.0, 2.0, 10.0, 9.0, 3.0],
                           visit_codes=[3, 0, 2, 1, 4, 7, 0])
    counted = _visits(team, 10.0)
    assert counted == {"b": (2, 1), "a": (3, 1), "d": (1, 1)}
    assert list(counted) == ["b", "a", "d"]
    team.visit_days, team.visit_codes = [10.0, 12.0], [0, 1]
    assert _visits(team, 10.0) == {}
