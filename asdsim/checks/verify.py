"""Verification of the simulator against queueing theory: ``asdsim verify``.

Each check runs the model as shipped on a scenario whose answer is known in closed form, and
compares the simulated mean (with its 95% confidence interval across replications) with theory:

* **Erlang C.** Caseload mode with Poisson referrals and one exponential step is an M/M/c
  queue: the mean wait for a slot and the chance of waiting at all follow Erlang's C formula.
* **Cobham.** The same queue with two priority classes served without preemption: each class's
  mean wait follows Cobham's formula.
* **Little's law.** On a full pathway (triage, two teams, under-4 review, DNAs, withdrawals,
  uncertain outcomes), the time-average number of open referrals equals throughput times the
  mean time in the system.
* **Fluid.** In clinic-hours mode with fixed hours per assessment, the waiting list grows or
  clears at demand minus capacity, and a starting backlog clears when the fluid calculation says.
* **Plan against Erlang C.** For an M/M/c queue, the least number of clinicians c for which
  P(wait <= t) >= p follows from Erlang C (P(W <= t) = 1 - C(c, a) e^{-(c mu - lambda) t});
  ``asdsim plan`` must return that c, in cases where it is and is not the smallest stable c.
* **The plan keeps its promise.** A plan for the NICE standard from a quarter, on a team with a
  starting list, then its recommended scenario run on fresh replications (another seed), as
  ``asdsim run`` runs it: the report's verdict ("meets the standard from QUARTER") must be that
  quarter or earlier, up to sampling error (no quarter from it may be below 90% with its whole
  95% interval).

A check passes when the simulated mean is within the stated tolerance of theory *and* its
confidence interval is no wider than the tolerance, so that a pass is evidence rather than noise.
Waits are measured after a warm-up (the queues start empty) and only for children referred long
enough before the horizon to have been seen; a child not seen by then counts with the wait it had
so far, so a broken model cannot hide behind missing values.

The formulas are in :mod:`asdsim.checks.theory` and the scenarios in :mod:`asdsim.checks.scenarios`.
Every replication runs in a worker process (:mod:`asdsim.experiments.backends`) and sends back
only a few numbers, so the whole suite needs little memory. The library returns a
:class:`VerifyReport`; ``asdsim verify`` (:mod:`asdsim.cli.verify`) prints it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd

from asdsim.analysis.cohorts import count_within, mean_within
from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.results import Results
from asdsim.analysis.standard import LEVEL, judged_quarters, quarter_kpi, quarter_of
from asdsim.analysis.stats import mean_ci
from asdsim.checks.scenarios import backlog_scenario, fluid_scenario, full_pathway_scenario, mmc_scenario
from asdsim.checks.theory import cobham_waits, erlang_c, least_servers, mmc_mean_wait
from asdsim.experiments.backends import Backend, TaskFailed, make_backend
from asdsim.experiments.plan import plan
from asdsim.experiments.runner import run_replication, simulate
from asdsim.reporting.summary import summarise_design
from asdsim.scenario import Scenario

DEFAULT_SEED = 1
"""Seed of every check. Tolerances are about 2.5 standard errors or more, so another ``--seed``
passes too, but with a small chance (about 1% a quantity) of a false alarm."""

Measure = Callable[[ReplicationRecord, Scenario], dict[str, float]]
Evaluate = Callable[[dict[str, np.ndarray]], list["CheckResult"]]
Progress = Callable[[int, int], None]


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class CheckResult:
    """One compared quantity: theory against the simulated mean and its 95% CI."""

    check: str
    """The check (scenario and what it tests)."""
    quantity: str
    """What is compared, with its unit."""
    theory: float
    """The analytic value."""
    mean: float
    """Mean across replications."""
    ci_low: float
    """Lower end of the 95% confidence interval of the mean."""
    ci_high: float
    """Upper end of the 95% confidence interval of the mean."""
    replications: int
    """Replications with a value."""
    tolerance: float
    """Largest accepted ``|mean - theory|``, in the quantity's unit."""
    tolerance_text: str
    """The tolerance as stated (``±5%``, ``±0.02``, ``±4 weeks``)."""
    check_id: str = ""
    """Id of the check that produced it (``erlang-c-5``)."""

    @property
    def half_width(self) -> float:
        """Half-width of the confidence interval."""
        return (self.ci_high - self.ci_low) / 2.0

    @property
    def passed(self) -> bool:
        """Within tolerance, with a confidence interval no wider than the tolerance."""
        return bool(abs(self.mean - self.theory) <= self.tolerance
                    and self.half_width <= self.tolerance)

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL``, or ``FAIL (CI wider than tolerance)``."""
        if self.passed:
            return "pass"
        if abs(self.mean - self.theory) <= self.tolerance:
            return "FAIL (CI wider than tolerance)"
        return "FAIL"


@dataclass
class VerifyReport:
    """The outcome of :func:`run_checks`."""

    results: list[CheckResult]
    seed: int
    jobs: int
    wall_seconds: float
    checks: list[str] = field(default_factory=list)
    """Ids of the checks that ran."""

    @property
    def passed(self) -> bool:
        """Whether every compared quantity passed."""
        return all(r.passed for r in self.results)

    def table(self) -> pd.DataFrame:
        """One row per compared quantity, with ``passed`` and ``verdict`` columns."""
        rows = [{"id": r.check_id, "check": r.check, "quantity": r.quantity, "theory": r.theory,
                 "mean": r.mean, "ci_low": r.ci_low, "ci_high": r.ci_high, "replications": r.replications,
                 "tolerance": r.tolerance_text, "passed": r.passed, "verdict": r.verdict}
                for r in self.results]
        return pd.DataFrame(rows, columns=["id", "check", "quantity", "theory", "mean", "ci_low", "ci_high",
                                           "replications", "tolerance", "passed", "verdict"])


def _result(check: str, quantity: str, theory: float, values: np.ndarray, *, relative: float = 0.0,
            absolute: float = 0.0, text: str | None = None) -> CheckResult:
    mean, low, high, n = mean_ci(values)
    tolerance = max(relative * abs(theory), absolute)
    if text is None:
        text = f"±{relative:.0%}" if relative else f"±{absolute:g}"
    return CheckResult(check, quantity, float(theory), mean, low, high, n, tolerance, text)


# --------------------------------------------------------------------------- measurements
# Module-level functions (bound with functools.partial) so worker processes can unpickle them.


def _censored_waits(rec: ReplicationRecord, scenario: Scenario, warm_days: float,
                    tail_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Waits for a slot of children referred in [warm, horizon - tail), and their mask."""
    c = rec.columns
    referral = c["referral_day"]
    window = (referral >= warm_days) & (referral < scenario.horizon_days - tail_days)
    started = c["assessment_started_day"]
    seen_by = np.where(np.isnan(started), scenario.horizon_days, started)  # not seen: wait so far
    return (seen_by - c["list_join_day"])[window], window


