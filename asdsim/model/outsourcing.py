"""Capacity bought outside the teams: time-limited blocks of outsourced assessments.

A block buys up to N assessments a month between two dates, each for the child on its team's
list who was referred longest ago, unless the block's stop rule says the list is short enough
that month. An outsourced child's first appointment, start, outcome and exit follow from the day
it was taken, so one clock process per block is all it needs.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Generator

from asdsim.model.teams import Host, TeamRunner
from asdsim.scenario.schema import OutsourcedBlock


class Purchases:
    """What a replication's blocks bought, and what their stop rules left unspent."""

    def __init__(self) -> None:
        self.cost_gbp = 0.0
        self.bought: list[tuple[float, float]] = []
        """(day, price) of each outsourced assessment bought."""
        self.skipped: list[tuple[float, float]] = []
        """(day, money not spent) of each month a block's stop rule skipped."""


def buy_outsourced(host: Host, block: OutsourcedBlock, team: TeamRunner, start_date: dt.date,
                   purchases: Purchases) -> Generator:
    """The clock process of one block: on each month's buying day, take the longest waiting.

    Parameters
    ----------
    host
        The pathway: its clock, horizon, the children's outcome uniforms and the exit path.
    block
        The block.
    team
        The team whose list the block takes children from.
    start_date
        The scenario's start (day 0).
    purchases
        Where the purchases and the skipped months are recorded.
    """
    env = host.env
    date = block.start_date
    while date <= block.end_date:
        delay = float((date - start_date).days) - env.now
        if delay > 0:
            yield env.timeout(delay)
        now = env.now
        date = _add_month(date)
        if now >= host.horizon:
            return
        if skip_purchase(block, team, now):
            purchases.skipped.append((now, block.price_gbp * block.assessments_per_month))
            continue
        for case in team.take_longest_waiting(block.assessments_per_month):
            child = case.child
            child.outsourced = True
            child.first_appointment_day = now + block.first_appointment_after_days
            child.assessment_started_day = child.first_appointment_day
            done = now + block.turnaround_days
            child.outcome = team.definite_outcome(float(host.draws.outcome[child.id, 1]))
            child.diagnosis_day = done
            purchases.cost_gbp += block.price_gbp
            purchases.bought.append((now, block.price_gbp))
            host.release(child, "assessed", done)


def skip_purchase(block: OutsourcedBlock, team: TeamRunner, now: float) -> bool:
    """Whether a block's stop rule says to buy nothing this month."""
    waiting = team.list.waiting()
    if block.skip_when_list_under is not None and len(waiting) < block.skip_when_list_under:
        return True
    if block.skip_when_longest_wait_under_weeks is not None:
        longest = max((now - c.child.referral_day for c in waiting), default=0.0)
        return longest < 7.0 * block.skip_when_longest_wait_under_weeks
    return False


def _add_month(date: dt.date) -> dt.date:
    year, month0 = divmod(date.year * 12 + date.month, 12)  # month0: next month, 0-based
    month = month0 + 1
    return dt.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))
