"""Bases that match: the incremental cost counts cost and children over one window, compare
refuses designs that judge different cohorts (or labels them unpaired), and CSVs are rounded."""

from __future__ import annotations

import datetime as dt
import math
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import asdsim
from asdsim.analysis.paired import (
    PAIRED,
    UNPAIRED,
    difference_ci,
    headline_cohort,
    incremental_cost,
    paired_table,
    window_cost,
)
from asdsim.cli import main
from asdsim.errors import AsdsimError
from asdsim.reporting import formatting as fmt
from asdsim.reporting.summary import summarise

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "small.yaml"
T_975_1 = 12.706204736174698  # Student t, 97.5th percentile, one degree of freedom


def priced(name: str, wte: float, change: float | None = None,
           cohort_from: str | None = "2019-02-06") -> asdsim.Scenario:
    """The small scenario (start 7 Jan 2019, 40 weeks = 280 days) with one costed post: the
    school team's psychologist, ``wte`` at half autism time and GBP 73,050 a year, so each WTE
    costs 0.5 x 73,050 / 365.25 = GBP 100 a day; ``change`` is the WTE from day 100."""
    data = asdsim.load_scenario(SMALL).model_dump(mode="json")
    data["name"] = name
    for team in data["teams"].values():
        for staff in team["staff"].values():
            staff.update(annual_cost_per_wte_gbp=0.0, on_costs_share=0.0)
    data["teams"]["school"]["staff"]["psychologist"].update(
        wte=wte, autism_share=0.5, annual_cost_per_wte_gbp=73_050.0)
    data["capacity_changes"] = ([] if change is None else [
        {"date": "2019-04-17", "team": "school", "group": "psychologist", "wte": change}])
    data["reporting"]["cohort_from_date"] = cohort_from
    return asdsim.scenario_from_dict(data)


def fake_run(scenario: asdsim.Scenario, bought: list[list[float]], counts: list[float]):
    """A run with the given outsourcing purchase days (GBP 1,000 each) per replication and the
    given children started within 3 months per replication."""
    records = [types.SimpleNamespace(replication=r, outsourcing_bought=np.array(
        [[day, 1000.0] for day in days]).reshape(-1, 2)) for r, days in enumerate(bought)]
    per_rep = pd.DataFrame({"replication": range(len(counts)),
                            "kpi": "started_within_3_months_count", "unit": "children",
                            "value": counts})
    return types.SimpleNamespace(scenario=scenario, records=records, replication_scenarios=None,
                                 kpis_by_replication=per_rep)


def test_headline_cohort_dates_by_hand():
    # from 7 Jan 2019 + 30 days = 6 Feb 2019; the last referral whose 3-month window (91.3125
    # days) closed by day 280 is day floor(188.6875) = 188, 14 Jul 2019
    assert headline_cohort(priced("a", 1.0)) == (dt.date(2019, 2, 6), dt.date(2019, 7, 14))
    assert headline_cohort(priced("a", 1.0, cohort_from=None))[0] == dt.date(2019, 1, 7)


def test_incremental_cost_counts_cost_and_children_over_one_window_by_hand():
    # The window is days [30, 188.6875): the cohort's first referral day to its last.
    # Baseline: 1 WTE all run: GBP 100 a day x 158.6875 days = 15,868.75 in both replications.
    # Design: 2 WTE to day 100, then 3: 200 x 70 + 300 x 88.6875 = 40,606.25; outsourcing bought
    # on days 10, 50, 200 (replication 0: only day 50 is in the window, +1,000) and 20, 40, 150
    # (replication 1: +2,000). Cost differences 25,737.5 and 26,737.5 (mean 26,237.5); children
    # 10 and 11 more (mean 10.5). Cost per extra child 26,237.5 / 10.5 = 2,498.81.
    base = fake_run(priced("base", 1.0), [[], []], [100, 120])
    design = fake_run(priced("design", 2.0, change=3.0), [[10, 50, 200], [20, 40, 150]],
                      [110, 131])
    costs = window_cost(design)
    assert list(costs) == pytest.approx([41_606.25, 42_606.25])
    assert list(window_cost(base)) == pytest.approx([15_868.75, 15_868.75])
    row = incremental_cost({"base": base, "design": design}, "base").iloc[0]
    assert (row.window_from, row.window_to) == ("2019-02-06", "2019-07-14")
    assert row.extra_cost_gbp == pytest.approx(26_237.5)
    assert row.extra_children == pytest.approx(10.5)
    ratio = 26_237.5 / 10.5
    assert row.cost_per_extra_child_gbp == pytest.approx(ratio)
    # delta method: residuals 25,737.5 - 10 r and 26,737.5 - 11 r differ by 1,000 - r, so their
    # sd is |1,000 - r| / sqrt(2); half-width t(1) x sd / sqrt(2) = t(1) |1,000 - r| / 2, / 10.5
    half = T_975_1 * abs(1000 - ratio) / 2 / 10.5
    assert row.ci_high - row.cost_per_extra_child_gbp == pytest.approx(half)
    assert row.difference == PAIRED


