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

from asdsim.analysis.definitions import HEADLINE, split
from asdsim.analysis.paired import PAIRED, Comparison
from asdsim.analysis.results import Results
from asdsim.reporting import formatting as _fmt
from asdsim.reporting.method import method_sections, package_version
from asdsim.reporting.summary import (
    COST_PER_YEAR,
    DEFAULT_LEVEL,
    OUTSOURCING_PER_YEAR,
    Stated,
    Summary,
    derived_kpis,
    summarise,
    window_words,
)
from asdsim.reporting.summary import label as kpi_label
from asdsim.reporting.summary import unit as kpi_unit
from asdsim.reporting.tables import ALL_TEAMS, TOTAL, incremental_table, wte_table
from asdsim.scenario.schema import canonical_path

HEADLINE_KPIS = [
    HEADLINE, "first_appointment_within_13_weeks", "assessment_started_wait_median",
    "first_appointment_wait_median", "diagnosis_wait_median", "backlog_cleared_weeks",
    "exit[no_pathway]", "exit[assessed]", "staff_hours_per_assessment",
    "funded_cost_per_year", OUTSOURCING_PER_YEAR, COST_PER_YEAR, "cost_per_assessment_funded",
    "cost_per_diagnosis", "cost_total", "cost_per_assessment",
]
"""The KPI table's rows, before the quarters the summary names and the dated counts."""
DIFFERENCE_KPIS = [k for k in HEADLINE_KPIS if k not in (COST_PER_YEAR, OUTSOURCING_PER_YEAR)]
"""The paired-difference table's rows (the per-year costs are the funded totals' differences
divided by the years, so they are left to the incremental cost table)."""
CHART_TITLES = {
    "standard_by_quarter": "The 3-month standard by quarter of referral: the share whose "
                           "assessment started within 3 months, with 95% confidence intervals "
                           "and the standard's level",
    "open_referrals": "Open referrals over time: mean with its 95% confidence interval, the "
                      "interval the tables use",
    "first_appointment_13_weeks_by_quarter": "First appointment within 13 weeks, by quarter of "
                                             "referral",
    "wait_ecdf": "Waits from referral to assessment start (Kaplan-Meier), to the end of follow-up",
    "staff_utilisation": "Staff utilisation by staff group, with funded WTE",
    "forest": "Paired difference from the baseline, with 95% confidence intervals",
    "cost_vs_standard": "Annual funded cost against the share meeting the 3-month standard",
    "validation": "Published figures against the simulation: median and 95% of replications",
    "wait_spread": "Spread of completed waits against the published one (quantiles and sd/mean)",
}


def fmt(value: float, unit: str) -> str:
    """A KPI value for a table cell (see :func:`asdsim.reporting.formatting.value`)."""
    return _fmt.value(value, unit)


def _table_kpis(results: dict[str, Results], summary: Summary) -> list[str]:
    first = next(iter(results.values())).kpis
    cited = [f.kpi for d in summary.designs for f in d.figures]
    quarters = sorted({k for k in cited if split(k)[0] == HEADLINE and split(k)[1]},
                      key=lambda k: pd.Period(split(k)[1], freq="Q"))
    dated = [k for k in first.kpi if k.startswith(("open_referrals[", "waiting_over_52_weeks["))]
    for res in results.values():  # designs may report different dates
        dated += [k for k in res.kpis.kpi if k.startswith("open_referrals[") and k not in dated]
    return list(dict.fromkeys(HEADLINE_KPIS[:2] + quarters + HEADLINE_KPIS[2:] + dated))


def _with_derived(res: Results) -> pd.DataFrame:
    return pd.concat([res.kpis, derived_kpis(res.kpis, res.scenario)], ignore_index=True)


def kpi_rows(results: dict[str, Results], summary: Summary | None = None) -> list[dict[str, Any]]:
    """Rows of the KPI table: the headline KPIs, the quarters the summary names, the per-year
    costs and the dated counts, with a cell per scenario (mean and 95% CI)."""
    summary = summary or summarise(results)
    tables = {name: _with_derived(res).set_index("kpi") for name, res in results.items()}
    rows = []
    for kpi in _table_kpis(results, summary):
        cells = []
        unit = kpi_unit(kpi)
        for table in tables.values():
            if kpi not in table.index:
                cells.append("–")
                continue
            r = table.loc[kpi]
            cells.append(_fmt.estimate(r["mean"], r.ci_low, r.ci_high, unit))
        if all(c == "–" for c in cells):
            continue
        rows.append({"kpi": kpi, "label": kpi_label(kpi), "unit": _fmt.unit_name(unit),
                     "unit_code": unit, "cells": cells})
    return rows


