"""Key performance indicators, per replication and then as means with confidence intervals.

What each KPI means (label, unit, direction, numerator, denominator, clock, censoring) is in
:mod:`asdsim.analysis.definitions`; who is counted and when is in :mod:`asdsim.analysis.cohorts`.
This module only computes them. In short:

* Waits run from the current referral (a re-referral restarts the clock).
* The headline shares count every referral in the cohort except those turned down at triage;
  ``_all_referrals`` and ``_listed`` give the other two bases. Shares are also given per calendar
  year and quarter of referral (``assessment_started_within_3_months[2019Q2]``).
* A within-window share counts only children whose window had closed by the horizon.
* Median and 90th percentile waits are Kaplan–Meier quantiles, NaN ("not reached") where too few
  were seen; ``_median_at_least`` gives what is known then (the median is longer than the
  longest follow-up), ``_restricted_mean`` the area under the survival curve up to the longest
  possible follow-up, and ``_mean_seen`` the plain mean over children seen.
* A censored KPI not reached in some replication is NaN for the whole run, not a mean of the
  replications that reached it (which would be biased low).
* Open referrals and waiting over N weeks are counted at the end of each reporting date.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from asdsim.analysis import cohorts
from asdsim.analysis.cohorts import MONTHS_3, WEEKS_13
from asdsim.analysis.definitions import is_censored
from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.stats import km_curve, km_quantile, km_restricted_mean, mean_ci
from asdsim.model.capacity import wte_by_day
from asdsim.model.child import EXIT_REASONS, LIST_EXIT_REASONS
from asdsim.model.teams import DEFINITE_OUTCOMES
from asdsim.scenario.schema import Scenario

WAIT_SHARES = (("first_appointment_within_13_weeks", "first_appointment_day", WEEKS_13),
               ("assessment_started_within_3_months", "assessment_started_day", MONTHS_3))
"""The within-window shares: name, milestone, window in days."""


def snapshot_days(scenario: Scenario) -> list[tuple[str, float]]:
    """(label, time) of each reporting date, at its end; the horizon when none are given."""
    if not scenario.reporting.snapshot_dates:
        return [(scenario.end_date.isoformat(), scenario.horizon_days)]
    return [(d.isoformat(), min(cohorts.end_of_date_day(scenario, d), scenario.horizon_days))
            for d in scenario.reporting.snapshot_dates]


def _wait_kpis(c: dict[str, np.ndarray], cohort: np.ndarray, horizon: float, tau: float
               ) -> Iterator[tuple[str, str, float]]:
    referral = c["referral_day"]
    ended = np.where(np.isnan(c["exit_day"]), horizon, c["exit_day"])
    for name, milestone in (("first_appointment_wait", "first_appointment_day"),
                            ("assessment_started_wait", "assessment_started_day"),
                            ("diagnosis_wait", "diagnosis_day")):
        seen = ~np.isnan(c[milestone]) & cohort
        duration = (np.where(seen, c[milestone], ended) - referral)[cohort] / 7.0
        observed = seen[cohort]
        median = km_quantile(duration, observed, 0.5)
        yield f"{name}_median", "weeks", median
        yield f"{name}_p90", "weeks", km_quantile(duration, observed, 0.9)
        if math.isnan(median) and len(duration):
            times, _ = km_curve(duration, observed)
            longest = float(duration.max())
            median = max(longest, float(times[-1]) if len(times) else longest)
        yield f"{name}_median_at_least", "weeks", median
        yield f"{name}_restricted_mean", "weeks", km_restricted_mean(duration, observed, tau / 7.0)
        yield (f"{name}_mean_seen", "weeks",
               float(duration[observed].mean()) if observed.any() else math.nan)


def replication_kpis(rec: ReplicationRecord, scenario: Scenario) -> Iterator[tuple[str, str, float]]:
    """Yield ``(kpi, unit, value)`` for one replication."""
    c = rec.columns
    horizon = scenario.horizon_days
    cohort_from = cohorts.cohort_start_day(scenario)
    referral = c["referral_day"]
    in_cohort = referral >= cohort_from
    basis = cohorts.bases(rec, horizon)

    yield from _share_kpis(c, scenario, in_cohort, basis)
    yield "triaged_within_target", "share", _triaged_within_target(rec, scenario, cohort_from)
    yield from _wait_kpis(c, in_cohort & basis["listed"], horizon, horizon - cohort_from)
    yield "backlog_cleared_weeks", "weeks", _backlog_cleared_weeks(c)
    labels = snapshot_days(scenario)
    counts = cohorts.open_counts(rec, np.array([day for _, day in labels]))
    for i, (label, _) in enumerate(labels):
        for kpi, values in counts.items():
            yield f"{kpi}[{label}]", "children", float(values[i])
    yield from _exit_kpis(c, scenario)
    yield from _assessment_kpis(rec, scenario)

    started = cohorts.within_window(c, "assessment_started_day", MONTHS_3, horizon,
                                    in_cohort & basis["not_rejected"])
    closed = in_cohort & basis["not_rejected"] & (referral + MONTHS_3 <= horizon)
    yield ("started_within_3_months_count", "children",
           started * int(closed.sum()) if closed.any() else 0.0)


def _share_kpis(c: dict[str, np.ndarray], scenario: Scenario, in_cohort: np.ndarray,
                basis: dict[str, np.ndarray]) -> Iterator[tuple[str, str, float]]:
    """The within-window shares on each basis, then per calendar year and quarter of referral."""
    horizon = scenario.horizon_days
    for kpi, milestone, window in WAIT_SHARES:
        yield kpi, "share", cohorts.within_window(c, milestone, window, horizon,
                                                  in_cohort & basis["not_rejected"])
        for suffix, key in (("_all_referrals", "all"), ("_listed", "listed")):
            yield kpi + suffix, "share", cohorts.within_window(c, milestone, window, horizon,
                                                               in_cohort & basis[key])
    for period, members in cohorts.referral_periods(scenario, c["referral_day"]).items():
        for kpi, milestone, window in WAIT_SHARES:
            yield (f"{kpi}[{period}]", "share",
                   cohorts.within_window(c, milestone, window, horizon,
                                         members & basis["not_rejected"]))


def _triaged_within_target(rec: ReplicationRecord, scenario: Scenario, cohort_from: float) -> float:
    """Each referral arriving in the run (first or repeat) from its own arrival to its first
    triage decision. The starting list's own referrals are not arrivals of the run, even when
    dated its first day (in the cohort): they count in neither the numerator nor the
    denominator, though a starting-list child's re-referral does."""
    c, horizon, target = rec.columns, scenario.horizon_days, scenario.triage.target_days
    arrivals = np.concatenate([c["first_referral_day"][~c["from_backlog"].astype(bool)],
                               rec.rereferral_days])
    n = int(((arrivals >= cohort_from) & (arrivals + target <= horizon)).sum())

    def met(decisions: np.ndarray) -> int:
        arrived, decided = decisions[:, 0], decisions[:, 1]
        return int(((arrived >= cohort_from) & (arrived + target <= horizon)
                    & (decided - arrived <= target)).sum())

    return (met(rec.triage_decisions) - met(rec.starting_list_decisions)) / n if n else math.nan