def test_welch_interval_by_hand():
    # a = 1, 2, 3 and b = 2, 4, 6: difference of means -2; variances of the means 1/3 and 4/3;
    # Welch-Satterthwaite df = (5/3)^2 / ((1/3)^2 / 2 + (4/3)^2 / 2) = 50/17
    mean, low, high, n = difference_ci(np.array([1.0, 2, 3]), np.array([2.0, 4, 6]), paired=False)
    half = stats.t.ppf(0.975, 50 / 17) * math.sqrt(5 / 3)
    assert (mean, n) == (-2.0, 3)
    assert (low, high) == pytest.approx((-2 - half, -2 + half))
    # paired, the same numbers give the t interval of the differences -1, -2, -3
    mean, low, high, _ = difference_ci(np.array([1.0, 2, 3]), np.array([2.0, 4, 6]), paired=True)
    assert mean == -2.0 and high - mean == pytest.approx(stats.t.ppf(0.975, 2) * 1 / math.sqrt(3))


def test_compare_refuses_designs_with_different_cohorts():
    early, late = priced("early", 1.0, cohort_from="2019-02-06"), priced("late", 1.0,
                                                                          cohort_from="2019-03-04")
    with pytest.raises(AsdsimError, match=r"different headline cohorts.*--allow-different-cohorts"):
        asdsim.compare([early, late], replications=2)


@pytest.fixture(scope="module")
def unpaired():
    early = priced("early", 1.0, cohort_from="2019-02-06")
    late = priced("late", 2.0, cohort_from="2019-03-04")
    return asdsim.compare([early, late], replications=3, seed=2, allow_different_cohorts=True)


def test_different_cohorts_are_labelled_unpaired_everywhere(unpaired, tmp_path):
    assert set(unpaired.table.difference) == {UNPAIRED}
    table = unpaired.table.set_index(["scenario", "kpi"])
    kpi = "assessment_started_within_3_months"
    per_rep = {}
    for name, res in unpaired.results.items():
        k = res.kpis_by_replication
        per_rep[name] = k[k.kpi == kpi].sort_values("replication").value.to_numpy()
    expected = difference_ci(per_rep["late"], per_rep["early"], paired=False)
    row = table.loc[("late", kpi)]
    assert (row.diff_mean, row.diff_ci_low, row.diff_ci_high) == pytest.approx(expected[:3])
    increments = incremental_cost(unpaired.results, "early")
    assert set(increments.difference) == {UNPAIRED}
    assert increments.window_from.iloc[0] == "2019-03-04"  # the design's own window
    words = summarise(unpaired).incremental[0].text
    assert "unpaired: the designs' cohorts differ" in words
    from asdsim.reporting.outputs import write_comparison

    out = write_comparison(unpaired, tmp_path / "out")
    assert set(pd.read_csv(out / "comparison.csv").difference) == {UNPAIRED}
    assert set(pd.read_csv(out / "incremental_cost.csv").difference) == {UNPAIRED}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Unpaired differences from early" in html and "is unpaired</strong>" in html


