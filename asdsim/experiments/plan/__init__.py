"""The least-cost staffing that meets targets by a date, and how sure we are: ``asdsim plan``.

The question
------------
Given a scenario, targets (:mod:`asdsim.experiments.targets`: ``assessment_started_within_3_months
>= 0.9``, ``waiting_over_52_weeks == 0 by 2026-03-31``, ``backlog_cleared_weeks <= 52``; all must
hold) and a date ``from`` on which new money can start, find the cheapest extra staffing that meets
the targets with a stated confidence.

* **Decision variables** (*levers*): the WTE of chosen staff groups (clinic-hours mode), in steps
  of 0.1 WTE by default; the clinicians of a caseload team (steps of 1); optionally outsourced
  assessments a month for a stated number of months. Each is a change from the level in force on
  ``from``, applied as a dated capacity change on that date (later dated changes of the same
  group are shifted by the same amount), within bounds (default 0 to +3 WTE, 0 to +5 clinicians,
  0 to 10 assessments a month). In caseload mode an added clinician brings the team's staff mix:
  each staff group's WTE grows by its WTE per clinician, so funded cost follows.
* **Objective**: the least extra annual funded cost: WTE added x autism share x annual cost per
  WTE with on-costs, plus outsourced assessments a month x price x the block's months in its
  first year. It orders options exactly as ``funded_cost_per_year`` plus outsourcing a year does,
  and is known before anything is simulated. Ties go to the option with fewer added steps.
* **Measured where**: KPIs over a cohort of referrals (shares within a window, wait quantiles) for
  children referred from ``by`` (default ``from``), through ``reporting.cohort_from_date``; counts
  at a date at that date, added to ``reporting.snapshot_dates``.
* **Confidence**: with ``confidence_rule="share"`` (the default) an option is feasible when at
  least ``confidence`` of the replications meet every target; with ``"lower_ci"`` when the 95%
  confidence interval of each target KPI's mean lies on the right side of its threshold (the lower
  bound of a share, the upper bound of a wait or a count).

The search, and why
-------------------
Every option is judged by simulation under common random numbers: one seed, so replication ``r``
of every option sees the same children and the same luck, and the differences between options
are the staffing's. Evaluations are replications run through a backend
(:mod:`asdsim.experiments.backends`, local processes or Dask), each reduced to a few KPI values
in the worker, and cached by (option, replication): no replication is ever run twice.

The search relies on monotonicity: more staff is never worse, so the feasible options are
*upward closed* (an option at least as large as a feasible one, in every lever, is feasible) and
the cost is increasing in every lever. Then:

1. **The ends.** The largest option (every lever at its upper bound) is evaluated: if it fails,
   nothing within the bounds can meet the targets, and the plan says so with the best option
   found. The smallest (today's staffing) is evaluated: if it meets them, nothing need change.
2. **Per-lever minimum, by bisection.** For each lever, the least level that meets the targets
   with every other lever at its maximum: galloping up from today's level (lo, lo+1, lo+3, ...:
   the answer is usually near it), then :func:`bisect.bisect_left` over the levels in the
   bracket, the feasibility oracle as its key; a few evaluations a lever. By monotonicity every
   feasible option is at least this *corner* in every lever, so when the corner itself is
   feasible it is the cheapest option, with a proof. In the multidisciplinary designs shipped,
   where each profession has its own steps, the groups are complements and this is often the end.
3. **Greedy climb, then descent.** Otherwise, from the corner, each round evaluates a coarse step
   up in each lever (and in all of them together when none helps alone, as complements need) and
   moves along the one that improves the worst target's margin most per pound, compared on the
   replications both options ran (common random numbers make that difference precise), until an
   option is feasible; then each lever in turn, the costliest step first, is bisected down as far
   as it stays feasible. This is the greedy on cost per improvement with a feasibility oracle.
4. **Cheapest first, with dominance.** Each option found infeasible rules out every option below
   it. The cheapest option not ruled out is found exactly as a small mixed-integer program
   (:func:`scipy.optimize.milp`: one binary per lever and infeasible option says which lever
   exceeds it) and evaluated; the first feasible one is the cheapest, and when the cheapest not
   ruled out costs as much as the best found, that is proved cheapest. Where levers substitute
   for each other (outsourcing for staff) a proof can take many evaluations, so this step stops
   after a few a lever, and the plan reports the best option and the lower bound (the gap).

The oracle answers from the options already evaluated whenever monotonicity decides (an option
above a feasible one, or below an infeasible one), so no point of the grid is evaluated unless it
has to be: a three-lever plan over 31 levels each takes tens of evaluations, not 29,791. A
general-purpose optimiser does not fit the rest: the objective is linear and known, and what is
expensive and noisy is a yes/no feasibility answer, which bisection and the integer program use
directly, with monotonicity doing the pruning (tests check the search against the exhaustive
answer on known monotone sets, and against Erlang C). With the
default rule an evaluation also stops as soon as its replications, taken in order, decide it (at
least ``confidence`` of them can no longer meet the targets, or already have), which halves the
replications of options far from the boundary without changing any answer.

**Where monotonicity fails.** It need not hold exactly: in clinic-hours mode more of one
profession can change the order in which packages are booked (README, "What the booking rules
imply"; on ``nice_mdt.yaml`` more school-age psychologist time alone lowers the 3-month share).
So the option chosen and each option one step above it are evaluated on every search
replication, and every pair of evaluated options one above the other is compared on the
replications they share: a larger option that fails where a smaller one meets the targets (more
often than the reverse, by a sign test at 5%), or whose paired mean is worse beyond its 95%
confidence interval and by 0.5% of the threshold, is flagged (``non_monotone`` in the options
table, and a warning). Where anything is flagged, the recommendation's one-step-down neighbours
are evaluated directly, not inferred, and the search moves down to any that is feasible, until
none is.

**Selected-best bias.** The option chosen is the cheapest that looked feasible on the search's
replications, so its estimate is biased in its favour. Before recommending, the chosen option, the
next cheapest feasible ones and the cheaper near misses are run again on fresh replications
(``confirm_replications`` of them, numbered after the search's, so independent of them and still
common to every candidate); the recommendation is the cheapest that meets the rule on those, and
the figures reported are theirs. If none does, the search climbs one step at a time from the
chosen option on fresh replications.

The package
-----------
:mod:`~asdsim.experiments.plan.levers` (the decision variables and an option's scenario),
:mod:`~asdsim.experiments.plan.vary` (the levers a plan varies, checked against the scenario),
:mod:`~asdsim.experiments.plan.evaluate` (replications, estimates, the confidence rule),
:mod:`~asdsim.experiments.plan.search` (the search, the monotonicity check and the
confirmation), :mod:`~asdsim.experiments.plan.result` (:class:`Plan` and its folder),
:mod:`~asdsim.experiments.plan.build` (a :class:`Plan` from the evaluator) and
:mod:`~asdsim.experiments.plan.run` (:func:`plan` and :func:`assess`). The NICE standard the
default target aims at is defined once, in :mod:`asdsim.analysis.standard`, which the report's
verdict calls too.
"""

from asdsim.experiments.plan.evaluate import Estimate, wilson
from asdsim.experiments.plan.levers import Lever, Outsourcing, PlanError, lead_days, option_data
from asdsim.experiments.plan.result import Plan, write_plan
from asdsim.experiments.plan.run import DEFAULT_TARGETS, assess, plan
from asdsim.experiments.plan.vary import make_levers
from asdsim.experiments.targets import TargetError

__all__ = ["DEFAULT_TARGETS", "Estimate", "Lever", "Outsourcing", "Plan", "PlanError", "TargetError",
           "assess", "lead_days", "make_levers", "option_data", "plan", "wilson", "write_plan"]
