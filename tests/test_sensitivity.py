"""Sensitivity: the ``assumed:`` list of a scenario, and one-at-a-time changes ranked by effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
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


def test_low_and_high_changes_are_reported_apart_and_rank_by_the_larger(tmp_path):
    # Both sides of the paediatrician input are the same value, 0.7 WTE: the low and the high
    # run are the same scenario with the same seed, so their changes are equal and the swing
    # (high less low) is exactly zero, yet each moves the KPI (fewer children seen in time).
    # Ranked by swing it would come last; ranked by the larger change it comes first.
    from asdsim.experiments.sensitivity import sensitivity, write_sensitivity

    result = sensitivity(bottleneck_scenario(), vary={
        "teams.mdt.staff.paediatrician.wte": ("values", 0.7, 0.7),
        "teams.mdt.staff.psychologist.wte": ("relative", 0.2)}, replications=3)
    first = result.ranking.iloc[0]
    assert first.input == "teams.mdt.staff.paediatrician.wte"
    assert first.swing == 0 and first.low_change == first.high_change < 0
    assert first.largest_change == first.low_change
    runs = result.runs.set_index(["input", "side"])
    assert first.low_ci_low == runs.loc[(first.input, "low")].diff_ci_low
    out = write_sensitivity(result, tmp_path / "out")
    csv = pd.read_csv(out / "ranking.csv")
    assert {"low_change", "high_change", "largest_change", "swing"} <= set(csv.columns)
    assert np.array_equal(csv.low_change, np.round(csv.low_change, 4))  # rounded to 0.01 points


def test_the_tornado_draws_each_side_apart_so_a_one_sided_change_shows():
    # input a: low -10 points, high 0 (a one-sided change); b: low -3, high +4
    from asdsim.reporting.tornado import tornado

    runs = pd.DataFrame({"input": ["a", "a", "b", "b"], "side": ["low", "high"] * 2,
                         "diff_mean": [-0.10, 0.0, -0.03, 0.04],
                         "diff_ci_low": [-0.12, 0.0, -0.05, 0.02],
                         "diff_ci_high": [-0.08, 0.0, -0.01, 0.06]})
    ranking = pd.DataFrame({"input": ["a", "b"], "low_value": [1, 2], "high_value": [3, 4]})
    fig = tornado(runs, ranking, "assessment_started_within_3_months", "share", 0.8, 3,
                  warnings=["the baseline KPI is 100% in every replication"])
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == [-10.0, -3.0, 0.0, 4.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "low value of the input", "high value of the input"]
    assert any("Warning: the baseline KPI is 100%" in t.get_text() for t in fig.texts)


def test_a_staff_input_moves_its_dated_changes_by_the_same_amount():
    # Paediatrician WTE 1.0, raised to 2.0 by a dated change at week 52 of 104 (day 364 of 728):
    # funded WTE averaged over the run = (364 x 1.0 + 364 x 2.0) / 728 = 1.5. Varied to 0.8 and
    # 1.2, the dated change moves with it (to 1.8 and 2.2): averages 1.3 and 1.7, changes -0.2
    # and +0.2 exactly. Were the dated change left at 2.0, they would be -0.1 and +0.1.
    from asdsim.experiments.sensitivity import sensitivity

    scenario = asdsim.scenario_from_dict(deep_update(BASE, {
        "capacity_changes": [{"date": "2021-01-04", "team": "mdt", "group": "paediatrician",
                              "wte": 2.0}]}))
    result = sensitivity(scenario, kpi="funded_wte[mdt/paediatrician]",
                         vary={"teams.mdt.staff.paediatrician.wte": ("relative", 0.2),
                               "teams.mdt.staff.psychologist.wte": ("relative", 0.2)},
                         replications=2)
    assert result.baseline == pytest.approx(1.5)
    row = result.ranking.set_index("input").loc["teams.mdt.staff.paediatrician.wte"]
    assert row.low_change == pytest.approx(-0.2) and row.high_change == pytest.approx(0.2)
    assert result.notes == {"teams.mdt.staff.paediatrician.wte":
                            "its 1 dated change (capacity_changes) moved by the same amount"}
    runs = result.runs.set_index(["input", "side"])
    assert runs.loc[("teams.mdt.staff.paediatrician.wte", "low")].dated_changes_moved == 1
    assert runs.loc[("teams.mdt.staff.psychologist.wte", "low")].dated_changes_moved == 0


def test_a_baseline_share_at_0_or_100_percent_is_warned_of(tmp_path, capsys):
    from asdsim.cli import main
    from asdsim.experiments.sensitivity import _at_bound

    assert "100% in every replication" in _at_bound(pd.Series([1.0, 1.0]), "share")
    assert "0% in every replication" in _at_bound(pd.Series([0.0, 0.0]), "share")
    assert _at_bound(pd.Series([1.0, 0.99]), "share") is None
    assert _at_bound(pd.Series([0.0, 0.0]), "children") is None
    # hardly any staff: no child referred in the run starts assessment within 3 months
    starved = deep_update(BASE, {"teams": {"mdt": {"staff": {
        "paediatrician": {"wte": 0.01}, "psychologist": {"wte": 0.01}}}}})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(starved, sort_keys=False))
    assert main(["sensitivity", str(path), "--vary", "teams.mdt.staff.paediatrician.wte=±20%",
                 "--replications", "2", "--out", str(tmp_path / "out")]) == 0
    shown = capsys.readouterr().out
    assert "warning: the baseline KPI is 0% in every replication" in shown
    assert "low 0.008 +0.0 points" in shown


def test_the_tornado_breaks_paths_at_dots_and_draws_a_share_change_within_its_range():
    # baseline 98.7%: a mean change can reach -98.7 points and +1.3 at most, so a t interval of
    # -224 to +104 points (two replications) is drawn from -98.7 to +1.3
    from asdsim.reporting.tornado import tornado

    path = "teams.school_age_mdt.staff.psychologist.wte"
    runs = pd.DataFrame({"input": [path, path], "side": ["low", "high"],
                         "diff_mean": [-0.6, 0.0], "diff_ci_low": [-2.24, 0.0],
                         "diff_ci_high": [1.04, 0.0]})
    ranking = pd.DataFrame({"input": [path], "low_value": [1.32], "high_value": [1.98]})
    ax = tornado(runs, ranking, "assessment_started_within_3_months", "share", 0.987, 2).axes[0]
    assert ax.get_yticklabels()[0].get_text() == (
        "teams.school_age_mdt.staff\n.psychologist.wte\n(low 1.32, high 1.98)")
    segments = [seg for c in ax.collections for seg in c.get_segments()]
    ends = [(round(seg[0][0], 6), round(seg[1][0], 6)) for seg in segments]
    assert (-98.7, 1.3) in ends


def test_a_dated_change_on_the_start_date_moves_with_the_input():
    # A change on the start date (6 Jan 2020) sets the paediatrician to 2.0 WTE from day 0, so
    # the field's own 1.0 is never in force: funded WTE is 2.0. Varied by -0.2 and +0.2 (20% of
    # the field's 1.0), the change moves to 1.8 and 2.2: changes of exactly -0.2 and +0.2.
    from asdsim.experiments.sensitivity import sensitivity

    scenario = asdsim.scenario_from_dict(deep_update(BASE, {
        "capacity_changes": [{"date": "2020-01-06", "team": "mdt", "group": "paediatrician",
                              "wte": 2.0}]}))
    result = sensitivity(scenario, kpi="funded_wte[mdt/paediatrician]",
                         vary={"teams.mdt.staff.paediatrician.wte": ("relative", 0.2)},
                         replications=2)
    assert result.baseline == pytest.approx(2.0)
    row = result.ranking.iloc[0]
    assert row.low_change == pytest.approx(-0.2) and row.high_change == pytest.approx(0.2)
