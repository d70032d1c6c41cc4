"""Charts of results: each a function returning a matplotlib Figure, for notebooks and reports.

Every function takes one ``Results``, ``{name: Results}``, a list of them, or a ``Comparison``
(the forest plot needs paired differences: a ``Comparison``, or results and a baseline). Colours
are the Okabe-Ito palette, safe for colour-blind readers; markers and line styles differ too, so
charts still read in greyscale print. Figures are built without pyplot (PNGs are drawn by Agg),
so nothing global changes, nothing is shown, and no figure stays open after it is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from asdsim.analysis.cohorts import MONTHS_3, cohort_start_day
from asdsim.analysis.definitions import split
from asdsim.analysis.paired import Comparison, paired_table
from asdsim.analysis.results import Results
from asdsim.analysis.stats import km_curve

Runs = Results | Mapping[str, Results] | Iterable[Results] | Comparison
"""What a chart accepts: one run, runs by name, a list of runs, or a comparison."""

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1)), (0, (5, 5))]
HEADLINE = [
    ("assessment_started_within_3_months", "started within 3 months\n(percentage points)", 100.0),
    ("first_appointment_wait_median", "median wait to first\nappointment (weeks)", 1.0),
    ("exit[no_pathway]", "no pathway: unmet need\n(children)", 1.0),
    ("cost_total", "total cost\n(GBP thousand)", 1e-3),
]


def _runs(results: Runs) -> dict[str, Results]:
    """``{scenario name: Results}`` from any accepted input, in the order given."""
    if isinstance(results, Results):
        return {results.scenario.name: results}
    if isinstance(results, Comparison):
        return dict(results.results)
    items = list(results.values()) if isinstance(results, Mapping) else list(results)
    if not items or not all(isinstance(r, Results) for r in items):
        raise TypeError("expected Results, a dict or list of Results, or a Comparison")
    if isinstance(results, Mapping):
        return dict(results)
    runs = {r.scenario.name: r for r in items}
    if len(runs) < len(items):
        raise ValueError("scenario names must be unique to chart them together; pass a dict "
                         "{label: Results} to name them yourself")
    return runs


def _style(i: int) -> dict:
    return {"color": OKABE_ITO[i % 8], "marker": MARKERS[i % 8], "linestyle": LINES[i % 8]}


def open_referrals(results: Runs) -> Figure:
    """Open referrals over time: median and 90% band across replications, per scenario."""
    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    for i, (name, res) in enumerate(_runs(results).items()):
        by_week = res.weekly.groupby("week_start_date").open_referrals
        low, mid, high = by_week.quantile(0.05), by_week.median(), by_week.quantile(0.95)
        style = _style(i)
        ax.fill_between(mid.index, low, high, color=style["color"], alpha=0.2, linewidth=0)
        ax.plot(mid.index, mid, color=style["color"], linestyle=style["linestyle"], label=name)
    ax.set(title="Open referrals (children) at each week's end: median and 90% of replications",
           ylabel="open referrals (children)", xlabel="week starting")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _quarterly_share(res: Results) -> pd.Series:
    """The mean across replications of each quarter's 13-week share, from the KPI table's
    per-quarter KPIs (quarters with no closed window are left out)."""
    prefix = "first_appointment_within_13_weeks["
    k = res.kpis[res.kpis.kpi.str.startswith(prefix) & res.kpis.kpi.str.contains("Q")].dropna(
        subset=["mean"])
    quarters = pd.PeriodIndex([split(name)[1] for name in k.kpi], freq="Q")
    return pd.Series(k["mean"].to_numpy(), index=quarters).sort_index()


def first_appointment_13_weeks_by_quarter(results: Runs, target: float = 1.0) -> Figure:
    """Share of each quarter's referrals with a first appointment within 13 weeks (AWTS).

    Only quarters whose 13-week window had closed by the horizon are shown; a child who left
    unseen counts as not seen within 13 weeks.

    Parameters
    ----------
    results
        The runs to chart.
    target
        The share drawn as the standard: 1.0 (every child within 13 weeks) by default; a local
        target such as 0.9 may be drawn instead.
    """
    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    quarters: set[pd.Period] = set()
    for i, (name, res) in enumerate(_runs(results).items()):
        share = _quarterly_share(res)
        quarters.update(share.index)
        ax.plot(pd.PeriodIndex(share.index).to_timestamp(), 100 * share.to_numpy(), label=name,
                **_style(i))
    ticks = sorted(quarters)
    if len(ticks) > 8:  # a label a year keeps long runs legible
        ticks = [q for q in ticks if q.quarter == 1]
    ax.set_xticks(date2num([q.to_timestamp() for q in ticks]),
                  [f"{q.year} Q{q.quarter}" for q in ticks])
    label = ("13-week standard: every child" if target >= 1.0
             else f"13-week target: {target:.0%} of children")
    ax.axhline(100 * target, color="black", linewidth=1.2, linestyle=":", label=label)
    ax.set(title="First appointment within 13 weeks of referral, by quarter of referral (%)",
           ylabel="children seen within 13 weeks (%)", xlabel="quarter of referral", ylim=(0, 105))
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def wait_ecdf(results: Runs) -> Figure:
    """Distribution of referral-to-assessment-start waits (Kaplan–Meier, censored at the horizon)."""
    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    for i, (name, res) in enumerate(_runs(results).items()):
        p = res.patients
        start = cohort_start_day(res.scenario)
        cohort = p[(p.list_join_day.notna() | p.outsourced) & (p.referral_day >= start)]
        seen = cohort.assessment_started_day.notna().to_numpy()
        ended = cohort.exit_day.fillna(res.scenario.horizon_days)
        duration = (np.where(seen, cohort.assessment_started_day, ended) - cohort.referral_day)
        t, survival = km_curve(duration.to_numpy() / 7.0, seen)
        share = 1.0 - survival
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


def staff_utilisation(results: Runs) -> Figure:
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


def forest(comparison: Comparison | Mapping[str, Results] | Iterable[Results],
           baseline: str | None = None) -> Figure:
    """Paired difference of each headline KPI from the baseline, with its 95% CI (a forest plot).

    Parameters
    ----------
    comparison
        A :class:`~asdsim.analysis.paired.Comparison`, or runs of one seed and replication count (their
        paired differences are computed here).
    baseline
        The baseline scenario's name when ``comparison`` is not a Comparison (default: the first).

    Raises
    ------
    ValueError
        With fewer than two scenarios: there is nothing to compare.
    """
    if isinstance(comparison, Comparison):
        runs, base, table = comparison.results, comparison.baseline, comparison.table
    else:
        runs = _runs(comparison)
        base = baseline or next(iter(runs))
        if base not in runs:
            raise ValueError(f"baseline {base!r} is not one of {list(runs)}")
        table = paired_table(runs, base)
    others = [n for n in runs if n != base]
    if not others:
        raise ValueError("a forest plot needs at least two scenarios")
    fig = Figure(figsize=(11, 1.6 + 0.6 * len(others)))
    axes = fig.subplots(1, len(HEADLINE), sharey=True)
    for ax, (kpi, label, scale) in zip(axes, HEADLINE, strict=True):
        for j, name in enumerate(others):
            row = table[(table.scenario == name) & (table.kpi == kpi)]
            r = row.iloc[0] if not row.empty else None
            if r is None or pd.isna(r.diff_mean):  # say so rather than leave a silent gap
                ax.text(0, j, "not available", ha="center", va="center", fontsize=8, color="#555555")
                continue
            mid = r.diff_mean * scale
            err = [[(r.diff_mean - r.diff_ci_low) * scale], [(r.diff_ci_high - r.diff_mean) * scale]]
            ax.errorbar([mid], [j], xerr=np.nan_to_num(err), capsize=3, color=OKABE_ITO[(j + 1) % 8],
                        marker=MARKERS[(j + 1) % 8], linestyle="none")
        ax.axvline(0, color="black", linewidth=1)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.set_title(label, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(others)), others)
    axes[0].set_ylim(len(others) - 0.4, -0.6)  # first scenario at the top
    fig.suptitle(f"Paired difference from {base} with 95% CI (units under each panel's title)")
    fig.tight_layout()
    return fig


def cost_vs_standard(results: Runs) -> Figure:
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


CHARTS = ("open_referrals", "first_appointment_13_weeks_by_quarter", "wait_ecdf",
          "staff_utilisation", "forest", "cost_vs_standard")
"""Every chart's name, which is its function's name and its PNG's file stem."""


