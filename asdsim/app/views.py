"""What the page shows and offers from finished runs: tables, interactive charts, downloads.

The charts are Vega-Lite (altair) versions of the report's static charts, in the same
Okabe-Ito colours, titles and axis labels (:mod:`asdsim.reporting.charts`).
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from asdsim.analysis.definitions import HEADLINE, split
from asdsim.analysis.paired import PAIRED, Comparison, paired_table
from asdsim.analysis.results import Results
from asdsim.reporting import charts
from asdsim.reporting import formatting as fmt
from asdsim.reporting.charts import OKABE_ITO, group_utilisation, save_charts
from asdsim.reporting.report import DIFFERENCE_KPIS, kpi_rows, render_report
from asdsim.reporting.summary import Summary, derived_kpis, summarise
from asdsim.reporting.summary import label as kpi_label
from asdsim.reporting.tables import ALL_TEAMS, comparison_table, wte_table
from asdsim.spreadsheet import csv_bytes


def summary_of(results: dict[str, Results], baseline: str | None) -> tuple[Summary, pd.DataFrame | None]:
    """The plain-English summary, and the paired comparison table when there are two designs."""
    if baseline is not None and len(results) > 1:
        table = paired_table(results, baseline)
        return summarise(Comparison(results, baseline, table)), table
    return summarise(results), None


def comparison_rows(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """The headline paired differences from the baseline, as the report words them (the column
    says ``unpaired`` where the designs' headline cohorts differ)."""
    rows = []
    chosen = table[(table.scenario != baseline) & table.kpi.isin(DIFFERENCE_KPIS)]
    base = table[table.scenario == baseline].set_index("kpi")
    for r in chosen.to_dict("records"):
        b = base.loc[r["kpi"]] if r["kpi"] in base.index else None
        rows.append({
            "KPI": kpi_label(r["kpi"]),
            "unit": fmt.unit_name(r["unit"]),
            baseline: "–" if b is None else fmt.estimate(b["mean"], b.ci_low, b.ci_high, r["unit"]),
            r["scenario"]: fmt.estimate(r["mean"], r["ci_low"], r["ci_high"], r["unit"]),
            ("difference (95% CI)" if r.get("difference", PAIRED) == PAIRED
             else "unpaired difference (95% CI): cohorts differ"): fmt.difference_estimate(
                r["diff_mean"], r["diff_ci_low"], r["diff_ci_high"], r["unit"]),
        })
    return pd.DataFrame(rows)


def kpi_frame(results: dict[str, Results], summary: Summary) -> pd.DataFrame:
    """The report's KPI table: label, unit, and a cell (mean and 95% CI) per design."""
    rows = kpi_rows(results, summary)
    names = list(results)
    return pd.DataFrame([{"KPI": r["label"], "unit": r["unit"],
                          **dict(zip(names, r["cells"], strict=True))} for r in rows])


def kpis_csv(results: dict[str, Results]) -> bytes:
    """Every KPI of every design (with the per-year costs the summary states) as CSV."""
    frames = []
    for name, res in results.items():
        derived = fmt.rounded(derived_kpis(res.kpis, res.scenario),
                              dict.fromkeys(["mean", "ci_low", "ci_high"], "GBP"))  # £ / years
        k = pd.concat([res.kpis, derived], ignore_index=True)
        frames.append(k.assign(scenario=name))
    table = pd.concat(frames, ignore_index=True)
    cols = ["scenario"] + [c for c in table.columns if c != "scenario"]
    return csv_bytes(table[cols])


def comparison_csv(table: pd.DataFrame) -> bytes:
    """The paired comparison table as CSV (the CLI's ``comparison.csv``, rounded as it is)."""
    return csv_bytes(comparison_table(table))


def report_html(results: dict[str, Results], table: pd.DataFrame | None,
                baseline: str | None) -> str:
    """The CLI's ``report.html`` for these runs, charts embedded."""
    comparison = (Comparison(results, baseline, table)
                  if table is not None and baseline is not None else None)
    with tempfile.TemporaryDirectory(prefix="asdsim-report-") as folder:
        paths = save_charts(results, Path(folder), comparison)
        charts = {name: Path(path).read_bytes() for name, path in paths.items()}
    return render_report(results, charts, comparison_table=table,
                         baseline=baseline if comparison is not None else None,
                         extra_provenance={"run_by": "asdsim app"})


def _colours(names: list[str]) -> alt.Scale:
    return alt.Scale(domain=names, range=[OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(names))])


def _design_colour(names: list[str]) -> alt.Color:
    """Colour by design, with its legend (one entry per design)."""
    return alt.Color("design:N", scale=_colours(names), legend=alt.Legend(title="design"))


def chart_title(text: str) -> alt.TitleParams:
    """A chart title that fits a narrow column: the static chart's title, its first clause as
    the title and the rest as a subtitle, each line at most 64 characters."""
    words = " ".join(text.split())
    head, sep, rest = words.partition(": ")
    if not sep:
        head, sep, rest = words.partition(", ")
    lines = textwrap.wrap(rest, 64) if sep else []
    heads = textwrap.wrap(head, 64)
    return alt.TitleParams(text=heads[0] if len(heads) == 1 else heads,
                           subtitle=lines or alt.Undefined, anchor="start")


