"""Observed series as data: the long CSV reader, the flow measures and age groups, counted by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import asdsim
from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.validation import point_value
from asdsim.experiments.observed import read_observed
from asdsim.scenario.loading import scenario_hash
from asdsim.scenario.schema import ObservedPoint

AREA = Path(__file__).parent / "fixtures" / "history" / "area.yaml"


@pytest.fixture(scope="module")
def area() -> asdsim.Scenario:
    return asdsim.load_scenario(AREA)


def _write(tmp_path: Path, text: str, name: str = "observed.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_long_csv_becomes_points(tmp_path, area):
    path = _write(tmp_path, (
        "Date,Measure,Value,Locality,age_group,period_start,notes\n"
        "31/01/2024,Awaiting assessment,41,Town,,,private note\n"
        "31/01/2024,awaiting_assessment_over_12_weeks,7,,,,\n"
        "31/01/2024,referrals received,26,,0-17,01/01/2024,\n"
        "29/02/2024,longest_wait_weeks,30.5,,,,\n"
        "29/02/2024,assessments_started,*,,,01/02/2024,\n"))
    series = read_observed(path, area)
    assert series.suppressed == 1
    assert series.lines == (2, 3, 4, 5)
    first, over, flow, longest = series.points
    assert (first.date, first.measure, first.value, first.locality) == (
        dt.date(2024, 1, 31), "awaiting_assessment", 41, "town")
    assert (over.measure, over.over_weeks) == ("awaiting_assessment_over_weeks", 12)
    assert (flow.measure, flow.period_start, flow.age_group, flow.age_years) == (
        "referrals_received", dt.date(2024, 1, 1), "0-17", (0.0, 18.0))
    assert longest.value == 30.5 and longest.use == "calibration"
    assert first.source == "observed.csv line 2"


@pytest.mark.parametrize(("row", "column", "rule"), [
    ("2024-01-31,awaiting,41", "measure", "expected one of"),
    ("2024-01-31,awaiting_assessment,41.5", "value", "whole number"),
    ("2024-01-31,awaiting_assessment,-3", "value", "a number 0 or more"),
    ("2024-01-31,awaiting_assessment,", "value", "a number 0 or more"),
    ("2031-01-31,awaiting_assessment,41", "date", "outside the scenario's horizon"),
    ("31.01.2024x,awaiting_assessment,41", "date", "expected a date"),
    ("2024-01-31,awaiting_assessment_over_weeks,41", "measure", "needs its weeks"),
    ("2024-01-31,assessments_started,41", "period_start", "is needed"),
])
def test_each_bad_row_names_line_column_and_rule_never_the_cell(tmp_path, area, row, column, rule):
    path = _write(tmp_path, f"date,measure,value\n2024-02-29,open_referrals,50\n{row}\n")
    with pytest.raises(asdsim.ScenarioError) as caught:
        read_observed(path, area)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, column)
    assert rule in problem.message
    date, _measure, value = row.split(",")
    for cell in (date, value):  # a date or a value is never repeated
        if len(cell) > 2:
            assert cell not in str(caught.value)


def test_locality_age_group_and_period_rules(tmp_path, area):
    path = _write(tmp_path, (
        "date,measure,value,locality,age_group,period_start\n"
        "2024-01-31,open_referrals,5,city,,\n"
        "2024-01-31,open_referrals,5,,0_17,\n"
        "2024-01-31,open_referrals,5,,,2024-01-01\n"
        "2024-01-31,referrals_received,5,,,2024-02-01\n"
        "2024-02-29,open_referrals,5,,9-3,\n"))
    with pytest.raises(asdsim.ScenarioError) as caught:
        read_observed(path, area)
    found = [(p.line, p.field) for p in caught.value.problems]
    assert found == [(2, "locality"), (3, "age_group"), (4, "period_start"), (5, "period_start"),
                     (6, "age_group")]


def test_a_figure_given_twice_is_refused(tmp_path, area):
    path = _write(tmp_path, "date,measure,value\n2024-01-31,open_referrals,5\n"
                            "2024-01-31,open_referrals,6\n")
    with pytest.raises(asdsim.ScenarioError, match="same figure as line 2"):
        read_observed(path, area)


def test_missing_columns_and_all_suppressed(tmp_path, area):
    with pytest.raises(asdsim.ScenarioError, match="missing column"):
        read_observed(_write(tmp_path, "date,value\n2024-01-31,5\n"), area)
    with pytest.raises(asdsim.ScenarioError, match="suppressed"):
        read_observed(_write(tmp_path, "date,measure,value\n2024-01-31,open_referrals,*\n"), area)


def test_month_first_dates(tmp_path, area):
    path = _write(tmp_path, "date,measure,value\n01/31/2024,open_referrals,5\n")
    assert read_observed(path, area, dayfirst=False).points[0].date == dt.date(2024, 1, 31)
    with pytest.raises(asdsim.ScenarioError, match="other way"):
        read_observed(path, area)


def test_new_fields_leave_existing_scenarios_unchanged():
    # age_group and period_start are left out of the dump while empty, so a scenario with
    # observed points keeps the content hash its stored results name
    scenario = asdsim.load_scenario("scenarios/as_happened_2018_2020.yaml")
    dumped = scenario.observed[0].model_dump()
    assert "age_group" not in dumped and "period_start" not in dumped
    assert scenario_hash(scenario) == "02d8700c22e69853"  # the scenario as fitted and started warm


def test_point_rules_in_the_scenario_format():
    with pytest.raises(ValueError, match="period_start"):
        ObservedPoint(date="2024-01-31", measure="assessments_started", value=1, source="x")
    with pytest.raises(ValueError, match="period_start goes only"):
        ObservedPoint(date="2024-01-31", measure="open_referrals", value=1, source="x",
                      period_start="2024-01-01")
    with pytest.raises(ValueError, match="after date"):
        ObservedPoint(date="2024-01-31", measure="assessments_started", value=1, source="x",
                      period_start="2024-02-01")
    with pytest.raises(ValueError, match="0-17"):
        ObservedPoint(date="2024-01-31", measure="open_referrals", value=1, source="x",
                      age_group="17-5")
    assert ObservedPoint(date="2024-01-31", measure="open_referrals", value=1, source="x",
                         age_group="18+").age_years == (18.0, np.inf)


def _record() -> ReplicationRecord:
    """Five children, counted by hand below (days from the start, NaN: never)."""
    nan = np.nan
    columns = {
        # referred on day -10 (backlog), 3, 20, 40 and 45
        "first_referral_day": np.array([-10.0, 3.0, 20.0, 40.0, 45.0]),
        "referral_day": np.array([-10.0, 3.0, 20.0, 40.0, 45.0]),
        "accepted_day": np.array([-5.0, 5.0, 22.0, 41.0, nan]),
        "first_appointment_day": np.array([10.0, 95.0, 30.0, nan, nan]),
        "assessment_started_day": np.array([10.0, 95.0, 30.0, nan, nan]),
        "started_day": np.array([10.0, 95.0, 30.0, nan, nan]),
        "exit_day": np.array([50.0, nan, 60.0, nan, 46.0]),
        "locality": np.array(["town", "town", "town", "town", "town"], dtype=object),
        "age_at_referral_years": np.array([3.0, 6.0, 17.5, 18.0, 5.0]),
    }
    # child 4 was rejected on day 46 and referred again on day 58
    return ReplicationRecord(replication=0, columns=columns, rereferral_days=np.array([58.0]),
                             staff={}, slots={}, outsourced_cost_gbp=0.0,
                             rereferral_gaps=np.array([[4.0, 46.0, 58.0]]))


@pytest.mark.parametrize(("measure", "start", "end", "age_group", "expected"), [
    # days 0-30 (January): referrals on days 3 and 20
    ("referrals_received", "2024-01-01", "2024-01-31", None, 2),
    # days 31-59 (February): days 40, 45 and the re-referral on day 58
    ("referrals_received", "2024-02-01", "2024-02-29", None, 3),
    ("referrals_received", "2024-02-01", "2024-02-29", "0-17", 2),   # ages 5 (twice: 45, 58)
    ("referrals_received", "2024-01-01", "2024-02-29", "18+", 1),    # the child aged 18
    # started on days 10 and 30 in January; day 95 in April
    ("assessments_started", "2024-01-01", "2024-01-31", None, 2),
    ("assessments_started", "2024-04-01", "2024-04-30", None, 1),
    # first contacts within 13 weeks (91 days): day 10 (20 days), day 30 (10 days); day 95 took 92
    ("first_contacts_within_13_weeks", "2024-01-01", "2024-01-31", None, 2),
    ("first_contacts_within_13_weeks", "2024-04-01", "2024-04-30", None, 0),
])
def test_flows_counted_by_hand(measure, start, end, age_group, expected):
    scenario = asdsim.load_scenario(AREA)
    point = ObservedPoint(date=end, measure=measure, value=0, source="x", period_start=start,
                          age_group=age_group)
    assert point_value(_record(), scenario, point) == expected


def test_stocks_by_age_group_by_hand():
    scenario = asdsim.load_scenario(AREA)
    # at the end of 31 January (day 31) children 0, 1 and 2 are open (3 and 4 not yet referred);
    # of those aged 6-17 (children 1 and 2), only child 1 is accepted and not yet started
    point = ObservedPoint(date="2024-01-31", measure="open_referrals", value=0, source="x")
    assert point_value(_record(), scenario, point) == 3
    aged = point.model_copy(update={"age_group": "0-5"})
    assert point_value(_record(), scenario, aged) == 1  # child 0, aged 3 (child 1 is 6)
    waiting = ObservedPoint(date="2024-01-31", measure="awaiting_assessment", value=0, source="x",
                            age_group="6-17")
    assert point_value(_record(), scenario, waiting) == 1


def test_the_shipped_cheshire_east_series_is_the_scenarios_published_figures():
    scenario = asdsim.load_scenario("scenarios/as_happened_2018_2020.yaml")
    series = read_observed("scenarios/as_happened_observed.csv", scenario)
    published = {(p.date, p.measure, p.over_weeks, p.locality): p.value for p in scenario.observed}
    for point in series.points:
        assert published[(point.date, point.measure, point.over_weeks, point.locality)] == point.value
    assert len(series.points) == 2  # the two figures its capacity is fitted to (June and December 2019)
