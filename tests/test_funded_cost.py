"""Funded cost of posts, per financial year, against a hand calculation."""

from __future__ import annotations

import pytest

import asdsim
from asdsim.analysis.kpis import financial_years
from tests.conftest import BASE, deep_update


def _scenario(**over) -> asdsim.Scenario:
    data = deep_update(BASE, {"horizon_weeks": 60, "teams": {"mdt": {"staff": {
        "paediatrician": {"wte": 1.0, "autism_share": 0.5, "annual_cost_per_wte_gbp": 73_050,
                          "on_costs_share": 0.2},
        "psychologist": {"wte": 1.0, "autism_share": 0.4}}}}})
    return asdsim.scenario_from_dict(deep_update(data, over))


def test_funded_cost_per_financial_year_by_hand():
    # Start Monday 2020-01-06, horizon 60 weeks = 420 days (to 2021-03-01). The paediatrician's
    # autism time costs 1.0 WTE x 0.5 x 73,050 x 1.2 / 365.25 = 120 a day; from 2020-07-06
    # (day 182) the post is 2.0 WTE: 240 a day. The psychologist has no salary set: 0.
    # FY2019/20 is days 0-85 (to 2020-04-01, day 86): 86 x 120 = 10,320.
    # FY2020/21 is days 86-419: 96 x 120 + 238 x 240 = 11,520 + 57,120 = 68,640.
    scenario = _scenario(capacity_changes=[
        {"date": "2020-07-06", "team": "mdt", "group": "paediatrician", "wte": 2.0}])
    assert financial_years(scenario) == [("FY2019/20", 0.0, 86.0), ("FY2020/21", 86.0, 420.0)]
    k = asdsim.simulate(scenario, replications=1, seed=1).kpis.set_index("kpi")["mean"]
    assert k["funded_cost[FY2019/20]"] == pytest.approx(10_320)
    assert k["funded_cost[FY2020/21]"] == pytest.approx(68_640)
    assert k["funded_cost_per_year"] == pytest.approx(78_960 * 365.25 / 420)
    # average WTE in post: 182 days at 1.0, 238 at 2.0
    assert k["funded_wte[mdt/paediatrician]"] == pytest.approx((182 + 2 * 238) / 420)
    assert k["cost_funded_total"] == pytest.approx(78_960)  # nothing outsourced


def test_cost_per_assessment_and_diagnosis_use_the_funded_total():
    results = asdsim.simulate(_scenario(), replications=2, seed=2)
    k = results.kpis_by_replication.pivot(index="replication", columns="kpi", values="value")
    assessed = results.patients[results.patients.exit_reason == "assessed"]
    per_rep = assessed.groupby("replication").size()
    autism = assessed[assessed.outcome == "autism"].groupby("replication").size()
    assert (k["cost_per_assessment_funded"] == k["cost_funded_total"] / per_rep).all()
    assert (k["cost_per_diagnosis"] == k["cost_funded_total"] / autism).all()


def test_an_outsourcing_stop_rule_skips_months_and_reports_the_saving():
    # A block of 40 a month from the start: with ample staff the list is short, so a rule of
    # "buy only when someone has waited 26 weeks" buys nothing, and reports what it saved.
    block = {"team": "mdt", "start_date": "2020-02-01", "end_date": "2020-12-01",
             "assessments_per_month": 40, "price_gbp": 1000}
    plain = asdsim.simulate(_scenario(outsourcing=[block]), replications=1, seed=3)
    ruled = asdsim.simulate(_scenario(outsourcing=[{**block, "skip_when_longest_wait_under_weeks": 26}]),
                            replications=1, seed=3)
    assert plain.kpi("cost_outsourced") > 0
    assert plain.kpi("outsourcing_not_bought") == 0
    assert ruled.kpi("cost_outsourced") == 0
    # eleven monthly purchases (1 February to 1 December) of 40 at 1,000, all skipped
    assert ruled.kpi("outsourcing_not_bought") == pytest.approx(11 * 40 * 1000)


def test_incremental_cost_per_extra_child_by_hand():
    from asdsim.analysis.paired import incremental_cost

    # Two replications. Against the baseline, the design costs 1,000 and 1,400 more and starts 10
    # and 11 more children in time (effect interval 10.5 +- 6.35, clear of zero): ratio of means
    # 1,200 / 10.5 = 114.29. The delta-method residuals d_cost - r * d_effect are -142.86 and
    # +142.86 (sd 202.03): t(1) half-width 12.706 * 202.03 / sqrt(2) = 1815.2, / 10.5 = 172.87.
    class Fake:
        def __init__(self, cost, count):
            import pandas as pd

            self.kpis_by_replication = pd.DataFrame({
                "replication": [0, 1, 0, 1], "kpi": ["cost_funded_total"] * 2
                + ["started_within_3_months_count"] * 2, "unit": "x",
                "value": [*cost, *count]})

    table = incremental_cost({"base": Fake([0, 0], [0, 0]), "new": Fake([1000, 1400], [10, 11])},
                             "base", cost="cost_funded_total")
    row = table.iloc[0]
    assert row.cost_per_extra_child_gbp == pytest.approx(1200 / 10.5)
    assert row.ci_high - row.cost_per_extra_child_gbp == pytest.approx(172.87, rel=1e-3)
    same = incremental_cost({"base": Fake([0, 0], [0, 0]), "new": Fake([5, 5], [1, -1])}, "base",
                            cost="cost_funded_total")
    assert same.cost_per_extra_child_gbp.isna().all()  # no extra children: no price
