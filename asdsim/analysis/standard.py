"""The 3-month standard, judged quarter by quarter: one definition for the report and the plan.

NICE QS51 as the report states it: at least ``level`` (90% by default) of each quarter's
referrals start assessment within 3 months, from a given quarter on, every later quarter whose
3-month window has closed included. A quarter is judged on its share
(``assessment_started_within_3_months[2020Q4]``) only when the window of every one of its
referrals has closed by the horizon (:func:`complete`): a quarter cut by the horizon has a share
over its first few days of referrals only, too few to judge the standard by.

The report's verdict ("meets the standard from QUARTER") is :func:`meets_from` of each
quarter's mean share, and "with 95% confidence" is :func:`surely_met_from` of each quarter's
lower confidence bound. The plan's ``nice_standard`` target is :func:`met_from` of each
replication's quarter shares (the share rule) or :func:`surely_met_from` of each quarter's lower
confidence bound (the ``lower_ci`` rule), so the plan and the report cannot disagree on what
meeting the standard means.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import pandas as pd

from asdsim.analysis.cohorts import MONTHS_3, referral_periods
from asdsim.analysis.definitions import HEADLINE
from asdsim.scenario.schema import Scenario

LEVEL = 0.9
"""The share of each quarter's referrals that must start assessment within 3 months."""


def quarter_of(day: dt.date) -> str:
    """The quarter of a date, as the KPI tables label it: ``2020Q4``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_kpi(quarter: str) -> str:
    """The KPI name of a quarter's 3-month share: ``assessment_started_within_3_months[2020Q4]``."""
    return f"{HEADLINE}[{quarter}]"


def _order(quarter: str) -> pd.Period:
    return pd.Period(quarter, freq="Q")


def worst_from(shares: Mapping[str, float], quarter: str) -> float:
    """The lowest share among the quarters from ``quarter`` on that have one (NaN if none has).

    Parameters
    ----------
    shares
        A share (0-1, or NaN where the quarter was not judged) by quarter label (``2020Q4``).
    quarter
        The first quarter judged.
    """
    first = _order(quarter)
    judged = [float(v) for q, v in shares.items()
              if _order(q) >= first and v is not None and not math.isnan(float(v))]
    return min(judged) if judged else math.nan


def reaches(share: float, level: float = LEVEL) -> bool:
    """Whether a quarter's share (or the worst of several) reaches the level (NaN never does)."""
    return not math.isnan(share) and share >= level


def met_from(shares: Mapping[str, float], quarter: str, level: float = LEVEL) -> bool:
    """Whether the standard is met from ``quarter``: every quarter from it on that has a share
    reaches ``level``, and at least one does (nothing judged is not met)."""
    return reaches(worst_from(shares, quarter), level)


def surely_met_from(ci_lows: Mapping[str, float], quarter: str, level: float = LEVEL) -> bool:
    """Whether the standard is met from ``quarter`` with 95% confidence: the lower confidence
    bound of every judged quarter from it on reaches ``level``. ``ci_lows`` holds the judged
    quarters only; a NaN bound (too few replications to tell) is not met."""
    lows = {q: (-math.inf if v is None or math.isnan(float(v)) else float(v))
            for q, v in ci_lows.items()}
    return met_from(lows, quarter, level)


def meets_from(shares: Mapping[str, float], level: float = LEVEL) -> str | None:
    """The earliest quarter from which the standard is met (:func:`met_from`), or None."""
    earliest = None
    for quarter in sorted((q for q, v in shares.items() if not math.isnan(float(v))), key=_order,
                          reverse=True):
        if not met_from(shares, quarter, level):
            break
        earliest = quarter
    return earliest


def complete(scenario: Scenario, quarter: str) -> bool:
    """Whether every referral of a quarter (up to its last instant) has its 3-month window closed
    by the scenario's horizon, so that the quarter's share counts all its referrals.

    A quarter cut by the horizon has a share over its first referrals only (a run ending on
    3 April judges its first quarter on the referrals of 1 and 2 January); such a share is too
    small a sample to judge the standard by, so the report and the plan leave it out.
    """
    end = (_order(quarter) + 1).start_time.date()
    return (end - scenario.start_date).days + MONTHS_3 <= scenario.horizon_days


def complete_shares(scenario: Scenario, shares: Mapping[str, float]) -> dict[str, float]:
    """``shares`` (by quarter label) without the quarters that are not :func:`complete`."""
    return {q: v for q, v in shares.items() if complete(scenario, q)}


def judged_quarters(scenario: Scenario, first: str) -> list[str]:
    """The quarters from ``first`` on that the standard is judged on: those whose every referral
    has its 3-month window closed by the scenario's horizon (:func:`complete`)."""
    out = []
    for quarter in referral_periods(scenario, pd.Series([], dtype=float).to_numpy()):
        if "Q" not in quarter or _order(quarter) < _order(first):
            continue
        if complete(scenario, quarter):
            out.append(quarter)
    return sorted(out, key=_order)
