"""What ``asdsim areas`` shows: the summary across areas, the ranked chart and the report.

The summary reads like a single area's (:mod:`asdsim.reporting.summary`), with one verdict an
area, judged exactly as the single-area report judges it (:func:`summarise_design` of the area's
KPI table), then the figures across all areas, then the pooled total's own verdict.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asdsim.analysis.definitions import HEADLINE
from asdsim.reporting import formatting as fmt
from asdsim.reporting.report import _environment
from asdsim.reporting.summary import DEFAULT_LEVEL, DesignSummary, summarise_design
from asdsim.scenario.schema import Scenario

TOTAL = "All areas"
"""The name the pooled total goes by in tables and the summary."""


@dataclass(frozen=True)
class AreasSummary:
    """The summary across areas: each area's verdict, and sentences for all of them together."""

    verdicts: dict[str, DesignSummary]
    """Each area's summary, by name, as a single-area report would give it."""
    total: DesignSummary
    """The pooled total, summarised as one design."""
    sentences: tuple[str, ...]
    level: float

    @property
    def meeting(self) -> list[str]:
        """Areas meeting the standard by the end."""
        return [name for name, d in self.verdicts.items() if d.meets]


def _row(kpis: pd.DataFrame, kpi: str) -> pd.Series | None:
    found = kpis[kpis["kpi"] == kpi]
    return None if found.empty or pd.isna(found["mean"].iloc[0]) else found.iloc[0]


def summarise_areas(kpis: Mapping[str, pd.DataFrame], total: pd.DataFrame, scenario: Scenario,
                    end: str, level: float = DEFAULT_LEVEL) -> AreasSummary:
    """The summary across areas.

    Parameters
    ----------
    kpis
        Each area's KPI table, by name.
    total
        The KPIs of all areas together (pooled shares, summed counts).
    scenario
        The first area's scenario (every area shares its dates).
    end
        The label of the last reporting date (``2029-06-30``).
    level
        The share of a quarter's referrals that must start assessment within 3 months.
    """
    verdicts = {name: summarise_design(name, table, scenario, level) for name, table in kpis.items()}
    pooled = summarise_design(TOTAL, total, scenario, level)
    n = len(verdicts)
    meeting = [d for d in verdicts.values() if d.meets]
    last = next((d.last_quarter for d in verdicts.values() if d.last_quarter), None)
    standard = f"the 3-month standard (at least {fmt.percent(level)} of a quarter's referrals)"
    by = f" by {fmt.period(last)}" if last else ""
    first = f"{len(meeting)} of {n} area{'s' if n != 1 else ''} meet{'s' if n == 1 else ''} {standard}{by}"
    if meeting:
        starts: dict[str, int] = {}
        for d in sorted(meeting, key=lambda d: pd.Period(str(d.meets_from), freq="Q")):
            starts[str(d.meets_from)] = starts.get(str(d.meets_from), 0) + 1
        first += ": from " + ", ".join(f"{fmt.period(q)} ({c} area{'s' if c != 1 else ''})"
                                       for q, c in starts.items()) + "."
    else:
        first += "."
    sentences = [first]
    day = dt.date.fromisoformat(end)
    waiting, open_ref = _row(total, f"waiting_over_13_weeks[{end}]"), _row(total, f"open_referrals[{end}]")
    over52 = _row(total, f"waiting_over_52_weeks[{end}]")
    if waiting is not None and open_ref is not None:
        text = (f"{fmt.estimate(waiting['mean'], waiting.ci_low, waiting.ci_high, 'children')} "
                f"children waiting over 13 weeks across all areas on {fmt.date(day)}, of "
                f"{fmt.estimate(open_ref['mean'], open_ref.ci_low, open_ref.ci_high, 'children')} "
                "open referrals")
        if over52 is not None:
            text += (f"; {fmt.estimate(over52['mean'], over52.ci_low, over52.ci_high, 'children')}"
                     " over 52 weeks")
        sentences.append(text + ".")
    headline = _row(total, HEADLINE)
    if headline is not None:
        start = scenario.reporting.cohort_from_date or scenario.start_date
        sentences.append(f"Pooled over the children of every area, "
                         f"{fmt.estimate(headline['mean'], headline.ci_low, headline.ci_high, 'share')}"
                         f" of children referred from {fmt.date(start)} had their assessment "
                         "started within 3 months.")
    sentences.append(f"All areas together: {pooled.text}")
    return AreasSummary(verdicts, pooled, tuple(sentences), level)


