"""The fit report of ``asdsim calibrate``: each fit drawn against the data it came from.

One self-contained HTML file (charts embedded, no network requests) and the charts as PNG:
observed and fitted weekly referrals with the trend and the seasonal factors; the age, source,
locality and triage-outcome mixes; DNA shares and appointment lengths by step (with activity
data); today's list by stage and weeks waited. The tables behind them are written as CSV.
Everything here is an aggregate: no row of an input file is written.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asdsim.files import write_text_atomic
from asdsim.reporting.outputs import MARKER, atomic_folder
from asdsim.spreadsheet import write_csv

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
KIND_TITLES = {"age_band": "Age at referral (years)", "source": "Source of referral",
               "locality": "Locality", "triage_outcome": "Triage outcome"}
KIND_LABELS = {"age_band": "age band (years)", "source": "source", "locality": "locality",
               "triage_outcome": "triage outcome"}
"""Each mix's axis label."""


class FitTables(Protocol):
    """What the report reads from a calibration (:class:`asdsim.experiments.calibrate.Calibration`)."""

    inputs: dict[str, str]
    base_file: str
    parameters: pd.DataFrame
    mixes: pd.DataFrame
    activity: pd.DataFrame | None
    waiting_list: pd.DataFrame | None
    notes: list[str]
    referral_fit: Any
    scenario: Any


def referrals_figure(weekly: pd.DataFrame, parameters: pd.DataFrame) -> Figure:
    """Observed and fitted weekly referrals with the trend, and the fitted monthly factors."""
    fig = Figure(figsize=(12, 4))
    (left, right) = fig.subplots(1, 2, width_ratios=[2.2, 1])
    full = weekly[weekly.days == 7]
    left.plot(weekly.week_start, weekly.observed, ".", color="0.55", ms=4, label="observed")
    left.plot(full.week_start, full.fitted, color="C0", lw=1.5, label="fitted (trend x season)")
    left.plot(full.week_start, full.trend, color="C3", lw=1.2, ls="--", label="trend (no season)")
    for row in parameters[parameters.parameter.str.startswith("step_change[")].itertuples():
        day = pd.Timestamp(row.parameter[len("step_change["):-1])
        left.axvline(day, color="0.3", lw=0.8, ls=":")
        left.annotate(f"x{row.value:.2f}", (day, left.get_ylim()[1]), fontsize=8, va="top")
    left.set_ylabel("referrals a week")
    left.set_xlabel("week starting")
    left.set_title("Weekly referrals (part weeks shown as points only)")
    left.legend(fontsize=8, loc="upper left")
    months = parameters[parameters.parameter.str.startswith("demand.monthly_factors[")]
    if len(months):
        x = np.arange(12)
        err = np.vstack([months.estimate - months.ci_low, months.ci_high - months.estimate])
        right.errorbar(x, months.estimate, yerr=err, fmt="o", color="C0", capsize=3, label="fitted, 95% CI")
        right.plot(x, months.base_value, "x", color="0.4", label="base (assumed)")
        right.axhline(1.0, color="0.7", lw=0.8)
        right.set_xticks(x, MONTHS, fontsize=8)
        right.set_xlabel("month of the year")
        right.set_ylabel("factor (1 = a mean month)")
        right.legend(fontsize=8)
    else:
        right.text(0.5, 0.5, "less than a year of data:\nno seasonal factors fitted", ha="center",
                   va="center", transform=right.transAxes)
    right.set_title("Monthly factors (mean 1)")
    fig.tight_layout()
    return fig


def mixes_figure(mixes: pd.DataFrame) -> Figure:
    """Shares of each mix in the data (95% Wilson intervals) beside the base's assumed shares."""
    kinds = [k for k in KIND_TITLES if k in set(mixes.kind)]
    panels = max(len(kinds), 1)
    fig = Figure(figsize=(3.6 * panels, 3.6))
    axes = fig.subplots(1, panels, squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=False):
        part = mixes[mixes.kind == kind]
        x = np.arange(len(part))
        err = np.vstack([part.share - part.ci_low, part.ci_high - part.share])
        ax.bar(x, part.share, yerr=err, capsize=3, color="C0", alpha=0.8, label="data, 95% CI")
        ax.plot(x, part.base_share, "x", color="C3", ms=8, label="base (assumed)")
        ax.set_xticks(x, part.category, rotation=30, ha="right", fontsize=8)
        ax.set_title(KIND_TITLES[kind], fontsize=10)
        ax.set_xlabel(KIND_LABELS[kind])
        ax.set_ylabel("share of referrals")
        ax.set_ylim(0, min(1.0, max(0.05, float(np.nanmax(part.ci_high)) * 1.2)))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def activity_figure(activity: pd.DataFrame) -> Figure:
    """DNA share and mean appointment length of each step, with 95% intervals."""
    fig = Figure(figsize=(12, 3.8))
    (left, right) = fig.subplots(1, 2, sharey=True)
    labels = [f"{t}: {s}" for t, s in zip(activity.team, activity.step, strict=True)]
    y = np.arange(len(activity))
    left.errorbar(activity.dna_share, y, xerr=np.vstack([activity.dna_share - activity.dna_ci_low,
                                                         activity.dna_ci_high - activity.dna_share]),
                  fmt="o", capsize=3)
    left.set_yticks(y, labels, fontsize=8)
    left.set_xlabel("share of booked appointments not attended")
    left.set_ylabel("team: step")
    left.set_title("DNA rate by step")
    timed = activity.mean_hours.notna()
    right.errorbar(activity.mean_hours[timed], y[timed],
                   xerr=np.vstack([(activity.mean_hours - activity.hours_ci_low)[timed].fillna(0),
                                   (activity.hours_ci_high - activity.mean_hours)[timed].fillna(0)]),
                   fmt="o", capsize=3, color="C2")
    right.tick_params(axis="y", labelleft=False)  # the steps are named on the left
    right.set_xlabel("hours")
    right.set_title("Mean length of attended appointments")
    fig.tight_layout()
    return fig


