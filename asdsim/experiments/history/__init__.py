"""History matching: fit what an area never published to the counts it did publish.

Every area knows its monthly list counts and referrals; almost none knows its effective capacity
week by week. :func:`history_match` fits, by simulation, a capacity factor per period for each
team and optionally a referral-rate factor, to every observed point at once. The package's
modules: :mod:`~asdsim.experiments.history.levers` (what can be fitted and how it changes a
scenario), :mod:`~asdsim.experiments.history.fit` (the loss, the optimiser, the intervals and
what is not identified), :mod:`~asdsim.experiments.history.output` (the fitted scenario and its
report) and :mod:`~asdsim.experiments.history.truth` (a known truth to fit).
"""

from asdsim.experiments.history.fit import (
    COV_REPLICATIONS,
    DIFF_STEP,
    LEVEL,
    MAX_EVALUATIONS,
    MAX_SE,
    SMOOTHING,
    HistoryMatch,
    history_match,
    smoothing_offsets,
)
from asdsim.experiments.history.levers import (
    LOG_BOUNDS,
    Fit,
    Lever,
    apply_factors,
    capacity_teams,
    factor_data,
    period_starts,
)
from asdsim.experiments.history.output import write_history, write_history_report, yaml_text
from asdsim.experiments.history.truth import month_end_points, observe

__all__ = [
    "COV_REPLICATIONS", "DIFF_STEP", "LEVEL", "LOG_BOUNDS", "MAX_EVALUATIONS", "MAX_SE",
    "SMOOTHING", "Fit", "HistoryMatch", "Lever", "apply_factors", "capacity_teams", "factor_data",
    "history_match", "month_end_points", "observe", "period_starts", "smoothing_offsets",
    "write_history", "write_history_report", "yaml_text",
]
