"""The verification checks: each a scenario, its replications, what to measure and the theory it
is judged against (:mod:`asdsim.checks.theory`); the plan's checks run the planner itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.standard import LEVEL, judged_quarters, quarter_kpi, quarter_of
from asdsim.checks.measures import measure_list, measure_little, measure_waits, measure_weekly_little
from asdsim.checks.results import CheckResult, _result
from asdsim.checks.scenarios import backlog_scenario, fluid_scenario, full_pathway_scenario, mmc_scenario
from asdsim.checks.theory import cobham_waits, erlang_c, least_servers, mmc_mean_wait
from asdsim.experiments.backends import Backend
from asdsim.experiments.plan import plan
from asdsim.experiments.runner import simulate
from asdsim.reporting.summary import summarise_design
from asdsim.scenario import Scenario

Measure = Callable[[ReplicationRecord, Scenario], dict[str, float]]
Evaluate = Callable[[dict[str, np.ndarray]], list["CheckResult"]]


@dataclass(frozen=True)
class Check:
    """A scenario, how many replications to run, what to measure and how to judge it."""

    id: str
    """Short name for ``--only``."""
    scenario: Scenario
    replications: int
    measure: Measure
    """Applied to each replication's record in the worker; returns a few numbers."""
    evaluate: Evaluate
    """Turns each measured number's values across replications into compared quantities."""

    @property
    def cost(self) -> float:
        """Rough relative run time (children simulated), to start the longest checks first."""
        return self.scenario.demand.referrals_per_week * self.scenario.horizon_weeks * self.replications


def _erlang_check(rho: float, servers: int, weeks: int, replications: int, warm_days: float,
                  wait_tolerance: float, prob_tolerance: float) -> Check:
    mean_days = 0.5
    rate = rho * servers / mean_days
    name = f"Erlang C: M/M/{servers}, rho {rho:.2f}"
    wait = mmc_mean_wait(servers, rate, 1.0 / mean_days)
    prob = erlang_c(servers, rate * mean_days)

    def evaluate(values: dict[str, np.ndarray]) -> list[CheckResult]:
        return [
            _result(name, "mean wait (days)", wait, values["mean_wait"], relative=wait_tolerance),
            _result(name, "probability of waiting", prob, values["prob_wait"],
                    absolute=prob_tolerance),
        ]

    return Check(f"erlang-c-{servers}", mmc_scenario(rate, servers, mean_days, weeks), replications,
                 partial(measure_waits, warm_days=warm_days, tail_days=30.0), evaluate)


def _cobham_check(rho: float, servers: int, urgent_share: float, weeks: int,
                  replications: int) -> Check:
    mean_days = 0.5
    rate = rho * servers / mean_days
    urgent, routine = cobham_waits(servers, [urgent_share * rate, (1 - urgent_share) * rate],
                                   1.0 / mean_days)
    name = f"Cobham: M/M/{servers}, rho {rho:.2f}, {urgent_share:.0%} urgent"

    def evaluate(values: dict[str, np.ndarray]) -> list[CheckResult]:
        return [
            _result(name, "mean wait, urgent (days)", urgent, values["wait[urgent]"], relative=0.06),
            _result(name, "mean wait, routine (days)", routine, values["wait[routine]"],
                    relative=0.06),
        ]

    return Check("cobham", mmc_scenario(rate, servers, mean_days, weeks, urgent_share), replications,
                 partial(measure_waits, warm_days=60.0, tail_days=60.0), evaluate)


def _little_check(weeks: int, warm_weeks: int, replications: int) -> Check:
    name = "Little's law: full pathway"

    def evaluate(values: dict[str, np.ndarray]) -> list[CheckResult]:
        # a ratio within each replication: the level of open referrals varies between
        # replications far more than the law's two sides differ within one
        ratio = values["open"] / values["throughput_x_time"]
        quantity = (f"open referrals / (throughput x time in system) = {values['open'].mean():.1f}"
                    f" / ({values['throughput'].mean():.1f} a week x "
                    f"{values['time_in_system'].mean():.2f} weeks)")
        return [_result(name, quantity, 1.0, ratio, absolute=0.02, text="±2%")]

    return Check("little", full_pathway_scenario(weeks), replications,
                 partial(measure_little, warm_days=7.0 * warm_weeks), evaluate)


