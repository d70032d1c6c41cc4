"""Observed figures against the simulation, on a case counted by hand."""

from __future__ import annotations

import pytest

import asdsim
from tests.conftest import BASE, deep_update


def _frozen_list(observed: list[dict]) -> asdsim.Scenario:
    # No new referrals and no clinic hours: the starting list of 10 waiting 20-30 weeks and 5
    # waiting 0-5 weeks, all past triage, stays as it is (no withdrawal).
    data = deep_update(BASE, {
        "horizon_weeks": 20,
        "demand": {"referrals_per_week": 0},
        "initial_state": {"kind": "generated", "backlog": [
            {"stage": "awaiting_assessment", "count": 10, "weeks_waited_min": 20,
             "weeks_waited_max": 30},
            {"stage": "awaiting_assessment", "count": 5, "weeks_waited_min": 0,
             "weeks_waited_max": 5}]},
        "observed": observed,
    })
    data["teams"]["mdt"]["staff"] = {"paediatrician": {"wte": 0}, "psychologist": {"wte": 0}}
    data["teams"]["mdt"]["max_age_years"] = 18
    data["demand"]["age_bands"] = [{"min_years": 5, "max_years": 6, "weight": 1}]
    return asdsim.scenario_from_dict(data)


def test_validation_table_by_hand():
    src = "a published page"
    scenario = _frozen_list([
        {"date": "2020-01-06", "measure": "open_referrals", "value": 15, "source": src,
         "use": "calibration"},
        {"date": "2020-01-06", "measure": "awaiting_assessment_over_weeks", "over_weeks": 12,
         "value": 10, "source": src},
        # ten weeks on (day 70), the 0-5 week group has waited 10-15 weeks: some now over 12
        {"date": "2020-03-16", "measure": "waiting_over_weeks", "over_weeks": 15.5, "value": 3,
         "source": src},
        {"date": "2020-01-06", "measure": "longest_wait_weeks", "value": 31, "source": src},
    ])
    results = asdsim.simulate(scenario, replications=3, seed=1)
    table = results.validation
    assert list(table.measure) == ["open_referrals", "awaiting_assessment_over_weeks",
                                   "waiting_over_weeks", "longest_wait_weeks"]
    first = table.iloc[0]
    assert first.simulated_mean == 15 and first.simulated_low == 15 and first.inside
    assert first.use == "calibration" and table.iloc[1].use == "validation"
    assert table.iloc[1].simulated_mean == 10 and table.iloc[1].inside
    assert table.iloc[2].simulated_mean == 10  # 10 + none of the five (at most 15 weeks)
    assert not table.iloc[2].inside
    assert 20 + 1 / 7 < table.iloc[3].simulated_mean <= 30 + 1 / 7


def test_observed_points_are_checked():
    with pytest.raises(asdsim.ScenarioError, match="over_weeks"):
        _frozen_list([{"date": "2020-01-06", "measure": "waiting_over_weeks", "value": 3,
                       "source": "x"}])
    with pytest.raises(asdsim.ScenarioError, match="outside the horizon"):
        _frozen_list([{"date": "2030-01-06", "measure": "open_referrals", "value": 3,
                       "source": "x"}])
    with pytest.raises(asdsim.ScenarioError, match="locality"):
        _frozen_list([{"date": "2020-01-06", "measure": "open_referrals", "value": 3,
                       "source": "x", "locality": "atlantis"}])


def test_validation_chart_draws_each_observed_point():
    from asdsim.reporting.validation_chart import validation_chart

    scenario = _frozen_list([
        {"date": "2020-01-06", "measure": "open_referrals", "value": 15, "source": "s",
         "use": "calibration"},
        {"date": "2020-03-16", "measure": "waiting_over_weeks", "over_weeks": 12, "value": 11,
         "source": "s"},
    ])
    results = asdsim.simulate(scenario, replications=2, seed=1)
    fig = validation_chart(results)
    assert len(fig.axes) == 2
    top = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(top["published (used to calibrate)"].get_ydata()) == [15]
    assert set(top["simulated, median"].get_ydata()) == {15.0}  # the frozen list never changes
    bottom = {line.get_label(): line for line in fig.axes[1].get_lines()}
    assert list(bottom["published (held out)"].get_ydata()) == [11]
    assert validation_chart(asdsim.simulate(_frozen_list([]), replications=1, seed=1)) is None


def test_awaiting_assessment_leaves_out_children_already_started():
    # With ample hours the starting list is seen within weeks: ten weeks in, nobody is still
    # waiting for an assessment to start, though some are part-way through (open referrals).
    scenario = _frozen_list([
        {"date": "2020-03-16", "measure": "awaiting_assessment", "value": 0, "source": "s"},
        {"date": "2020-01-06", "measure": "awaiting_assessment", "value": 15, "source": "s"},
    ])
    data = scenario.model_dump(mode="json")
    data["teams"]["mdt"]["staff"] = {"paediatrician": {"wte": 10}, "psychologist": {"wte": 10}}
    results = asdsim.simulate(asdsim.scenario_from_dict(data), replications=1, seed=1)
    table = results.validation
    assert table.iloc[0].simulated_mean == 0
    started_day_0 = (results.patients.assessment_started_day < 1).sum()  # first step starts it
    assert table.iloc[1].simulated_mean == 15 - started_day_0
