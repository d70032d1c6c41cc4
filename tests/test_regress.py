"""asdsim regress: the shipped regression scenarios, a broken model, JUnit XML, --update."""

from __future__ import annotations

import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

import asdsim.analysis.record
import asdsim.model.pathway
from asdsim.checks import regress
from asdsim.checks.regress import Expected, StoredKpi, Tolerance, compare_kpi, default_tolerance
from asdsim.cli import main
from asdsim.model import capacity

REGRESSION = Path(__file__).parent.parent / "scenarios" / "regression"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["regress", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def folder(tmp_path) -> Path:
    """A copy of the clinic-hours regression scenario with its stored expected results."""
    for name in ("clinic_hours.yaml", "clinic_hours.expected.yaml"):
        shutil.copy(REGRESSION / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def halved_capacity(monkeypatch):
    """A deliberately broken model: every staff group has half its clinic hours.

    The scenario file is untouched, so a regression run sees the model's output move, not a
    changed scenario.
    """
    original = capacity.hours_available

    def halved(*args, **kwargs):
        return original(*args, **kwargs) * 0.5

    monkeypatch.setattr(asdsim.model.pathway, "hours_available", halved)
    monkeypatch.setattr(asdsim.analysis.record, "hours_available", halved)


def test_shipped_regression_scenarios_match_their_expected_results(capsys):
    files = regress.find_scenarios(REGRESSION)
    assert {f.stem for f in files} == {"clinic_hours", "caseload", "under4_routing"}
    for file in files:
        assert regress.expected_path(file).is_file(), f"run asdsim regress {REGRESSION} --update"
    code, out, _ = run([str(REGRESSION)], capsys)
    assert code == 0, out
    assert "ok: 3 scenarios" in out


def test_halved_capacity_regresses_with_a_readable_diff(folder, halved_capacity, capsys):
    stored = Expected.read(folder / "clinic_hours.expected.yaml").kpis["first_appointment_wait_median"]
    code, out, _ = run([str(folder)], capsys)
    assert code == 1
    assert "regressed" in out and "scenario changed" not in out
    line = next(row for row in out.splitlines() if "first_appointment_wait_median" in row)
    assert f"{stored.mean:.4g}" in line  # the stored value ...
    new = regress.check(folder).scenarios[0]
    moved = next(k for k in new.kpis if k.kpi == "first_appointment_wait_median")
    assert moved.new_mean > 1.5 * stored.mean  # ... against a much longer wait
    assert f"{moved.new_mean:.4g}" in line and "REGRESSED" in line
    assert "FAILED" in out and "--update" in out


def test_junit_has_one_case_per_kpi_and_scenario(folder, halved_capacity, tmp_path, capsys):
    junit = tmp_path / "reports" / "regress.xml"
    code, _, _ = run([str(folder), "--junit", str(junit)], capsys)
    assert code == 1
    report = regress.check(folder)
    root = ET.parse(junit).getroot()
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    kpis = report.scenarios[0].kpis
    assert len(cases) == len(kpis) + 1  # every KPI, and the scenario's provenance
    assert {c.get("name") for c in cases} == {k.kpi for k in kpis} | {regress.PROVENANCE_CASE}
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == sum(not k.passed for k in kpis) > 0
    assert int(root.get("tests")) == len(cases) and int(root.get("failures")) == len(failed)
    message = next(c for c in failed if c.get("name") == "first_appointment_wait_median")
    assert "stored" in message.find("failure").get("message")


def test_update_round_trips(tmp_path, capsys):
    shutil.copy(REGRESSION / "caseload.yaml", tmp_path / "caseload.yaml")
    expected = tmp_path / "caseload.expected.yaml"
    code, out, _ = run([str(tmp_path)], capsys)
    assert code == 1  # no expected file yet: says which, and how to write it
    assert "no expected file" in out and str(expected) in out and "--update" in out
    code, out, _ = run([str(tmp_path), "--update", "--replications", "4", "--seed", "7"], capsys)
    assert code == 0 and "created" in out
    text = expected.read_text()
    stored = Expected.read(expected)
    assert stored.to_yaml() == text  # read and written back: the same file
    assert (stored.seed, stored.replications) == (7, 4)
    code, out, _ = run([str(tmp_path)], capsys)
    assert code == 0 and "0 moved" in out
    code, out, _ = run([str(tmp_path), "--update"], capsys)  # keeps the stored seed and count
    assert code == 0 and "unchanged" in out and expected.read_text() == text


def test_tolerances_set_at_update_are_kept(tmp_path, capsys):
    shutil.copy(REGRESSION / "caseload.yaml", tmp_path / "caseload.yaml")
    args = [str(tmp_path), "--update", "--replications", "3", "--tolerance", "relative=0.1",
            "--tolerance", "cost_total:absolute=500"]
    assert run(args, capsys)[0] == 0
    assert run([str(tmp_path), "--update"], capsys)[0] == 0
    data = yaml.safe_load((tmp_path / "caseload.expected.yaml").read_text())
    assert data["kpis"]["cost_total"]["tolerance"] == {"relative": 0.0, "absolute": 500.0, "ci": False}
    assert data["kpis"]["exit[withdrawn]"]["tolerance"] == {"relative": 0.1, "absolute": 0.0,
                                                             "ci": False}


def test_a_changed_scenario_is_reported_as_such(folder, capsys):
    scenario = folder / "clinic_hours.yaml"
    scenario.write_text(scenario.read_text().replace("referrals_per_week: 8", "referrals_per_week: 9"))
    code, out, _ = run([str(folder)], capsys)
    assert code == 1
    assert "scenario changed" in out and "hash" in out


def test_a_comment_only_edit_is_not_a_change(folder, capsys):
    scenario = folder / "clinic_hours.yaml"
    scenario.write_text("# a new comment\n" + scenario.read_text())
    assert run([str(folder)], capsys)[0] == 0


def test_a_new_asdsim_version_is_reported_as_such(folder, monkeypatch, capsys):
    monkeypatch.setattr(regress, "_asdsim_version", lambda: "99.0")
    code, out, _ = run([str(folder)], capsys)
    assert code == 1
    assert "version changed" in out and "99.0" in out


def test_bad_input_is_named(tmp_path, capsys):
    code, _, err = run([str(tmp_path / "missing")], capsys)
    assert code == 1 and "missing" in err
    code, _, err = run([str(tmp_path)], capsys)
    assert code == 1 and "no scenario files" in err
    shutil.copy(REGRESSION / "caseload.yaml", tmp_path / "caseload.yaml")
    (tmp_path / "caseload.expected.yaml").write_text("kpis: [1, 2]\n")
    code, out, _ = run([str(tmp_path)], capsys)
    assert code == 1 and "invalid expected file" in out and "scenario_hash" in out
    assert run([str(tmp_path), "--seed", "3"], capsys)[0] == 2  # only with --update
    assert run([str(tmp_path), "--update", "--tolerance", "roughly"], capsys)[0] == 2
    (tmp_path / "caseload.yaml").write_text("name: broken\n")
    code, _, err = run([str(tmp_path), "--update"], capsys)
    assert code == 1 and "nothing was written" in err


def test_tolerance_rules():
    stored = (10.0, 9.0, 12.0)
    assert Tolerance(relative=0.05).band(*stored) == pytest.approx((9.5, 10.5))
    assert Tolerance(absolute=2.0).band(*stored) == (8.0, 12.0)
    assert Tolerance(ci=True).band(*stored) == (9.0, 12.0)
    assert Tolerance(0.05, 1.0, True).band(*stored) == (9.0, 12.0)  # the wider of both
    assert Tolerance(relative=0.05, absolute=1.0).band(0.1, 0.1, 0.1) == pytest.approx((-0.9, 1.1))
    assert default_tolerance("share") == Tolerance(0.05, 0.01, True)
    assert Tolerance.parse("relative=0.1,ci") == Tolerance(0.1, 0.0, True)
    assert Tolerance.parse("exact") == Tolerance()
    for bad in ("relative", "relative=-1", "ci=2", "exact,ci", "loose"):
        with pytest.raises(ValueError, match="tolerance"):
            Tolerance.parse(bad)
    with pytest.raises(regress.RegressError, match="tolerance"):
        Tolerance.from_dict({"rule": "relative"}, "f.yaml: kpis.x")


def test_kpi_comparison_statuses():
    nan = math.nan
    rule = Tolerance(relative=0.05)
    unreached = StoredKpi("p90", "weeks", nan, nan, nan, rule)
    assert compare_kpi("s", unreached, {"mean": nan, "ci_low": nan, "ci_high": nan}).status == "same"
    now = compare_kpi("s", unreached, {"mean": 40.0, "ci_low": 39.0, "ci_high": 41.0})
    assert now.status == "regressed" and now.detail == "now reached"
    kept = StoredKpi("wait", "weeks", 20.0, 19.0, 21.0, rule)
    assert compare_kpi("s", kept, {"mean": 20.5, "ci_low": 19.0, "ci_high": 22.0}).status == "within"
    assert compare_kpi("s", kept, {"mean": 21.5, "ci_low": 21.0, "ci_high": 22.0}).status == "regressed"
    assert compare_kpi("s", kept, None).status == "missing"
    new = compare_kpi("s", None, {"kpi": "x", "unit": "weeks", "mean": 1.0, "ci_low": 0.0,
                                  "ci_high": 2.0})
    assert new.status == "new" and not new.passed