def _weekly_little_check(weeks: int, warm_weeks: int, replications: int) -> Check:
    name = "Little's law: weekly counts, clinic hours"

    def evaluate(values: dict[str, np.ndarray]) -> list[CheckResult]:
        ratio = values["weekly_mean"] / values["throughput_x_wait"]
        quantity = (f"children waiting for assessment, weekly mean / (throughput x wait) = "
                    f"{values['weekly_mean'].mean():.1f} / ({values['throughput'].mean():.1f} a "
                    f"week x {values['wait'].mean():.2f} weeks); at week ends "
                    f"{values['week_end'].mean():.1f}")
        return [_result(name, quantity, 1.0, ratio, absolute=0.03, text="±3%")]

    return Check("little_weekly", full_pathway_scenario(weeks), replications,
                 partial(measure_weekly_little, warm_days=7.0 * warm_weeks), evaluate)


def _growth_check(referrals: float, hours: float, per: float, weeks: int, replications: int) -> Check:
    capacity = hours / per
    name = f"Fluid: demand {referrals:g} > capacity {capacity:g} a week"

    def evaluate(values: dict[str, np.ndarray]) -> list[CheckResult]:
        return [_result(name, "list growth (children/week)", referrals - capacity, values["slope"],
                        relative=0.03)]

    return Check("fluid-growth", fluid_scenario(referrals, hours, per, weeks), replications,
                 partial(measure_list, fit_weeks=(15, weeks), clear_below=0.0), evaluate)


def _clearance_check(referrals: float, hours: float, per: float, backlog: int, weeks: int,
                     replications: int) -> Check:
    capacity = hours / per
    name = f"Fluid: backlog {backlog}, demand {referrals:g} < capacity {capacity:g} a week"
    list_clears = backlog / (capacity - referrals)
    fit = (5, int(0.8 * list_clears))

    def evaluate(values: dict[str, np.ndarray]) -> list[CheckResult]:
        return [
            _result(name, "list clearance (children/week)", referrals - capacity, values["slope"],
                    relative=0.03),
            # weekly booking: the list empties at a week start, up to ~2 weeks before the line
            _result(name, "list empty (weeks)", list_clears, values["list_cleared_weeks"],
                    absolute=4.0, text="±4 weeks"),
            # first come first served: the backlog goes first, at capacity; it is seen in weekly
            # batches at week starts, so the last batch starts a week before the fluid time
            _result(name, "backlog cleared (weeks)", backlog / capacity,
                    values["backlog_cleared_weeks"], absolute=1.0, text="±1 week"),
        ]

    return Check("fluid-clearance", fluid_scenario(referrals, hours, per, weeks, backlog), replications,
                 partial(measure_list, fit_weeks=fit, clear_below=referrals), evaluate)


@dataclass(frozen=True)
class PlanCheck:
    """``asdsim plan`` on an M/M/c scenario, against the least c that Erlang C gives.

    The scenario starts with ``servers`` clinicians; the plan may add up to ``most_added``. The
    target is a Kaplan-Meier quantile of the wait for a slot (``..._wait_p90 <= t`` weeks reads
    P(W <= t) >= 0.9; ``..._wait_median`` reads 0.5) among children referred after an eight-week
    warm-up, met when the median replication meets it (``confidence`` 0.5), which estimates
    whether the steady state does.
    """

    id: str
    arrivals_per_day: float
    mean_days: float
    servers: int
    target: str
    replications: int = 9
    confirm_replications: int = 15
    weeks: int = 260
    most_added: int = 6

    @property
    def scenario(self) -> Scenario:
        """The M/M/c scenario the plan starts from."""
        return mmc_scenario(self.arrivals_per_day, self.servers, self.mean_days, self.weeks)

    @property
    def expected(self) -> int:
        """The least c from Erlang C."""
        wait_weeks = float(self.target.split("<=")[1])
        probability = 0.9 if "_p90" in self.target else 0.5
        return least_servers(self.arrivals_per_day, 1.0 / self.mean_days, 7.0 * wait_weeks,
                             probability)

    def run(self, seed: int, backend: Backend) -> list[CheckResult]:
        """Run the plan and compare the clinicians it recommends with Erlang C (exactly)."""
        result = plan(self.scenario, [self.target], "2020-01-06", by_date="2020-03-02",
                      vary="clinicians", bounds={"clinicians": (0, self.most_added)},
                      confidence=0.5, replications=self.replications,
                      confirm_replications=self.confirm_replications, seed=seed, backend=backend)
        found = self.servers + result.changes.get("team/clinicians", 0.0) if result.feasible \
            else math.nan
        name = (f"Plan: M/M/c, lambda {self.arrivals_per_day:g}/day, mean {self.mean_days:g} "
                f"days, {self.target}")
        quantity = (f"least clinicians (from {self.servers}; {result.evaluations} options "
                    f"evaluated)")
        return [CheckResult(name, quantity, float(self.expected), float(found), float(found),
                            float(found), 1, 0.0, "exact")]


