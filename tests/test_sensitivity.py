"""Sensitivity: the ``assumed:`` list of a scenario, and one-at-a-time changes ranked by effect."""

from __future__ import annotations

import pytest
import yaml

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


def bottleneck_scenario() -> asdsim.Scenario:
    """Paediatricians are the bottleneck (93% busy), psychologists less busy (78%, no effect at +-20%);
    the paediatrician's cost per hour changes nothing the model does."""
    return asdsim.scenario_from_dict(deep_update(BASE, {
        "name": "bottleneck", "horizon_weeks": 104,
        "demand": {"referrals_per_week": 3.5},
        "teams": {"mdt": {"staff": {"psychologist": {"wte": 0.6, "autism_share": 0.4},
                                    "paediatrician": {"cost_per_hour_gbp": 100}}}},
        "assumed": ["teams.mdt.staff.paediatrician.cost_per_hour_gbp",
                    "teams.mdt.staff.psychologist.wte", "teams.mdt.staff.paediatrician.wte"]}))


def test_the_bottleneck_ranks_first_and_an_input_with_no_effect_last(tmp_path, capsys):
    from asdsim.experiments.sensitivity import sensitivity

    result = sensitivity(bottleneck_scenario(), replications=3)
    ranking = result.ranking
    inputs = list(ranking.input)
    assert inputs[0] == "teams.mdt.staff.paediatrician.wte"
    first, last = ranking.iloc[0], ranking.iloc[-1]
    assert first.swing > 0.1  # more paediatricians, more children seen in time
    assert last.swing == 0 and last.swing_ci_high == 0  # same seed, same children: exactly nothing
    cost = ranking.set_index("input").loc["teams.mdt.staff.paediatrician.cost_per_hour_gbp"]
    assert cost.swing == 0 and (ranking.swing.abs() > 0).sum() < cost["rank"]  # with the no-effect tail
    low = result.runs.set_index(["input", "side"]).loc[("teams.mdt.staff.paediatrician.wte", "low")]
    assert low.value == pytest.approx(0.8)


def test_sensitivity_command_writes_the_tornado(tmp_path, capsys):
    from asdsim.cli import main

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(bottleneck_scenario().model_dump(mode="json"), sort_keys=False))
    out = tmp_path / "out"
    assert main(["sensitivity", str(path), "--vary", "teams.mdt.staff.paediatrician.wte=±10%",
                 "--vary", "demand.referrals_per_week=2.5,3.5", "--replications", "2",
                 "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "1. " in shown and "tornado.png" in shown
    assert {p.name for p in out.iterdir()} == {"provenance.json", "ranking.csv", "runs.csv", "tornado.png",
                                               ".asdsim-written"}
    assert main(["sensitivity", str(path), "--vary", "teams.mdt.staff.nobody.wte=±10%",
                 "--out", str(tmp_path / "o2")]) == 1
    assert "has no field 'nobody'" in capsys.readouterr().err
