"""The tornado chart of a one-at-a-time sensitivity analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asdsim.reporting.formatting import kpi_label


def tornado(runs: pd.DataFrame, ranking: pd.DataFrame, kpi: str, unit: str, baseline: float,
            replications: int) -> Figure:
    """Each input's low and high change of the KPI from the baseline, largest swing at the top.

    Parameters
    ----------
    runs
        One row per input and side: input, side, value, diff_mean, diff_ci_low, diff_ci_high
        (paired differences from the baseline).
    ranking
        Inputs in rank order (input, low_value, high_value).
    kpi, unit, baseline, replications
        For the labels.

    Returns
    -------
    matplotlib.figure.Figure
        Bars from the baseline to each side's mean change, with the paired 95% intervals.
    """
    n = len(ranking)
    fig = Figure(figsize=(9, 1.2 + 0.45 * max(n, 1)))
    ax = fig.subplots()
    scale = 100.0 if unit == "share" else 1.0
    y = np.arange(n)[::-1]
    for side, colour, offset in (("low", "#0072B2", 0.18), ("high", "#D55E00", -0.18)):
        part = runs[runs.side == side].set_index("input").reindex(ranking.input)
        mean = part.diff_mean.to_numpy() * scale
        err = np.vstack([mean - part.diff_ci_low.to_numpy() * scale,
                         part.diff_ci_high.to_numpy() * scale - mean])
        ax.barh(y + offset, mean, height=0.34, color=colour, alpha=0.85,
                label=f"{side} value")
        ax.errorbar(mean, y + offset, xerr=np.nan_to_num(err), fmt="none", ecolor="0.2", capsize=2, lw=0.8)
    labels = [f"{row.input}\n({row.low_value:g} / {row.high_value:g})" for row in ranking.itertuples()]
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(0, color="0.3", lw=0.8)
    what = "percentage points" if unit == "share" else unit
    shown = f"{100 * baseline:.1f}%" if unit == "share" else f"{baseline:.3g} {unit}"
    ax.set_xlabel(f"change in {kpi_label(kpi)} ({what}) from the baseline {shown}")
    ax.set_title(f"One at a time, common random numbers, {replications} replications; bars: mean, "
                 "lines: 95% CI of the paired difference", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