def save_charts(results: Runs, folder: Path, comparison: Comparison | None = None,
                dpi: int = 110) -> dict[str, Path]:
    """Write every chart as PNG into ``folder``.

    The forest plot is drawn only for a comparison of two or more scenarios. Each figure is
    drawn, written and released before the next, so memory stays flat.

    Returns
    -------
    dict
        ``{chart name: path}``, in the order of :data:`CHARTS`.
    """
    runs = _runs(comparison if comparison is not None else results)
    draw: dict[str, Callable[[], Figure]] = {
        "open_referrals": lambda: open_referrals(runs),
        "first_appointment_13_weeks_by_quarter": lambda: first_appointment_13_weeks_by_quarter(runs),
        "wait_ecdf": lambda: wait_ecdf(runs),
        "staff_utilisation": lambda: staff_utilisation(runs),
        "cost_vs_standard": lambda: cost_vs_standard(runs),
    }
    if comparison is not None and len(comparison.results) > 1:
        draw["forest"] = lambda: forest(comparison)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in (n for n in CHARTS if n in draw):
        fig = draw[name]()
        paths[name] = folder / f"{name}.png"
        fig.savefig(paths[name], dpi=dpi)
        fig.clear()  # a pyplot-free Figure has no window to close; free its artists now
    return paths