def _backlog_cleared_weeks(c: dict[str, np.ndarray]) -> float:
    """When the last child of the starting backlog was seen (or left); NaN if any still waits."""
    backlog = c["from_backlog"].astype(bool)
    if not backlog.any():
        return math.nan
    seen_or_left = np.fmin(c["started_day"], c["exit_day"])[backlog]
    return float(np.max(seen_or_left)) / 7.0 if not np.isnan(seen_or_left).any() else math.nan


def _exit_kpis(c: dict[str, np.ndarray], scenario: Scenario) -> Iterator[tuple[str, str, float]]:
    """New referrals, and how many children left each way (or are still in the pathway)."""
    reasons = c["exit_reason"]
    new = c["first_referral_day"] >= 0
    yield "referrals", "children", float(new.sum())
    for reason in (*EXIT_REASONS, "waiting", "in_assessment"):
        yield f"exit[{reason}]", "children", float((reasons == reason).sum())
    yield from _list_policy_exits(scenario, reasons)
    yield "held_until_old_enough", "children", float((~np.isnan(c["held_day"])).sum())
    yield "unmet_need", "children", float((~np.isnan(c["unmet_need_day"])).sum())


def _assessment_kpis(rec: ReplicationRecord, scenario: Scenario) -> Iterator[tuple[str, str, float]]:
    """Staff hours and outcomes of assessments, DNAs, utilisation and every cost."""
    c = rec.columns
    assessed = c["exit_reason"] == "assessed"
    completed = int(assessed.sum())
    in_house = assessed & ~c["outsourced"].astype(bool)
    yield ("staff_hours_per_assessment", "hours",
           float(c["staff_hours"][in_house].mean()) if in_house.any() else math.nan)
    outcomes = c["outcome"][assessed]
    for outcome in DEFINITE_OUTCOMES:
        yield (f"outcome_share[{outcome}]", "share",
               float((outcomes == outcome).mean()) if completed else math.nan)
    for (team, step), (booked, missed) in rec.visits.items():
        yield f"dna_share[{team}/{step}]", "share", missed / booked if booked else math.nan

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
    yield from _funded_cost_kpis(rec, scenario, completed, int((outcomes == "autism").sum()))


