"""The summary chart of a sweep: one KPI across the grid, with its 95% confidence intervals.

The chart's form follows the number of varied fields. One field: the KPI against it, a line with
a band when the values are numbers, dots with bars otherwise. Two fields: a heatmap, the first
field across and the second down, each cell labelled while they are few enough to read. Three,
the third with a few values: small multiples, one heatmap per value of the third, on one colour
scale. More: every point as a dot with its interval, sorted by the KPI, labelled by its values
while there are few enough points to read them.

Where a target is given (by default the 3-month standard's level, 90%, for the headline share),
the chart says of every point whether its 95% interval clears it: a heatmap cell is outlined in
solid black when the whole interval is at or above the target, dashed when the interval straddles
it, and not at all when it is wholly below; lines and dots are filled or hollow the same way, with
the target drawn.

Figures are drawn on a :class:`matplotlib.figure.Figure` without pyplot, so no global state is
touched and nothing needs a display.
"""

from __future__ import annotations

import math
import os
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from asdsim.analysis.definitions import HEADLINE
from asdsim.reporting import formatting as fmt
from asdsim.reporting.summary import DEFAULT_LEVEL
from asdsim.scenario.paths import short_names

MAX_CELL_LABELS = 150
MAX_TICKS = 20
MAX_DOT_LABELS = 40
MAX_PANELS = 6
CLEARS, STRADDLES, BELOW = "clears", "straddles", "below"
"""How a point's 95% interval stands against the target."""