def measure_waits(rec: ReplicationRecord, scenario: Scenario, warm_days: float,
                  tail_days: float) -> dict[str, float]:
    """Mean wait for a slot, share who waited, and the mean wait of each priority class."""
    waits, window = _censored_waits(rec, scenario, warm_days, tail_days)
    out = {"mean_wait": float(waits.mean()), "prob_wait": float((waits > 1e-9).mean()),
           "children": float(len(waits))}
    priority = rec.columns["priority"][window]
    for name in scenario.priority_classes:
        mine = priority == name
        out[f"wait[{name}]"] = float(waits[mine].mean()) if mine.any() else math.nan
    return out


def measure_little(rec: ReplicationRecord, scenario: Scenario, warm_days: float) -> dict[str, float]:
    """Time-average open referrals over [warm, horizon], and throughput x mean time in system.

    The time average integrates each child's open interval (first referral to exit) exactly over
    the window. Throughput counts the children who left during the window, and their time in the
    system is known in full (no censoring at the horizon); what they spent before the window,
    and what those still open spend after it, are the two edge terms Little's law lets cancel.
    """
    c = rec.columns
    entry, leave = c["first_referral_day"], c["exit_day"]
    start, end = warm_days, scenario.horizon_days
    span = end - start
    stay_end = np.where(np.isnan(leave), end, np.minimum(leave, end))
    overlap = np.clip(stay_end - np.maximum(entry, start), 0.0, None)
    left = ~np.isnan(leave) & (leave >= start) & (leave <= end)
    return {"open": float(overlap.sum() / span),
            "throughput_x_time": float(left.sum() / span * (leave[left] - entry[left]).mean()),
            "throughput": float(left.sum() / span * 7.0),
            "time_in_system": float((leave[left] - entry[left]).mean() / 7.0)}