def test_cli_compare_refuses_then_allows_different_cohorts(tmp_path, capsys):
    for name, day in (("early", "2019-02-06"), ("late", "2019-03-04")):
        (tmp_path / f"{name}.yaml").write_text(
            f"extends: {SMALL}\nname: {name}\nreporting:\n  cohort_from_date: {day}\n")
    files = [str(tmp_path / "early.yaml"), str(tmp_path / "late.yaml")]
    code = main(["compare", *files, "--out", str(tmp_path / "no"), "--replications", "2"])
    assert code == 1
    assert "--allow-different-cohorts" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()
    code = main(["compare", *files, "--out", str(tmp_path / "yes"), "--replications", "2",
                 "--allow-different-cohorts"])
    assert code == 0
    assert "every difference is unpaired" in capsys.readouterr().out


def test_comparison_csv_is_rounded_to_what_each_unit_means():
    rows = pd.DataFrame({"unit": ["share", "WTE", "GBP", "children"],
                         "mean": [0.123456789, 0.45000000000000007, 1234.5678, 10.0 / 3],
                         "x": [1.0, 2.0, 3.0, 4.0]})
    out = fmt.rounded(rows, row_unit=("unit", ["mean"]))
    assert list(out["mean"]) == [0.1235, 0.45, 1234.57, 3.33]
    assert str(out["mean"][1]) == "0.45"
    assert rows["mean"][1] == 0.45000000000000007  # the input is not changed
    same = fmt.rounded(rows, {"x": "GBP"})
    assert list(same.x) == [1.0, 2.0, 3.0, 4.0]


def test_paired_table_of_runs_without_a_scenario_stays_paired():
    # hand-made tables (no scenario) are taken to share their cohort
    per_rep = pd.DataFrame({"replication": [0, 1], "kpi": "referrals", "unit": "x",
                            "value": [1.0, 2.0]})
    kpis = pd.DataFrame([{"kpi": "referrals", "mean": 1.5, "ci_low": 0.0, "ci_high": 3.0, "unit": "x"}])
    run = types.SimpleNamespace(kpis_by_replication=per_rep, kpis=kpis)
    assert set(paired_table({"a": run, "b": run}, "a").difference) == {PAIRED}


def test_the_apps_csvs_are_rounded_as_the_commands_are(unpaired):
    import io

    from asdsim.app import views

    kpis = pd.read_csv(io.BytesIO(views.kpis_csv(unpaired.results)))
    per_year = kpis[kpis.kpi == "cost_funded_total/year"]
    assert len(per_year) == 2
    assert np.array_equal(per_year["mean"], np.round(per_year["mean"], 2))
    table = pd.read_csv(io.BytesIO(views.comparison_csv(unpaired.table)))
    shares = table[table.unit == "share"]
    assert np.array_equal(shares["mean"], np.round(shares["mean"], 4), equal_nan=True)
    assert set(table.difference) == {UNPAIRED}


def test_window_cost_uses_the_scenario_each_replication_drew():
    # with drawn inputs, replication 1 ran with 2 WTE: GBP 200 a day over 158.6875 days
    run = fake_run(priced("drawn", 1.0), [[], []], [0, 0])
    run.replication_scenarios = {0: priced("drawn", 1.0), 1: priced("drawn", 2.0)}
    assert list(window_cost(run)) == pytest.approx([15_868.75, 31_737.5])


def test_the_apps_comparison_names_an_unpaired_difference(unpaired):
    from asdsim.app import views

    rows = views.comparison_rows(unpaired.table, "early")
    assert "unpaired difference (95% CI): cohorts differ" in rows.columns
    assert "difference (95% CI)" not in rows.columns


def test_no_extra_cost_reads_as_pounds():
    # the small scenario gives no salaries: the extra funded cost is nothing, said as £0
    more = asdsim.load_scenario(FIXTURES / "more_staff.yaml")
    comparison = asdsim.compare([SMALL, more], replications=2, seed=1)
    words = summarise(comparison).incremental[0].text
    assert "within 3 months, for £0 of funded cost over the same dates" in words
