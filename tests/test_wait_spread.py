"""The spread of completed waits and its chart against a published spread (``published_waits``)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import asdsim
from asdsim.analysis.waitspread import wait_spread
from asdsim.reporting.outputs import write_run
from tests.conftest import BASE, deep_update

NAN = math.nan


def test_wait_spread_by_hand():
    # cohort from day 28: waits that ended from day 28 count, whenever the child was referred
    scenario = asdsim.scenario_from_dict(deep_update(BASE, {"reporting": {
        "cohort_from_date": "2020-02-03"}}))  # day 28
    rec = SimpleNamespace(columns={
        "referral_day": np.array([0.0, 10.0, 20.0, 30.0, -40.0]),
        "assessment_started_day": np.array([70.0, 24.0, NAN, 44.0, 30.0]),
    })
    spread = wait_spread([rec], scenario, "referral_to_assessment_start", (0.5,))
    # ended from day 28: 70 - 0 = 10 weeks, 44 - 30 = 2 weeks, 30 + 40 = 10 weeks
    assert sorted(spread.waits_weeks.tolist()) == [2.0, 10.0, 10.0]
    assert spread.n == 3
    assert spread.mean == pytest.approx(22 / 3)
    sd = math.sqrt(((2 - 22 / 3) ** 2 + 2 * (10 - 22 / 3) ** 2) / 2)
    assert spread.sd == pytest.approx(sd)
    assert spread.cv == pytest.approx(sd / (22 / 3))
    assert spread.quantiles == {0.5: 10.0}
    assert spread.share_within(13) == 1.0
    assert spread.share_within(5) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="unknown wait measure"):
        wait_spread([rec], scenario, "referral_to_nowhere")


@pytest.mark.parametrize("published, match", [
    ({"source": "x"}, "give quantiles, a cv"),
    ({"source": "x", "quantiles": [{"probability": 0.5, "weeks": 20},
                                   {"probability": 0.9, "weeks": 10}]}, "must rise together"),
    ({"source": "x", "quantiles": [{"probability": 1.0, "weeks": 20}]}, "probability"),
    ({"source": "", "cv": 0.6}, "source"),
    ({"source": "x", "cv": 0.6, "measure": "referral_to_lunch"}, "measure"),
])
def test_bad_published_waits_are_refused(published, match):
    with pytest.raises(asdsim.ScenarioError, match=match):
        asdsim.scenario_from_dict(deep_update(BASE, {"published_waits": [published]}))


def test_run_writes_the_spread_table_and_chart_only_when_published(tmp_path):
    published = [
        {"source": "an audit", "measure": "referral_to_first_appointment", "cv": 0.6,
         "quantiles": [{"probability": 0.2, "weeks": 13}, {"probability": 0.5, "weeks": 30}]},
        {"source": "a study", "measure": "referral_to_diagnosis", "cv": 0.7},
    ]
    scenario = asdsim.scenario_from_dict(deep_update(BASE, {"published_waits": published}))
    results = asdsim.simulate(scenario, replications=2, seed=1)
    write_run(results, tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "wait_spread.csv")
    assert (tmp_path / "out" / "charts" / "wait_spread.png").stat().st_size > 0
    assert list(dict.fromkeys(table.measure)) == ["referral_to_first_appointment",
                                                  "referral_to_diagnosis"]
    first = table[table.measure == "referral_to_first_appointment"].set_index("statistic")
    spread = wait_spread(results.records, scenario, "referral_to_first_appointment", (0.2, 0.5))
    assert first.loc["q0.2", "published"] == 13 and first.loc["q0.5", "published"] == 30
    assert first.loc["q0.5", "simulated"] == pytest.approx(spread.quantiles[0.5])
    assert first.loc["cv", "simulated"] == pytest.approx(spread.cv)
    assert first.loc["cv", "published"] == 0.6
    assert first.loc["share_within_13_weeks", "published"] == 0.2
    assert first.loc["share_within_13_weeks", "simulated"] == pytest.approx(spread.share_within(13))
    assert first.loc["waits", "simulated"] == spread.n > 0
    second = table[table.measure == "referral_to_diagnosis"].set_index("statistic")
    diagnosis = wait_spread(results.records, scenario, "referral_to_diagnosis")
    assert second.loc["cv", "simulated"] == pytest.approx(diagnosis.cv)
    assert second.loc["cv", "published"] == 0.7 and (second.source == "a study").all()
    report = (tmp_path / "out" / "report.html").read_text()
    assert "wait_spread" in report
    # the method's validation part names each spread and the source it is set against
    assert (f"the {spread.n:,} completed waits from referral to first appointment have a "
            f"coefficient of variation of {spread.cv:.2f} (published 0.60)") in report
    assert "set against an audit" in report and "set against a study" in report
    plain = asdsim.simulate(asdsim.scenario_from_dict(BASE), replications=1, seed=1)
    write_run(plain, tmp_path / "plain")
    assert not (tmp_path / "plain" / "wait_spread.csv").exists()
    assert not (tmp_path / "plain" / "charts" / "wait_spread.png").exists()
