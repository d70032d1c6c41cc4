"""Coverage of back-test prediction intervals on a known truth.

The area is ``tests/fixtures/history/area.yaml`` (one team, demand close to capacity). Its true
capacity follows a trajectory the fit is not told: the base until 14 April 2024, a dip to 0.8
until 18 August 2024, then a rise to 1.25 of the base (steps in mid-quarter). For each seed, one
run of the truth gives monthly counts (children waiting for assessment at each month end,
assessments started in each month); ``asdsim backtest`` fits quarterly capacity factors to the
2024 points and forecasts January to June 2025 (six months, two measures: 12 held-out points).

Reports, over the seeds: the share of held-out points inside the 80% and 95% prediction
intervals (pooled), the same for each month ahead separately (one point per seed and measure,
so independent across seeds, with the binomial 95% range an honest interval's coverage falls
in), the mean absolute percentage error, and the wall time. Derandomised: seed ``s`` draws the
truth with seed ``1000 + s`` and fits with seed ``s``.

Run: ``python benchmarks/backtest_coverage.py [--seeds 40] [--out coverage.csv]`` (about 4
seconds a seed on one core).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import pandas as pd
from scipy import stats

import asdsim
from asdsim.experiments.backtest import backtest
from asdsim.experiments.history import Lever, apply_factors, month_end_points, observe

AREA = Path(__file__).parent.parent / "tests" / "fixtures" / "history" / "area.yaml"
CUT = dt.date(2024, 12, 31)
TRUTH = ((dt.date(2024, 4, 14), 0.8), (dt.date(2024, 8, 18), 1.25))
"""The true capacity trajectory: factors on the base's WTE from each date."""
SETTINGS = {"replications": 4, "draws": 15, "draw_replications": 2}
"""Fast settings (the commands' defaults are 8, 30 and 3)."""


def truth_scenario(base: asdsim.Scenario) -> asdsim.Scenario:
    """The area as it really ran: the base with the true capacity trajectory."""
    levers = [Lever("capacity", day, "clinic") for day, _ in TRUTH]
    return apply_factors(base, levers, [factor for _, factor in TRUTH])


def one_seed(seed: int, base: asdsim.Scenario) -> pd.DataFrame:
    """The back-test of one seed: each held-out point with its interval checks."""
    points = observe(truth_scenario(base), month_end_points(base), seed=1000 + seed)
    result = backtest(base, points, CUT, seed=seed, **SETTINGS)
    table = result.table.assign(seed=seed)
    table["months_ahead"] = [(d.year - CUT.year) * 12 + d.month - CUT.month for d in table.date]
    return table


def binomial_range(n: int, p: float, level: float = 0.95) -> tuple[float, float]:
    """The central range of shares a binomial(n, p) count falls in with the given probability."""
    low, high = stats.binom.interval(level, n, p)
    return low / n, high / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--out", type=Path, help="write every held-out point to this CSV")
    args = parser.parse_args()
    base = asdsim.load_scenario(AREA)
    started = time.perf_counter()
    tables = []
    for seed in range(args.seeds):
        tables.append(one_seed(seed, base))
        t = tables[-1]
        print(f"seed {seed}: 80% covers {t.inside_80.mean():.0%}, 95% covers "
              f"{t.inside_95.mean():.0%}, MAPE {t.abs_pct_error.mean():.1%}", flush=True)
    wall = time.perf_counter() - started
    table = pd.concat(tables, ignore_index=True)
    if args.out:
        table.to_csv(args.out, index=False)
    n = args.seeds
    print(f"\n{n} seeds, {len(table)} held-out points, {wall:.0f} s ({wall / n:.1f} s a seed)")
    print(f"pooled: 80% interval covers {table.inside_80.mean():.1%}, 95% covers "
          f"{table.inside_95.mean():.1%}; MAPE {table.abs_pct_error.mean():.1%}")
    r80, r95 = binomial_range(n, 0.8), binomial_range(n, 0.95)
    print(f"by month ahead and measure (one point per seed; binomial 95% range of an honest "
          f"interval's coverage over {n} seeds: 80% -> {r80[0]:.0%}-{r80[1]:.0%}, "
          f"95% -> {r95[0]:.0%}-{r95[1]:.0%}):")
    for (months, measure), group in table.groupby(["months_ahead", "measure"]):
        print(f"  {months} months ahead, {measure}: 80% covers {group.inside_80.mean():.0%}, "
              f"95% covers {group.inside_95.mean():.0%}, MAPE {group.abs_pct_error.mean():.1%}")


if __name__ == "__main__":
    main()
