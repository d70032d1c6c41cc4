"""The tornado chart of a one-at-a-time sensitivity analysis."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asdsim.reporting.formatting import kpi_label


def _path_lines(path: str, width: int = 34) -> str:
    """A dotted field path on lines of at most ``width`` characters, broken after a dot."""
    lines = [""]
    for i, part in enumerate(path.split(".")):
        piece = part if i == 0 else "." + part
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append(piece)
        else:
            lines[-1] += piece
    return "\n".join(lines)


def tornado(runs: pd.DataFrame, ranking: pd.DataFrame, kpi: str, unit: str, baseline: float,
            replications: int, warnings: Sequence[str] = ()) -> Figure:
    """Each input's low and high change of the KPI from the baseline, largest change at the top.

    The low and the high run are drawn as separate bars from zero, each with its own paired 95%
    interval, so an input that moves the KPI one way only shows one bar (and a tick at zero for
    the other side, so "no change" is drawn, not left blank). For a share, an interval is drawn
    only as far as the change can go (the changed share stays within 0-100%); ``ranking.csv``
    keeps the t interval as computed.

    Parameters
    ----------
    runs
        One row per input and side: input, side, value, diff_mean, diff_ci_low, diff_ci_high
        (paired differences from the baseline).
    ranking
        Inputs in rank order (input, low_value, high_value).
    kpi, unit, baseline, replications
        For the labels.
    warnings
        Shown under the title (the baseline KPI at 0% or 100%, say).

    Returns
    -------
    matplotlib.figure.Figure
        Bars from the baseline to each side's mean change, with the paired 95% intervals.
    """
    n = len(ranking)
    notes = [line for w in warnings for line in textwrap.wrap(f"Warning: {w}", 120)]
    fig = Figure(figsize=(9, 1.9 + 0.5 * max(n, 1) + 0.18 * len(notes)))
    ax = fig.subplots()
    scale = 100.0 if unit == "share" else 1.0
    y = np.arange(n)[::-1]
    for side, colour, offset in (("low", "#0072B2", 0.18), ("high", "#D55E00", -0.18)):
        part = runs[runs.side == side].set_index("input").reindex(ranking.input)
        mean = part.diff_mean.to_numpy(dtype=float) * scale
        low = part.diff_ci_low.to_numpy(dtype=float) * scale
        high = part.diff_ci_high.to_numpy(dtype=float) * scale
        if unit == "share":  # a mean share stays within 0-100%, so its change within these
            low = np.maximum(low, -100.0 * baseline)
            high = np.minimum(high, 100.0 * (1.0 - baseline))
        err = np.clip(np.vstack([mean - low, high - mean]), 0.0, None)
        ax.barh(y + offset, mean, height=0.34, color=colour, alpha=0.85,
                label=f"{side} value of the input")
        ax.errorbar(mean, y + offset, xerr=np.nan_to_num(err), fmt="none", ecolor="0.2",
                    capsize=2, lw=0.8)
        ax.plot(mean, y + offset, linestyle="none", marker="|", markersize=9, color=colour)
    labels = [_path_lines(str(row.input)) + f"\n(low {row.low_value:g}, high {row.high_value:g})"
              for row in ranking.itertuples()]
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(0, color="0.3", lw=0.8)
    what = "percentage points" if unit == "share" else unit
    shown = f"{100 * baseline:.1f}%" if unit == "share" else f"{baseline:.3g} {unit}"
    ax.set_xlabel("\n".join(textwrap.wrap(
        f"change in {kpi_label(kpi).lower()} from the baseline {shown} ({what})", 90)))
    ax.set_ylabel("input changed (its low and high value)")
    title = ("One input at a time, common random numbers, "
             f"{replications} replication{'s' if replications != 1 else ''}\n"
             "bars: mean change from the baseline; lines: 95% CI of the paired difference")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # off the bars
    if notes:
        fig.text(0.01, 0.01, "\n".join(notes), fontsize=8, color="#8a1c00", va="bottom")
    fig.tight_layout(rect=(0, 0.18 * len(notes) / fig.get_figheight() + (0.01 if notes else 0),
                           1, 1))
    return fig
