"""asdsim verify: the queueing formulas, the pass rule, the shipped suite and the command."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asdsim.checks.theory import cobham_waits, erlang_c, least_servers, mmc_mean_wait
from asdsim.checks.verify import CheckResult, PlanCheck, default_checks, default_plan_checks, run_checks
from asdsim.cli import main
from tests.conftest import halve_clinic_hours


def erlang_c_textbook(servers: int, offered: float) -> float:
    top = offered**servers / math.factorial(servers) * servers / (servers - offered)
    return top / (sum(offered**k / math.factorial(k) for k in range(servers)) + top)


@pytest.mark.parametrize(("servers", "offered"), [(1, 0.5), (2, 1.6), (5, 4.5), (10, 9.5), (30, 27.0)])
def test_erlang_c_matches_the_textbook_formula(servers, offered):
    assert erlang_c(servers, offered) == pytest.approx(erlang_c_textbook(servers, offered), rel=1e-12)


def test_erlang_c_known_values():
    assert erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: the chance of waiting is rho
    assert mmc_mean_wait(1, 0.5, 1.0) == pytest.approx(1.0)  # rho / (mu - lambda)
    with pytest.raises(ValueError, match="offered load"):
        erlang_c(2, 2.0)


def test_least_servers_by_hand():
    # M/M/1, lambda 0.5, mu 1: P(W <= t) = 1 - 0.5 exp(-0.5 t) >= 0.9 from t = 2 ln 5 = 3.22
    assert least_servers(0.5, 1.0, 3.3, 0.9) == 1
    assert least_servers(0.5, 1.0, 3.1, 0.9) == 2  # two servers: C(2, 0.5) = 0.1, so any t
    assert erlang_c(2, 0.5) == pytest.approx(0.1)
    assert least_servers(0.5, 1.0, 0.0, 0.9) == 2  # no wait at all: P(W = 0) = 1 - C
    assert least_servers(0.5, 1.0, 0.0, 0.95) == 3  # C(3, 0.5) = 0.015 < 0.05 < C(2, 0.5)


def test_the_plan_checks_include_answers_above_the_smallest_stable_c():
    erlang = [c for c in default_plan_checks() if isinstance(c, PlanCheck)]
    above = [c.expected - (math.floor(c.arrivals_per_day * c.mean_days) + 1) for c in erlang]
    assert above == [1, 2, 0]
    # each plan starts from the smallest stable c, so the answer is found by adding clinicians
    assert all(c.servers == math.floor(c.arrivals_per_day * c.mean_days) + 1 for c in erlang)
    assert [c.id for c in default_plan_checks() if not isinstance(c, PlanCheck)] == [
        "plan-keeps-promise"]


def test_a_model_with_a_slot_too_few_fails_the_plan_check(monkeypatch):
    import asdsim.model.pathway as pathway

    real = pathway.slot_changes
    monkeypatch.setattr(pathway, "slot_changes", lambda *args: [
        (day, max(slots - 1, 1)) for day, slots in real(*args)])
    report = run_checks(only=["plan-erlang-c-9"], jobs=1)  # in this process, so the patch applies
    (row,) = report.results
    assert row.theory == 9 and row.mean == 10 and row.verdict == "FAIL"


def test_cobham_reduces_to_fcfs_and_conserves_work():
    # one class: the FCFS mean wait
    assert cobham_waits(3, [2.0], 1.0)[0] == pytest.approx(mmc_mean_wait(3, 2.0, 1.0))
    # equal service times: the rate-weighted mean over classes equals the FCFS mean wait
    rates = [0.6, 1.0, 0.8]
    waits = cobham_waits(3, rates, 1.0)
    assert np.dot(rates, waits) / sum(rates) == pytest.approx(mmc_mean_wait(3, sum(rates), 1.0))
    assert waits[0] < waits[1] < waits[2]


def result(mean: float, half: float, theory: float = 1.0, tolerance: float = 0.05) -> CheckResult:
    return CheckResult("c", "q", theory, mean, mean - half, mean + half, 10, tolerance, "±5%")


def test_a_pass_needs_the_mean_within_tolerance_and_a_ci_no_wider():
    assert result(1.03, 0.01).verdict == "pass"
    assert result(1.08, 0.01).verdict == "FAIL"
    assert result(1.01, 0.09).verdict == "FAIL (CI wider than tolerance)"
    assert not result(math.nan, math.nan).passed  # a quantity never reached fails


@pytest.fixture(scope="module")
def shipped_report():
    """The shipped suite, run once in two worker processes."""
    return run_checks(jobs=2)


@pytest.mark.slow
@pytest.mark.parametrize("check_id", [c.id for c in [*default_checks(), *default_plan_checks()]])
def test_the_shipped_model_passes_every_check(shipped_report, check_id):
    table = shipped_report.table()
    rows = table[table["id"] == check_id]
    assert len(rows) >= 1
    failing = rows[~rows.passed]
    assert failing.empty, "\n" + failing.to_string()


@pytest.mark.slow
def test_the_suite_compares_every_quantity_in_check_order(shipped_report):
    assert shipped_report.checks == [c.id for c in [*default_checks(), *default_plan_checks()]]
    ids = [r.check_id for r in shipped_report.results]
    assert len(ids) == 20 and ids == sorted(ids, key=shipped_report.checks.index)


def test_a_plan_that_aims_at_the_wrong_target_breaks_the_promise(monkeypatch):
    """The promise check must be able to fail: a plan that aims at a target today's staffing
    already meets (a pooled share of at least 0%) recommends no change, and the scenario, run
    afresh, misses the standard from the plan's quarter far beyond sampling error (today's
    staffing starts almost no assessment within 3 months: its list keeps growing)."""
    from asdsim.checks import suite
    from asdsim.experiments.plan import plan

    def aims_wrong(scenario, _targets, *args, **kwargs):
        return plan(scenario, ["assessment_started_within_3_months >= 0"], *args, **kwargs)

    monkeypatch.setattr(suite, "plan", aims_wrong)  # the planner the plan checks call
    report = run_checks(only=["plan-keeps-promise"], jobs=1)
    (result,) = report.results
    # 2020 Q3 to 2021 Q1 all short (2021 Q2 is cut by the horizon, so not judged)
    assert not report.passed and result.mean == 3
    assert "report: meets from no quarter" in result.quantity


def test_the_promise_check_passes_and_states_the_reports_verdict():
    report = run_checks(only=["plan-keeps-promise"], jobs=2)
    (result,) = report.results
    assert report.passed and result.mean == 0
    assert "report: meets from 2020Q" in result.quantity and "plan feasible" in result.quantity
    verdict = result.quantity.split("meets from ")[1][:6]
    assert verdict <= "2020Q3"  # the --by quarter or earlier


def test_parallel_checks_equal_serial_checks():
    """Worker processes send back measurements in any order; the report is the same."""
    serial = run_checks(only=["fluid-clearance"], jobs=1)
    parallel = run_checks(only=["fluid-clearance"], jobs=2)
    assert parallel.results == serial.results


def test_halved_clinic_hours_fail_the_fluid_check(monkeypatch):
    halve_clinic_hours(monkeypatch)
    report = run_checks(only=["fluid-clearance"], jobs=1)  # in this process, so the patch applies
    verdicts = dict(zip(report.table().quantity, report.table().verdict, strict=True))
    assert not report.passed
    assert verdicts["list clearance (children/week)"] == "FAIL"  # 0 a week, not -60
    assert verdicts["backlog cleared (weeks)"] == "FAIL"  # twice as long


def test_verify_command_prints_theory_against_simulation(capsys):
    assert main(["verify", "--only", "fluid-clearance", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    for text in ("theory", "simulated mean [95% CI]", "list empty (weeks)", "83.33", "pass",
                 "3 of 3 passed"):
        assert text in out


def test_verify_command_usage_errors(capsys):
    assert main(["verify", "--only", "no-such-check"]) == 2
    assert "erlang-c-5" in capsys.readouterr().err  # names the checks there are
    assert main(["verify", "--jobs", "0"]) == 2
    assert main(["verify", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "cobham" in listed and "plan-erlang-c-13" in listed