def verdicts(low: np.ndarray, high: np.ndarray, target: float | None) -> np.ndarray:
    """For each point, ``clears`` (interval at or above the target), ``straddles`` or ``below``
    (``""`` where there is no target or no interval)."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    out = np.full(low.shape, "", dtype=object)
    if target is None:
        return out
    out[high < target] = BELOW
    out[(low < target) & (high >= target)] = STRADDLES
    out[low >= target] = CLEARS
    out[np.isnan(low) | np.isnan(high)] = ""
    return out


def _target_legend(ax: Axes, target: float, percent: bool, heatmap: bool) -> None:
    shown = fmt.percent(target) if percent else f"{target:g}"
    if heatmap:
        handles = [Patch(facecolor="none", edgecolor="black", linewidth=2,
                         label=f"95% CI at or above {shown}"),
                   Patch(facecolor="none", edgecolor="black", linewidth=1.2, linestyle="--",
                         label=f"95% CI straddles {shown}"),
                   Patch(facecolor="none", edgecolor="none", label=f"95% CI below {shown}")]
    else:
        handles = [Line2D([], [], color="black", linestyle=":", label=f"target {shown}"),
                   Line2D([], [], marker="o", color="C0", linestyle="none",
                          label=f"95% CI at or above {shown}"),
                   Line2D([], [], marker="o", color="C0", markerfacecolor="white",
                          linestyle="none", label=f"95% CI not wholly above {shown}")]
    ax.legend(handles=handles, frameon=False, fontsize=8, loc="upper left",
              bbox_to_anchor=(1.0, 1.0) if heatmap else None)


def _ticks(ax: Axes, axis: str, labels: list[str]) -> None:
    """Tick every position, or about MAX_TICKS of them when there are many."""
    step = max(1, int(np.ceil(len(labels) / MAX_TICKS)))
    positions = list(range(0, len(labels), step))
    if axis == "x":
        ax.set_xticks(positions, [labels[i] for i in positions], rotation=45 if step > 1 else 0)
    else:
        ax.set_yticks(positions, [labels[i] for i in positions])


def _text(value: object) -> str:
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def _one_field(ax: Axes, rows: pd.DataFrame, name: str, label: str, scale: float, kpi_label: str,
               target: float | None = None) -> None:
    x = rows[name]
    mean, low, high = (rows[c].to_numpy(float) * scale for c in ("mean", "ci_low", "ci_high"))
    clears = verdicts(rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float), target) == CLEARS
    if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
        order = np.argsort(x.to_numpy(), kind="stable")
        positions = x.to_numpy(float)
        ax.fill_between(positions[order], low[order], high[order], alpha=0.25, linewidth=0,
                        label="95% CI")
        ax.plot(positions[order], mean[order], color="C0", label="mean")
    else:
        positions = np.arange(len(rows), dtype=float)
        ax.errorbar(positions, mean, yerr=[mean - low, high - mean], fmt="none", capsize=3,
                    ecolor="C0")
        _ticks(ax, "x", [_text(v) for v in x])
    ax.plot(positions[clears], mean[clears], "o", color="C0", label="_clears")
    ax.plot(positions[~clears], mean[~clears], "o", color="C0", markerfacecolor="white",
            label="_not_clear")
    if target is not None:
        ax.axhline(target * scale, color="black", linestyle=":", linewidth=1.2, label="_target")
        _target_legend(ax, target, scale == 100.0, heatmap=False)
    ax.set_xlabel(label)
    ax.set_ylabel(kpi_label)
    ax.grid(alpha=0.3)


def _heatmap(ax: Axes, rows: pd.DataFrame, names: tuple[str, str], labels: tuple[str, str], scale: float,
             percent: bool, limits: tuple[float, float], target: float | None = None) -> AxesImage:
    """The KPI's mean in a cell per pair of values: the first field across, the second down;
    each cell outlined by how its 95% interval stands against ``target``."""
    across, down = names
    xs = list(dict.fromkeys(rows[across]))
    ys = list(dict.fromkeys(rows[down]))
    cells = np.full((len(ys), len(xs)), np.nan)
    marks = verdicts(rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float), target)
    for x, y, value, mark in zip(rows[across], rows[down], rows["mean"].to_numpy(float) * scale, marks,
                                 strict=True):
        cells[ys.index(y), xs.index(x)] = value
        if mark in (CLEARS, STRADDLES):
            outline = Rectangle((xs.index(x) - 0.46, ys.index(y) - 0.46), 0.92, 0.92, fill=False,
                                edgecolor="black", linewidth=2 if mark == CLEARS else 1.2,
                                linestyle="-" if mark == CLEARS else "--", zorder=3)
            outline.verdict = mark  # type: ignore[attr-defined]  # for tests
            ax.add_patch(outline)
    image = ax.imshow(np.ma.masked_invalid(cells), origin="lower", aspect="auto", cmap="viridis",
                      vmin=limits[0], vmax=limits[1])
    if cells.size <= MAX_CELL_LABELS:
        middle = (limits[0] + limits[1]) / 2
        for (i, j), value in np.ndenumerate(cells):
            if np.isfinite(value):
                ax.text(j, i, f"{value:.0f}%" if percent else f"{value:.3g}", ha="center", va="center",
                        fontsize=8, color="black" if value > middle else "white")
    _ticks(ax, "x", [_text(v) for v in xs])
    _ticks(ax, "y", [_text(v) for v in ys])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    return image


def _limits(values: np.ndarray, percent: bool) -> tuple[float, float]:
    if percent:  # one scale for every share, so charts of different sweeps compare
        return 0.0, 100.0
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


DOT_FIELDS_A_LINE = 2
"""Field values on one line of a sorted-dots label; more go on further lines."""


def _dot_label(parts: list[str]) -> str:
    """A grid point's values, two to a line, so long field names never push the chart aside."""
    return "\n".join(", ".join(parts[i:i + DOT_FIELDS_A_LINE])
                     for i in range(0, len(parts), DOT_FIELDS_A_LINE))


def _sorted_dots(ax: Axes, rows: pd.DataFrame, fields: list[str], scale: float, kpi_label: str,
                 target: float | None = None) -> None:
    names = short_names(fields)
    rows = rows.assign(_mean=rows["mean"]).sort_values("_mean", kind="stable", na_position="first")
    mean, low, high = (rows[c].to_numpy(float) * scale for c in ("mean", "ci_low", "ci_high"))
    ranks = np.arange(len(rows))
    ax.errorbar(mean, ranks, xerr=[mean - low, high - mean], fmt="none", capsize=2,
                elinewidth=0.8, ecolor="C0")
    clears = verdicts(rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float), target) == CLEARS
    ax.plot(mean[clears], ranks[clears], "o", markersize=4, color="C0", label="_clears")
    ax.plot(mean[~clears], ranks[~clears], "o", markersize=4, color="C0", markerfacecolor="white",
            label="_not_clear")
    if target is not None:
        ax.axvline(target * scale, color="black", linestyle=":", linewidth=1.2, label="_target")
        _target_legend(ax, target, scale == 100.0, heatmap=False)
    if len(rows) <= MAX_DOT_LABELS:
        labels = [_dot_label([f"{names[f]}={_text(v)}" for f, v in zip(fields, values, strict=True)])
                  for values in rows[fields].itertuples(index=False)]
        ax.set_yticks(ranks, labels, fontsize=7)
        ax.set_ylabel("grid point, sorted by the KPI")
    else:
        ax.set_ylabel(f"{len(rows)} points, sorted by the KPI")
    ax.set_xlabel("\n".join(textwrap.wrap(kpi_label, 60)))
    ax.grid(axis="x", alpha=0.3)


