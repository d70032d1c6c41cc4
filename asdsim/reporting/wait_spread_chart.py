"""The simulated spread of waits against published ones (the scenario's ``published_waits``).

A model whose children all wait about the same reproduces a list's mean and misses what
families see: some seen within weeks, others after years. This chart and its table set the
simulated distribution of completed waits (:mod:`asdsim.analysis.waitspread`) against each
published spread: its quantiles and coefficient of variation (sd/mean), for the wait it describes.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from asdsim.analysis.results import Results
from asdsim.analysis.waitspread import QUANTILES, WaitSpread, wait_spread
from asdsim.reporting.charts import OKABE_ITO
from asdsim.scenario.schema import PublishedWaits

STANDARD_WEEKS = 13.0
"""The 13-week mark (NICE's recommended start of assessment; the national autism waiting-time
measure), shown on the chart and counted in the table."""
_TITLES = {
    "referral_to_first_appointment": "referral to first appointment",
    "referral_to_assessment_start": "referral to assessment start",
    "referral_to_diagnosis": "referral to diagnosis",
}


def simulated_spreads(results: Results) -> list[tuple[PublishedWaits, WaitSpread]]:
    """Each published spread of the scenario with the run's spread of the same wait (empty
    without ``published_waits``)."""
    pairs = []
    for published in results.scenario.published_waits:
        probabilities = sorted({*QUANTILES, *(q.probability for q in published.quantiles)})
        pairs.append((published, wait_spread(results.records, results.scenario, published.measure,
                                             probabilities)))
    return pairs


def _rows(published: PublishedWaits, spread: WaitSpread) -> list[tuple[str, str, float, float]]:
    given = {q.probability: q.weeks for q in published.quantiles}
    rows = [(f"q{p:g}", "weeks", weeks, given.get(p, math.nan)) for p, weeks in spread.quantiles.items()]
    within = next((q.probability for q in published.quantiles if q.weeks == STANDARD_WEEKS), math.nan)
    rows += [
        ("share_within_13_weeks", "share", spread.share_within(STANDARD_WEEKS), within),
        ("mean", "weeks", spread.mean, math.nan),
        ("sd", "weeks", spread.sd, math.nan),
        ("cv", "ratio", spread.cv, math.nan if published.cv is None else published.cv),
        ("waits", "children", float(spread.n), math.nan),
    ]
    return rows


def wait_spread_table(results: Results) -> pd.DataFrame | None:
    """One row per figure of each published spread: each quantile (``statistic`` ``q0.5`` ...),
    the share within 13 weeks, the mean, sd and cv, with the simulated value and the published
    one where the source gives it, and the wait (``measure``) and ``source``. None without
    ``published_waits``."""
    pairs = simulated_spreads(results)
    if not pairs:
        return None
    tables = [pd.DataFrame(_rows(published, spread),
                           columns=["statistic", "unit", "simulated", "published"])
              .assign(measure=published.measure, source=published.source)
              for published, spread in pairs]
    return pd.concat(tables, ignore_index=True)


def _panel(ax, published: PublishedWaits, spread: WaitSpread) -> None:
    waits = np.sort(spread.waits_weeks)
    if waits.size:
        share = np.arange(1, waits.size + 1) / waits.size
        ax.step(waits, share, where="post", color=OKABE_ITO[0],
                label=f"simulated ({spread.n:,} waits, cv {spread.cv:.2f})")
    if published.quantiles:
        ax.plot([q.weeks for q in published.quantiles], [q.probability for q in published.quantiles],
                "o", color=OKABE_ITO[1], markersize=8, label="published")
    ax.axvline(STANDARD_WEEKS, color="0.5", linestyle=":", linewidth=1)
    ax.text(STANDARD_WEEKS, 1.01, " 13 weeks", color="0.35", fontsize=8, va="bottom")
    ax.set_ylim(0, 1.05)
    ax.set_xlim(left=0)
    ax.set_xlabel(f"weeks from {_TITLES[published.measure]}")
    ax.set_ylabel("share of completed waits")
    title = f"{_TITLES[published.measure].capitalize()}: simulated cv {spread.cv:.2f}"
    if published.cv is not None:
        title += f", published cv {published.cv:.2f}"
    ax.set_title(title + "\n" + textwrap.fill(f"Published: {published.source}", 120), fontsize=9)
    ax.legend(loc="lower right", fontsize=8)


def wait_spread_chart(results: Results) -> Figure | None:
    """One panel per published spread: the share of completed waits no longer than each number
    of weeks (simulated, pooled over replications), the published quantiles as points, and both
    coefficients of variation in the title. None without ``published_waits``."""
    pairs = simulated_spreads(results)
    if not pairs:
        return None
    fig = Figure(figsize=(8, 4.4 * len(pairs)))
    axes = fig.subplots(len(pairs), 1, squeeze=False)[:, 0]
    for ax, (published, spread) in zip(axes, pairs, strict=True):
        _panel(ax, published, spread)
    fig.tight_layout()
    return fig
