"""The chart of a staffing plan: extra cost a year against each target KPI.

One panel per target. Every option the search evaluated is a dot at its extra annual cost and
its KPI mean, with the 95% confidence interval as a bar: filled where the option met the
targets with the plan's confidence, hollow where it did not. The cost frontier (options no
cheaper option beats on the first target's KPI) is a step line, the target a dashed line, and
the recommendation, with its figures from fresh replications, a star.

Drawn on a :class:`matplotlib.figure.Figure` without pyplot, so no global state is touched.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from asdsim.analysis.definitions import definition, label

ChartTarget = tuple[str, float, str] | tuple[str, float, str, str, str]
"""``(kpi, threshold, sense)``, or ``(column, threshold, sense, axis label, unit)``."""


def plan_chart(options: pd.DataFrame, targets: Sequence[ChartTarget],
               title: str = "", cost_column: str = "added_cost_gbp") -> Figure:
    """Extra cost a year against each target KPI, with the frontier and the target line.

    Parameters
    ----------
    options
        The plan's options table (:attr:`asdsim.experiments.plan.Plan.options`): ``phase``,
        ``feasible``, ``frontier``, ``recommended``, the cost column, and for each target KPI its
        mean (the KPI's name) and ``<kpi> ci_low`` / ``<kpi> ci_high``.
    targets
        ``(kpi, threshold, sense)`` of each target; ``sense`` is ``higher`` or ``lower``; or
        ``(column, threshold, sense, label, unit)`` for a target that is not a registry KPI (the
        NICE standard's worst quarter), with its axis label and unit.
    title
        Shown above the panels, wrapped to their width.
    cost_column
        The column of the cost axis (GBP a year).

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels = max(1, len(targets))
    figure = Figure(figsize=(6.4 * min(panels, 2), 4.4 * int(np.ceil(panels / 2))), layout="constrained")
    axes = figure.subplots(int(np.ceil(panels / 2)), min(panels, 2), squeeze=False).ravel()
    search = options[options["phase"] == "search"]
    confirmed = options[options["recommended"]] if "recommended" in options else options.iloc[:0]
    for ax, spec in zip(axes, targets, strict=False):
        kpi, threshold, sense = spec[:3]
        axis_label, unit = (spec[3], spec[4]) if len(spec) == 5 else (label(kpi), definition(kpi).unit)
        share = unit == "share"
        cost = search[cost_column].to_numpy(float) / 1000.0
        mean = search[kpi].to_numpy(float)
        low = search[f"{kpi} ci_low"].to_numpy(float)
        high = search[f"{kpi} ci_high"].to_numpy(float)
        ok = search["feasible"].to_numpy(bool)
        errors = np.vstack([np.clip(mean - low, 0, None), np.clip(high - mean, 0, None)])
        errors = np.nan_to_num(errors)
        for mask, face, name in ((ok, "tab:blue", "meets the targets"), (~ok, "white", "does not")):
            if mask.any():
                ax.errorbar(cost[mask], mean[mask], yerr=errors[:, mask], fmt="o", color="tab:blue",
                            markerfacecolor=face, ecolor="tab:blue", elinewidth=0.8, capsize=2,
                            alpha=0.85, label=name)
        front = search[search["frontier"]].sort_values(cost_column, kind="stable")
        if len(front):
            ax.step(front[cost_column].to_numpy(float) / 1000.0, front[kpi].to_numpy(float),
                    where="post", color="tab:green", linewidth=1.2, label="cost frontier")
        shown = f"{threshold:.0%}" if share else f"{threshold:g}"
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1,
                   label=f"target {'≥' if sense == 'higher' else '≤'} {shown}")
        if len(confirmed):
            row = confirmed.iloc[0]
            ax.plot([row[cost_column] / 1000.0], [row[kpi]], marker="*", markersize=16,
                    color="tab:red", linestyle="none", label="recommended (fresh replications)")
        ax.set_xlabel("extra cost (GBP thousand a year)")
        shown_unit = "%" if share else unit
        if f"({shown_unit})" not in axis_label:
            axis_label = f"{axis_label} ({shown_unit})"
        ax.set_ylabel("\n".join(textwrap.wrap(axis_label, 45)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
        if share:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize="small")
    for ax in axes[len(targets):]:
        ax.set_visible(False)
    if title:
        figure.suptitle("\n".join(textwrap.wrap(title, 60 * min(panels, 2))))
    return figure
