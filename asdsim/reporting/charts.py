"""Charts of results: each a function returning a matplotlib Figure, for notebooks and reports.

Every function takes one ``Results``, ``{name: Results}``, a list of them, or a ``Comparison``
(the forest plot needs paired differences: a ``Comparison``, or results and a baseline). Colours
are the Okabe-Ito palette, safe for colour-blind readers; markers and line styles differ too, so
charts still read in greyscale print. Figures are built without pyplot (PNGs are drawn by Agg),
so nothing global changes, nothing is shown, and no figure stays open after it is dropped.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy import stats

from asdsim.analysis.cohorts import MONTHS_3, cohort_start_day
from asdsim.analysis.definitions import HEADLINE as HEADLINE_KPI
from asdsim.analysis.definitions import definition, split
from asdsim.analysis.paired import Comparison, paired_table
from asdsim.analysis.results import Results
from asdsim.analysis.stats import km_curve, mean_ci
from asdsim.reporting import formatting as fmt
from asdsim.reporting.summary import COST_PER_YEAR, DEFAULT_LEVEL, cohort_words, derived_kpis, years
from asdsim.reporting.tables import ALL_TEAMS, wte_table

Runs = Results | Mapping[str, Results] | Iterable[Results] | Comparison
"""What a chart accepts: one run, runs by name, a list of runs, or a comparison."""

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1)), (0, (5, 5))]
WIDTHS = [2.8, 2.0, 1.4, 1.1, 1.0, 1.0, 1.0, 1.0]
"""Line widths, widest first: a design drawn over an identical one leaves the wider line showing
on both sides of it."""
FOREST = [
    (HEADLINE_KPI, 100.0, "percentage points"),
    ("assessment_started_wait_restricted_mean", 1.0, "weeks"),
    ("exit[no_pathway]", 1.0, "children"),
    ("open_referrals", 1.0, "children"),  # at the last reporting date
    (COST_PER_YEAR, 1e-3, "£ thousand a year"),
]
"""The forest plot's panels: KPI (``open_referrals`` means its last date), scale, unit shown."""
HEADLINE = FOREST  # the name earlier versions used


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


