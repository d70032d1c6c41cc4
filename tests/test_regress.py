"""asdsim regress: the shipped regression scenarios, a broken model, JUnit XML, --update."""

from __future__ import annotations

import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from asdsim.checks import junit, regress
from asdsim.checks.regress import (
    FLOAT_PRECISION,
    Expected,
    StoredKpi,
    Tolerance,
    compare_kpi,
    default_tolerance,
)
from asdsim.cli import main
from tests.conftest import halve_clinic_hours

REGRESSION = Path(__file__).parent.parent / "scenarios" / "regression"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["regress", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def current_expected(tmp_path_factory) -> Path:
    """The clinic-hours regression scenario with expected results written by the model as it is
    now (the stored seed and replications kept), so these tests check the comparison itself,
    whatever the state of the shipped expected files."""
    source = tmp_path_factory.mktemp("clinic_hours")
    for name in ("clinic_hours.yaml", "clinic_hours.expected.yaml"):
        shutil.copy(REGRESSION / name, source / name)
    regress.update(source)
    return source


@pytest.fixture
def folder(tmp_path, current_expected) -> Path:
    """A copy of :func:`current_expected`, for one test to change."""
    for name in ("clinic_hours.yaml", "clinic_hours.expected.yaml"):
        shutil.copy(current_expected / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def halved_capacity(monkeypatch):
    """A deliberately broken model: every staff group has half its clinic hours."""
    halve_clinic_hours(monkeypatch)


def test_shipped_regression_scenarios_match_their_expected_results(capsys):
    files = regress.find_scenarios(REGRESSION)
    assert {f.stem for f in files} == {"clinic_hours", "caseload", "under4_routing", "rereferral_ages"}
    for file in files:
        assert regress.expected_path(file).is_file(), f"run asdsim regress {REGRESSION} --update"
    code, out, _ = run([str(REGRESSION)], capsys)
    assert code == 0, out
    assert "ok: 4 scenarios" in out


def test_halved_capacity_regresses_with_a_readable_diff(folder, halved_capacity, capsys):
    stored = Expected.read(folder / "clinic_hours.expected.yaml").kpis["first_appointment_wait_median"]
    code, out, _ = run([str(folder)], capsys)
    assert code == 1
    assert "clinic_hours: moved" in out and "scenario changed" not in out
    line = next(row for row in out.splitlines() if "first_appointment_wait_median" in row)
    assert f"{stored.mean:.4g}" in line  # the stored value ...
    new = regress.check(folder).scenarios[0]
    moved = next(k for k in new.kpis if k.kpi == "first_appointment_wait_median")
    assert moved.new_mean > 1.5 * stored.mean  # ... against a much longer wait
    assert f"{moved.new_mean:.4g}" in line and "moved up" in line and "REGRESSED" not in out
    assert "FAILED" in out and "--update" in out


def test_junit_has_one_case_per_kpi_and_scenario(folder, halved_capacity, tmp_path, capsys):
    junit_file = tmp_path / "reports" / "regress.xml"
    code, _, _ = run([str(folder), "--junit", str(junit_file)], capsys)
    assert code == 1
    report = regress.check(folder)
    root = ET.parse(junit_file).getroot()
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    kpis = report.scenarios[0].kpis
    assert len(cases) == len(kpis) + 1  # every KPI, and the scenario's provenance
    assert {c.get("name") for c in cases} == {k.kpi for k in kpis} | {junit.PROVENANCE_CASE}
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == sum(not k.passed for k in kpis) > 0
    assert int(root.get("tests")) == len(cases) and int(root.get("failures")) == len(failed)
    message = next(c for c in failed if c.get("name") == "first_appointment_wait_median")
    assert "stored" in message.find("failure").get("message")
    assert "moved up" in message.find("failure").get("message")


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
    assert now.status == "moved" and now.detail == "now reached"
    kept = StoredKpi("wait", "weeks", 20.0, 19.0, 21.0, rule)
    assert compare_kpi("s", kept, {"mean": 20.5, "ci_low": 19.0, "ci_high": 22.0}).status == "within"
    up = compare_kpi("s", kept, {"mean": 21.5, "ci_low": 21.0, "ci_high": 22.0})
    assert up.status == "moved" and up.result_text() == "moved up" and not up.passed
    down = compare_kpi("s", kept, {"mean": 18.5, "ci_low": 18.0, "ci_high": 19.0})
    assert down.result_text() == "moved down" and "moved down: stored 20 [19, 21], new 18.5" in down.line()
    # the same run repeated: within the stored tolerance is not enough
    repeated = compare_kpi("s", kept, {"mean": 20.5, "ci_low": 19.0, "ci_high": 22.0}, repeated=True)
    assert repeated.status == "moved" and repeated.tolerance == FLOAT_PRECISION
    assert compare_kpi("s", kept, None).status == "missing"
    new = compare_kpi("s", None, {"kpi": "x", "unit": "weeks", "mean": 1.0, "ci_low": 0.0,
                                  "ci_high": 2.0})
    assert new.status == "new" and not new.passed


def test_a_ten_percent_shift_fails_when_seed_scenario_and_version_match(folder, monkeypatch, capsys):
    """Rerun with the stored seed, scenario and version, a KPI must match to floating-point
    precision, even where the stored tolerance (the CI, or ±5% with a 0.01 floor) would pass it."""
    def let_through(k: StoredKpi) -> bool:  # the stored tolerance alone would pass a 10% shift
        low, high = k.tolerance.band(k.mean, k.ci_low, k.ci_high)
        return k.unit == "share" and k.mean > 0 and low <= 1.1 * k.mean <= high

    kpis = Expected.read(folder / "clinic_hours.expected.yaml").kpis
    preferred = kpis.get("first_appointment_within_13_weeks")
    stored = preferred if preferred and let_through(preferred) else next(filter(let_through, kpis.values()))
    kpi = stored.kpi
    real = regress.simulate

    def shifted(*args, **kwargs):
        table = real(*args, **kwargs).kpis.copy()
        table.loc[table.kpi == kpi, ["mean", "ci_low", "ci_high"]] *= 1.1
        return SimpleNamespace(kpis=table)

    monkeypatch.setattr(regress, "simulate", shifted)
    code, out, _ = run([str(folder)], capsys)
    assert code == 1
    line = next(row for row in out.splitlines() if kpi in row)
    assert "moved up" in line and "float precision" in line and "+10.0%" in line
    moved = [row for row in out.splitlines() if "moved up" in row or "moved down" in row]
    assert len(moved) == 1  # every other KPI is the same to floating-point precision

    # after a new asdsim version the stored tolerance applies, and the shift is within it
    monkeypatch.setattr(regress, "_asdsim_version", lambda: "99.0")
    (scenario,) = regress.check(folder).scenarios
    assert scenario.status == "version changed" and scenario.changed
    within = next(k for k in scenario.kpis if k.kpi == kpi)
    assert within.status == "within" and within.tolerance == stored.tolerance


def test_values_are_stored_rounded_and_compared_to_float_precision():
    stored = Expected("s.yaml", "s", "abc", "1.0", 1, 2, {
        "slot_utilisation[camhs]": StoredKpi("slot_utilisation[camhs]", "share", 0.9999999999999999,
                                             0.9999999999999998, 1.0000000000000002,
                                             default_tolerance("share")),
        "cost_total": StoredKpi("cost_total", "GBP", 123456.78901234567, 1.0 / 3.0, math.nan,
                                default_tolerance("GBP"))})
    data = yaml.safe_load(stored.to_yaml())
    assert data["kpis"]["slot_utilisation[camhs]"] | {"tolerance": None} == {
        "unit": "share", "mean": 1.0, "ci_low": 1.0, "ci_high": 1.0, "tolerance": None}
    assert data["kpis"]["cost_total"]["mean"] == 123456.789012
    assert data["kpis"]["cost_total"]["ci_low"] == 0.333333333333
    assert data["kpis"]["cost_total"]["ci_high"] is None
    # the stored 1.0 against a new 0.9999999999999999: the same, not moved
    one = StoredKpi("slot_utilisation[camhs]", "share", 1.0, 1.0, 1.0, default_tolerance("share"))
    for repeated in (True, False):
        same = compare_kpi("s", one, {"mean": 0.9999999999999999, "ci_low": 0.9999999999999998,
                                      "ci_high": 1.0000000000000002}, repeated)
        assert same.status == "same" and not same.moved
    # rounding to 12 digits is far inside floating-point precision; the 9th digit is not
    assert compare_kpi("s", one, {"mean": 1.0 - 1e-12, "ci_low": 1.0, "ci_high": 1.0}, True).status == "same"
    assert compare_kpi("s", one, {"mean": 1.0 - 1e-8, "ci_low": 1.0, "ci_high": 1.0}, True).status == "moved"
