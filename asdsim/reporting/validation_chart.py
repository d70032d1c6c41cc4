"""The simulated trajectory of each observed measure, with the published points on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asdsim.analysis import cohorts
from asdsim.analysis.results import Results
from asdsim.reporting.charts import OKABE_ITO

_LABELS = {
    "open_referrals": "open referrals",
    "awaiting_assessment": "waiting for assessment",
    "waiting_over_weeks": "open referrals over {n:g} weeks",
    "awaiting_assessment_over_weeks": "waiting for assessment over {n:g} weeks",
    "longest_wait_weeks": "longest wait (weeks)",
}


def measure_label(measure: str, over_weeks: float | None, locality: str | None) -> str:
    """A readable name for an observed measure."""
    text = _LABELS[measure].format(n=over_weeks or 0)
    return f"{text}, {locality}" if locality else text


def validation_chart(results: Results) -> Figure | None:
    """One panel per observed measure: the simulated value every four weeks (median and the
    2.5-97.5 percentile band of replications) and the observed points, marked by whether they
    were used to calibrate or held out. None when the scenario has no observed points."""
    table = results.validation
    if table.empty:
        return None
    scenario = results.scenario
    keys = list(dict.fromkeys(zip(table.measure, table.over_weeks, table.locality, strict=True)))
    fig = Figure(figsize=(9, 2.8 * len(keys)))
    axes = np.atleast_1d(fig.subplots(len(keys), 1, squeeze=False)[:, 0])
    times = np.arange(1.0, scenario.horizon_days + 1.0, 28.0)
    dates = pd.to_datetime(scenario.start_date) + pd.to_timedelta(times - 1.0, unit="D")
    for ax, (measure, over, locality) in zip(axes, keys, strict=True):
        over = None if over is None or (isinstance(over, float) and np.isnan(over)) else over
        locality = None if not isinstance(locality, str) else locality
        values = np.array([[cohorts.snapshot_measure(rec, measure, t, over, locality)
                            for t in times] for rec in results.records])
        low, mid, high = np.percentile(values, [2.5, 50, 97.5], axis=0)
        ax.fill_between(dates, low, high, color=OKABE_ITO[0], alpha=0.2, linewidth=0,
                        label="simulated, 95% of replications")
        ax.plot(dates, mid, color=OKABE_ITO[0], label="simulated, median")
        rows = table[(table.measure == measure) & (table.locality.fillna("") == (locality or ""))]
        for use, marker, colour in (("calibration", "s", OKABE_ITO[3]), ("validation", "o", "black")):
            pts = rows[rows.use == use]
            if len(pts):
                ax.plot(pd.to_datetime(pts.date), pts.observed, linestyle="none", marker=marker,
                        color=colour, markersize=8,
                        label=f"published ({'used to calibrate' if use == 'calibration' else 'held out'})")
        ax.set(title=measure_label(measure, over, locality), xlabel="date", ylabel="children"
               if measure != "longest_wait_weeks" else "weeks")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