@dataclass(frozen=True)
class PromiseCheck:
    """A plan for the NICE standard, then its recommended scenario run afresh: the report's
    verdict must be the plan's ``by`` quarter or earlier, up to sampling error.

    The plan aims at the default target (at least 90% of each quarter's referrals from the
    quarter of ``by`` start assessment within 3 months). Its recommended scenario is run on
    ``fresh_replications`` of another seed (``seed + 1``: futures the plan never saw), and the
    report's summary judges it. The check counts the quarters from ``by`` that fall short
    beyond sampling error (mean below 90% and the upper end of the 95% interval below 90% too):
    there must be none.
    """

    id: str = "plan-keeps-promise"
    from_date: str = "2020-03-02"
    by_date: str = "2020-07-01"
    vary: str = "paediatrician,psychologist"
    replications: int = 6
    confirm_replications: int = 18
    fresh_replications: int = 20
    weeks: int = 78

    @property
    def scenario(self) -> Scenario:
        """The team with a starting list the plan starts from."""
        return backlog_scenario(self.weeks)

    def run(self, seed: int, backend: Backend) -> list[CheckResult]:
        """Plan, run the recommendation afresh and count the quarters clearly short."""
        result = plan(self.scenario, None, self.from_date, by_date=self.by_date, vary=self.vary,
                      replications=self.replications, confirm_replications=self.confirm_replications,
                      seed=seed, backend=backend)
        fresh = simulate(result.scenario, self.fresh_replications, seed + 1)
        verdict = summarise_design("plan", fresh.kpis, result.scenario).meets_from
        table = fresh.kpis.set_index("kpi")
        by = quarter_of(pd.Timestamp(self.by_date).date())
        short = [q for q in judged_quarters(result.scenario, by)
                 if table.loc[quarter_kpi(q), "ci_high"] < LEVEL]
        name = (f"Plan for the NICE standard from {by}, its recommendation run on "
                f"{self.fresh_replications} fresh replications")
        quantity = (f"quarters from {by} below 90% beyond sampling error (report: meets from "
                    f"{verdict or 'no quarter'}; plan {'feasible' if result.feasible else 'INFEASIBLE'})")
        found = float(len(short)) if result.feasible else math.nan
        return [CheckResult(name, quantity, 0.0, found, found, found, self.fresh_replications,
                            0.0, "exact")]


def default_plan_checks() -> list[PlanCheck | PromiseCheck]:
    """Three plans whose answers Erlang C gives (one above the smallest stable c by one, one by
    two, and one where the staffing as it is already meets the target), and a plan for the NICE
    standard whose recommendation, run afresh, must meet it from the plan's quarter."""
    return [
        PlanCheck("plan-erlang-c-9", 1.0, 7.0, 8, "assessment_started_wait_p90 <= 1"),
        PlanCheck("plan-erlang-c-13", 1.5, 7.0, 11, "assessment_started_wait_p90 <= 0.75"),
        PlanCheck("plan-erlang-c-8", 1.0, 7.0, 8, "assessment_started_wait_median <= 0.75"),
        PromiseCheck(),
    ]


def default_checks() -> list[Check]:
    """The shipped suite, sized to run in about a minute on two cores.

    Replications are sized from measured scatter (the mean wait of one replication at rho 0.95
    scatters by about 15%), so each confidence interval is narrower than its tolerance.
    """
    return [
        _erlang_check(0.50, 1, weeks=400, replications=40, warm_days=30, wait_tolerance=0.05,
                      prob_tolerance=0.015),
        _erlang_check(0.80, 2, weeks=300, replications=60, warm_days=50, wait_tolerance=0.05,
                      prob_tolerance=0.015),
        _erlang_check(0.90, 5, weeks=150, replications=80, warm_days=100, wait_tolerance=0.08,
                      prob_tolerance=0.02),
        _erlang_check(0.95, 10, weeks=150, replications=80, warm_days=200, wait_tolerance=0.10,
                      prob_tolerance=0.02),
        _cobham_check(0.80, 2, urgent_share=0.3, weeks=300, replications=40),
        _little_check(weeks=312, warm_weeks=52, replications=10),
        _weekly_little_check(weeks=312, warm_weeks=52, replications=10),
        _growth_check(60, 90, 3, weeks=200, replications=10),
        _clearance_check(60, 360, 3, backlog=5000, weeks=100, replications=10),
    ]
