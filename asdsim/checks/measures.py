"""What a verification check measures in one replication (waits, Little's law, the list).
"""

from __future__ import annotations

import math

import numpy as np

from asdsim.analysis.cohorts import count_within, mean_within
from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.results import Results
from asdsim.scenario import Scenario

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