def waiting_list_figure(table: pd.DataFrame) -> Figure:
    """Today's list: children by weeks waited since referral, stacked by stage."""
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    bands = list(dict.fromkeys(table.weeks_waited))
    bottom = np.zeros(len(bands))
    for i, (stage, part) in enumerate(table.groupby("stage", sort=False)):
        counts = part.set_index("weeks_waited").children.reindex(bands).fillna(0).to_numpy()
        ax.bar(bands, counts, bottom=bottom, color=f"C{i}", label=stage.replace("_", " "))
        bottom += counts
    ax.set_xlabel("weeks waited since referral, at start_date")
    ax.set_ylabel("children")
    ax.set_title(f"Today's list: {int(table.children.sum())} children")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4g}"


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(_number(v) if isinstance(v, float) else str(v))}</td>"
                        for v in row)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def write_calibration_report(fit: FitTables, folder: str | Path, force: bool = False) -> Path:
    """Write the fit report folder, all at once.

    Files: ``report.html`` (charts embedded), ``charts/*.png``, and the tables
    ``parameters.csv``, ``coefficients.csv``, ``weekly_referrals.csv``, ``mixes.csv``,
    ``activity.csv`` and ``waiting_list.csv`` (counts by stage and weeks waited) where there
    are data for them.

    Raises
    ------
    asdsim.reporting.outputs.OutputExists
        When ``folder`` is not empty and ``force`` is false.
    """
    folder = Path(folder)
    referral = fit.referral_fit
    charts: dict[str, Figure] = {"referrals": referrals_figure(referral.weekly, fit.parameters)}
    if len(fit.mixes):
        charts["mixes"] = mixes_figure(fit.mixes)
    if fit.activity is not None and len(fit.activity):
        charts["activity"] = activity_figure(fit.activity)
    if fit.waiting_list is not None:
        charts["waiting_list"] = waiting_list_figure(fit.waiting_list)
    titles = {"referrals": "Referrals: observed and fitted", "mixes": "Who is referred",
              "activity": "Appointments", "waiting_list": "Today's list (the starting state)"}
    with atomic_folder(folder, force) as tmp:
        # marks the folder as asdsim's, so a later --force may replace it (and nothing else)
        (tmp / MARKER).write_text(json.dumps({"kind": "calibration fit report",
                                              "asdsim_version": _version()}, indent=2) + "\n")
        (tmp / "charts").mkdir()
        images = {}
        for name, figure in charts.items():
            path = tmp / "charts" / f"{name}.png"
            figure.savefig(path, dpi=110)
            images[name] = base64.b64encode(path.read_bytes()).decode()
        write_csv(fit.parameters, tmp / "parameters.csv")
        write_csv(referral.coefficients, tmp / "coefficients.csv")
        write_csv(referral.weekly, tmp / "weekly_referrals.csv")
        write_csv(fit.mixes, tmp / "mixes.csv")
        if fit.activity is not None:
            write_csv(fit.activity, tmp / "activity.csv")
        if fit.waiting_list is not None:
            write_csv(fit.waiting_list, tmp / "waiting_list.csv")
        sections = []
        for name in charts:
            sections.append(f"<h2>{html.escape(titles[name])}</h2>"
                            f"<img alt='{html.escape(titles[name])}' src='data:image/png;base64,"
                            f"{images[name]}'>")
        how = "quasi-Poisson" if referral.overdispersed else "Poisson"
        inputs = ", ".join(f"{html.escape(n)} ({html.escape(k.replace('_', ' '))})"
                           for k, n in fit.inputs.items())
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>Calibration of {html.escape(fit.scenario.name)}</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;font-size:0.85em}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}img{{max-width:100%}}</style></head><body>
<h1>Calibration of {html.escape(fit.scenario.name)}</h1>
<p>Base scenario {html.escape(Path(fit.base_file).name)}; data: {inputs}.
{referral.referrals} referrals from {referral.first_day} to {referral.last_day}, fitted by a {how}
GLM of counts on a log-linear trend, month of year and dated step changes; the rate is
extrapolated to start_date {referral.start_date}.</p>
<ul>{''.join(f'<li>{html.escape(note)}</li>' for note in fit.notes)}</ul>
{''.join(sections)}
<h2>Every number set from the data</h2>
<p>value: as written in the scenario; estimate, ci_low, ci_high: the fit and its 95% interval;
base_value: the base scenario's (assumed) value.</p>
{_table(fit.parameters)}
<h2>Referral model coefficients (log scale)</h2>
{_table(referral.coefficients)}
</body></html>
"""
        write_text_atomic(tmp / "report.html", page, fsync=False)
    return folder


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("asdsim")
    except PackageNotFoundError:
        return "unknown"
