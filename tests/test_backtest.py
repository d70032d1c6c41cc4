"""Back-testing: fit up to a date, forecast the later points with intervals, and score them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import asdsim
from asdsim.cli import main
from asdsim.errors import AsdsimError
from asdsim.experiments.backtest import (
    COLUMNS,
    backtest,
    condition_on_cut,
    last_points,
    prediction_bounds,
    split_points,
)
from asdsim.experiments.history import Lever, apply_factors, month_end_points, observe
from asdsim.scenario.schema import ObservedPoint

AREA = Path(__file__).parent / "fixtures" / "history" / "area.yaml"
CUT = dt.date(2024, 12, 31)


@pytest.fixture(scope="module")
def area() -> asdsim.Scenario:
    return asdsim.load_scenario(AREA)


def _truth(area: asdsim.Scenario) -> asdsim.Scenario:
    levers = [Lever("capacity", dt.date(2024, 4, 14), "clinic"),
              Lever("capacity", dt.date(2024, 8, 18), "clinic")]
    return apply_factors(area, levers, [0.8, 1.25])


def test_points_split_at_the_cut(area):
    points = month_end_points(area)
    fit, ahead = split_points(points, CUT)
    assert max(p.date for p in fit) == CUT and min(p.date for p in ahead) == dt.date(2025, 1, 31)
    assert len(fit) + len(ahead) == len(points)
    with pytest.raises(AsdsimError, match="points on both sides"):
        backtest(area, points, area.end_date)


def test_stock_forecasts_are_conditioned_on_the_last_value_observed_by_hand():
    fitted = [
        ObservedPoint(date="2024-11-30", measure="open_referrals", value=9, source="x"),
        ObservedPoint(date="2024-12-31", measure="open_referrals", value=15, source="x"),
        ObservedPoint(date="2024-12-31", measure="assessments_started", value=4, source="x",
                      period_start="2024-12-01"),
    ]
    ahead = [
        ObservedPoint(date="2025-01-31", measure="open_referrals", value=0, source="x"),
        ObservedPoint(date="2025-01-31", measure="open_referrals", value=0, source="x",
                      locality="town"),
        ObservedPoint(date="2025-01-31", measure="assessments_started", value=0, source="x",
                      period_start="2025-01-01"),
    ]
    anchors = last_points(fitted)
    assert anchors == {("open_referrals", None, None, None): 1}  # the last, and no flow
    # two draws of two runs: within each draw the forecast moves one for one with the value at
    # the cut (slope 1), so each run is moved by its distance from the 15 observed
    at_cut = np.array([[10.0], [12.0], [20.0], [24.0]])
    sims = np.array([[11.0, 5.0, 3.0], [13.0, 6.0, 4.0], [22.0, 7.0, 5.0], [26.0, 8.0, 6.0]])
    got = condition_on_cut(sims, at_cut, 2, ahead, fitted, anchors)
    assert got[:, 0].tolist() == [16.0, 16.0, 17.0, 17.0]
    assert np.array_equal(got[:, 1:], sims[:, 1:])  # another series, and a flow: as simulated


def test_prediction_intervals_from_few_runs_cover_a_new_run_as_stated():
    # A new value exchangeable with n others falls between the i-th and j-th smallest with
    # probability (j - i) / (n + 1). From 30 runs (the coverage study's pool), percentiles at
    # rank p (n + 1) give an 80% interval covering 80%; numpy's default interpolation (rank
    # 1 + p (n - 1)) would cover (27.1 - 3.9) / 31 = 75%, too narrow.
    rng = np.random.default_rng(np.random.SeedSequence(2026))
    runs, trials = 30, 40_000
    samples, new = rng.standard_normal((runs, trials)), rng.standard_normal(trials)
    low95, low80, high80, high95 = prediction_bounds(samples)
    inside80 = float(np.mean((low80 <= new) & (new <= high80)))
    inside95 = float(np.mean((low95 <= new) & (new <= high95)))
    assert inside80 == pytest.approx(0.80, abs=0.01)     # Monte Carlo sd 0.002
    assert inside95 == pytest.approx(29 / 31, abs=0.01)  # the extremes: the most 30 runs give
    default80 = np.percentile(samples, [10.0, 90.0], axis=0)
    assert float(np.mean((default80[0] <= new) & (new <= default80[1]))) < 0.76


def test_scores_are_counted_from_the_table(area):
    points = observe(area, month_end_points(area), seed=4)
    result = backtest(area, points, CUT, periods=[dt.date(2024, 7, 1)], replications=3, draws=4,
                      draw_replications=2, seed=1)
    table = result.table
    assert len(table) == 12 and result.samples.shape == (8, 12)
    assert (table.low_95 <= table.low_80).all() and (table.low_80 <= table.high_80).all()
    assert (table.high_80 <= table.high_95).all()
    # by hand from the pooled runs: the mean, the 10th-90th percentiles (at rank p (n + 1) of
    # n = 8 runs: 0.9 and 8.1, so the smallest and the largest run), the share inside
    assert np.allclose(table.forecast_mean, result.samples.mean(axis=0))
    assert np.allclose(table.low_80, result.samples.min(axis=0))
    assert np.allclose(table.high_80, result.samples.max(axis=0))
    inside = (table.low_80 <= table.observed) & (table.observed <= table.high_80)
    overall = result.scores.iloc[0]
    assert overall.coverage_80 == inside.mean()
    ape = (table.forecast_mean - table.observed).abs() / table.observed
    assert overall.mape == pytest.approx(ape[table.observed > 0].mean())
    assert set(result.scores.measure) == {"all", "awaiting_assessment", "assessments_started"}


@pytest.mark.slow
def test_80_percent_intervals_cover_about_80_percent_on_a_known_truth(area):
    # A smaller version of benchmarks/backtest_coverage.py (docs/as-happened.md has the full
    # 40-seed study): one point per measure and seed (three months ahead), so the seeds are
    # independent and, the intervals being honest, the count inside is binomial. Too narrow an
    # interval (too few inside) is the failure looked for; too wide fails the 80% check too.
    seeds = 12
    inside_80, inside_95 = [], []
    for seed in range(seeds):
        points = observe(_truth(area), month_end_points(area), seed=1000 + seed)
        result = backtest(area, points, CUT, replications=4, draws=15, draw_replications=2,
                          seed=seed)
        ahead = result.table[result.table.date == dt.date(2025, 3, 31)]
        assert len(ahead) == 2
        inside_80.extend(ahead.inside_80)
        inside_95.extend(ahead.inside_95)
    n = len(inside_80)
    low, high = stats.binom.interval(0.99, n, 0.8)
    assert low <= sum(inside_80) <= high, (sum(inside_80), n)
    assert sum(inside_95) >= stats.binom.ppf(0.005, n, 0.95), (sum(inside_95), n)


def test_backtest_on_the_command_line(tmp_path, area, capsys):
    points = observe(area, month_end_points(area), seed=6)
    lines = ["date,measure,value,period_start"]
    lines += [f"{p.date},{p.measure},{p.value:g},{p.period_start or ''}" for p in points]
    observed = tmp_path / "observed.csv"
    observed.write_text("\n".join(lines) + "\n")
    out = tmp_path / "bt"
    code = main(["backtest", str(AREA), "--observed", str(observed), "--cut", str(CUT),
                 "--periods", "2024-07-01", "--replications", "2", "--draws", "3", "--jobs", "1",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "all: 12 held-out points; 80% interval covers" in printed
    table = pd.read_csv(out / "backtest.csv")
    assert list(table.columns) == COLUMNS and len(table) == 12
    for name in ("scores.csv", "parameters.csv", "fit.csv", "backtest.png", "report.html",
                 "provenance.json"):
        assert (out / name).is_file(), name
    assert "Back-test of known truth from 2024-12-31" in (out / "report.html").read_text()
    # an existing folder is kept without --force
    assert main(["backtest", str(AREA), "--observed", str(observed), "--cut", str(CUT),
                 "--out", str(out)]) == 1
    assert "--force" in capsys.readouterr().err


def test_backtest_usage_and_input_errors(tmp_path, capsys):
    observed = tmp_path / "observed.csv"
    observed.write_text("date,measure,value\n2024-01-31,open_referrals,4\n")
    base = ["backtest", str(AREA), "--observed", str(observed), "--out", str(tmp_path / "o")]
    assert main([*base, "--cut", "2024-12-31", "--draws", "0"]) == 2
    assert "--draws" in capsys.readouterr().err
    assert main([*base, "--cut", "31/12/2024"]) == 2
    assert main([*base, "--cut", "2024-12-31"]) == 1
    assert "points on both sides" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
