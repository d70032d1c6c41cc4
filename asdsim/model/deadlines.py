"""When waiting children withdraw, age out or cross their team's age boundary: their deadlines.

:class:`Deadlines` keeps them for :class:`~asdsim.model.pathway.Pathway`, which sets a child's
deadline when it joins a list and ends its case when the deadline passes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from asdsim.model.case import Case
from asdsim.model.runtime import Clock


class Deadlines:
    """When waiting children withdraw, age out or cross their team's age boundary.

    Each deadline is years away for most children, who start long before it; a clock event for
    each would mostly fire void and crowd the clock's queue. So deadlines wait in their own
    heap, a deadline whose case has started (or closed) is dropped when it reaches the top, and
    the clock holds an event only for the earliest deadline of a case still waiting. Each
    deadline still passes at its own time, as a timer set when the child joined would.
    """

    def __init__(self, env: Clock, expire: Callable[[Case, str], None]):
        self.env = env
        self.expire = expire
        self.heap: list[tuple[float, int, Case, str]] = []
        self._armed: set[float] = set()  # times the clock holds an event of this heap at
        self._seq = 0

    def add(self, at: float, case: Case, reason: str) -> None:
        """The case's deadline is ``at`` (later than now), when it ends with ``reason``."""
        self._seq += 1
        heapq.heappush(self.heap, (at, self._seq, case, reason))
        self._arm()

    def _arm(self) -> None:
        heap = self.heap
        while heap and not heap[0][2].not_started:  # started or closed: it would pass void
            heapq.heappop(heap)
        if heap and heap[0][0] not in self._armed:
            self._armed.add(heap[0][0])
            self.env.call_at(heap[0][0], self._due)

    def dispose(self) -> None:
        """Forget the deadlines, the clock and the pathway (see
        :meth:`asdsim.model.pathway.Pathway.dispose`)."""
        self.heap = []
        self.env = None  # type: ignore[assignment]
        self.expire = None  # type: ignore[assignment]

    def _due(self) -> None:
        now = self.env.now
        self._armed.discard(now)
        heap = self.heap
        while heap and heap[0][0] <= now:
            _, _, case, reason = heapq.heappop(heap)
            self.expire(case, reason)
        self._arm()