def summary_chart(table: pd.DataFrame, fields: list[str], path: str | Path, kpi: str,
                  title: str = "", target: float | None = None) -> Path:
    """Draw one KPI across a sweep's grid (see :func:`summary_figure`) and save it as a PNG.

    Parameters
    ----------
    table, fields, kpi, title, target
        As for :func:`summary_figure`.
    path
        Where to write the PNG (written under a temporary name, then renamed).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        When the table has no rows of ``kpi``.
    """
    fig = summary_figure(table, fields, kpi, title, target)
    path = Path(path)
    temporary = path.with_name(f".tmp-{path.stem}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        fig.savefig(temporary, dpi=120, format="png")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def summary_figure(table: pd.DataFrame, fields: list[str], kpi: str, title: str = "",
                   target: float | None = None) -> Figure:
    """One KPI across a sweep's grid, with each point's interval judged against a target.

    Parameters
    ----------
    table
        A sweep table (:func:`asdsim.experiments.sweep.run_sweep`): ``point``, the varied fields, ``kpi``,
        ``mean``, ``ci_low``, ``ci_high``, ``unit``.
    fields
        The varied fields, in the grid's order.
    kpi
        The KPI to draw.
    title
        A line above the chart.
    target
        The value each point's 95% interval is judged against (a share as 0-1). By default the
        3-month standard's level (90%) for the headline share, and none for other KPIs.

    Returns
    -------
    Figure
        The chart (drawn without pyplot).

    Raises
    ------
    ValueError
        When the table has no rows of ``kpi``.
    """
    rows = table[table["kpi"] == kpi].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"the sweep table has no rows of KPI {kpi!r}")
    unit = str(rows["unit"].iloc[0])
    percent = unit == "share"
    scale = 100.0 if percent else 1.0
    if target is None and kpi == HEADLINE:
        target = DEFAULT_LEVEL
    mean_label = f"{fmt.kpi_label(kpi)} ({fmt.unit_name(unit)}), mean"
    kpi_label = f"{mean_label} and 95% CI"
    names = short_names(fields)
    if len(fields) == 1:
        fig = Figure(figsize=(8, 5), layout="constrained")
        _one_field(fig.add_subplot(), rows, fields[0], fields[0], scale, kpi_label, target)
    elif len(fields) == 2:
        fig = Figure(figsize=(9, 6), layout="constrained")
        ax = fig.add_subplot()
        image = _heatmap(ax, rows, (fields[0], fields[1]), (names[fields[0]], names[fields[1]]), scale,
                         percent, _limits(rows["mean"].to_numpy(float) * scale, percent), target)
        fig.colorbar(image, ax=ax, label=mean_label)
        if target is not None:
            _target_legend(ax, target, percent, heatmap=True)
    elif len(fields) == 3 and rows[fields[2]].nunique() <= MAX_PANELS:
        # small multiples: one heatmap per value of the third field, on one colour scale
        panels = list(dict.fromkeys(rows[fields[2]]))
        fig = Figure(figsize=(3.6 * len(panels) + 1.5, 4.5), layout="constrained")
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        limits = _limits(rows["mean"].to_numpy(float) * scale, percent)
        for ax, value in zip(axes, panels, strict=True):
            image = _heatmap(ax, rows[rows[fields[2]] == value], (fields[0], fields[1]),
                             (names[fields[0]], names[fields[1]]), scale, percent, limits, target)
            ax.set_title(f"{names[fields[2]]} = {_text(value)}", fontsize=9)
            if ax is not axes[0]:
                ax.set_ylabel("")
        fig.colorbar(image, ax=list(axes), label=mean_label)
        if target is not None:
            _target_legend(axes[-1], target, percent, heatmap=True)
    else:
        lines = math.ceil(len(fields) / DOT_FIELDS_A_LINE)  # lines of each point's label
        height = 5 if len(rows) > MAX_DOT_LABELS else max(4.0, (0.12 + 0.13 * lines) * len(rows)
                                                          + 1.5)
        fig = Figure(figsize=(9, height), layout="constrained")
        _sorted_dots(fig.add_subplot(), rows, fields, scale, kpi_label, target)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