def _summary_context(summary: Summary) -> dict[str, Any]:
    def parts(sentence: tuple[str | Stated, ...]) -> list[dict[str, Any]]:
        return [{"text": p} if isinstance(p, str) else
                {"text": p.text, "kpi": p.kpi, "scenario": p.scenario} for p in sentence]

    return {
        "standard": summary.standard,
        "designs": [{"scenario": d.scenario, "meets": d.meets,
                     "sentences": [parts(s) for s in d.parts]} for d in summary.designs],
        "incremental": [parts(i.parts) for i in summary.incremental],
    }


def wte_rows(results: dict[str, Results]) -> list[dict[str, Any]]:
    """Rows of the WTE table: each staff group summed over a design's teams, then the total;
    two cells per design, WTE in post and the autism time costed."""
    table = wte_table(results)
    if table.empty:
        return []
    totals = table[table.team == ALL_TEAMS]
    groups = [g for g in dict.fromkeys(totals.group) if g != TOTAL] + [TOTAL]
    rows = []
    for group in groups:
        cells = []
        for name in results:
            r = totals[(totals.scenario == name) & (totals.group == group)]
            if r.empty:
                cells += ["–", "–"]
                continue
            row = r.iloc[0]
            cells.append(_fmt.estimate(row.wte, row.ci_low, row.ci_high, "WTE"))
            cells.append(_fmt.estimate(row.autism_wte, row.autism_ci_low, row.autism_ci_high,
                                       "WTE"))
        rows.append({"group": group, "cells": cells})
    return rows


def incremental_rows(results: dict[str, Results], baseline: str) -> list[dict[str, str]]:
    """Rows of the incremental cost table, one per design other than the baseline."""
    rows = []
    for r in incremental_table(results, baseline).to_dict("records"):
        rows.append({
            "scenario": r["scenario"],
            "window": window_words(r["window_from"], r["window_to"]),
            "difference": r["difference"],
            "children": _fmt.difference_estimate(r["extra_children"], r["extra_children_ci_low"],
                                                 r["extra_children_ci_high"], "children"),
            "cost": _fmt.difference(r["extra_cost_gbp"], "GBP"),
            "per_child": ("no extra children (interval includes zero)"
                          if pd.isna(r["cost_per_extra_child_gbp"]) else
                          _fmt.estimate(r["cost_per_extra_child_gbp"], r["ci_low"], r["ci_high"],
                                        "GBP")),
        })
    return rows


UNCERTAINTY_KPIS = [k for k in HEADLINE_KPIS if k not in (COST_PER_YEAR, OUTSOURCING_PER_YEAR)]
"""Rows of the uncertainty table (the per-year costs are the funded totals divided by years)."""


def describe_distribution(dist: Any) -> str:
    """An uncertain input's distribution in words: ``uniform from 0.6 to 1.6``."""
    kind = dist.dist
    if kind == "uniform":
        return f"uniform from {dist.low:g} to {dist.high:g}"
    if kind == "triangular":
        return f"triangular from {dist.low:g} to {dist.high:g}, most likely {dist.mode:g}"
    if kind in ("lognormal", "gamma"):
        return f"{kind} with mean {dist.mean:g} and standard deviation {dist.sd:g}"
    if kind == "exponential":
        return f"exponential with mean {dist.mean:g}"
    return f"fixed at {dist.value:g}"


def uncertainty_rows(results: dict[str, Results]) -> dict[str, list[dict[str, Any]]]:
    """For runs with drawn inputs: ``inputs`` (each uncertain input, its distribution and the
    values drawn) and ``kpis`` (each headline KPI with fixed and with drawn inputs, and the
    share of its spread from what is not known); both empty when no inputs were drawn."""
    inputs, kpis = [], []
    for name, res in results.items():
        if res.uncertainty is None or res.inputs is None:
            continue
        for path, dist in res.scenario.uncertain.items():
            values = res.inputs[res.inputs.path == canonical_path(path)].value
            drawn = (f"{values.min():.4g} to {values.max():.4g}" if len(values) else "–")
            inputs.append({"scenario": name, "path": path, "dist": describe_distribution(dist),
                           "drawn": drawn})
        table = res.uncertainty.set_index("kpi")
        for kpi in UNCERTAINTY_KPIS:
            if kpi not in table.index or pd.isna(table.loc[kpi, "drawn_mean"]):
                continue
            r = table.loc[kpi]
            unit = str(r["unit"])
            kpis.append({
                "scenario": name, "kpi": kpi, "label": kpi_label(kpi),
                "unit": _fmt.unit_name(unit),
                "fixed": _fmt.estimate(r.fixed_mean, r.fixed_ci_low, r.fixed_ci_high, unit),
                "drawn": _fmt.estimate(r.drawn_mean, r.drawn_ci_low, r.drawn_ci_high, unit),
                "share": "–" if pd.isna(r.unknown_share) else _fmt.percent(r.unknown_share, 0),
            })
    return {"inputs": inputs, "kpis": kpis}