def measure_weekly_little(rec: ReplicationRecord, scenario: Scenario, warm_days: float
                          ) -> dict[str, float]:
    """The weekly table's count of children waiting for assessment, averaged over the weeks after
    ``warm_days``, against the list's throughput x mean wait (Little's law).

    Both forms of the weekly count are measured: the week's time average (the law's own
    quantity) and the end-of-week count the table also publishes, which sits above the average
    by the children who join over the weekend (appointments fall on working days only). The
    throughput side uses the children who left the list (started, or left the pathway) during
    the window, whose whole wait is known.
    """
    c = rec.columns
    joined = c["list_join_day"]
    left = np.fmin(c["started_day"], c["exit_day"])
    weeks = int(scenario.horizon_days // 7)
    first_week = int(np.ceil(warm_days / 7.0))
    edges = 7.0 * np.arange(first_week, weeks + 1)
    start, end = edges[0], edges[-1]
    done = ~np.isnan(joined) & ~np.isnan(left) & (left >= start) & (left < end)
    wait = left[done] - joined[done]
    return {"weekly_mean": float(mean_within(joined, left, edges).mean()),
            "week_end": float(count_within(joined, left, edges[1:]).mean()),
            "throughput_x_wait": float(done.sum() / (end - start) * wait.mean()),
            "throughput": float(done.sum() / (end - start) * 7.0),
            "wait": float(wait.mean() / 7.0)}


def measure_list(rec: ReplicationRecord, scenario: Scenario, fit_weeks: tuple[int, int],
                 clear_below: float) -> dict[str, float]:
    """Slope of the waiting list over ``fit_weeks``, the first week end with fewer than
    ``clear_below`` waiting, and the backlog-cleared KPI, from the model's own tables."""
    results = Results(scenario=scenario, provenance={"replications": 1, "seed": 0}, records=[rec])
    waiting = results.weekly["waiting_for_assessment"].to_numpy()
    weeks = np.arange(*fit_weeks)
    slope = float(np.polyfit(weeks, waiting[weeks], 1)[0])
    below = np.nonzero(waiting < clear_below)[0]
    cleared = float(below[0] + 1) if len(below) else math.nan  # week index w ends at w + 1 weeks
    return {"slope": slope, "list_cleared_weeks": cleared,
            "backlog_cleared_weeks": results.kpi("backlog_cleared_weeks")}


# ------------------------------------------------------------------------------------- checks


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


# ------------------------------------------------------------------------------------ running


@dataclass(frozen=True)
class _Task:
    """One replication of one check: what a worker needs."""

    check_id: str
    scenario: Scenario
    measure: Measure
    seed: int
    replication: int


def _run_task(task: _Task) -> dict[str, float]:
    """Run one replication and measure it (in a worker: only a few numbers travel back)."""
    return task.measure(run_replication(task.scenario, task.seed, task.replication), task.scenario)


def run_checks(checks: Sequence[Check | PlanCheck | PromiseCheck] | None = None,
               only: Sequence[str] | None = None, seed: int = DEFAULT_SEED, jobs: int | None = 1,
               progress: Progress | None = None) -> VerifyReport:
    """Run verification checks and compare each with theory.

    Parameters
    ----------
    checks
        The checks to run (default: :func:`default_checks`, then :func:`default_plan_checks`).
    only
        Ids of the checks to keep (``erlang-c-5``, ``cobham``, ``little``, ``plan-erlang-c-9``,
        ...).
    seed
        Seed of every check's replications.
    jobs
        Worker processes (None: one per CPU); the results do not depend on it.
    progress
        Called as ``progress(done, total)`` after each replication.

    Returns
    -------
    VerifyReport
        One :class:`CheckResult` per compared quantity, in the order of the checks.
    """
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    suite: list[Check | PlanCheck | PromiseCheck] = list(
        [*default_checks(), *default_plan_checks()] if checks is None else checks)
    if only:
        known = {c.id for c in suite}
        unknown = [name for name in only if name not in known]
        if unknown:
            raise ValueError(f"no check {', '.join(map(repr, unknown))}; the checks are: "
                             f"{', '.join(c.id for c in suite)}")
        suite = [c for c in suite if c.id in set(only)]
    started = time.perf_counter()
    simulated = [c for c in suite if isinstance(c, Check)]
    plans = [c for c in suite if isinstance(c, PlanCheck | PromiseCheck)]
    # the longest first, so workers finish together
    ordered = sorted(simulated, key=lambda c: -c.cost)
    tasks = (_Task(c.id, c.scenario, c.measure, seed, r) for c in ordered for r in range(c.replications))
    total = sum(c.replications for c in simulated) + len(plans)  # a plan counts as one
    measured: dict[tuple[str, int], dict[str, float]] = {}
    planned: dict[str, list[CheckResult]] = {}
    try:
        with make_backend(jobs) as backend:
            for task, values in backend.map_unordered(_run_task, tasks):
                measured[task.check_id, task.replication] = values
                if progress:
                    progress(len(measured), total)
            for check in plans:
                planned[check.id] = check.run(seed, backend)
                if progress:
                    progress(len(measured) + len(planned), total)
    except TaskFailed as exc:  # the error itself, as if the replication ran here
        raise exc.__cause__ from None  # type: ignore[misc]
    results: list[CheckResult] = []
    for check in suite:
        if isinstance(check, PlanCheck | PromiseCheck):
            results.extend(replace(r, check_id=check.id) for r in planned[check.id])
            continue
        rows = [measured[check.id, r] for r in range(check.replications)]  # in replication order
        columns = {key: np.array([row[key] for row in rows], dtype=float) for key in rows[0]}
        results.extend(replace(r, check_id=check.id) for r in check.evaluate(columns))
    return VerifyReport(results=results, seed=seed, jobs=backend.workers,
                        wall_seconds=time.perf_counter() - started, checks=[c.id for c in suite])
