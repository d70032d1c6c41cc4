"""The summary chart of a sweep: one KPI across the grid, with its 95% confidence intervals.

The chart's form follows the number of varied fields. One field: the KPI against it, a line with
a band when the values are numbers, dots with bars otherwise. Two fields: a heatmap, the first
field across and the second down, each cell labelled while they are few enough to read. Three,
the third with a few values: small multiples, one heatmap per value of the third, on one colour
scale. More: every point as a dot with its interval, sorted by the KPI, labelled by its values
while there are few enough points to read them.

Figures are drawn on a :class:`matplotlib.figure.Figure` without pyplot, so no global state is
touched and nothing needs a display.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from asdsim.experiments.grid import short_names

MAX_CELL_LABELS = 150
MAX_TICKS = 20
MAX_DOT_LABELS = 40
MAX_PANELS = 6


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


def _one_field(ax: Axes, rows: pd.DataFrame, name: str, label: str, scale: float, kpi_label: str) -> None:
    x = rows[name]
    mean, low, high = (rows[c].to_numpy(float) * scale for c in ("mean", "ci_low", "ci_high"))
    if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
        order = np.argsort(x.to_numpy(), kind="stable")
        xs = x.to_numpy(float)[order]
        ax.fill_between(xs, low[order], high[order], alpha=0.25, linewidth=0, label="95% CI")
        ax.plot(xs, mean[order], marker="o", label="mean")
        ax.legend(frameon=False)
    else:
        positions = np.arange(len(rows))
        ax.errorbar(positions, mean, yerr=[mean - low, high - mean], fmt="o", capsize=3)
        _ticks(ax, "x", [_text(v) for v in x])
    ax.set_xlabel(label)
    ax.set_ylabel(kpi_label)
    ax.grid(alpha=0.3)


def _heatmap(ax: Axes, rows: pd.DataFrame, names: tuple[str, str], labels: tuple[str, str], scale: float,
             percent: bool, limits: tuple[float, float]) -> AxesImage:
    """The KPI's mean in a cell per pair of values: the first field across, the second down."""
    across, down = names
    xs = list(dict.fromkeys(rows[across]))
    ys = list(dict.fromkeys(rows[down]))
    cells = np.full((len(ys), len(xs)), np.nan)
    for x, y, value in zip(rows[across], rows[down], rows["mean"].to_numpy(float) * scale, strict=True):
        cells[ys.index(y), xs.index(x)] = value
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


def _sorted_dots(ax: Axes, rows: pd.DataFrame, fields: list[str], scale: float, kpi_label: str) -> None:
    names = short_names(fields)
    rows = rows.assign(_mean=rows["mean"]).sort_values("_mean", kind="stable", na_position="first")
    mean, low, high = (rows[c].to_numpy(float) * scale for c in ("mean", "ci_low", "ci_high"))
    ranks = np.arange(len(rows))
    ax.errorbar(mean, ranks, xerr=[mean - low, high - mean], fmt="o", markersize=3, capsize=2,
                elinewidth=0.8)
    if len(rows) <= MAX_DOT_LABELS:
        labels = [", ".join(f"{names[f]}={_text(v)}" for f, v in zip(fields, values, strict=True))
                  for values in rows[fields].itertuples(index=False)]
        ax.set_yticks(ranks, labels, fontsize=7)
    else:
        ax.set_ylabel(f"{len(rows)} points, sorted by the KPI")
    ax.set_xlabel(kpi_label)
    ax.grid(axis="x", alpha=0.3)


def summary_chart(table: pd.DataFrame, fields: list[str], path: str | Path, kpi: str,
                  title: str = "") -> Path:
    """Draw one KPI across a sweep's grid and save it as a PNG.

    Parameters
    ----------
    table
        A sweep table (:func:`asdsim.experiments.sweep.run_sweep`): ``point``, the varied fields, ``kpi``,
        ``mean``, ``ci_low``, ``ci_high``, ``unit``.
    fields
        The varied fields, in the grid's order.
    path
        Where to write the PNG (written under a temporary name, then renamed).
    kpi
        The KPI to draw.
    title
        A line above the chart.

    Returns
    -------
    Path
        The file written.

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
    mean_label = f"{kpi} ({'%' if percent else unit}), mean"
    kpi_label = f"{mean_label} and 95% CI"
    names = short_names(fields)
    if len(fields) == 1:
        fig = Figure(figsize=(8, 5), layout="constrained")
        _one_field(fig.add_subplot(), rows, fields[0], fields[0], scale, kpi_label)
    elif len(fields) == 2:
        fig = Figure(figsize=(9, 6), layout="constrained")
        ax = fig.add_subplot()
        image = _heatmap(ax, rows, (fields[0], fields[1]), (names[fields[0]], names[fields[1]]), scale,
                         percent, _limits(rows["mean"].to_numpy(float) * scale, percent))
        fig.colorbar(image, ax=ax, label=mean_label)
    elif len(fields) == 3 and rows[fields[2]].nunique() <= MAX_PANELS:
        # small multiples: one heatmap per value of the third field, on one colour scale
        panels = list(dict.fromkeys(rows[fields[2]]))
        fig = Figure(figsize=(3.6 * len(panels) + 1.5, 4.5), layout="constrained")
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        limits = _limits(rows["mean"].to_numpy(float) * scale, percent)
        for ax, value in zip(axes, panels, strict=True):
            image = _heatmap(ax, rows[rows[fields[2]] == value], (fields[0], fields[1]),
                             (names[fields[0]], names[fields[1]]), scale, percent, limits)
            ax.set_title(f"{names[fields[2]]} = {_text(value)}", fontsize=9)
            if ax is not axes[0]:
                ax.set_ylabel("")
        fig.colorbar(image, ax=list(axes), label=mean_label)
    else:
        height = 5 if len(rows) > MAX_DOT_LABELS else max(4.0, 0.25 * len(rows) + 1.5)
        fig = Figure(figsize=(9, height), layout="constrained")
        _sorted_dots(fig.add_subplot(), rows, fields, scale, kpi_label)
    if title:
        fig.suptitle(title, fontsize=10)
    path = Path(path)
    temporary = path.with_name(f".tmp-{path.stem}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        fig.savefig(temporary, dpi=120, format="png")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
