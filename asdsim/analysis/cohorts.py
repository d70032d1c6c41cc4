"""Who is counted, and when: cohorts, closed windows and counts at the end of a period.

One definition of each rule, used by the KPI table, the weekly tables and the charts:

* **Counts at the end of a period.** A stock (open referrals, children waiting) at time ``t`` is
  taken just before ``t``: what began before ``t`` and had not ended before ``t``. An event at
  exactly ``t`` (an appointment at the first instant of the next week) belongs to the next
  period. The end of week ``w`` is ``t = 7(w + 1)``; the end of a date is midnight after it.
* **Open referrals** are children referred and not yet exited, less children whose referral was
  rejected and who will be referred again later (not open until they come back).
* **Waiting over N weeks** are open referrals whose referral in force is more than N weeks old.
* **Cohorts.** Wait KPIs count children by their current referral: from the scenario's
  ``reporting.cohort_from_date`` (default: the start) or in a named period of referral.
* **Closed windows.** A within-window share counts only children whose window had closed by the
  horizon; children who left unseen count as not seen within the window.
* **Bases.** ``all``: every referral; ``not_rejected``: every referral except those turned down
  at triage (rejected, or information never returned); ``listed``: referrals that reached a
  team's waiting list (or an outsourced assessment).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from asdsim.analysis.record import ReplicationRecord
from asdsim.scenario.schema import Scenario

WEEKS_13 = 13 * 7.0
"""The AWTS window: 13 weeks, in days."""
MONTHS_3 = 3 * 365.25 / 12.0
"""The NICE window: 3 months, in days (91.31)."""
SNAPSHOT_WAITS_WEEKS = (13, 52, 104)
"""The N of the 'waiting over N weeks' counts."""
TURNED_DOWN = ("rejected", "information_not_returned")
"""Exits at triage: the referral was not taken on for assessment."""


def cohort_start_day(scenario: Scenario) -> float:
    """First referral day of the wait KPIs' cohort (0: the start; backlog children are before)."""
    if scenario.reporting.cohort_from_date is None:
        return 0.0
    return float((scenario.reporting.cohort_from_date - scenario.start_date).days)


def end_of_date_day(scenario: Scenario, date: dt.date) -> float:
    """The model time at the end of a calendar date (midnight after it)."""
    return float((date - scenario.start_date).days) + 1.0


def count_within(start: np.ndarray, end: np.ndarray, times: np.ndarray) -> np.ndarray:
    """How many intervals ``[start, end)`` had begun and not ended just before each time.

    Counts ``start < t <= end``: NaN ``start`` never began; NaN ``end`` never ends.
    """
    valid = ~np.isnan(start)
    starts = np.sort(start[valid])
    ends = np.sort(np.where(np.isnan(end[valid]), np.inf, end[valid]))
    times = np.asarray(times, dtype=float)
    return (np.searchsorted(starts, times, "left") - np.searchsorted(ends, times, "left")).astype(float)


