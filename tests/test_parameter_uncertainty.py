"""Parameter uncertainty: ``uncertain:`` inputs drawn per replication, keyed by path, and the
spread from what is not known stated apart from run-to-run randomness."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import asdsim
from asdsim.analysis.uncertainty import unknown_share
from asdsim.scenario.uncertainty import draw_inputs, input_uniform, inputs_table, with_inputs
from tests.conftest import BASE, deep_update

KPI = "assessment_started_within_3_months"
WTE = "teams.mdt.staff.paediatrician.wte"
COST = "teams.mdt.staff.paediatrician.cost_per_hour_gbp"
PSY = "teams.mdt.staff.psychologist.wte"


def scenario(uncertain: dict | None = None, **over) -> asdsim.Scenario:
    """Paediatricians are the bottleneck (as in the sensitivity tests); their cost per hour
    changes nothing the model does."""
    data = deep_update(BASE, {
        "name": "bottleneck", "horizon_weeks": 52,
        "demand": {"referrals_per_week": 3.5},
        "teams": {"mdt": {"staff": {"psychologist": {"wte": 0.6, "autism_share": 0.4},
                                    "paediatrician": {"cost_per_hour_gbp": 100}}}},
        "assumed": [COST, PSY, WTE, "demand.monthly_factors[7]"]})
    data = deep_update(data, over)
    if uncertain is not None:
        data["uncertain"] = uncertain
    return asdsim.scenario_from_dict(data)


def per_replication(results: asdsim.Results, kpi: str = KPI) -> np.ndarray:
    k = results.kpis_by_replication
    return k[k.kpi == kpi].sort_values("replication").value.to_numpy(dtype=float)


# ------------------------------------------------------------------------------ the format


def test_uncertain_is_left_out_of_the_dump_while_empty_and_round_trips_when_given():
    plain = scenario()
    assert "uncertain" not in plain.model_dump(mode="json")  # content hashes stay as they were
    given = scenario({WTE: [0.8, 1.2], COST: {"dist": "triangular", "low": 50, "mode": 100,
                                              "high": 150}})
    dumped = given.model_dump(mode="json")
    assert dumped["uncertain"][WTE] == {"dist": "uniform", "low": 0.8, "high": 1.2}
    assert asdsim.scenario_from_dict(dumped) == given
    assert asdsim.scenario_hash(given) != asdsim.scenario_hash(plain)
    assert "uncertain" in asdsim.scenario_json_schema()["properties"]


@pytest.mark.parametrize(("uncertain", "field", "words"), [
    ({"teams.mdt.staff.nurse.wte": [1, 2]}, "uncertain.teams.mdt.staff.nurse.wte",
     "has no field 'nurse'"),
    ({"teams.mdt.staff": [1, 2]}, "uncertain.teams.mdt.staff", "is a mapping, not a single number"),
    ({"demand.referrals_per_week": [1, 2]}, "uncertain.demand.referrals_per_week",
     "not listed under assumed:"),
    ({"teams.mdt.steps[0].dna_probability": [0.1, 0.2]}, "uncertain.teams.mdt.steps[0].dna_probability",
     "not listed under assumed:"),
    ({WTE: {"dist": "uniform", "low": 2, "high": 1}}, f"uncertain.{WTE}",
     "high (1) must be at least low (2)"),
    ({WTE: {"dist": "gama", "mean": 1}}, f"uncertain.{WTE}", "unknown distribution 'gama'"),
    ({WTE: "a lot"}, f"uncertain.{WTE}", "expected a range [low, high] or a distribution"),
    ({WTE: [-1, 1]}, f"uncertain.{WTE}.low", "expected a number >= 0"),
    ({"demand.monthly_factors.7": [0.5, 1.5], "demand.monthly_factors[7]": [0.5, 1.5]},
     "uncertain.demand.monthly_factors[7]", "names the same number as 'demand.monthly_factors.7'"),
])
def test_a_bad_uncertain_input_is_refused_naming_its_field(uncertain, field, words):
    with pytest.raises(asdsim.ScenarioError) as caught:
        scenario(uncertain)
    assert [p.field for p in caught.value.problems] == [field], str(caught.value)
    assert words in caught.value.problems[0].message


def test_a_distribution_that_can_give_a_refused_value_is_refused_at_its_end():
    data = deep_update(BASE, {"assumed": ["teams.mdt.steps[0].dna_probability", "horizon_weeks",
                                          "demand.sources.gp"]})
    data["uncertain"] = {
        # a probability above 1 in the lognormal's upper tail
        "teams.mdt.steps[0].dna_probability": {"dist": "lognormal", "mean": 0.1, "sd": 0.05},
        "horizon_weeks": [50, 60],
        "demand.sources.gp": [0.5, 1.0],  # the sources would no longer sum to 1
    }
    with pytest.raises(asdsim.ScenarioError) as caught:
        asdsim.scenario_from_dict(data)
    by_field = {p.field: p.message for p in caught.value.problems}
    dna = by_field["uncertain.teams.mdt.steps[0].dna_probability"]
    assert "highest value a draw can give" in dna and "less than or equal to 1" in dna
    assert "same in every replication" in by_field["uncertain.horizon_weeks"]
    assert "lowest value a draw can give, 0.5" in by_field["uncertain.demand.sources.gp"]
    assert "sum to 1" in by_field["uncertain.demand.sources.gp"]


def test_errors_in_a_file_name_the_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "extends: " + str((__import__("pathlib").Path("scenarios/minimal.yaml")).resolve()) + "\n"
        "assumed:\n  - teams.clinic.staff.psychologist.wte\n"
        "uncertain:\n  teams.clinic.staff.psychologist.wte: [0.2, 0.6]\n"
        "  teams.clinic.staff.psycholgist.wte: [0.2, 0.6]\n")
    with pytest.raises(asdsim.ScenarioError) as caught:
        asdsim.load_scenario(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (6, "uncertain.teams.clinic.staff.psycholgist.wte")
    assert "did you mean 'psychologist'" in problem.message


# ------------------------------------------------------------------------------ drawing


def test_draws_are_reproducible_and_keyed_by_path_not_by_order():
    one = scenario({WTE: [0.5, 1.5]})
    two = scenario({PSY: [0.3, 0.9], WTE: [0.5, 1.5], "demand.monthly_factors.7": [0.5, 1.0]})
    a, again, b = (inputs_table(s, 7, 20) for s in (one, one, two))
    pd.testing.assert_frame_equal(a, again)  # the same seed, the same values
    assert list(a.columns) == ["replication", "path", "value"] and len(a) == 20
    shared = b[b.path == WTE].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, shared)  # another input added and listed first: no change
    assert set(b.path) == {WTE, PSY, "demand.monthly_factors[7]"}  # one spelling of each path
    assert a.value.nunique() == 20 and inputs_table(one, 8, 20).value.tolist() != a.value.tolist()
    # the uniform depends only on (seed, replication, path), whatever the spelling of the path
    assert input_uniform(7, 3, "demand.monthly_factors.7") == input_uniform(7, 3, "demand.monthly_factors[7]")
    assert input_uniform(7, 3, WTE) != input_uniform(7, 4, WTE) != input_uniform(8, 3, WTE)


def test_two_scenarios_sharing_an_input_draw_the_same_values_in_compare():
    a = scenario({WTE: [0.5, 1.5]}, name="a")
    b = scenario({WTE: [0.5, 1.5], PSY: [0.3, 0.9]}, name="b",
                 teams={"mdt": {"staff": {"psychologist": {"autism_share": 0.5}}}})
    comparison = asdsim.compare([a, b], replications=3, seed=3, inputs="drawn")
    ia, ib = (comparison.results[n].inputs for n in ("a", "b"))
    pd.testing.assert_frame_equal(ia, ib[ib.path == WTE].reset_index(drop=True))


@pytest.mark.parametrize("spec", [
    {"dist": "uniform", "low": 0.5, "high": 1.5},
    {"dist": "triangular", "low": 0.5, "mode": 0.8, "high": 1.5},
    {"dist": "lognormal", "mean": 1.0, "sd": 0.3},
    {"dist": "gamma", "mean": 1.0, "sd": 0.3},
])
def test_drawn_values_follow_the_stated_distribution(spec):
    s = scenario({WTE: spec})
    values = np.array([draw_inputs(s, 11, r)[WTE] for r in range(1500)])
    if spec["dist"] == "uniform":
        ref = stats.uniform(loc=0.5, scale=1.0)
    elif spec["dist"] == "triangular":
        ref = stats.triang(c=0.3, loc=0.5, scale=1.0)
    elif spec["dist"] == "lognormal":
        sigma = math.sqrt(math.log1p(0.3**2))
        ref = stats.lognorm(s=sigma, scale=math.exp(-sigma**2 / 2))
    else:
        ref = stats.gamma(a=(1 / 0.3) ** 2, scale=0.3**2)
    assert stats.kstest(values, ref.cdf).pvalue > 1e-3
    assert abs(values.mean() - ref.mean()) < 4 * ref.std() / math.sqrt(len(values))


def test_a_whole_number_input_draws_whole_numbers():
    s = scenario({"teams.mdt.dna.discharge_after": [1, 4]}, assumed=[
        "teams.mdt.dna.discharge_after"])
    values = {draw_inputs(s, 1, r)["teams.mdt.dna.discharge_after"] for r in range(50)}
    assert values == {1.0, 2.0, 3.0, 4.0}
    assert with_inputs(s, {"teams.mdt.dna.discharge_after": 3.0}).teams["mdt"].dna.discharge_after == 3


# ------------------------------------------------------------------------------ running


def test_a_zero_width_range_gives_exactly_the_fixed_input_tables():
    fixed = asdsim.simulate(scenario(), replications=3, seed=5)
    drawn = asdsim.simulate(scenario({WTE: [1.0, 1.0], COST: {"dist": "uniform", "low": 100,
                                                              "high": 100}}),
                            replications=3, seed=5, inputs="drawn")
    assert drawn.drawn and not fixed.drawn and fixed.inputs is None and fixed.uncertainty is None
    for table in ("kpis", "kpis_by_replication", "weekly", "staff_weekly"):
        pd.testing.assert_frame_equal(getattr(fixed, table), getattr(drawn, table))
    pd.testing.assert_frame_equal(fixed.patients, drawn.patients)
    assert drawn.inputs.value.tolist() == [1.0, 100.0] * 3
    u = drawn.uncertainty.set_index("kpi").loc[KPI]
    assert u.fixed_mean == u.drawn_mean and u.unknown_share == 0.0


def test_fixed_inputs_are_the_default_and_ignore_uncertain():
    plain = asdsim.simulate(scenario(), replications=2, seed=5)
    given = asdsim.simulate(scenario({WTE: [0.2, 2.0]}), replications=2, seed=5)
    assert given.inputs is None and "inputs" not in given.provenance
    pd.testing.assert_frame_equal(plain.kpis, given.kpis)


def test_a_bottleneck_range_widens_the_interval_and_an_input_with_no_effect_does_not():
    wide = asdsim.simulate(scenario({WTE: [0.6, 1.6]}), replications=8, seed=2, inputs="drawn")
    u = wide.uncertainty.set_index("kpi").loc[KPI]
    # the drawn interval is the KPI table's, and wider than run-to-run randomness alone
    row = wide.kpis.set_index("kpi").loc[KPI]
    assert (u.drawn_mean, u.drawn_ci_low, u.drawn_ci_high) == (row["mean"], row.ci_low, row.ci_high)
    assert (u.drawn_ci_high - u.drawn_ci_low) > 1.5 * (u.fixed_ci_high - u.fixed_ci_low)
    assert u.unknown_share > 0.5
    # more paediatricians, more children seen in time: the drawn values track the KPI
    wte = wide.inputs.sort_values("replication").value.to_numpy()
    assert stats.spearmanr(wte, per_replication(wide)).statistic > 0.6

    none = asdsim.simulate(scenario({COST: [50, 150]}), replications=8, seed=2, inputs="drawn")
    n = none.uncertainty.set_index("kpi").loc[KPI]
    np.testing.assert_array_equal(per_replication(none), none.fixed_kpis_by_replication.pipe(
        lambda k: k[k.kpi == KPI].sort_values("replication").value.to_numpy(dtype=float)))
    assert n.unknown_share == 0.0 and n.drawn_ci_low == n.fixed_ci_low


def test_each_replication_s_kpis_use_the_values_it_drew():
    from asdsim.analysis.uncertainty import kpi_summary

    drawn = asdsim.simulate(scenario({WTE: [0.6, 1.6]}), replications=3, seed=2, inputs="drawn")
    k = drawn.kpis_by_replication
    funded = k[k.kpi == "funded_wte[mdt/paediatrician]"].sort_values("replication").value
    np.testing.assert_allclose(funded.to_numpy(), drawn.inputs.value.to_numpy(), rtol=1e-12)
    # the KPI table of a drawn run is built as the ordinary one is
    fixed = asdsim.simulate(scenario(), replications=3, seed=2)
    pd.testing.assert_frame_equal(kpi_summary(fixed.kpis_by_replication), fixed.kpis)


def test_parallel_equals_serial_with_drawn_inputs():
    s = scenario({WTE: [0.6, 1.6], PSY: {"dist": "triangular", "low": 0.4, "mode": 0.6, "high": 0.9}})
    serial = asdsim.simulate(s, replications=4, seed=9, jobs=1, inputs="drawn")
    parallel = asdsim.simulate(s, replications=4, seed=9, jobs=2, inputs="drawn")
    pd.testing.assert_frame_equal(serial.kpis_by_replication, parallel.kpis_by_replication)
    pd.testing.assert_frame_equal(serial.inputs, parallel.inputs)
    pd.testing.assert_frame_equal(serial.uncertainty, parallel.uncertainty)


def test_unknown_share_is_the_variance_fixed_inputs_do_not_explain():
    assert unknown_share(1.0, 2.0) == 0.75
    assert unknown_share(2.0, 1.0) == 0.0  # never below 0
    assert unknown_share(0.0, 0.0) == 0.0
    assert math.isnan(unknown_share(math.nan, 1.0))


def test_inputs_must_be_fixed_or_drawn():
    with pytest.raises(ValueError, match="'fixed' or 'drawn'"):
        asdsim.simulate(scenario(), replications=1, inputs="random")  # type: ignore[arg-type]
    with pytest.raises(asdsim.AsdsimError, match="no scenario gives uncertain"):
        asdsim.compare([scenario(), scenario(name="b")], replications=1, inputs="drawn")


# ------------------------------------------------------------------------------ outputs


def test_run_with_drawn_inputs_writes_inputs_and_uncertainty_csv(tmp_path, capsys):
    import yaml

    from asdsim.cli import main

    path = tmp_path / "s.yaml"
    data = scenario({WTE: [0.6, 1.6]}).model_dump(mode="json")
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    assert main(["run", str(path), "--replications", "3", "--seed", "4", "--jobs", "1",
                 "--draw-inputs", "--out", str(out)]) == 0
    inputs = pd.read_csv(out / "inputs.csv")
    expected = inputs_table(asdsim.load_scenario(path), 4, 3)
    pd.testing.assert_frame_equal(inputs, expected, check_dtype=False)
    split = pd.read_csv(out / "uncertainty.csv").set_index("kpi")
    kpis = pd.read_csv(out / "kpis.csv").set_index("kpi")
    assert split.loc[KPI, "drawn_mean"] == pytest.approx(kpis.loc[KPI, "mean"], rel=1e-12)
    assert 0.0 <= split.loc[KPI, "unknown_share"] <= 1.0
    assert "uncertain" in (out / "scenario.resolved.yaml").read_text()

    fixed = tmp_path / "fixed"  # the default: the numbers as written, no inputs table
    assert main(["run", str(path), "--replications", "1", "--jobs", "1", "--out", str(fixed)]) == 0
    assert not (fixed / "inputs.csv").exists() and not (fixed / "uncertainty.csv").exists()

    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(scenario().model_dump(mode="json")))
    capsys.readouterr()
    assert main(["run", str(plain), "--draw-inputs", "--out", str(tmp_path / "p")]) == 1
    assert "gives no uncertain: inputs" in capsys.readouterr().err


def test_the_summary_and_report_state_the_two_sources_apart():
    from asdsim.reporting.report import render_report
    from asdsim.reporting.summary import summarise

    drawn = asdsim.simulate(scenario({WTE: [0.6, 1.6]}), replications=4, seed=2, inputs="drawn")
    (design,) = summarise(drawn).designs
    last = design.sentences[-1]
    u = drawn.uncertainty.set_index("kpi").loc[KPI]
    assert last.startswith("With the 1 uncertain input drawn from its stated range in each")
    assert f"about {round(100 * u.unknown_share)}% of the spread between replications comes from " \
           "what is not known about the inputs" in last
    figure = design.figures[-1]  # the drawn figure is the KPI table's
    row = drawn.kpis.set_index("kpi").loc[KPI]
    assert (figure.kpi, figure.mean, figure.ci_low) == (KPI, row["mean"], row.ci_low)
    html = render_report({"bottleneck": drawn}, {})
    assert 'id="uncertainty-table"' in html and f"<code>{WTE}</code>" in html
    assert "uniform from 0.6 to 1.6" in html

    fixed = asdsim.simulate(scenario({WTE: [0.6, 1.6]}), replications=2, seed=2)
    assert "uncertain input" not in " ".join(summarise(fixed).designs[0].sentences)
    assert 'id="uncertainty-table"' not in render_report({"bottleneck": fixed}, {})


def test_compare_with_drawn_inputs_writes_each_scenario_s_draws(tmp_path):
    import yaml

    from asdsim.cli import main

    files = []
    for name, uncertain in (("a", {WTE: [0.6, 1.6]}), ("b", {WTE: [0.6, 1.6], COST: [50, 150]}),
                            ("c", None)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(scenario(uncertain, name=name).model_dump(mode="json")))
        files.append(str(path))
    out = tmp_path / "out"
    assert main(["compare", *files, "--replications", "2", "--jobs", "1", "--draw-inputs",
                 "--out", str(out)]) == 0
    inputs = pd.read_csv(out / "inputs.csv")
    assert list(inputs.columns) == ["scenario", "replication", "path", "value"]
    assert set(inputs.scenario) == {"a", "b"}  # c gives no uncertain inputs: as written
    a, b = (inputs[(inputs.scenario == n) & (inputs.path == WTE)].value.to_numpy() for n in "ab")
    np.testing.assert_array_equal(a, b)
    assert set(pd.read_csv(out / "uncertainty.csv").scenario) == {"a", "b"}


def test_the_method_says_which_inputs_were_drawn_how_and_where_the_split_is():
    from asdsim.reporting.method import (
        DRAWN_LIMITATION,
        LIMITATIONS,
        UNCERTAINTY_SECTION,
        method_sections,
    )
    from asdsim.reporting.report import render_report

    drawn = asdsim.simulate(scenario({WTE: [0.6, 1.6], COST: [80, 120]}), replications=2, seed=2,
                            inputs="drawn")
    fixed = asdsim.simulate(scenario({WTE: [0.6, 1.6]}), replications=2, seed=2)

    def data_section(runs):
        sections = {s.heading: s for s in method_sections(runs)}
        return " ".join(sections["Data and assumptions"].paragraphs), sections["Limitations"].bullets

    text, limits = data_section({"bottleneck": drawn})
    assert f"were drawn, not fixed: in bottleneck, {WTE}, {COST}." in text
    assert "Each replication drew one value of each input" in text
    assert "keyed by the seed, the replication and the input's path" in text
    assert "the same replications were repeated with the inputs as written" in text
    assert f'the section "{UNCERTAINTY_SECTION}"' in text
    assert limits[-1] == DRAWN_LIMITATION and limits[:-1] == LIMITATIONS[:-1]
    html = render_report({"bottleneck": drawn}, {})
    assert f">{UNCERTAINTY_SECTION}</h2>" in html  # the section the method points to exists
    assert "Each replication drew one value of each input" in html

    text, limits = data_section({"bottleneck": drawn, "as written": fixed})
    assert "as written gives no uncertain inputs and ran with the numbers as written" in text
    text, limits = data_section({"bottleneck": fixed})
    assert "Drawn inputs" not in text and "drew" not in text and limits == LIMITATIONS
    assert "Each replication drew" not in render_report({"bottleneck": fixed}, {})
