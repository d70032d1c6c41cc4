"""Key performance indicators, per replication and then as means with confidence intervals.

Definitions (all in ``docs`` of the README too):

* Waits run from the current referral (``referral_day``; a re-referral restarts the clock).
* The **cohort** of a wait KPI is the children referred on or after ``reporting.cohort_from_date``
  (default: the start, so a starting backlog is left out) who reached a team's waiting list.
* A **within-window share** (first appointment within 13 weeks, assessment started within
  3 months) counts only children whose window had closed by the horizon: a child referred in the
  last 13 weeks is not yet known to be seen or not. Children who left without being seen count
  as not seen within the window.
* **Median and 90th percentile waits** are Kaplan–Meier quantiles: children not yet seen are
  censored at the horizon (or when they left), so the quantile is NaN, "not reached", rather than
  biased, when too few have been seen.
* **Backlog cleared** (``backlog_cleared_weeks``) is when the last child of the starting backlog
  was seen or left, in weeks from the start; NaN where some were still waiting at the horizon.
* A quantile or clearance time not reached in some replication is NaN for the whole run, not a
  mean of the replications that reached it (which would be biased low).
* **Open referrals** at a date are children referred and not yet exited; **waiting over N
  weeks** are open referrals more than N weeks old, at any stage, as NHS England's Autism Waiting
  Time Statistics count them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.stats import km_quantile, mean_ci
from asdsim.model.child import EXIT_REASONS
from asdsim.model.teams import DEFINITE_OUTCOMES
from asdsim.scenario.schema import Scenario

WEEKS_13 = 13 * 7.0
MONTHS_3 = 3 * 365.25 / 12.0
SNAPSHOT_WAITS_WEEKS = (13, 52, 104)
CENSORED = ("first_appointment_wait_", "diagnosis_wait_", "backlog_cleared_weeks")
"""KPIs that may not be reached by the horizon: NaN unless reached in every replication."""


def snapshot_days(scenario: Scenario) -> list[tuple[str, float]]:
    """(label, day) of each reporting date; the horizon end when none are given."""
    dates = scenario.reporting.snapshot_dates or (scenario.end_date,)
    return [(d.isoformat(), float((d - scenario.start_date).days)) for d in dates]


def open_counts(cols: dict[str, np.ndarray], day: float) -> dict[str, float]:
    """Open referrals and long waiters at the end of a day."""
    referred = cols["first_referral_day"] <= day
    is_open = referred & ~(cols["exit_day"] <= day)
    age = day - cols["referral_day"]
    out = {"open_referrals": float(is_open.sum())}
    for weeks in SNAPSHOT_WAITS_WEEKS:
        out[f"waiting_over_{weeks}_weeks"] = float((is_open & (age > 7 * weeks)).sum())
    return out


def replication_kpis(rec: ReplicationRecord, scenario: Scenario) -> Iterator[tuple[str, str, float]]:
    """Yield ``(kpi, unit, value)`` for one replication."""
    c = rec.columns
    horizon = scenario.horizon_days
    cohort_from = 0.0
    if scenario.reporting.cohort_from_date is not None:
        cohort_from = float((scenario.reporting.cohort_from_date - scenario.start_date).days)
    referral = c["referral_day"]
    listed = ~np.isnan(c["list_join_day"]) | c["outsourced"]
    cohort = listed & (referral >= cohort_from)

    for kpi, milestone, window in (
        ("first_appointment_within_13_weeks", "first_appointment_day", WEEKS_13),
        ("assessment_started_within_3_months", "assessment_started_day", MONTHS_3),
    ):
        closed = cohort & (referral + window <= horizon)
        met = (c[milestone] - referral) <= window
        n = int(closed.sum())
        yield kpi, "share", float((met & closed).sum() / n) if n else math.nan

    triaged = ~np.isnan(c["triage_day"]) & (c["first_referral_day"] >= cohort_from)
    target = scenario.triage.target_days
    closed = (c["first_referral_day"] >= cohort_from) & (c["first_referral_day"] + target <= horizon)
    n = int(closed.sum())
    yield ("triaged_within_target", "share",
           float((closed & triaged & (c["triage_day"] - c["first_referral_day"] <= target)).sum()
                 / n) if n else math.nan)

    for name, milestone in (("first_appointment_wait", "first_appointment_day"),
                            ("diagnosis_wait", "diagnosis_day")):
        seen = ~np.isnan(c[milestone]) & cohort
        ended = np.where(np.isnan(c["exit_day"]), horizon, c["exit_day"])
        duration = np.where(seen, c[milestone], ended) - referral
        for q, label in ((0.5, "median"), (0.9, "p90")):
            value = km_quantile(duration[cohort], seen[cohort], q)
            yield f"{name}_{label}", "weeks", value / 7.0

    backlog = c["from_backlog"]
    if backlog.any():
        # the last child of the starting backlog to be seen (or to leave); NaN if any still waits
        seen_or_left = np.fmin(c["started_day"], c["exit_day"])[backlog]
        cleared = float(np.max(seen_or_left)) / 7.0 if not np.isnan(seen_or_left).any() else math.nan
    else:
        cleared = math.nan
    yield "backlog_cleared_weeks", "weeks", cleared

    for label, day in snapshot_days(scenario):
        for kpi, value in open_counts(c, day).items():
            yield f"{kpi}[{label}]", "children", value

    reasons = c["exit_reason"]
    new = c["first_referral_day"] >= 0
    yield "referrals", "children", float(new.sum())
    for reason in (*EXIT_REASONS, "waiting", "in_assessment"):
        yield f"exit[{reason}]", "children", float((reasons == reason).sum())
    yield "held_until_old_enough", "children", float((~np.isnan(c["held_day"])).sum())

    assessed = reasons == "assessed"
    completed = int(assessed.sum())
    in_house = assessed & ~c["outsourced"]
    yield ("staff_hours_per_assessment", "hours",
           float(c["staff_hours"][in_house].mean()) if in_house.any() else math.nan)
    outcomes = c["outcome"][assessed]
    for outcome in DEFINITE_OUTCOMES:
        yield (f"outcome_share[{outcome}]", "share",
               float((outcomes == outcome).mean()) if completed else math.nan)

    staff_cost = 0.0
    for (team, group), (available, used) in rec.staff.items():
        total = available.sum()
        yield (f"utilisation[{team}/{group}]", "share",
               float(used.sum() / total) if total > 0 else math.nan)
        staff_cost += float(used.sum()) * scenario.teams[team].staff[group].cost_per_hour_gbp
    for team, (slots, busy) in rec.slots.items():
        total = slots.sum()
        yield f"slot_utilisation[{team}]", "share", float(busy.sum() / total) if total else math.nan
    cost = staff_cost + rec.outsourced_cost_gbp
    yield "cost_total", "GBP", cost
    yield "cost_outsourced", "GBP", rec.outsourced_cost_gbp
    yield "cost_per_assessment", "GBP", cost / completed if completed else math.nan


def kpi_table(records: list[ReplicationRecord], scenario: Scenario) -> pd.DataFrame:
    """Means and 95% confidence intervals of every KPI across replications.

    Returns
    -------
    pandas.DataFrame
        One row per KPI: ``kpi``, ``mean``, ``ci_low``, ``ci_high``, ``unit``, ``n`` (replications
        with a value; a quantile not reached in a replication has none).
    """
    per_rep = per_replication_kpis(records, scenario)
    rows = []
    for (kpi, unit), group in per_rep.groupby(["kpi", "unit"], sort=False):
        values = group["value"].to_numpy()
        if str(kpi).startswith(CENSORED) and np.isnan(values).any():
            # not reached in some replication: a mean of the others would be biased low
            values = np.full_like(values, np.nan)
        mean, low, high, n = mean_ci(values)
        # an interval never leaves the values the KPI can take
        low, high = max(low, 0.0), (min(high, 1.0) if unit == "share" else high)
        rows.append({"kpi": kpi, "mean": mean, "ci_low": low, "ci_high": high,
                     "unit": unit, "n": n})
    return pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high", "unit", "n"])


def per_replication_kpis(records: list[ReplicationRecord], scenario: Scenario) -> pd.DataFrame:
    """Every KPI for every replication: ``replication``, ``kpi``, ``unit``, ``value``."""
    rows = [
        (rec.replication, kpi, unit, value)
        for rec in records
        for kpi, unit, value in replication_kpis(rec, scenario)
    ]
    return pd.DataFrame(rows, columns=["replication", "kpi", "unit", "value"])