def ranking(kpis: Mapping[str, pd.DataFrame], summary: AreasSummary) -> pd.DataFrame:
    """Areas ranked by the share of the last judged quarter's referrals started within 3 months.

    Returns
    -------
    pandas.DataFrame
        ``rank, area, quarter, mean, ci_low, ci_high, meets, meets_from``, best first (an area
        without a judged quarter last).
    """
    rows = []
    for name, table in kpis.items():
        verdict = summary.verdicts[name]
        quarter = verdict.last_quarter
        row = _row(table, f"{HEADLINE}[{quarter}]") if quarter else None
        rows.append({"area": name, "quarter": quarter or "",
                     "mean": np.nan if row is None else float(row["mean"]),
                     "ci_low": np.nan if row is None else float(row.ci_low),
                     "ci_high": np.nan if row is None else float(row.ci_high),
                     "meets": verdict.meets, "meets_from": verdict.meets_from or ""})
    frame = pd.DataFrame(rows, columns=["area", "quarter", "mean", "ci_low", "ci_high", "meets",
                                        "meets_from"])
    frame = frame.sort_values("mean", ascending=False, kind="stable", na_position="last")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def ranked_chart(ranked: pd.DataFrame, level: float = DEFAULT_LEVEL) -> Figure:
    """Each area's share of the last judged quarter's referrals started within 3 months, with
    its 95% interval, best at the top, against the standard's level.

    Parameters
    ----------
    ranked
        From :func:`ranking`.
    level
        The standard's level, drawn as a line.
    """
    n = len(ranked)
    fig = Figure(figsize=(9, 1.6 + 0.24 * max(n, 3)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    quarter = next((q for q in ranked["quarter"] if q), "")
    for meets, colour, what in ((True, "#1b7837", "meets the standard"),
                                (False, "#b2182b", "does not meet the standard")):
        chosen = (ranked["meets"] == meets).to_numpy()
        if not chosen.any():
            continue
        mean = 100 * ranked["mean"].to_numpy(float)[chosen]
        low = 100 * ranked["ci_low"].to_numpy(float)[chosen]
        high = 100 * ranked["ci_high"].to_numpy(float)[chosen]
        errors = np.nan_to_num(np.vstack([mean - low, high - mean]), nan=0.0)
        ax.errorbar(mean, y[chosen], xerr=errors, fmt="o", color=colour, ecolor=colour,
                    capsize=2, markersize=4, label=what)
    ax.axvline(100 * level, color="#333", linestyle="--", linewidth=1,
               label=f"standard ({fmt.percent(level)})")
    ax.set_yticks(y, ranked["area"].tolist(), fontsize=7 if n > 20 else 9)
    ax.set_xlim(-2, 102)
    ax.set_ylim(-1, n)
    ax.set_xlabel("Referrals with assessment started within 3 months (%)")
    ax.set_ylabel("Area (ranked)")
    shown = f", referrals in {fmt.period(quarter)}" if quarter else ""
    ax.set_title(f"Areas against the 3-month standard{shown}", fontsize=11)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _kpi_rows(table: pd.DataFrame) -> list[dict[str, str]]:
    rows = []
    for r in table.to_dict("records"):
        rows.append({"kpi": r["kpi"], "label": fmt.kpi_label(r["kpi"]),
                     "value": fmt.estimate(r["mean"], r["ci_low"], r["ci_high"], r["unit"]),
                     "unit": fmt.unit_name(r["unit"])})
    return rows


def render_areas_report(name: str, summary: AreasSummary, ranked: pd.DataFrame,
                        headline_total: pd.DataFrame, chart_png: bytes,
                        provenance: Mapping[str, Any], method: Mapping[str, Any]) -> str:
    """The areas report as one self-contained HTML string.

    Parameters
    ----------
    name
        The areas table's name.
    summary
        From :func:`summarise_areas`.
    ranked
        From :func:`ranking`.
    headline_total
        The total KPIs to show.
    chart_png
        The ranked chart.
    provenance
        Seed, replications, version and what ran where.
    method
        ``replications``, ``seed``, ``areas``, ``start``, ``end`` for the method notes.
    """
    template = _environment().get_template("areas.html.j2")
    rows = [{"rank": r["rank"], "area": r["area"], "quarter": fmt.period(r["quarter"]) if r["quarter"]
             else "", "share": fmt.estimate(r["mean"], r["ci_low"], r["ci_high"], "share"),
             "verdict": (f"meets from {fmt.period(r['meets_from'])}" if r["meets"] else "does not meet")}
            for r in ranked.to_dict("records")]
    return template.render(
        title=name, summary=summary, standard_level=fmt.percent(summary.level), areas=rows,
        total_rows=_kpi_rows(headline_total), chart=base64.b64encode(chart_png).decode(),
        method=method, provenance=json.dumps(dict(provenance), indent=2, default=str))




def marginal_chart(marginal: pd.DataFrame,
                   gain: str = "more children started within 3 months") -> Figure:
    """Each area's cost per child gained of its best next step, before any of the budget is
    spent and after the split (an area with no step that gains is left out of a series).

    Parameters
    ----------
    marginal
        ``area, gbp_per_child_start, gbp_per_child_end`` (from the allocation).
    gain
        What a child gained is, in words (``more children started within 3 months``).
    """
    n = len(marginal)
    fig = Figure(figsize=(9, 1.6 + 0.24 * max(n, 3)), layout="constrained")
    ax = fig.add_subplot()
    order = marginal.sort_values("gbp_per_child_start", kind="stable", na_position="last")
    y = np.arange(n)[::-1]
    for column, marker, what in (("gbp_per_child_start", "o", "before the budget is spent"),
                                 ("gbp_per_child_end", "s", "after the split")):
        values = order[column].to_numpy(float)
        shown = ~np.isnan(values)
        if shown.any():
            ax.plot(values[shown], y[shown], marker, label=what, markersize=5, alpha=0.8)
    ax.set_yticks(y, order["area"].tolist(), fontsize=7 if n > 20 else 9)
    ax.set_ylim(-1, n)
    ax.set_xlabel(f"Cost of the next step per child gained (GBP; gain: {gain})", fontsize=9)
    ax.set_ylabel("Area")
    ax.set_title("Marginal cost per child gained, by area", fontsize=11)
    if ax.get_lines():
        ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


__all__ = ["TOTAL", "AreasSummary", "marginal_chart", "ranked_chart", "ranking", "render_areas_report",
           "summarise_areas"]