OPEN_REFERRALS_TITLE = charts.OPEN_REFERRALS_TITLE
THIRTEEN_WEEKS_TITLE = charts.THIRTEEN_WEEKS_TITLE
STANDARD_TITLE = charts.STANDARD_TITLE
UTILISATION_TITLE = charts.UTILISATION_TITLE
"""The static charts' titles (:mod:`asdsim.reporting.charts`), which the app's charts show."""


def _week_band(weekly: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per week: the mean across replications and its Student-t 95% interval, clipped at zero
    (as the static chart and every table compute it)."""
    g = weekly.groupby("week")[column]
    n, mean, sd = g.count(), g.mean(), g.std(ddof=1)
    half = (stats.t.ppf(0.975, (n - 1).clip(lower=1)) * sd / np.sqrt(n)).where(n > 1)
    dates = weekly.groupby("week").week_start_date.first() + pd.Timedelta(days=6)
    return pd.DataFrame({"week": dates.to_numpy(), "mean": mean.to_numpy(),
                         "low": (mean - half).clip(lower=0).to_numpy(),
                         "high": (mean + half).to_numpy()})


def open_referrals_chart(results: dict[str, Results]) -> alt.LayerChart:
    """Open referrals at each week's end: mean and 95% CI per design, with the reporting dates'
    KPIs as points and bars (so the chart, the KPI table and the summary agree)."""
    bands, points = [], []
    for name, res in results.items():
        bands.append(_week_band(res.weekly, "open_referrals").assign(design=name))
        k = res.kpis[res.kpis.kpi.str.startswith("open_referrals[")]
        points.append(pd.DataFrame({"week": pd.to_datetime([split(n)[1] for n in k.kpi]),
                                    "mean": k["mean"].to_numpy(), "low": k.ci_low.to_numpy(),
                                    "high": k.ci_high.to_numpy(), "design": name}))
    data = pd.concat(bands, ignore_index=True)
    dated = pd.concat(points, ignore_index=True)
    colour = _design_colour(list(results))
    x = alt.X("week:T", title="week ending (bars: the reporting dates in the KPI table)")
    y_title = f"{fmt.kpi_label('open_referrals')} ({fmt.unit_name('children')})"
    tips = [alt.Tooltip("design:N"), alt.Tooltip("week:T", title="week ending"),
            alt.Tooltip("mean:Q", format=",.0f", title="mean"),
            alt.Tooltip("low:Q", format=",.0f", title="95% CI from"),
            alt.Tooltip("high:Q", format=",.0f", title="95% CI to")]
    line = alt.Chart(data).mark_line().encode(
        x=x, y=alt.Y("mean:Q", title=y_title), color=colour,
        strokeDash=alt.StrokeDash("design:N", legend=None), tooltip=tips)
    band = alt.Chart(data).mark_area(opacity=0.18).encode(
        x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q", color=colour)
    bars = alt.Chart(dated).mark_errorbar(ticks=True).encode(
        x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q", color=colour)
    dots = alt.Chart(dated).mark_point(filled=True, size=50).encode(
        x=x, y=alt.Y("mean:Q", title=y_title), color=colour, tooltip=tips)
    return (line + band + bars + dots).properties(title=chart_title(OPEN_REFERRALS_TITLE),
                                                  height=320).interactive(bind_y=False)


def _quarters(res: Results, base: str) -> pd.DataFrame:
    k = res.kpis[res.kpis.kpi.str.startswith(base + "[") & res.kpis.kpi.str.contains("Q")]
    k = k.dropna(subset=["mean"])
    quarters = pd.PeriodIndex([split(name)[1] for name in k.kpi], freq="Q")
    return pd.DataFrame({"start": quarters.to_timestamp(),
                         "quarter": [f"{q.year} Q{q.quarter}" for q in quarters],
                         "share": 100 * k["mean"].to_numpy(), "low": 100 * k.ci_low.to_numpy(),
                         "high": 100 * k.ci_high.to_numpy()}).sort_values("start")


def quarterly_chart(results: dict[str, Results], kpi: str, title: str, target: float,
                    target_label: str) -> alt.LayerChart:
    """A within-window share by quarter of referral (%), with 95% intervals and the target.

    The quarter axis is ordinal: one tick per quarter, under its points (designs side by side
    within it), in time order."""
    data = pd.concat([_quarters(res, kpi).assign(design=name) for name, res in results.items()],
                     ignore_index=True)
    order = list(dict.fromkeys(data.sort_values("start").quarter))
    colour = _design_colour(list(results))
    x = alt.X("quarter:O", title="quarter of referral", sort=order,
              axis=alt.Axis(labelAngle=0 if len(order) <= 8 else -45))
    y_title = "% of the quarter's referrals"  # the chart's title names the share
    tips = [alt.Tooltip("design:N"), alt.Tooltip("quarter:O", title="quarter"),
            alt.Tooltip("share:Q", format=".1f", title="%"),
            alt.Tooltip("low:Q", format=".1f", title="95% CI from"),
            alt.Tooltip("high:Q", format=".1f", title="95% CI to")]
    points = alt.Chart(data).mark_point(filled=True, size=50).encode(
        x=x, xOffset="design:N",
        y=alt.Y("share:Q", title=y_title, scale=alt.Scale(domain=[0, 105], nice=False)),
        color=colour, shape=alt.Shape("design:N", scale=alt.Scale(domain=list(results)),
                                      legend=alt.Legend(title="design")),  # one legend
        tooltip=tips)
    bars = alt.Chart(data).mark_errorbar(ticks=True).encode(
        x=x, xOffset="design:N", y=alt.Y("low:Q", title=y_title), y2="high:Q", color=colour)
    rule = alt.Chart(pd.DataFrame({"y": [100 * target], "what": [target_label]})).mark_rule(
        color="black", strokeDash=[2, 2]).encode(
        y=alt.Y("y:Q", title=y_title), tooltip=[alt.Tooltip("what:N", title="target")])
    label = alt.Chart(pd.DataFrame({"y": [100 * target], "what": [target_label]})).mark_text(
        align="left", baseline="bottom", dx=2, dy=-2, fontSize=11).encode(
        y=alt.Y("y:Q", title=y_title), text="what:N", x=alt.value(0))
    return (points + bars + rule + label).properties(title=chart_title(title), height=320)


def standard_chart(results: dict[str, Results], level: float) -> alt.LayerChart:
    """The 3-month standard (NICE QS51) by quarter of referral, as the summary judges it."""
    return quarterly_chart(results, HEADLINE, STANDARD_TITLE, level,
                           f"3-month standard: {fmt.percent(level)} of a quarter's referrals")


def thirteen_weeks_chart(results: dict[str, Results]) -> alt.LayerChart:
    """First appointment within 13 weeks by quarter of referral (AWTS), as the report draws it."""
    return quarterly_chart(results, "first_appointment_within_13_weeks", THIRTEEN_WEEKS_TITLE,
                           1.0, "13-week standard: every child")


def utilisation_chart(results: dict[str, Results]) -> alt.LayerChart:
    """Staff utilisation by staff group over all teams, per design, with 95% intervals and each
    group's funded WTE (as the report's chart)."""
    wte = wte_table(results)
    wte = wte[wte.team == ALL_TEAMS].set_index(["scenario", "group"]).wte
    frames = []
    for name, res in results.items():
        table = group_utilisation(res)
        frames.append(pd.DataFrame({
            "group": table.index, "design": name, "used": 100 * table["mean"].to_numpy(),
            "low": 100 * table.ci_low.to_numpy(), "high": 100 * table.ci_high.to_numpy(),
            "wte": [wte.get((name, g), np.nan) for g in table.index]}))
    data = pd.concat(frames, ignore_index=True)
    data["wte_text"] = [f"{w:.2f} WTE" for w in data.wte]  # as the static chart writes it
    colour = _design_colour(list(results))
    y = alt.Y("group:N", title="staff group")
    x_title = "utilisation (% of hours available), mean and 95% CI"
    x = alt.X("used:Q", title=x_title, scale=alt.Scale(domain=[0, 118], nice=False))
    tips = [alt.Tooltip("design:N"), alt.Tooltip("group:N", title="staff group"),
            alt.Tooltip("used:Q", format=".1f", title="% used"),
            alt.Tooltip("low:Q", format=".1f", title="95% CI from"),
            alt.Tooltip("high:Q", format=".1f", title="95% CI to"),
            alt.Tooltip("wte:Q", format=".2f", title="funded WTE")]
    bars = alt.Chart(data).mark_bar().encode(x=x, y=y, yOffset="design:N", color=colour,
                                             tooltip=tips)
    errors = alt.Chart(data).mark_errorbar().encode(x=alt.X("low:Q", title=x_title), x2="high:Q",
                                                    y=y, yOffset="design:N")
    labels = alt.Chart(data).mark_text(align="left", dx=4, fontSize=10, color="#333333").encode(
        x=alt.X("high:Q", title=x_title), y=y, yOffset="design:N",
        text=alt.Text("wte_text:N")
    ).transform_filter("isValid(datum.wte) && isFinite(datum.wte)")
    return (bars + errors + labels).properties(title=chart_title(UTILISATION_TITLE))


def figures(summary: Summary) -> list[dict[str, Any]]:
    """Every figure the summary states, as data (for tests and the page's details)."""
    return [{"scenario": f.scenario, "kpi": f.kpi, "mean": f.mean, "ci_low": f.ci_low,
             "ci_high": f.ci_high, "unit": f.unit, "text": f.text}
            for d in summary.designs for f in d.figures]
