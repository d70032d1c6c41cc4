"""Unit tests: statistics, random streams, distributions, demand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import stats

import asdsim
from asdsim.analysis.stats import km_quantile, mean_ci
from asdsim.model.demand import daily_rates, referral_days
from asdsim.model.randomness import Streams
from asdsim.scenario.distributions import Exponential, Gamma, Lognormal, Triangular, Uniform
from asdsim.scenario.schema import Demand


def test_mean_ci_matches_the_t_interval():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    mean, low, high, n = mean_ci(x)
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    assert (mean, n) == (3.5, 4)
    assert low == pytest.approx(3.5 - half) and high == pytest.approx(3.5 + half)
    assert math.isnan(mean_ci(np.array([2.0]))[1])
    assert mean_ci(np.array([np.nan, 1.0, 3.0]))[3] == 2


def test_km_quantile_without_censoring_is_the_empirical_quantile():
    t = np.arange(1.0, 11.0)
    assert km_quantile(t, np.ones(10, bool), 0.5) == 5.0
    assert km_quantile(t, np.ones(10, bool), 0.9) == 9.0


def test_km_quantile_handles_censoring():
    # five seen at 1..5, five still waiting at 3: the median is not reached by time 5?
    t = np.array([1, 2, 3, 4, 5, 3, 3, 3, 3, 3], float)
    seen = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], bool)
    # S(1)=.9, S(2)=.8, S(3)=.7, then 2 at risk: S(4)=.35 -> median reached at 4
    assert km_quantile(t, seen, 0.5) == 4.0
    assert math.isnan(km_quantile(np.array([5.0, 6.0]), np.array([False, False]), 0.5))


def test_streams_are_keyed_by_name_not_order():
    a, b = Streams(1, 0), Streams(1, 0)
    first = a["dna"].random(3)
    b["something_new"].random(10)  # another activity drawn first
    assert np.array_equal(first, b["dna"].random(3))
    assert not np.array_equal(Streams(1, 1)["dna"].random(3), first)
    assert not np.array_equal(Streams(2, 0)["dna"].random(3), first)


def test_no_global_random_state_is_touched(make_scenario):
    # the legacy global generator is exactly what must stay untouched
    np.random.seed(0)  # noqa: NPY002
    before = np.random.random()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    asdsim.simulate(make_scenario(), replications=1, seed=5)
    assert np.random.random() == before  # noqa: NPY002


def test_common_random_numbers_across_capacity_scenarios(make_scenario):
    """Changing capacity does not change who is referred, when, or their pre-drawn luck."""
    low = asdsim.simulate(make_scenario(), replications=1, seed=4).patients
    high = asdsim.simulate(make_scenario(teams={"mdt": {"staff": {
        "paediatrician": {"wte": 3}}}}), replications=1, seed=4).patients
    for col in ("referral_day", "age_at_referral_years", "locality", "source"):
        assert np.array_equal(low[col].to_numpy(), high[col].to_numpy())
    both = low.outcome.notna() & high.outcome.notna()
    assert both.sum() > 100
    assert (low.outcome[both] == high.outcome[both]).mean() > 0.99


@pytest.mark.parametrize("dist", [
    Exponential(dist="exponential", mean=4.0), Uniform(dist="uniform", low=1, high=5),
    Lognormal(dist="lognormal", mean=10, sd=4), Gamma(dist="gamma", mean=6, sd=2),
    Triangular(dist="triangular", low=1, mode=2, high=6)])
def test_inverse_transform_samplers_have_the_stated_mean(dist):
    u = (np.arange(20000) + 0.5) / 20000
    draw = dist.sampler()
    values = np.array([draw(x) for x in u])
    assert values.mean() == pytest.approx(dist.mean, rel=0.01)
    assert (np.diff(values) >= 0).all()  # monotone in u: common random numbers stay aligned
    # the vectorised inverse CDF is the same function as the event loop's scalar one
    np.testing.assert_allclose(dist.quantile(u), values, rtol=1e-12)


def test_daily_rates_apply_growth_seasonality_and_steps():
    demand = Demand(referrals_per_week=70, annual_growth=0.1,
                    monthly_factors=(1,) * 7 + (0.5,) + (1,) * 4,
                    step_changes=[{"date": "2021-01-01", "factor": 2.0}],
                    age_bands=[{"min_years": 0, "max_years": 18, "weight": 1}])
    rates = daily_rates(demand, dt.date(2020, 1, 1), 800)
    assert rates[0] == pytest.approx(10.0)
    assert rates[214] == pytest.approx(0.5 * 10 * 1.1 ** (214 / 365.25))  # 2 August
    assert rates[366] == pytest.approx(2 * 10 * 1.1 ** (366 / 365.25))
    days = referral_days(demand, dt.date(2020, 1, 1), 800, np.random.default_rng(1))
    assert (np.diff(days) >= 0).all() and days.max() < 800
    assert len(days) == pytest.approx(rates.sum(), rel=0.03)


def test_busy_per_week_matches_a_direct_count():
    from asdsim.model.caseload import _busy_per_week

    rng = np.random.default_rng(3)
    starts = rng.uniform(0, 60, 200)
    cases = list(zip(starts, starts + rng.exponential(5, 200), strict=True))
    weeks = 10
    edges = 7.0 * np.arange(weeks + 1)
    arr = np.array(cases)
    direct = (np.clip(arr[:, 1:2], edges[:-1], edges[1:])
              - np.clip(arr[:, 0:1], edges[:-1], edges[1:])).sum(axis=0) / 7.0
    np.testing.assert_allclose(_busy_per_week(cases, weeks), direct, atol=1e-9)
    assert _busy_per_week([], 3).tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------------- snapshot and backlog


@pytest.mark.parametrize(("born", "day", "months"), [
    ("2014-01-31", "2014-02-28", 0), ("2014-01-31", "2014-03-31", 2), ("2014-01-15", "2014-02-15", 1),
    ("2014-01-15", "2014-02-14", 0), ("2012-02-29", "2013-02-28", 11), ("2014-05-01", "2014-05-01", 0),
])
def test_whole_months_of_age_completed(born, day, months):
    from asdsim.scenario.snapshot import _months_between

    assert _months_between(dt.date.fromisoformat(born), dt.date.fromisoformat(day)) == months


def test_snapshot_parse_keeps_only_what_the_model_needs():
    import dataclasses

    from asdsim.scenario.snapshot import SnapshotRow, parse_snapshot

    raw = (b"Referral_Date , Date_of_Birth,STAGE,name\r\n"
           b"2019-06-01 00:00:00,2014-03-17,Awaiting Assessment,Ann\r\n"
           b"\r\n,,,\r\n"
           b"2019-06-02,2014-03-18,awaiting-triage,Ben\r\n")
    snapshot = parse_snapshot(raw, "x.csv")
    assert [f.name for f in dataclasses.fields(SnapshotRow)] == [
        "line", "referral_date", "age_months", "age_column", "stage", "priority", "locality",
        "steps_done"]
    assert [(r.line, r.age_months, r.stage) for r in snapshot.rows] == [
        (2, 62, "awaiting_assessment"), (5, 62, "awaiting_triage")]
    assert snapshot.rows[0].age_years == pytest.approx(62.5 / 12)
    assert "Ann" not in repr(snapshot) and "2014-03-17" not in repr(snapshot)


def test_generate_backlog_uses_the_kept_rows_in_a_seeded_order(tmp_path, make_scenario):
    from asdsim.model.backlog import generate_backlog

    rows = "".join(f"2019-{1 + i % 12:02d}-01,{3 + i % 10},awaiting_assessment,north\n" for i in range(30))
    path = tmp_path / "today.csv"
    path.write_text("referral_date,age_years,stage,locality\n" + rows)
    scenario = make_scenario(initial_state={"kind": "csv", "csv": str(path)})
    path.unlink()  # read when the scenario was built; never again
    a = generate_backlog(scenario, np.random.default_rng(1))
    b = generate_backlog(scenario, np.random.default_rng(1))
    c = generate_backlog(scenario, np.random.default_rng(2))
    assert len(a) == 30 and np.array_equal(a.referral_day, b.referral_day)
    assert not np.array_equal(a.referral_day, c.referral_day)
    assert sorted(a.referral_day) == sorted(c.referral_day)
    in_file = [(dt.date(2019, 1 + i % 12, 1) - scenario.start_date).days for i in range(30)]
    assert a.referral_day.tolist() != in_file


@pytest.mark.parametrize("raw", [b"referral_date;stage;age_years\n2019-01-01;awaiting_triage;3\n",
                                 b"referral_date;stage;name, first\n2019-01-01;awaiting_triage;x, y\n",
                                 b"referral_date\tstage\tage_years\n2019-01-01\tawaiting_triage\t3\n"])
def test_snapshot_with_another_delimiter_gets_a_hint(raw):
    from asdsim.scenario.snapshot import parse_snapshot

    with pytest.raises(asdsim.ScenarioError, match=r"semicolons|tabs") as info:
        parse_snapshot(raw, "x.csv")
    assert info.value.problems[0].line == 1
