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
    "referrals_received": "referrals received in the period",
    "assessments_started": "assessments started in the period",
    "first_contacts_within_13_weeks": "first contacts within 13 weeks in the period",
}
FLOWS = ("referrals_received", "assessments_started", "first_contacts_within_13_weeks")


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def measure_label(measure: str, over_weeks: float | None, locality: str | None,
                  age_group: str | None = None) -> str:
    """A readable name for an observed measure."""
    text = _LABELS[measure].format(n=over_weeks or 0)
    text = f"{text}, {locality}" if _given(locality) else text
    return f"{text}, aged {age_group}" if _given(age_group) else text


def _age_range(age_group: str | None) -> tuple[float, float] | None:
    if not _given(age_group):
        return None
    low, _, high = str(age_group).partition("-")
    return (float(low.rstrip("+")), np.inf if not high else float(high) + 1.0)


def validation_chart(results: Results) -> Figure | None:
    """One panel per observed measure: the simulated value every four weeks (median and the
    2.5-97.5 percentile band of replications) and the observed points, marked by whether they
    were used to calibrate or held out; a count over a period is drawn at each point's date as
    the simulated median and 95% range of replications for that period. None when the scenario
    has no observed points."""
    table = results.validation
    if table.empty:
        return None
    scenario = results.scenario
    ages = table["age_group"] if "age_group" in table else pd.Series([None] * len(table))
    keys = list(dict.fromkeys(zip(table.measure, table.over_weeks, table.locality, ages,
                                  strict=True)))
    fig = Figure(figsize=(9, 2.8 * len(keys)))
    axes = np.atleast_1d(fig.subplots(len(keys), 1, squeeze=False)[:, 0])
    times = np.arange(1.0, scenario.horizon_days + 1.0, 28.0)
    dates = pd.to_datetime(scenario.start_date) + pd.to_timedelta(times - 1.0, unit="D")
    for ax, (measure, over, locality, age_group) in zip(axes, keys, strict=True):
        over = over if _given(over) else None
        locality = locality if isinstance(locality, str) else None
        age_group = age_group if isinstance(age_group, str) else None
        rows = table[(table.measure == measure) & (table.locality.fillna("") == (locality or ""))
                     & (ages.fillna("").to_numpy() == (age_group or ""))
                     & (table.over_weeks.fillna(-1) == (over if over is not None else -1))]
        if measure in FLOWS:
            when = pd.to_datetime(rows.date)
            ax.errorbar(when, rows.simulated_mean, yerr=[rows.simulated_mean - rows.simulated_low,
                                                         rows.simulated_high - rows.simulated_mean],
                        fmt="_", color=OKABE_ITO[0], markersize=10, capsize=0, linewidth=6,
                        alpha=0.35, label="simulated, mean and 95% of replications")
        else:
            span = _age_range(age_group)
            values = np.array([[cohorts.snapshot_measure(rec, measure, t, over, locality, span)
                                for t in times] for rec in results.records])
            low, mid, high = np.percentile(values, [2.5, 50, 97.5], axis=0)
            ax.fill_between(dates, low, high, color=OKABE_ITO[0], alpha=0.2, linewidth=0,
                            label="simulated, 95% of replications")
            ax.plot(dates, mid, color=OKABE_ITO[0], label="simulated, median")
        for use, marker, colour in (("calibration", "s", OKABE_ITO[3]), ("validation", "o", "black")):
            pts = rows[rows.use == use]
            if len(pts):
                ax.plot(pd.to_datetime(pts.date), pts.observed, linestyle="none", marker=marker,
                        color=colour, markersize=8 if measure not in FLOWS else 6,
                        label=f"published ({'used to calibrate' if use == 'calibration' else 'held out'})")
        ax.set(title=measure_label(measure, over, locality, age_group), xlabel="date", ylabel="children"
               if measure != "longest_wait_weeks" else "weeks")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def backtest_chart(table: pd.DataFrame, fitted: pd.DataFrame, cut: object) -> Figure:
    """One panel per observed measure: the points used to fit (with the fit's mean), and each
    later point with the forecast mean and its 80% and 95% prediction intervals.

    Parameters
    ----------
    table
        The forecasts: date, measure, over_weeks, locality, age_group, observed, forecast_mean,
        low_95, low_80, high_80, high_95.
    fitted
        The points used to fit: date, measure, over_weeks, locality, age_group, observed,
        fitted_mean.
    cut
        The last date of the data fitted (drawn as a line).
    """
    both = pd.concat([fitted.assign(part="fit"), table.assign(part="forecast")], ignore_index=True)
    for column in ("over_weeks", "locality", "age_group"):
        both[column] = both[column].astype(object).where(both[column].notna(), None)
    keys = list(dict.fromkeys(zip(both.measure, both.over_weeks, both.locality, both.age_group,
                                  strict=True)))
    fig = Figure(figsize=(9, 2.8 * len(keys)))
    axes = np.atleast_1d(fig.subplots(len(keys), 1, squeeze=False)[:, 0])
    for ax, key in zip(axes, keys, strict=True):
        mine = both[[k == key for k in zip(both.measure, both.over_weeks, both.locality,
                                           both.age_group, strict=True)]].sort_values("date")
        past, ahead = mine[mine.part == "fit"], mine[mine.part == "forecast"]
        if len(ahead):
            when = pd.to_datetime(ahead.date)
            ax.fill_between(when, ahead.low_95, ahead.high_95, color=OKABE_ITO[0], alpha=0.15,
                            linewidth=0, label="forecast, 95% prediction interval", step=None)
            ax.fill_between(when, ahead.low_80, ahead.high_80, color=OKABE_ITO[0], alpha=0.3,
                            linewidth=0, label="forecast, 80% prediction interval")
            ax.plot(when, ahead.forecast_mean, color=OKABE_ITO[0], label="forecast, mean")
            ax.plot(when, ahead.observed, "o", color="black", label="observed (held out)")
        if len(past):
            when = pd.to_datetime(past.date)
            ax.plot(when, past.fitted_mean, color=OKABE_ITO[3], label="fit, mean")
            ax.plot(when, past.observed, "s", color=OKABE_ITO[3], markersize=5,
                    label="observed (fitted)")
        ax.axvline(pd.to_datetime(cut), color="0.4", linestyle="--", linewidth=1)
        measure, over, locality, age_group = key
        ax.set(title=measure_label(measure, over, locality, age_group),
               ylabel="children" if measure != "longest_wait_weeks" else "weeks")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
