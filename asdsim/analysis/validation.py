"""Simulated against observed: each published figure of a scenario beside the model's count.

A scenario's ``observed`` points name a date, a measure, a value, and whether the figure was used
to calibrate an input or held out. A stock (open referrals, children waiting, the longest wait)
is counted as :func:`asdsim.analysis.cohorts.snapshot_measure` counts it, at the end of its date.
A flow is counted over its period, from the start of ``period_start`` to the end of ``date``:

* ``referrals_received``: new referrals and re-referrals made in the period;
* ``assessments_started``: assessments started in the period (the step the scenario marks
  ``assessment_started``, as the NICE 3-month measure counts it);
* ``first_contacts_within_13_weeks``: first appointments in the period that came within 13 weeks
  (91 days) of the referral, counted by the appointment's day (NHS England's ASD03 counts the
  period's referrals by whether their first contact came within 13 weeks, another construction:
  docs/national-statistics.md).

``locality`` and ``age_group`` (ages at referral) restrict a point to the children they name.
Each point is set against the simulated mean and the 95% interval of the replications (the
2.5th to 97.5th percentile of replication values: where one run of the real area would fall, not
the confidence interval of the mean).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from asdsim.analysis import cohorts
from asdsim.analysis.record import ReplicationRecord
from asdsim.scenario.schema import ObservedPoint, Scenario

COLUMNS = ["date", "measure", "over_weeks", "locality", "use", "observed", "simulated_mean",
           "simulated_low", "simulated_high", "inside", "source"]
EXTRA_COLUMNS = ["period_start", "age_group"]
"""Columns added after ``locality`` when some point has them (flows, age groups)."""


def _children(rec: ReplicationRecord, point: ObservedPoint) -> np.ndarray:
    """Children of the point's locality and age group, as a mask."""
    c = rec.columns
    members = np.ones(len(c["referral_day"]), dtype=bool)
    if point.locality is not None:
        members &= c["locality"] == point.locality
    ages = point.age_years
    if ages is not None:
        age = c["age_at_referral_years"]
        members &= (age >= ages[0]) & (age < ages[1])
    return members


def _flow(rec: ReplicationRecord, scenario: Scenario, point: ObservedPoint) -> float:
    """A count over the point's period (see the module docstring)."""
    assert point.period_start is not None  # the schema requires it for flows
    low = cohorts.end_of_date_day(scenario, point.period_start) - 1.0
    high = min(cohorts.end_of_date_day(scenario, point.date), scenario.horizon_days)
    c = rec.columns
    members = _children(rec, point)

    def within(days: np.ndarray) -> np.ndarray:
        return (days >= low) & (days < high)  # NaN compares False: never happened

    if point.measure == "referrals_received":
        gaps = rec.rereferral_gaps
        again = gaps[:, 2][members[gaps[:, 0].astype(np.int64)]] if len(gaps) else gaps[:, 2]
        return float(np.count_nonzero(members & within(c["first_referral_day"]))
                     + np.count_nonzero(within(again)))
    if point.measure == "assessments_started":
        return float(np.count_nonzero(members & within(c["assessment_started_day"])))
    first = c["first_appointment_day"]
    soon = (first - c["referral_day"]) <= cohorts.WEEKS_13
    return float(np.count_nonzero(members & within(first) & soon))


def point_value(rec: ReplicationRecord, scenario: Scenario, point: ObservedPoint) -> float:
    """The model's value of one observed point in one replication."""
    if point.is_flow:
        return _flow(rec, scenario, point)
    t = min(cohorts.end_of_date_day(scenario, point.date), scenario.horizon_days)
    return cohorts.snapshot_measure(rec, point.measure, t, point.over_weeks, point.locality,
                                    point.age_years)


def point_values(records: Sequence[ReplicationRecord], scenario: Scenario,
                 points: Sequence[ObservedPoint] | None = None) -> np.ndarray:
    """The model's value of each point (default: the scenario's) in each replication.

    Returns
    -------
    numpy.ndarray
        Shape ``(replications, points)``.
    """
    points = scenario.observed if points is None else points
    return np.array([[point_value(rec, scenario, p) for p in points] for rec in records],
                    dtype=float).reshape(len(records), len(points))


def validation_table(records: list[ReplicationRecord], scenario: Scenario) -> pd.DataFrame:
    """Every observed point of the scenario beside the simulated values.

    Returns
    -------
    pandas.DataFrame
        One row per observed point: ``date, measure, over_weeks, locality, use, observed,
        simulated_mean, simulated_low, simulated_high`` (2.5th and 97.5th percentiles across
        replications), ``inside`` (observed within that interval) and ``source``; with
        ``period_start`` and ``age_group`` after ``locality`` when some point has them; empty
        when the scenario has none.
    """
    extra = [name for name in EXTRA_COLUMNS
             if any(getattr(p, name) is not None for p in scenario.observed)]
    columns = COLUMNS[:4] + extra + COLUMNS[4:]
    values = point_values(records, scenario)
    rows = []
    for j, point in enumerate(scenario.observed):
        low, high = np.percentile(values[:, j], [2.5, 97.5])
        rows.append([point.date, point.measure, point.over_weeks, point.locality,
                     *(getattr(point, name) for name in extra), point.use,
                     point.value, float(values[:, j].mean()), float(low), float(high),
                     bool(low <= point.value <= high), point.source])
    return pd.DataFrame(rows, columns=columns)