def mean_within(start: np.ndarray, end: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The time-average number of intervals ``[start, end)`` open between consecutive ``edges``.

    The integral of the count up to ``T`` is ``sum(T - s for s < T) - sum(T - e for e < T)``,
    taken from sorted starts and ends with prefix sums, so each period's mean costs a search.
    """
    valid = ~np.isnan(start)
    starts = np.sort(start[valid])
    ends = np.sort(np.where(np.isnan(end[valid]), np.inf, end[valid]))
    finite_ends = ends[np.isfinite(ends)]
    edges = np.asarray(edges, dtype=float)

    def integral(times: np.ndarray) -> np.ndarray:
        k = np.searchsorted(starts, times, "left")
        m = np.searchsorted(finite_ends, times, "left")
        s_sum = np.concatenate([[0.0], np.cumsum(starts)])[k]
        e_sum = np.concatenate([[0.0], np.cumsum(finite_ends)])[m]
        return (k * times - s_sum) - (m * times - e_sum)

    return np.diff(integral(edges)) / np.diff(edges)


def referral_in_force(c: dict[str, np.ndarray], t: float) -> np.ndarray:
    """Day of the referral in force at time ``t`` for each child (its current referral, or its
    first where the current one came later)."""
    return np.where(c["referral_day"] < t, c["referral_day"], c["first_referral_day"])


def open_counts(rec: ReplicationRecord, times: np.ndarray) -> dict[str, np.ndarray]:
    """Open referrals and long waiters just before each time."""
    c = rec.columns
    gaps = rec.rereferral_gaps
    times = np.atleast_1d(np.asarray(times, dtype=float))
    out = {"open_referrals": count_within(c["first_referral_day"], c["exit_day"], times)
           - count_within(gaps[:, 1], gaps[:, 2], times)}
    exit_day = np.where(np.isnan(c["exit_day"]), np.inf, c["exit_day"])
    in_gap = np.zeros(len(exit_day), dtype=bool)
    for weeks in SNAPSHOT_WAITS_WEEKS:
        counts = np.empty(len(times))
        for i, t in enumerate(times):
            in_gap[:] = False
            inside = (gaps[:, 1] < t) & (gaps[:, 2] >= t)
            in_gap[gaps[inside, 0].astype(np.int64)] = True
            is_open = (c["first_referral_day"] < t) & (exit_day >= t) & ~in_gap
            counts[i] = np.count_nonzero(is_open & (t - referral_in_force(c, t) > 7.0 * weeks))
        out[f"waiting_over_{weeks}_weeks"] = counts
    return out


def open_mask(rec: ReplicationRecord, t: float) -> np.ndarray:
    """Children who are open referrals just before time ``t``."""
    c = rec.columns
    gaps = rec.rereferral_gaps
    in_gap = np.zeros(len(c["referral_day"]), dtype=bool)
    inside = (gaps[:, 1] < t) & (gaps[:, 2] >= t)
    in_gap[gaps[inside, 0].astype(np.int64)] = True
    exit_day = np.where(np.isnan(c["exit_day"]), np.inf, c["exit_day"])
    return (c["first_referral_day"] < t) & (exit_day >= t) & ~in_gap


def snapshot_measure(rec: ReplicationRecord, measure: str, t: float,
                     over_weeks: float | None = None, locality: str | None = None,
                     age_years: tuple[float, float] | None = None) -> float:
    """A count or wait just before time ``t``, as an observed figure defines it.

    ``open_referrals``: open referrals; ``awaiting_assessment``: open, accepted at triage and
    not yet started; the ``..._over_weeks`` forms: those whose referral in force is more than
    ``over_weeks`` weeks old; ``longest_wait_weeks``: the longest wait since referral among open
    referrals (0 when none). ``locality`` restricts to one locality, ``age_years`` to ages at
    referral in ``[low, high)``.
    """
    c = rec.columns
    members = open_mask(rec, t)
    if locality is not None:
        members &= c["locality"] == locality
    if age_years is not None:
        age = c["age_at_referral_years"]
        members &= (age >= age_years[0]) & (age < age_years[1])
    if measure.startswith("awaiting_assessment"):
        not_started = ~(c["started_day"] < t)  # NaN compares False: never started is waiting
        members &= (c["accepted_day"] < t) & not_started
    waited = t - referral_in_force(c, t)
    if measure == "longest_wait_weeks":
        return float(waited[members].max() / 7.0) if members.any() else 0.0
    if measure.endswith("_over_weeks"):
        members &= waited > 7.0 * float(over_weeks or 0.0)
    return float(members.sum())


def awaiting_rereferral(rec: ReplicationRecord, horizon: float) -> np.ndarray:
    """Children whose current referral was rejected and who come back only after the horizon."""
    gaps = rec.rereferral_gaps
    out = np.zeros(len(rec.columns["referral_day"]), dtype=bool)
    late = gaps[:, 2] > horizon
    out[gaps[late, 0].astype(np.int64)] = True
    return out


def bases(rec: ReplicationRecord, horizon: float) -> dict[str, np.ndarray]:
    """Each basis as a mask over children (see the module docstring)."""
    c = rec.columns
    turned_down = np.isin(c["exit_reason"], TURNED_DOWN) | awaiting_rereferral(rec, horizon)
    everyone = np.ones(len(turned_down), dtype=bool)
    return {
        "all": everyone,
        "not_rejected": ~turned_down,
        "listed": ~np.isnan(c["list_join_day"]) | c["outsourced"].astype(bool),
    }


def within_window(c: dict[str, np.ndarray], milestone: str, window: float, horizon: float,
                  members: np.ndarray) -> float:
    """Share of ``members`` whose window had closed, seen within ``window`` days of referral
    (NaN where no member's window had closed)."""
    referral = c["referral_day"]
    closed = members & (referral + window <= horizon)
    n = int(closed.sum())
    if not n:
        return float("nan")
    met = (c[milestone] - referral) <= window
    return float((met & closed).sum() / n)


def referral_periods(scenario: Scenario, referral_day: np.ndarray) -> dict[str, np.ndarray]:
    """Each calendar year and quarter of referral within the horizon, as masks over children.

    Keys are ``"2019"`` and ``"2019Q2"``; children referred before the start are in none.
    """
    days = np.where(referral_day >= 0, np.floor(np.nan_to_num(referral_day, nan=-1.0)), -1)
    dates = np.datetime64(scenario.start_date, "D") + days.astype("timedelta64[D]")
    months = dates.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    years = months // 12 + 1970
    quarters = (months % 12) // 3 + 1
    valid = days >= 0
    out: dict[str, np.ndarray] = {}
    first, last = scenario.start_date, scenario.end_date
    for year in range(first.year, last.year + 1):
        out[str(year)] = valid & (years == year)
    for year in range(first.year, last.year + 1):
        for quarter in range(1, 5):
            q_start = dt.date(year, 3 * quarter - 2, 1)
            if q_start > last or dt.date(year, 3 * quarter, 28) < first:
                continue
            out[f"{year}Q{quarter}"] = valid & (years == year) & (quarters == quarter)
    return out
