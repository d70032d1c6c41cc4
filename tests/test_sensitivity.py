"""Sensitivity: the ``assumed:`` list of a scenario, and one-at-a-time changes ranked by effect."""

from __future__ import annotations

import pytest

import asdsim
from tests.conftest import BASE, deep_update


def test_assumed_names_numbers_and_each_bad_path_is_named():
    scenario = asdsim.scenario_from_dict(deep_update(BASE, {"assumed": [
        "teams.mdt.staff.psychologist.wte", "demand.monthly_factors[7]",
        "teams.mdt.steps[0].hours.paediatrician"]}))
    assert scenario.assumed[1] == "demand.monthly_factors[7]"
    bad = ["teams.mdt.staff.psycholgist.wte", "demand.monthly_factors", "teams.mdt.steps[9].hours",
           "demand", "x..y", "name", "demand.referrals_per_week", "demand.referrals_per_week"]
    with pytest.raises(asdsim.ScenarioError) as caught:
        asdsim.scenario_from_dict(deep_update(BASE, {"assumed": bad}))
    text = str(caught.value)
    assert "assumed[0]: 'teams.mdt.staff.psycholgist.wte'" in text and "did you mean 'psychologist'" in text
    assert "assumed[1]: 'demand.monthly_factors': is a list of 12" in text
    assert "steps has 3 items, so no [9]" in text
    assert "assumed[3]: 'demand': is a mapping" in text
    assert "assumed[4]: 'x..y': not a dotted field path" in text
    assert "assumed[5]: 'name': is not a number" in text
    assert "assumed[7]" in text and "listed twice" in text
    assert len(caught.value.problems) == 7


def test_the_area_template_marks_its_assumptions(tmp_path):
    from asdsim.templates_area import create_area

    scenario = asdsim.load_scenario(create_area(tmp_path / "area").scenario)
    assert "teams.school_age_mdt.staff.psychologist.wte" in scenario.assumed
    assert len(scenario.assumed) >= 10