VALIDATION_MEASURES = {
    "open_referrals": ("open referrals", "children"),
    "awaiting_assessment": ("waiting for assessment", "children"),
    "waiting_over_weeks": ("open referrals", "children"),
    "awaiting_assessment_over_weeks": ("waiting for assessment", "children"),
    "longest_wait_weeks": ("longest wait", "weeks"),
}
"""Observed measures in words, with their unit."""


def validation_rows(results: dict[str, Results]) -> list[dict[str, Any]]:
    """Rows of the validation table: each design's published figures beside the simulation
    (mean, and the 95% range of replications where one run of the real area would fall)."""
    rows = []
    for name, res in results.items():
        for r in res.validation.to_dict("records"):
            measure = str(r["measure"])
            what, unit = VALIDATION_MEASURES.get(measure, (measure.replace("_", " "), ""))
            if not pd.isna(r["over_weeks"]):
                what += f" over {r['over_weeks']:g} weeks"
            if isinstance(r["locality"], str) and r["locality"]:
                what += f", {r['locality']}"
            what += f" ({unit})" if unit else ""
            rows.append({"scenario": name, "date": _fmt.date(r["date"]), "measure": what,
                         "use": "calibration" if r["use"] == "calibration" else "held out",
                         "observed": _fmt.children(r["observed"]),
                         "simulated": f"{_fmt.children(r['simulated_mean'])} "
                                      f"({_fmt.children(r['simulated_low'])} to "
                                      f"{_fmt.children(r['simulated_high'])})",
                         "inside": "yes" if r["inside"] else "no", "source": r["source"]})
    return rows


def _environment() -> Environment:
    return Environment(loader=PackageLoader("asdsim.reporting", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(default=True, default_for_string=True))


def render_report(results: dict[str, Results], charts: Mapping[str, Path | bytes],
                  comparison_table: pd.DataFrame | None = None, baseline: str | None = None,
                  extra_provenance: dict[str, Any] | None = None,
                  level: float = DEFAULT_LEVEL) -> str:
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
    level
        The share of a quarter's referrals that must start assessment within 3 months to meet
        the standard, as the summary judges it.
    """
    template = _environment().get_template("report.html.j2")
    first = next(iter(results.values()))
    compared = comparison_table is not None and baseline is not None and len(results) > 1
    summary = summarise(Comparison(results, baseline, comparison_table) if compared
                        else results, level)  # type: ignore[arg-type]
    diff_rows = []
    if compared:
        assert comparison_table is not None
        chosen = comparison_table[(comparison_table.scenario != baseline)
                                  & comparison_table.kpi.isin(DIFFERENCE_KPIS)]
        for r in chosen.to_dict("records"):
            diff_rows.append({
                "scenario": r["scenario"], "kpi": r["kpi"], "label": kpi_label(r["kpi"]),
                "unit": _fmt.unit_name(r["unit"], difference=True),
                "diff": _fmt.difference(r["diff_mean"], r["unit"]),
                "ci": _fmt.difference_interval(r["diff_ci_low"], r["diff_ci_high"], r["unit"]) or "–",
                "difference": r.get("difference", PAIRED),
            })
    provenance = {name: res.provenance for name, res in results.items()}
    if extra_provenance:
        provenance["run"] = extra_provenance
    return template.render(
        title=" vs ".join(results),
        replications=first.provenance["replications"], seed=first.provenance["seed"],
        version=package_version(),
        baseline=baseline if len(results) > 1 else None,
        scenarios=[r.scenario for r in results.values()],
        summary=_summary_context(summary),
        kpi_rows=kpi_rows(results, summary), diff_rows=diff_rows,
        wte_rows=wte_rows(results), validation_rows=validation_rows(results),
        uncertainty=uncertainty_rows(results),
        incremental_rows=incremental_rows(results, baseline) if compared and baseline else [],
        unpaired=bool(compared and comparison_table is not None
                      and "difference" in comparison_table
                      and (comparison_table.difference != PAIRED).any()),
        method=method_sections(results),
        charts=[{"name": name, "title": CHART_TITLES.get(name.split("_")[0] if name.startswith(
                     "validation") else name, name),
                 "data": base64.b64encode(png if isinstance(png, bytes) else Path(png).read_bytes())
                 .decode()}
                for name, png in charts.items()],
        provenance=json.dumps(provenance, indent=2, default=str),
    )


__all__ = ["describe_distribution", "fmt", "incremental_rows", "kpi_rows", "render_report",
           "uncertainty_rows", "validation_rows", "wte_rows"]
