"""A self-contained HTML report: one file, charts embedded, no network requests.

The template is ``asdsim/reporting/templates/report.html.j2``. Everything user-supplied (scenario names,
descriptions, assumptions) is escaped by Jinja2's autoescaping, so a scenario called ``<script>``
is shown as text, and the page's content security policy forbids any request beyond itself.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from asdsim import __version__
from asdsim.analysis.results import Results

HEADLINE_KPIS = [
    "assessment_started_within_3_months", "first_appointment_within_13_weeks",
    "first_appointment_wait_median", "diagnosis_wait_median", "backlog_cleared_weeks",
    "exit[no_pathway]", "exit[assessed]", "staff_hours_per_assessment", "cost_total",
    "cost_per_assessment",
]
CHART_TITLES = {
    "open_referrals": "Open referrals over time",
    "first_appointment_13_weeks_by_quarter": "First appointment within 13 weeks, by quarter",
    "wait_ecdf": "Waits from referral to assessment start",
    "staff_utilisation": "Staff utilisation",
    "forest": "Difference from the baseline",
    "cost_vs_standard": "Cost against the 3-month standard",
}


def fmt(value: float, unit: str) -> str:
    """A KPI value for people: shares as percentages, counts and money with separators."""
    if pd.isna(value):
        return "not reached"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "GBP":
        return f"£{value:,.0f}"
    if unit == "children":
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _cell(mean: float, low: float, high: float, unit: str) -> str:
    if pd.isna(low) or pd.isna(high):
        return fmt(mean, unit)
    return f"{fmt(mean, unit)} ({fmt(low, unit)} to {fmt(high, unit)})"


def kpi_rows(results: dict[str, Results]) -> list[dict[str, Any]]:
    """Rows of the headline KPI table: every headline and snapshot KPI, a cell per scenario."""
    first = next(iter(results.values())).kpis
    wanted = HEADLINE_KPIS + [k for k in first.kpi if k.startswith(("open_referrals[",
                                                                      "waiting_over_52_weeks["))]
    rows = []
    for kpi in wanted:
        cells, unit = [], ""
        for res in results.values():
            match = res.kpis[res.kpis.kpi == kpi]
            if match.empty:
                cells.append("–")
                continue
            r = match.iloc[0]
            unit = r.unit
            cells.append(_cell(r["mean"], r.ci_low, r.ci_high, r.unit))
        rows.append({"kpi": kpi, "unit": unit, "cells": cells})
    return rows


def _environment() -> Environment:
    return Environment(loader=PackageLoader("asdsim.reporting", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(default=True, default_for_string=True))


def render_report(results: dict[str, Results], charts: Mapping[str, Path | bytes],
                  comparison_table: pd.DataFrame | None = None, baseline: str | None = None,
                  extra_provenance: dict[str, Any] | None = None) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    results
        Each scenario's results, by name, in the order to show them.
    charts
        ``{chart name: PNG file or PNG bytes}``, embedded in this order.
    comparison_table
        The comparison's table (see :mod:`asdsim.analysis.paired`), for the paired differences.
    baseline
        The baseline scenario's name.
    extra_provenance
        More provenance to show (the command line, for example).
    """
    template = _environment().get_template("report.html.j2")
    first = next(iter(results.values()))
    diff_rows = []
    if comparison_table is not None and baseline is not None:
        chosen = comparison_table[(comparison_table.scenario != baseline)
                                  & comparison_table.kpi.isin(HEADLINE_KPIS)]
        for r in chosen.to_dict("records"):
            unit = "percentage points" if r["unit"] == "share" else r["unit"]
            scale = 100.0 if r["unit"] == "share" else 1.0
            low, high = r["diff_ci_low"], r["diff_ci_high"]
            diff_rows.append({
                "scenario": r["scenario"], "kpi": r["kpi"], "unit": unit,
                "diff": "not reached" if pd.isna(r["diff_mean"]) else f"{scale * r['diff_mean']:+,.1f}",
                "ci": "–" if pd.isna(low) else f"{scale * low:+,.1f} to {scale * high:+,.1f}",
            })
    provenance = {name: res.provenance for name, res in results.items()}
    if extra_provenance:
        provenance["run"] = extra_provenance
    return template.render(
        title=" vs ".join(results),
        replications=first.provenance["replications"], seed=first.provenance["seed"],
        version=__version__,
        baseline=baseline if len(results) > 1 else None,
        scenarios=[r.scenario for r in results.values()],
        kpi_rows=kpi_rows(results), diff_rows=diff_rows,
        charts=[{"name": name, "title": CHART_TITLES.get(name, name),
                 "data": base64.b64encode(png if isinstance(png, bytes) else Path(png).read_bytes())
                 .decode()}
                for name, png in charts.items()],
        provenance=json.dumps(provenance, indent=2, default=str),
    )


__all__ = ["fmt", "kpi_rows", "render_report"]
