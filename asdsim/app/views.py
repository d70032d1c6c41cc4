"""What the page shows and offers from finished runs: tables, interactive charts, downloads.

The charts are Vega-Lite (altair) versions of the report's static charts, in the same
Okabe-Ito colours, titles and axis labels (:mod:`asdsim.reporting.charts`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from asdsim.analysis.definitions import HEADLINE
from asdsim.analysis.paired import Comparison, paired_table
from asdsim.analysis.results import Results
from asdsim.reporting import formatting as fmt
from asdsim.reporting.charts import OKABE_ITO, save_charts
from asdsim.reporting.report import DIFFERENCE_KPIS, kpi_rows, render_report
from asdsim.reporting.summary import Summary, derived_kpis, summarise
from asdsim.reporting.summary import label as kpi_label


def summary_of(results: dict[str, Results], baseline: str | None) -> tuple[Summary, pd.DataFrame | None]:
    """The plain-English summary, and the paired comparison table when there are two designs."""
    if baseline is not None and len(results) > 1:
        table = paired_table(results, baseline)
        return summarise(Comparison(results, baseline, table)), table
    return summarise(results), None


def comparison_rows(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """The headline paired differences from the baseline, as the report words them."""
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
            "difference (95% CI)": fmt.difference_estimate(r["diff_mean"], r["diff_ci_low"],
                                                           r["diff_ci_high"], r["unit"]),
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
        k = pd.concat([res.kpis, derived_kpis(res.kpis, res.scenario)], ignore_index=True)
        frames.append(k.assign(scenario=name))
    table = pd.concat(frames, ignore_index=True)
    cols = ["scenario"] + [c for c in table.columns if c != "scenario"]
    return table[cols].to_csv(index=False).encode()


def comparison_csv(table: pd.DataFrame) -> bytes:
    """The paired comparison table as CSV (the CLI's ``comparison.csv`` columns)."""
    return table.to_csv(index=False).encode()


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


def open_referrals_chart(results: dict[str, Results]) -> alt.LayerChart:
    """Open referrals over time: median and 90% band across replications, per design."""
    frames = []
    for name, res in results.items():
        g = res.weekly.groupby("week_start_date").open_referrals
        frames.append(pd.DataFrame({"week": g.median().index, "median": g.median().to_numpy(),
                                    "low": g.quantile(0.05).to_numpy(),
                                    "high": g.quantile(0.95).to_numpy(), "design": name}))
    data = pd.concat(frames, ignore_index=True)
    colour = alt.Color("design:N", scale=_colours(list(results)), title="design")
    x = alt.X("week:T", title="week starting")
    band = alt.Chart(data).mark_area(opacity=0.2).encode(x=x, y="low:Q", y2="high:Q", color=colour)
    line = alt.Chart(data).mark_line().encode(
        x=x, y=alt.Y("median:Q", title="open referrals (children)"), color=colour,
        strokeDash=alt.StrokeDash("design:N", legend=None),
        tooltip=[alt.Tooltip("design:N"), alt.Tooltip("week:T", title="week starting"),
                 alt.Tooltip("median:Q", format=",.0f", title="median"),
                 alt.Tooltip("low:Q", format=",.0f", title="5th percentile"),
                 alt.Tooltip("high:Q", format=",.0f", title="95th percentile")])
    return (band + line).properties(
        title="Open referrals (children) at each week's end: median and 90% of replications",
        height=320).interactive(bind_y=False)


def _quarters(res: Results, base: str) -> pd.DataFrame:
    k = res.kpis[res.kpis.kpi.str.startswith(base + "[") & res.kpis.kpi.str.contains("Q")]
    k = k.dropna(subset=["mean"])
    quarters = pd.PeriodIndex([name[len(base) + 1:-1] for name in k.kpi], freq="Q")
    return pd.DataFrame({"quarter": quarters.to_timestamp(),
                         "label": [f"{q.year} Q{q.quarter}" for q in quarters],
                         "share": 100 * k["mean"].to_numpy(), "low": 100 * k.ci_low.to_numpy(),
                         "high": 100 * k.ci_high.to_numpy()}).sort_values("quarter")


def quarterly_chart(results: dict[str, Results], kpi: str, title: str, ylabel: str,
                    target: float, target_label: str) -> alt.LayerChart:
    """A within-window share by quarter of referral (%), with 95% intervals and the target."""
    data = pd.concat([_quarters(res, kpi).assign(design=name) for name, res in results.items()],
                     ignore_index=True)
    colour = alt.Color("design:N", scale=_colours(list(results)), title="design")
    x = alt.X("quarter:T", title="quarter of referral", axis=alt.Axis(format="%Y Q%q"))
    tips = [alt.Tooltip("design:N"), alt.Tooltip("label:N", title="quarter"),
            alt.Tooltip("share:Q", format=".1f", title="%"),
            alt.Tooltip("low:Q", format=".1f", title="95% CI from"),
            alt.Tooltip("high:Q", format=".1f", title="95% CI to")]
    line = alt.Chart(data).mark_line(point=True).encode(
        x=x, y=alt.Y("share:Q", title=ylabel, scale=alt.Scale(domain=[0, 105])), color=colour,
        shape=alt.Shape("design:N", legend=None), tooltip=tips)
    bars = alt.Chart(data).mark_errorbar().encode(x=x, y="low:Q", y2="high:Q", color=colour)
    rule = alt.Chart(pd.DataFrame({"y": [100 * target], "what": [target_label]})).mark_rule(
        color="black", strokeDash=[2, 2]).encode(y="y:Q", tooltip=[alt.Tooltip("what:N",
                                                                               title="target")])
    return (bars + line + rule).properties(title=title, height=320)


def standard_chart(results: dict[str, Results], level: float) -> alt.LayerChart:
    """The 3-month standard (NICE QS51) by quarter of referral, as the summary judges it."""
    return quarterly_chart(results, HEADLINE,
                           "Assessment started within 3 months of referral, by quarter of "
                           "referral (%)", "children whose assessment started within 3 months (%)",
                           level, f"3-month standard: {fmt.percent(level)} of a quarter's referrals")


def thirteen_weeks_chart(results: dict[str, Results]) -> alt.LayerChart:
    """First appointment within 13 weeks by quarter of referral (AWTS), as the report draws it."""
    return quarterly_chart(results, "first_appointment_within_13_weeks",
                           "First appointment within 13 weeks of referral, by quarter of "
                           "referral (%)", "children seen within 13 weeks (%)", 1.0,
                           "13-week standard: every child")


def utilisation_chart(results: dict[str, Results]) -> alt.Chart:
    """Staff utilisation by team and staff group, per design, with 95% intervals."""
    frames = []
    for name, res in results.items():
        k = res.kpis[res.kpis.kpi.str.startswith("utilisation[")].dropna(subset=["mean"])
        frames.append(pd.DataFrame({
            "group": [n[len("utilisation["):-1] for n in k.kpi], "design": name,
            "used": 100 * k["mean"].to_numpy(), "low": 100 * k.ci_low.to_numpy(),
            "high": 100 * k.ci_high.to_numpy()}))
    data = pd.concat(frames, ignore_index=True)
    colour = alt.Color("design:N", scale=_colours(list(results)), title="design")
    y = alt.Y("group:N", title="team / staff group")
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("used:Q", title="clinic hours used (%)", scale=alt.Scale(domain=[0, 100])),
        y=y, yOffset="design:N", color=colour,
        tooltip=[alt.Tooltip("design:N"), alt.Tooltip("group:N", title="team / staff group"),
                 alt.Tooltip("used:Q", format=".1f", title="% used"),
                 alt.Tooltip("low:Q", format=".1f", title="95% CI from"),
                 alt.Tooltip("high:Q", format=".1f", title="95% CI to")])
    return bars.properties(title="Staff utilisation: clinic hours booked over hours available (%)")


def figures(summary: Summary) -> list[dict[str, Any]]:
    """Every figure the summary states, as data (for tests and the page's details)."""
    return [{"scenario": f.scenario, "kpi": f.kpi, "mean": f.mean, "ci_low": f.ci_low,
             "ci_high": f.ci_high, "unit": f.unit, "text": f.text}
            for d in summary.designs for f in d.figures]
