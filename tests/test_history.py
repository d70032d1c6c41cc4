"""History matching: capacity by period fitted to observed counts, proved on a known truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import yaml

import asdsim
from asdsim.cli import main
from asdsim.errors import AsdsimError
from asdsim.experiments.history import (
    Lever,
    apply_factors,
    history_match,
    month_end_points,
    observe,
    period_starts,
    write_history,
)

AREA = Path(__file__).parent / "fixtures" / "history" / "area.yaml"
DIP, RISE = dt.date(2024, 4, 14), dt.date(2024, 8, 18)
"""The true capacity: the base, 0.8 of it from DIP, 1.25 of it from RISE (mid-quarter dates the
fit is not told)."""


@pytest.fixture(scope="module")
def area() -> asdsim.Scenario:
    return asdsim.load_scenario(AREA)


def _truth(area: asdsim.Scenario) -> asdsim.Scenario:
    return apply_factors(area, [Lever("capacity", DIP, "clinic"), Lever("capacity", RISE, "clinic")],
                         [0.8, 1.25])


def _true_mean_factor(start: dt.date, end: dt.date) -> float:
    """The true factor averaged over the weeks from ``start`` to ``end`` (a change applies
    from the week its date falls in)."""
    origin = dt.date(2024, 1, 1)
    weeks = range((start - origin).days // 7, (end - origin).days // 7)
    factor = [0.8 if (DIP - origin).days // 7 <= w < (RISE - origin).days // 7 else
              1.25 if w >= (RISE - origin).days // 7 else 1.0 for w in weeks]
    return float(np.mean(factor))


def test_period_starts(area):
    assert period_starts(area, "quarterly", dt.date(2024, 7, 15)) == [
        dt.date(2024, 1, 1), dt.date(2024, 4, 1), dt.date(2024, 7, 1)]
    assert period_starts(area, [dt.date(2024, 9, 1), dt.date(2024, 3, 1)], dt.date(2025, 1, 1)) == [
        dt.date(2024, 1, 1), dt.date(2024, 3, 1), dt.date(2024, 9, 1)]
    assert period_starts(area, "single", dt.date(2025, 1, 1)) == [dt.date(2024, 1, 1)]
    with pytest.raises(AsdsimError, match="outside the scenario's horizon"):
        period_starts(area, [dt.date(2030, 1, 1)], dt.date(2025, 1, 1))


def test_factors_scale_the_wte_in_force_by_hand(area):
    data = area.model_dump(mode="json")
    data["capacity_changes"] = [{"date": "2024-05-01", "team": "clinic", "group": "psychologist",
                                 "wte": 1.0}]
    base = asdsim.scenario_from_dict(data)
    levers = [Lever("capacity", dt.date(2024, 4, 1), "clinic"),
              Lever("capacity", dt.date(2024, 7, 1), "clinic"), Lever("demand", base.start_date)]
    changed = apply_factors(base, levers, [2.0, 0.5, 1.5])
    got = {(str(c.date), c.group): c.wte for c in changed.capacity_changes}
    assert got == {
        ("2024-04-01", "paediatrician"): pytest.approx(0.8),   # 0.4 x 2
        ("2024-04-01", "psychologist"): pytest.approx(0.8),    # 0.4 x 2
        ("2024-05-01", "psychologist"): pytest.approx(2.0),    # the base's own change, x 2
        ("2024-07-01", "paediatrician"): pytest.approx(0.2),   # 0.4 x 0.5
        ("2024-07-01", "psychologist"): pytest.approx(0.5),    # 1.0 in force, x 0.5
    }
    assert changed.demand.referrals_per_week == pytest.approx(9.0)
    assert base.teams["clinic"].staff["paediatrician"].wte == 0.4  # the base is not changed


@pytest.mark.slow
def test_a_known_capacity_trajectory_is_recovered_within_its_intervals(area):
    # One run of the true area gives monthly counts; the fit, by quarter, is not told the dates
    points = observe(_truth(area), month_end_points(area), seed=2024)
    match = history_match(area, points, replications=8, seed=7)
    rows = match.parameters.set_index("start")
    quarters = list(rows.index)
    assert quarters == [dt.date(2024, 1, 1), dt.date(2024, 4, 1), dt.date(2024, 7, 1),
                        dt.date(2024, 10, 1), dt.date(2025, 1, 1), dt.date(2025, 4, 1)]
    assert rows.identified.all()
    ends = [*quarters[1:], area.end_date]
    covered = [row.ci_low <= _true_mean_factor(q, e) <= row.ci_high
               for q, e, row in zip(quarters, ends, rows.itertuples(), strict=True)]
    assert sum(covered) >= 5, rows[["estimate", "ci_low", "ci_high"]]
    # the dip and the rise are told apart: after the rise, capacity is clearly above the dip
    assert rows.loc[dt.date(2024, 10, 1)].ci_low > rows.loc[dt.date(2024, 4, 1)].ci_high
    # the fit is as good as the stated variances say (no gross misfit)
    assert match.dispersion < 2.0
    assert (match.fit_table.residual.abs() < 4).all()


def test_what_the_data_cannot_identify_is_reported_not_guessed(area, tmp_path):
    points = [p for p in observe(area, month_end_points(area), seed=1)
              if p.date <= dt.date(2024, 6, 30)]
    match = history_match(area, points, fit=("capacity", "demand"),
                          periods=[dt.date(2024, 4, 1), dt.date(2024, 9, 1)],
                          replications=2, seed=1, max_evaluations=3)
    rows = match.parameters.set_index("parameter")
    late = rows.loc["capacity clinic from 2024-09-01"]
    assert not late.identified and np.isnan(late.estimate) and "no observed point" in late.note
    demand = rows.loc["demand.referrals_per_week"]
    assert not demand.identified and "no referrals_received" in demand.note
    # nothing unidentified is written: no change dated 2024-09-01, the base referral rate
    out = write_history(match, AREA, tmp_path / "fitted.yaml", tmp_path / "observed.csv")
    fitted = asdsim.load_scenario(out)
    assert all(c.date != dt.date(2024, 9, 1) for c in fitted.capacity_changes)
    assert fitted.demand.referrals_per_week == area.demand.referrals_per_week
    assert "capacity clinic from 2024-09-01: no observed point" in out.read_text()


def test_a_factor_no_point_moves_with_is_not_identified(area):
    # Capacity from June changes no count here: the only later point is the referrals received
    # in June, which capacity cannot move. Its Jacobian column is zero, so the sandwich gives
    # it no spread at all (an interval of width 0); the curvature alone says it is unknown.
    points = [p for p in observe(area, month_end_points(area, flows=("referrals_received",)),
                                 seed=1)
              if (p.date <= dt.date(2024, 5, 31) and not p.is_flow)
              or (p.date == dt.date(2024, 6, 30) and p.is_flow)]
    assert [p.measure for p in points if p.date > dt.date(2024, 6, 1)] == ["referrals_received"]
    match = history_match(area, points, periods=[dt.date(2024, 6, 1)], replications=2, seed=1,
                          max_evaluations=3)
    rows = match.parameters.set_index("parameter")
    early, late = rows.loc["capacity clinic from 2024-01-01"], rows.loc["capacity clinic from 2024-06-01"]
    assert early.identified
    assert not late.identified and "barely move" in late.note and np.isnan(late.ci_low)
    assert [lv.start for lv in match.levers] == [dt.date(2024, 1, 1)]  # not written


def test_the_written_scenario_is_the_fit(area, tmp_path):
    points = observe(area, month_end_points(area), seed=3)[:12]
    match = history_match(area, points, periods=[dt.date(2024, 3, 1)], replications=3, seed=2,
                          max_evaluations=4)
    out = write_history(match, AREA, tmp_path / "sub" / "fitted.yaml", "observed.csv")
    text = out.read_text()
    raw = yaml.safe_load(text)
    assert raw["extends"] == "../../" + "/".join(AREA.parts[-4:]) or raw["extends"].endswith(
        "fixtures/history/area.yaml")
    fitted = asdsim.load_scenario(out)
    assert fitted.capacity_changes == match.scenario.capacity_changes
    assert fitted.observed == match.scenario.observed
    assert [p.value for p in fitted.observed] == [p.value for p in points]
    row = match.parameters.iloc[0]
    assert f"fitted: capacity factor {row.estimate:.3f} (95% CI {row.ci_low:.3f}" in text
    with pytest.raises(AsdsimError, match="exists"):
        write_history(match, AREA, out, "observed.csv")


def test_nothing_to_fit_is_an_error(area):
    point = observe(area, month_end_points(area), seed=3)[-1]
    with pytest.raises(AsdsimError, match="nothing to fit"):
        history_match(area, [point], fit=("demand",), replications=2)
    with pytest.raises(AsdsimError, match="capacity and demand"):
        history_match(area, [point], fit=("staff",), replications=2)


def _series_csv(tmp_path: Path, area: asdsim.Scenario) -> Path:
    points = observe(area, month_end_points(area), seed=5)[:9]
    lines = ["date,measure,value,period_start"]
    lines += [f"{p.date},{p.measure},{p.value:g},{p.period_start or ''}" for p in points]
    path = tmp_path / "observed.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_calibrate_observed_on_the_command_line(tmp_path, area, capsys):
    observed = _series_csv(tmp_path, area)
    out = tmp_path / "fitted.yaml"
    code = main(["calibrate", "--base", str(AREA), "--observed", str(observed), "--periods",
                 "2024-03-01", "--replications", "2", "--jobs", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "capacity clinic from 2024-03-01:" in printed
    assert "31 Jan 2024, waiting for assessment: observed" in printed
    assert asdsim.load_scenario(out).capacity_changes
    report = tmp_path / "fitted_fit"
    for name in ("parameters.csv", "fit.csv", "fit.png", "report.html", "provenance.json"):
        assert (report / name).is_file(), name
    assert "History match of known truth" in (report / "report.html").read_text()


@pytest.mark.parametrize(("extra", "message"), [
    (["--fit", "staff"], "--fit: expected capacity"),
    (["--periods", "monthly"], "--periods: expected quarterly, single"),
    (["--replications", "1"], "--replications: at least 2"),
    (["--referrals", "r.csv"], "belong to the fit of referrals"),
])
def test_calibrate_observed_usage_errors(tmp_path, capsys, extra, message):
    code = main(["calibrate", "--base", str(AREA), "--observed", "o.csv", "--out",
                 str(tmp_path / "x.yaml"), *extra])
    assert code == 2
    assert message in capsys.readouterr().err


def test_calibrate_needs_referrals_or_observed(tmp_path, capsys):
    assert main(["calibrate", "--base", str(AREA), "--out", str(tmp_path / "x.yaml")]) == 2
    assert "--referrals CSV" in capsys.readouterr().err


def test_a_bad_observed_file_is_invalid_input_and_nothing_is_written(tmp_path, capsys):
    observed = tmp_path / "observed.csv"
    observed.write_text("date,measure,value\n2024-01-31,open_referrals,12.5\n")
    out = tmp_path / "fitted.yaml"
    assert main(["calibrate", "--base", str(AREA), "--observed", str(observed), "--out",
                 str(out)]) == 1
    message = capsys.readouterr().err
    assert "observed.csv:2: value: expected a whole number" in message and "12.5" not in message
    assert not out.exists() and not (tmp_path / "fitted_fit").exists()


def test_the_fit_chart_has_a_panel_per_series_with_flows_at_their_points(area):
    from asdsim.analysis.results import Results
    from asdsim.experiments.runner import run_replications
    from asdsim.reporting.validation_chart import validation_chart

    points = [p.model_copy(update={"use": "calibration"})
              for p in observe(area, month_end_points(area), seed=3)[:6]]
    aged = points[0].model_copy(update={"age_group": "0-9"})
    scenario = asdsim.scenario_from_dict({**area.model_dump(mode="json"), "observed": [
        p.model_dump(mode="json", exclude_none=True) for p in (*points, aged)]})
    figure = validation_chart(Results(scenario, {}, run_replications(scenario, 2, 1)))
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["waiting for assessment", "assessments started in the period",
                      "waiting for assessment, aged 0-9"]
    flows = figure.axes[1]
    assert len(flows.containers) == 1 and len(flows.containers[0].lines[0].get_xdata()) == 3


def test_the_fit_does_not_depend_on_the_worker_processes(area):
    points = observe(area, month_end_points(area), seed=8)[:8]
    fits = [history_match(area, points, periods="single", replications=2, seed=4,
                          max_evaluations=3, jobs=jobs) for jobs in (1, 2)]
    assert fits[0].parameters.equals(fits[1].parameters)
    assert fits[0].fit_table.equals(fits[1].fit_table)


def test_an_existing_out_is_kept_without_force(tmp_path, capsys):
    out = tmp_path / "fitted.yaml"
    out.write_text("mine\n")
    assert main(["calibrate", "--base", str(AREA), "--observed", "o.csv", "--out", str(out)]) == 1
    assert "add --force" in capsys.readouterr().err
    assert out.read_text() == "mine\n"