def _list_policy_exits(scenario: Scenario, reasons: np.ndarray) -> Iterator[tuple[str, str, float]]:
    """Children who left a list under its policies (for another provider; discharged on
    validation), only in scenarios where some team's list has such a policy: other scenarios'
    KPI tables keep their rows."""
    lists = [team.waiting_list for team in scenario.teams.values()]
    for reason, present in zip(LIST_EXIT_REASONS, (any(wl.leaving is not None for wl in lists),
                                                    any(wl.validation is not None for wl in lists)),
                               strict=True):
        if present:
            yield f"exit[{reason}]", "children", float((reasons == reason).sum())


def financial_years(scenario: Scenario) -> list[tuple[str, float, float]]:
    """(label, first day, end day) of each financial year (April to March) within the horizon,
    cut to the horizon; labels like ``FY2019/20``."""
    start, horizon = scenario.start_date, scenario.horizon_days
    year = start.year if start.month >= 4 else start.year - 1
    out = []
    while True:
        first = float((dt.date(year, 4, 1) - start).days)
        end = float((dt.date(year + 1, 4, 1) - start).days)
        if first >= horizon:
            return out
        out.append((f"FY{year}/{(year + 1) % 100:02d}", max(first, 0.0), min(end, horizon)))
        year += 1


def funded_staff_cost(scenario: Scenario) -> dict[tuple[str, str], np.ndarray]:
    """Funded cost of each (team, group)'s autism time on each day of the horizon: WTE in post
    that day (dated changes included) x the job plan's autism share x annual cost per WTE with
    on-costs / 365.25."""
    days = math.ceil(scenario.horizon_days)
    return {(name, group): wte_by_day(scenario, name, group, days) * staff.autism_share
            * staff.funded_cost_per_wte_gbp / 365.25
            for name, team in scenario.teams.items() for group, staff in team.staff.items()}


def _funded_cost_kpis(rec: ReplicationRecord, scenario: Scenario, completed: int,
                      diagnosed: int) -> Iterator[tuple[str, str, float]]:
    daily = funded_staff_cost(scenario)
    staff_per_day = np.sum(list(daily.values()), axis=0) if daily else np.zeros(1)
    bought = rec.outsourcing_bought
    for label, first, end in financial_years(scenario):
        yield f"funded_cost[{label}]", "GBP", float(staff_per_day[int(first):int(end)].sum())
        in_year = (bought[:, 0] >= first) & (bought[:, 0] < end)
        yield f"outsourcing_cost[{label}]", "GBP", float(bought[in_year, 1].sum())
    funded = float(staff_per_day.sum())
    yield "funded_cost_per_year", "GBP", funded * 365.25 / scenario.horizon_days
    for team, group in daily:
        wte = wte_by_day(scenario, team, group, len(staff_per_day))
        yield f"funded_wte[{team}/{group}]", "WTE", float(wte.mean())
    total = funded + float(bought[:, 1].sum())
    yield "cost_funded_total", "GBP", total
    yield "cost_per_assessment_funded", "GBP", total / completed if completed else math.nan
    yield "cost_per_diagnosis", "GBP", total / diagnosed if diagnosed else math.nan
    yield "outsourcing_not_bought", "GBP", float(rec.outsourcing_skipped[:, 1].sum())


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
        if is_censored(str(kpi)) and np.isnan(values).any():
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
