"""Simulated against observed: each published figure of a scenario beside the model's count.

A scenario's ``observed`` points name a date, a measure (as :func:`asdsim.analysis.cohorts.
snapshot_measure` counts it), a value, and whether the figure was used to calibrate an input or
held out. Each is set against the simulated mean and the 95% interval of the replications (the
2.5th to 97.5th percentile of replication values: where one run of the real area would fall, not
the confidence interval of the mean).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from asdsim.analysis import cohorts
from asdsim.analysis.record import ReplicationRecord
from asdsim.scenario.schema import Scenario

COLUMNS = ["date", "measure", "over_weeks", "locality", "use", "observed", "simulated_mean",
           "simulated_low", "simulated_high", "inside", "source"]


def validation_table(records: list[ReplicationRecord], scenario: Scenario) -> pd.DataFrame:
    """Every observed point of the scenario beside the simulated values.

    Returns
    -------
    pandas.DataFrame
        One row per observed point: ``date, measure, over_weeks, locality, use, observed,
        simulated_mean, simulated_low, simulated_high`` (2.5th and 97.5th percentiles across
        replications), ``inside`` (observed within that interval) and ``source``; empty when the
        scenario has none.
    """
    rows = []
    for point in scenario.observed:
        t = min(cohorts.end_of_date_day(scenario, point.date), scenario.horizon_days)
        values = np.array([cohorts.snapshot_measure(rec, point.measure, t, point.over_weeks,
                                                    point.locality) for rec in records])
        low, high = np.percentile(values, [2.5, 97.5])
        rows.append([point.date, point.measure, point.over_weeks, point.locality, point.use,
                     point.value, float(values.mean()), float(low), float(high),
                     bool(low <= point.value <= high), point.source])
    return pd.DataFrame(rows, columns=COLUMNS)