def _style(i: int, points: int = 0, series: int = 1) -> dict:
    """Colour, marker, dash and width of the i-th design. With ``points``, markers are spaced
    along the line and staggered between designs, so lines that coincide still show each
    design's markers."""
    style = {"color": OKABE_ITO[i % 8], "marker": MARKERS[i % 8], "linestyle": LINES[i % 8],
             "linewidth": WIDTHS[min(i, 7)] if series > 1 else 1.8, "zorder": 2 + i}
    if points:
        step = max(1, points // 10)
        style["markevery"] = (int(i * step / max(series, 1)) % step, step)
        style["markersize"] = 6
    return style


def _week_band(weekly: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per week: the mean across replications and its Student-t 95% interval (the interval
    every table uses), counts clipped at zero."""
    g = weekly.groupby("week")[column]
    n, mean, sd = g.count(), g.mean(), g.std(ddof=1)
    half = stats.t.ppf(0.975, (n - 1).clip(lower=1)) * sd / np.sqrt(n)
    half = half.where(n > 1)
    dates = weekly.groupby("week").week_start_date.first() + pd.Timedelta(days=6)
    return pd.DataFrame({"date": dates, "mean": mean, "low": (mean - half).clip(lower=0),
                         "high": mean + half})


OPEN_REFERRALS_TITLE = ("Open referrals (children) at each week's end: mean and 95% confidence "
                        "interval")
THIRTEEN_WEEKS_TITLE = "First appointment within 13 weeks (%), by quarter of referral, with 95% CIs"
STANDARD_TITLE = "Assessment started within 3 months (%), by quarter of referral, with 95% CIs"
UTILISATION_TITLE = ("Staff utilisation by staff group, all teams (%):\nhours booked of hours "
                     "available, with funded WTE")
"""Titles the app's interactive charts share (:mod:`asdsim.app.views`)."""


def open_referrals(results: Runs) -> Figure:
    """Open referrals at the end of each week: the mean across replications with its 95%
    confidence interval, per design, and the reporting dates' KPIs as points with the same
    interval (so the chart, the KPI table and the summary agree)."""
    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    runs = _runs(results)
    for i, (name, res) in enumerate(runs.items()):
        band = _week_band(res.weekly, "open_referrals")
        style = _style(i, len(band), len(runs))
        ax.fill_between(band.date, band.low, band.high, color=style["color"], alpha=0.18,
                        linewidth=0)
        ax.plot(band.date, band["mean"], label=name, **style)
        k = res.kpis[res.kpis.kpi.str.startswith("open_referrals[")]
        dates = pd.to_datetime([split(kpi)[1] for kpi in k.kpi])
        err = np.vstack([k["mean"] - k.ci_low, k.ci_high - k["mean"]])
        ax.errorbar(dates, k["mean"], yerr=np.nan_to_num(err), fmt="none", ecolor=style["color"],
                    elinewidth=1.2, capsize=4, zorder=10)
    ax.set(title=OPEN_REFERRALS_TITLE,
           ylabel=f"{fmt.kpi_label('open_referrals')} ({fmt.unit_name('children')})",
           xlabel="week ending (bars: the reporting dates in the KPI table)")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _quarterly(res: Results, base: str) -> pd.DataFrame:
    """Each quarter's share of the KPI table (quarters with no closed window left out)."""
    prefix = f"{base}["
    k = res.kpis[res.kpis.kpi.str.startswith(prefix) & res.kpis.kpi.str.contains("Q")].dropna(
        subset=["mean"])
    quarters = pd.PeriodIndex([split(name)[1] for name in k.kpi], freq="Q")
    return pd.DataFrame({"mean": k["mean"].to_numpy(), "low": k.ci_low.to_numpy(),
                         "high": k.ci_high.to_numpy()}, index=quarters).sort_index()


def _quarterly_share(res: Results) -> pd.Series:
    """The mean across replications of each quarter's 13-week share (quarters with no closed
    window are left out)."""
    return _quarterly(res, "first_appointment_within_13_weeks")["mean"]


def quarter_middle(q: pd.Period) -> pd.Timestamp:
    """Where a quarter of referral is drawn: its 46th day, the tick and its points' centre."""
    return q.to_timestamp() + pd.Timedelta(days=45)


def _by_quarter(runs: Mapping[str, Results], base: str, title: str, ylabel: str, target: float,
                target_label: str) -> Figure:
    """A within-window share by quarter of referral (%), per design, with 95% intervals and the
    target line; designs side by side within each quarter, centred on the quarter's tick."""
    fig = Figure(figsize=(9, 4.4))
    ax = fig.subplots()
    quarters: set[pd.Period] = set()
    for i, (name, res) in enumerate(runs.items()):
        share = _quarterly(res, base)
        quarters.update(share.index)
        dodge = pd.Timedelta(days=8 * (i - (len(runs) - 1) / 2))  # side by side in the quarter
        x = [quarter_middle(q) + dodge for q in share.index]
        err = 100 * np.vstack([share["mean"] - share.low, share.high - share["mean"]])
        style = _style(i, 0, len(runs))
        ax.errorbar(x, 100 * share["mean"].to_numpy(), yerr=np.nan_to_num(err), capsize=2,
                    elinewidth=0.8, label=name, markersize=5, **style)
    ticks = sorted(quarters)
    if len(ticks) > 8:  # a label a year keeps long runs legible
        ticks = [q for q in ticks if q.quarter == 1] or ticks[:1]
    ax.set_xticks(date2num([quarter_middle(q) for q in ticks]),
                  [f"{q.year} Q{q.quarter}" for q in ticks])
    ax.axhline(100 * target, color="black", linewidth=1.2, linestyle=":", label=target_label)
    ax.set(title=title, ylabel=ylabel, xlabel="quarter of referral", ylim=(0, 105))
    ax.legend(frameon=False, loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def first_appointment_13_weeks_by_quarter(results: Runs, target: float = 1.0) -> Figure:
    """Share of each quarter's referrals with a first appointment within 13 weeks (AWTS), with
    95% confidence intervals.

    Only quarters whose 13-week window had closed by the horizon are shown; a child who left
    unseen counts as not seen within 13 weeks. Designs are drawn side by side within each
    quarter, so equal shares stay visible.

    Parameters
    ----------
    results
        The runs to chart.
    target
        The share drawn as the standard: 1.0 (every child within 13 weeks) by default; a local
        target such as 0.9 may be drawn instead.
    """
    label = ("13-week standard: every child" if target >= 1.0
             else f"13-week target: {target:.0%} of children")
    return _by_quarter(_runs(results), "first_appointment_within_13_weeks",
                       THIRTEEN_WEEKS_TITLE,
                       "first appointment within 13 weeks (% of referrals)", target, label)


def standard_by_quarter(results: Runs, level: float = DEFAULT_LEVEL) -> Figure:
    """The 3-month standard as the summary judges it: the share of each quarter's referrals
    whose assessment started within 3 months (%), with 95% confidence intervals and the
    standard's level drawn.

    Only quarters whose 3-month window had closed by the horizon are shown; an interval that
    reaches below the line is a quarter in which the standard may not be met.

    Parameters
    ----------
    results
        The runs to chart.
    level
        The share a quarter must reach (90% by default).
    """
    return _by_quarter(_runs(results), HEADLINE_KPI,
                       STANDARD_TITLE,
                       "assessment started within 3 months (% of referrals)", level,
                       f"3-month standard: {fmt.percent(level)} of a quarter's referrals")


def follow_up_weeks(res: Results) -> float:
    """The longest follow-up of the wait cohort, in weeks: from the cohort's first day to the
    end of the run. Beyond it the wait distribution is unknown."""
    return (res.scenario.horizon_days - cohort_start_day(res.scenario)) / 7.0


def wait_ecdf(results: Runs) -> Figure:
    """Distribution of referral-to-assessment-start waits (Kaplan–Meier, censored at the horizon),
    with the end of follow-up marked: no wait longer than that can be seen."""
    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    runs = _runs(results)
    ends: dict[float, list[str]] = {}
    for i, (name, res) in enumerate(runs.items()):
        p = res.patients
        start = cohort_start_day(res.scenario)
        cohort = p[(p.list_join_day.notna() | p.outsourced) & (p.referral_day >= start)]
        seen = cohort.assessment_started_day.notna().to_numpy()
        ended = cohort.exit_day.fillna(res.scenario.horizon_days)
        duration = (np.where(seen, cohort.assessment_started_day, ended) - cohort.referral_day)
        t, survival = km_curve(duration.to_numpy() / 7.0, seen)
        share = 1.0 - survival
        ax.step(t, 100 * share, where="post", label=name, **_style(i, len(t), len(runs)))
        ends.setdefault(round(follow_up_weeks(res), 1), []).append(name)
    ax.axvline(MONTHS_3 / 7.0, color="black", linewidth=1, linestyle=":", label="3 months")
    for weeks, names in ends.items():
        who = "" if len(ends) == 1 else f" ({', '.join(names)})"
        ax.axvline(weeks, color="#555555", linewidth=1.2, linestyle="--",
                   label=f"follow-up ends: {weeks:g} weeks{who}")
    first = next(iter(runs.values()))
    ax.set(title="Share with assessment started, by weeks since referral (%):\nchildren "
                 f"{cohort_words(first.scenario)} who reached a list (Kaplan-Meier)",
           xlabel="weeks since referral", ylabel="assessment started (%)", ylim=(0, 102))
    ax.set_xlim(0, max(ends) * 1.03)
    ax.legend(frameon=False, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def group_utilisation(res: Results) -> pd.DataFrame:
    """Utilisation by staff group over all of a design's teams: hours booked over hours
    available, per replication, then the mean and its 95% CI.

    Returns
    -------
    pandas.DataFrame
        Index ``group``; columns ``mean, ci_low, ci_high``.
    """
    s = res.staff_weekly.groupby(["group", "replication"])[["hours_used", "hours_available"]].sum()
    ratio = (s.hours_used / s.hours_available.where(s.hours_available > 0))
    rows = {group: mean_ci(part.to_numpy())[:3] for group, part in ratio.groupby(level="group",
                                                                                 sort=False)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "ci_low", "ci_high"])


def staff_utilisation(results: Runs) -> Figure:
    """Staff utilisation by staff group (all teams together, so designs with different teams
    compare like with like), with 95% CIs and each group's funded WTE written by its bar."""
    runs = _runs(results)
    wte = wte_table(runs)
    wte = wte[wte.team == ALL_TEAMS].set_index(["scenario", "group"]).wte
    tables = {name: group_utilisation(res) for name, res in runs.items()}
    groups = list(dict.fromkeys(g for t in tables.values() for g in t.index))
    n = max(len(runs), 1)
    fig = Figure(figsize=(9, 0.32 * len(groups) * n + 0.5 * len(groups) + 1.3))
    ax = fig.subplots()
    height = 0.8 / n
    for i, (name, table) in enumerate(tables.items()):
        mine = table.reindex(groups)
        y = np.arange(len(groups)) + i * height
        err = np.vstack([mine["mean"] - mine.ci_low, mine.ci_high - mine["mean"]]) * 100
        ax.barh(y, 100 * mine["mean"], height=height * 0.92, color=OKABE_ITO[i % 8],
                hatch=["", "//", "..", "xx", "\\\\", "++"][i % 6], edgecolor="white",
                xerr=np.nan_to_num(err), capsize=2, label=name)
        for yy, group, high in zip(y, groups, mine.ci_high.fillna(mine["mean"]), strict=True):
            if (name, group) in wte.index and not np.isnan(high):
                ax.text(100 * high + 1.5, yy, f"{wte[(name, group)]:.2f} WTE", va="center",
                        fontsize=8, color="#333333")
    ax.set_yticks(np.arange(len(groups)) + (n - 1) * height / 2, groups)
    ax.set_ylim(len(groups) - 1 + (n - 1) * height + 0.5, -0.5)
    ax.set(title=UTILISATION_TITLE, xlabel="utilisation (% of hours available), mean and 95% CI",
           ylabel="staff group", xlim=(0, 118))
    ax.set_xticks(range(0, 101, 20))
    ax.axvline(100, color="black", linewidth=0.8)
    ax.legend(frameon=False, loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def _forest_rows(runs: Mapping[str, Results], base: str, table: pd.DataFrame
                 ) -> list[tuple[str, str, float, pd.DataFrame]]:
    """Each forest panel's KPI, title, scale and rows (scenario, diff_mean, low, high)."""
    others = [n for n in runs if n != base]
    panels = []
    for kpi, scale, unit in FOREST:
        source, per_year = kpi, 1.0
        if kpi == COST_PER_YEAR:
            source, per_year = "cost_funded_total", 1.0 / years(runs[base].scenario)
        if kpi == "open_referrals":
            dated = sorted(k for k in runs[base].kpis.kpi if k.startswith("open_referrals["))
            if not dated:
                continue
            source = kpi = dated[-1]
        mine = table[(table.kpi == source) & table.scenario.isin(others)].set_index("scenario")
        mine = mine.reindex(others)[["diff_mean", "diff_ci_low", "diff_ci_high"]] * per_year
        title = (fmt.kpi_label(kpi) if kpi != COST_PER_YEAR
                 else "Funded cost of posts and outsourcing a year")
        panels.append((kpi, "\n".join(textwrap.wrap(title, 26)) + f"\n({unit})", scale, mine))
    return panels


def _one_line(title: str) -> str:
    return " ".join(title.splitlines()[:-1])


def forest(comparison: Comparison | Mapping[str, Results] | Iterable[Results],
           baseline: str | None = None) -> Figure:
    """Paired difference of each headline KPI from the baseline, with its 95% CI (a forest plot).

    Panels: assessment started within 3 months (percentage points), the mean wait to assessment
    within follow-up, unmet need, open referrals at the last reporting date and the annual funded
    cost. A KPI with no difference for any design is left out, and a design without one is left
    out of that panel; a note under the plot names both.

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
    panels, notes = [], []
    for kpi, title, scale, rows in _forest_rows(runs, base, table):
        missing = [n for n in others if pd.isna(rows.loc[n, "diff_mean"])]
        if len(missing) == len(others):
            notes.append(f"{_one_line(title)}: not available for any design (a censored "
                         "KPI not reached in some replication)")
            continue
        if missing:
            notes.append(f"{_one_line(title)}: not available for {', '.join(missing)}")
        panels.append((kpi, title, scale, rows))
    fig = Figure(figsize=(max(6.0, 2.5 * len(panels) + 1.5), 1.9 + 0.5 * len(others)
                          + 0.25 * len(notes)))
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True)) if panels else []
    for ax, (kpi, title, scale, rows) in zip(axes, panels, strict=True):
        ax.kpi = kpi  # type: ignore[attr-defined]  # which KPI the panel shows, for tests
        for j, name in enumerate(others):
            r = rows.loc[name]
            if pd.isna(r.diff_mean):
                continue
            mid = r.diff_mean * scale
            err = [[(r.diff_mean - r.diff_ci_low) * scale], [(r.diff_ci_high - r.diff_mean) * scale]]
            ax.errorbar([mid], [j], xerr=np.nan_to_num(err), capsize=3, color=OKABE_ITO[(j + 1) % 8],
                        marker=MARKERS[(j + 1) % 8], linestyle="none",
                        label=f"_{name}")  # named on the y axis, not in a legend
        ax.axvline(0, color="black", linewidth=1)
        ax.set_xlabel(f"difference from {base}")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.set_title(title, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    if panels:
        axes[0].set_ylabel("design")
        axes[0].set_yticks(range(len(others)), others)
        axes[0].set_ylim(len(others) - 0.4, -0.6)  # first scenario at the top
    fig.suptitle(f"Paired difference from {base} with 95% CI (units under each panel's title)")
    bottom = 0.0
    if notes:
        text = "Left out: " + "; ".join(notes) + "."
        fig.text(0.01, 0.01, "\n".join(textwrap.wrap(text, 150)), fontsize=8, color="#444444",
                 va="bottom")
        bottom = min(0.4, (0.16 + 0.12 * len(notes)) / fig.get_figheight() * 2)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


def cost_vs_standard(results: Runs, level: float = DEFAULT_LEVEL) -> Figure:
    """Annual funded cost (posts and outsourcing) against the share whose assessment started
    within 3 months, per design, with 95% CIs and the standard's level drawn and labelled.

    Parameters
    ----------
    results
        The runs to chart.
    level
        The share drawn as the 3-month standard (90% by default).
    """
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    runs = _runs(results)
    for i, (name, res) in enumerate(runs.items()):
        k = pd.concat([res.kpis, derived_kpis(res.kpis, res.scenario)]).set_index("kpi")
        share, cost = k.loc[HEADLINE_KPI], k.loc[COST_PER_YEAR]
        xerr = np.nan_to_num([[share["mean"] - share.ci_low], [share.ci_high - share["mean"]]]) * 100
        yerr = np.nan_to_num([[cost["mean"] - cost.ci_low], [cost.ci_high - cost["mean"]]]) / 1e3
        ax.errorbar([100 * share["mean"]], [cost["mean"] / 1e3], xerr=xerr, yerr=yerr, capsize=3,
                    color=OKABE_ITO[i % 8], marker=MARKERS[i % 8], markersize=9 - i,
                    linestyle="none", label=f"{name}: {fmt.money(cost['mean'], short=True)} a year",
                    zorder=3 + i)
    ax.axvline(100 * level, color="black", linewidth=1.2, linestyle=":")
    ax.text(100 * level - 1, 0.98, f"3-month standard: {fmt.percent(level)}", rotation=90,
            ha="right", va="top", fontsize=8, transform=ax.get_xaxis_transform())
    first = next(iter(runs.values()))
    definition(HEADLINE_KPI)  # the KPI the x axis shows is in the registry
    ax.set(title="Annual funded cost (£ thousand a year) against\nassessment started within "
                 "3 months (%)",
           xlabel=f"assessment started within 3 months, children {cohort_words(first.scenario)} "
                  "(%)",
           ylabel="funded cost of posts and outsourcing (£ thousand a year)", xlim=(-2, 102))
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


CHARTS = ("standard_by_quarter", "open_referrals", "first_appointment_13_weeks_by_quarter",
          "wait_ecdf", "staff_utilisation", "forest", "cost_vs_standard")
"""Every chart's name, which is its function's name and its PNG's file stem."""


def save_charts(results: Runs, folder: Path, comparison: Comparison | None = None,
                dpi: int = 110, level: float = DEFAULT_LEVEL) -> dict[str, Path]:
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
        "standard_by_quarter": lambda: standard_by_quarter(runs, level),
        "open_referrals": lambda: open_referrals(runs),
        "first_appointment_13_weeks_by_quarter": lambda: first_appointment_13_weeks_by_quarter(runs),
        "wait_ecdf": lambda: wait_ecdf(runs),
        "staff_utilisation": lambda: staff_utilisation(runs),
        "cost_vs_standard": lambda: cost_vs_standard(runs, level),
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
