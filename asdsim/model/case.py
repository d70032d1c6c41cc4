"""A team's view of one child: where the child is in the team's assessment, and what it holds.

A child has at most one open case at a time. A case is opened when the child joins a team's
waiting list and closed when the child leaves that team: by starting elsewhere (a transfer), or
by leaving the pathway. Everything that refers to a case (a waiting-list entry, a scheduled
withdrawal, a booked appointment) checks the case's state when it fires, so closing the case is
all it takes to make every one of them void: no counters to bump by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asdsim.model.child import Child
    from asdsim.model.steps import CompiledStep

WAITING = "waiting"
"""On the team's waiting list, nothing booked."""
BOOKED = "booked"
"""Taken off the list with appointments booked, none attended yet: the family may still withdraw,
and the child may still age out or cross the team's age boundary."""
STARTED = "started"
"""The assessment is under way (an appointment attended, or a caseload slot taken): the child no
longer withdraws, ages out or transfers."""
CLOSED = "closed"
"""The child has left this team: every event that refers to the case is void."""


Booking = tuple[int, list[tuple[int, int, float]], float, float]
"""Hours held for one step, as ``(index, parts, day, at)``: the step's index in the plan, its
parts as (group, week, hours), the day of the appointment, and the clock time it happens
(``day`` as the clock reaches it from the time of booking: the same number, up to rounding).
A plain tuple, as a run books tens of thousands: a class's ``__init__`` cost a tenth of the
booking's time. Each booking is its own object (events and ``Case.judged`` compare by ``is``)."""


class Case:
    """One child's assessment by one team.

    Parameters
    ----------
    child
        The child.
    team
        Name of the team.
    plan
        The team's steps, in order (an uncertain outcome inserts more).
    """

    __slots__ = ("booked", "child", "decide_at", "earliest_day", "judged", "pending", "plan",
                 "settled", "state", "step", "team")

    def __init__(self, child: Child, team: str, plan: tuple[CompiledStep, ...]):
        self.child = child
        self.team = team
        self.state = WAITING
        self.plan = plan
        self.step = 0          # index of the next step to attend
        self.decide_at = -1    # step after which an uncertain outcome is decided
        self.booked: list[Booking] = []  # clinic hours held for steps not yet attended, in order
        self.pending = False   # waiting for a weekly booking pass to book its next steps
        self.earliest_day = 0.0  # with ``pending``: the first day those steps may be booked
        self.judged: Booking | None = None  # the last booking of the bookings last judged ...
        self.settled = False  # ... and whether they were settled (see ClinicTeam._settled)

    @property
    def waiting(self) -> bool:
        """Whether the case is on the waiting list."""
        return self.state == WAITING

    @property
    def not_started(self) -> bool:
        """Whether the child may still withdraw, age out or transfer (waiting, or booked only)."""
        return self.state == WAITING or self.state == BOOKED

    @property
    def closed(self) -> bool:
        """Whether the child has left the team."""
        return self.state == CLOSED
