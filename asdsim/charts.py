"""Charts of results: each a function returning a matplotlib Figure, for notebooks and reports.

Every function takes ``{name: Results}`` (a single ``Results`` is accepted too) or a
``Comparison``. Colours are the Okabe-Ito palette, safe for colour-blind readers; markers and
line styles differ too, so charts still read in greyscale print. Figures are built without
pyplot, so nothing global changes and nothing is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asdsim.kpis import MONTHS_3, WEEKS_13
from asdsim.results import Results

if TYPE_CHECKING:
    from asdsim.compare import Comparison

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1)), (0, (5, 5))]
HEADLINE = [
    ("assessment_started_within_3_months", "started within 3 months\n(percentage points)", 100.0),
    ("first_appointment_wait_median", "median wait to first\nappointment (weeks)", 1.0),
    ("exit[no_pathway]", "no pathway: unmet need\n(children)", 1.0),
    ("cost_total", "total cost\n(GBP thousand)", 1e-3),
]


def _runs(results: Results | dict[str, Results]) -> dict[str, Results]:
    return {results.scenario.name: results} if isinstance(results, Results) else dict(results)


def _style(i: int) -> dict:
    return {"color": OKABE_ITO[i % 8], "marker": MARKERS[i % 8], "linestyle": LINES[i % 8]}


def open_referrals(results: Results | dict[str, Results]) -> Figure:
    """Open referrals over time: median and 90% band across replications, per scenario."""
    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    for i, (name, res) in enumerate(_runs(results).items()):
        by_week = res.weekly.groupby("week_start_date").open_referrals
        low, mid, high = by_week.quantile(0.05), by_week.median(), by_week.quantile(0.95)
        style = _style(i)
        ax.fill_between(mid.index, low, high, color=style["color"], alpha=0.2, linewidth=0)
        ax.plot(mid.index, mid, color=style["color"], linestyle=style["linestyle"], label=name)
    ax.set(title="Open referrals (children): median and 90% of replications",
           ylabel="open referrals (children)", xlabel="week")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _quarterly_share(res: Results) -> pd.Series:
    p = res.patients
    horizon = res.scenario.horizon_days
    cohort = p[(p.list_join_day.notna() | p.outsourced) & (p.referral_day >= 0)
               & (p.referral_day + WEEKS_13 <= horizon)]
    met = (cohort.first_appointment_day - cohort.referral_day) <= WEEKS_13
    quarter = pd.PeriodIndex(cohort.referral_date, freq="Q")
    per_rep = met.groupby([quarter, cohort.replication]).mean()
    return per_rep.groupby(level=0).mean()


def first_appointment_13_weeks_by_quarter(results: Results | dict[str, Results],
                                          reference: float = 0.9) -> Figure:
    """Share of each quarter's referrals with a first appointment within 13 weeks (AWTS).

    Only quarters whose 13-week window closed before the horizon are shown.
    """
    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    for i, (name, res) in enumerate(_runs(results).items()):
        share = _quarterly_share(res)
        ax.plot(pd.PeriodIndex(share.index).to_timestamp(), 100 * share.to_numpy(), label=name,
                **_style(i))
    ax.axhline(100 * reference, color="black", linewidth=1, linestyle=":",
               label=f"reference {reference:.0%}")
    ax.set(title="First appointment within 13 weeks of referral, by quarter of referral (%)",
           ylabel="children seen within 13 weeks (%)", xlabel="quarter of referral", ylim=(0, 102))
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _km_curve(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((~observed, durations))
    t, e = durations[order], observed[order]
    at_risk = len(t) - np.arange(len(t))
    survival = np.cumprod(np.where(e, 1.0 - 1.0 / at_risk, 1.0))
    return t[e], 1.0 - survival[e]


def wait_ecdf(results: Results | dict[str, Results]) -> Figure:
    """Distribution of referral-to-assessment-start waits (Kaplan–Meier, censored at the horizon)."""
    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    for i, (name, res) in enumerate(_runs(results).items()):
        p = res.patients
        start = 0.0
        if res.scenario.reporting.cohort_from_date is not None:
            start = float((res.scenario.reporting.cohort_from_date - res.scenario.start_date).days)
        cohort = p[(p.list_join_day.notna() | p.outsourced) & (p.referral_day >= start)]
        seen = cohort.assessment_started_day.notna().to_numpy()
        ended = cohort.exit_day.fillna(res.scenario.horizon_days)
        duration = (np.where(seen, cohort.assessment_started_day, ended) - cohort.referral_day)
        t, share = _km_curve(duration.to_numpy() / 7.0, seen)
        style = _style(i)
        ax.step(t, 100 * share, where="post", color=style["color"], linestyle=style["linestyle"],
                label=name)
    ax.axvline(MONTHS_3 / 7.0, color="black", linewidth=1, linestyle=":", label="3 months")
    ax.set(title="Share with assessment started, by weeks since referral (%)",
           xlabel="weeks since referral", ylabel="assessment started (%)", ylim=(0, 102))
    ax.set_xlim(left=0)
    ax.legend(frameon=False, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def staff_utilisation(results: Results | dict[str, Results]) -> Figure:
    """Staff utilisation by team and group, per scenario, with 95% CIs."""
    runs = _runs(results)
    frames = []
    for name, res in runs.items():
        k = res.kpis[res.kpis.kpi.str.startswith("utilisation[")]
        frames.append(k.assign(scenario=name, group=k.kpi.str.slice(12, -1)))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    groups = list(dict.fromkeys(table.group)) if len(table) else []
    fig = Figure(figsize=(9, max(3.0, 0.45 * len(groups) * max(len(runs), 1) + 1.2)))
    ax = fig.subplots()
    height = 0.8 / max(len(runs), 1)
    for i, name in enumerate(runs):
        mine = table[table.scenario == name].set_index("group").reindex(groups)
        y = np.arange(len(groups)) + i * height
        err = np.vstack([mine["mean"] - mine.ci_low, mine.ci_high - mine["mean"]]) * 100
        ax.barh(y, 100 * mine["mean"], height=height, color=OKABE_ITO[i % 8],
                hatch=["", "//", "..", "xx", "\\\\", "++"][i % 6], edgecolor="white",
                xerr=np.nan_to_num(err), capsize=2, label=name)
    ax.set_yticks(np.arange(len(groups)) + 0.4 - height / 2, groups)
    ax.invert_yaxis()
    ax.set(title="Staff utilisation: hours used of hours available (%)", xlabel="utilisation (%)",
           xlim=(0, 105))
    ax.legend(frameon=False, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def forest(comparison: Comparison) -> Figure:
    """Paired difference of each headline KPI from the baseline, with its 95% CI."""
    table = comparison.table
    others = [n for n in comparison.results if n != comparison.baseline]
    fig = Figure(figsize=(10, 1.2 + 0.5 * max(len(others), 1) * 2))
    axes = fig.subplots(1, len(HEADLINE), sharey=True)
    for ax, (kpi, label, scale) in zip(axes, HEADLINE, strict=True):
        for j, name in enumerate(others):
            row = table[(table.scenario == name) & (table.kpi == kpi)]
            if row.empty:
                continue
            r = row.iloc[0]
            mid = r.diff_mean * scale
            err = [[(r.diff_mean - r.diff_ci_low) * scale], [(r.diff_ci_high - r.diff_mean) * scale]]
            ax.errorbar([mid], [j], xerr=np.nan_to_num(err), capsize=3, color=OKABE_ITO[(j + 1) % 8],
                        marker=MARKERS[(j + 1) % 8], linestyle="none")
        ax.axvline(0, color="black", linewidth=1)
        ax.set_title(label, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(others)), others)
    axes[0].set_ylim(-0.7, len(others) - 0.3)
    fig.suptitle(f"Difference from {comparison.baseline} (paired, 95% CI; units in each title)")
    fig.tight_layout()
    return fig


def cost_vs_standard(results: Results | dict[str, Results]) -> Figure:
    """Total cost against the share started within 3 months, per scenario, with 95% CIs."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    for i, (name, res) in enumerate(_runs(results).items()):
        k = res.kpis.set_index("kpi")
        share, cost = k.loc["assessment_started_within_3_months"], k.loc["cost_total"]
        xerr = np.nan_to_num([[share["mean"] - share.ci_low], [share.ci_high - share["mean"]]]) * 100
        yerr = np.nan_to_num([[cost["mean"] - cost.ci_low], [cost.ci_high - cost["mean"]]]) / 1e3
        ax.errorbar([100 * share["mean"]], [cost["mean"] / 1e3], xerr=xerr, yerr=yerr, capsize=3,
                    color=OKABE_ITO[i % 8], marker=MARKERS[i % 8], markersize=8, linestyle="none",
                    label=name)
    ax.set(title="Cost (GBP thousand) against assessment started within 3 months (%)",
           xlabel="assessment started within 3 months (%)", ylabel="total cost (GBP thousand)",
           xlim=(-2, 102))
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def save_charts(results: dict[str, Results], folder: Path,
                comparison: Comparison | None = None) -> dict[str, Path]:
    """Write every chart as PNG into ``folder``; returns ``{chart name: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    charts = {
        "open_referrals": open_referrals(results),
        "first_appointment_13_weeks_by_quarter": first_appointment_13_weeks_by_quarter(results),
        "wait_ecdf": wait_ecdf(results),
        "staff_utilisation": staff_utilisation(results),
        "cost_vs_standard": cost_vs_standard(results),
    }
    if comparison is not None and len(comparison.results) > 1:
        charts["forest"] = forest(comparison)
    paths = {}
    for name, fig in charts.items():
        paths[name] = folder / f"{name}.png"
        fig.savefig(paths[name], dpi=110)
    return paths
