"""A self-contained HTML report: one file, charts embedded, no network requests.

Everything user-supplied (scenario names, descriptions, assumptions) is escaped by Jinja2's
autoescaping, so a scenario called ``<script>`` is shown as text.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, select_autoescape

from asdsim.results import Results

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

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>asdsim report: {{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef3f8; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
.note { color: #444; font-size: 0.9rem; } code { background: #f3f3f3; padding: 0 0.2rem; }
</style></head>
<body>
<h1>asdsim report: {{ title }}</h1>
<p class="note">Means across {{ replications }} replications with 95% confidence intervals. Seed
{{ seed }}. {% if baseline %}Differences are paired by replication (common random numbers) against
<strong>{{ baseline }}</strong>.{% endif %}</p>

<h2>Headline KPIs</h2>
<table id="kpi-table"><thead><tr><th>KPI</th><th>unit</th>
{% for s in scenarios %}<th>{{ s.name }}</th>{% endfor %}</tr></thead><tbody>
{% for row in kpi_rows %}<tr><td>{{ row.kpi }}</td><td>{{ row.unit }}</td>
{% for cell in row.cells %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>

{% if diff_rows %}
<h2>Paired differences from {{ baseline }}</h2>
<table id="difference-table"><thead><tr><th>scenario</th><th>KPI</th><th>unit</th><th>difference</th>
<th>95% CI</th></tr></thead><tbody>
{% for row in diff_rows %}<tr><td>{{ row.scenario }}</td><td>{{ row.kpi }}</td><td>{{ row.unit }}</td>
<td>{{ row.diff }}</td><td>{{ row.ci }}</td></tr>
{% endfor %}</tbody></table>
{% endif %}

<h2>Charts</h2>
{% for chart in charts %}
<figure id="chart-{{ chart.name }}"><img alt="{{ chart.title }}" src="data:image/png;base64,{{ chart.data }}">
<figcaption>{{ chart.title }}</figcaption></figure>
{% endfor %}

<h2>Scenarios and their assumptions</h2>
{% for s in scenarios %}
<h3>{{ s.name }}</h3>
<p>{{ s.description }}</p>
{% if s.assumptions %}<p><strong>Assumptions stated by this scenario:</strong></p>
<ul>{% for a in s.assumptions %}<li>{{ a }}</li>{% endfor %}</ul>{% endif %}
{% endfor %}

<h2>Provenance</h2>
<pre>{{ provenance }}</pre>
</body></html>
"""


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


def render_report(results: dict[str, Results], charts: dict[str, Path],
                  comparison_table: pd.DataFrame | None = None, baseline: str | None = None,
                  extra_provenance: dict[str, Any] | None = None) -> str:
    """The report as one HTML string (charts read from ``charts`` and embedded)."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(TEMPLATE)
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
        baseline=baseline if len(results) > 1 else None,
        scenarios=[r.scenario for r in results.values()],
        kpi_rows=kpi_rows(results), diff_rows=diff_rows,
        charts=[{"name": name, "title": CHART_TITLES.get(name, name),
                 "data": base64.b64encode(path.read_bytes()).decode()}
                for name, path in charts.items()],
        provenance=json.dumps(provenance, indent=2, default=str),
    )


__all__ = ["fmt", "kpi_rows", "render_report"]
