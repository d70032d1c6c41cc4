"""A known truth to fit: the monthly counts one run of a scenario gives, as an area publishes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from asdsim.analysis.validation import point_values
from asdsim.experiments.runner import run_replication
from asdsim.scenario.schema import ObservedPoint, Scenario


def month_end_points(scenario: Scenario, stocks: Sequence[str] = ("awaiting_assessment",),
                     flows: Sequence[str] = ("assessments_started",)
                     ) -> tuple[ObservedPoint, ...]:
    """Points at every month end within the horizon (value 0): each stock counted on the
    month's last day and each flow over the calendar month, as an area publishes monthly
    counts. Fill their values with :func:`observe`."""
    out: list[ObservedPoint] = []
    day = scenario.start_date
    while True:
        first = day.replace(day=1)
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        end = nxt - dt.timedelta(days=1)
        if end > scenario.end_date:
            return tuple(out)
        for measure in stocks:
            out.append(ObservedPoint(date=end, measure=measure, value=0,  # type: ignore[arg-type]
                                     source="simulated"))
        if first >= scenario.start_date:
            for measure in flows:
                out.append(ObservedPoint(date=end, measure=measure, value=0,  # type: ignore[arg-type]
                                         period_start=first, source="simulated"))
        day = nxt


def observe(scenario: Scenario, points: Sequence[ObservedPoint], seed: int,
            replication: int = 0) -> tuple[ObservedPoint, ...]:
    """The points with the values one run of the scenario gives them: what an area that ran as
    the scenario says would have published (a known truth to fit)."""
    values = point_values([run_replication(scenario, seed, replication)], scenario, points)[0]
    return tuple(p.model_copy(update={"value": float(v)}) for p, v in zip(points, values,
                                                                            strict=True))
