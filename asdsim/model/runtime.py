"""Running a replication fast: Python's cyclic garbage collector paused while it runs.

A replication allocates hundreds of thousands of small objects (children, cases, events, heap
entries) that all live until it ends, so the collector's passes over them find nothing to free
and cost about a third of the run time. The collector is paused while a replication is built,
run and turned into arrays, and restored afterwards. Before it is restored,
:meth:`asdsim.model.pathway.Pathway.dispose` breaks the run's reference cycles (a child and its
case, the teams and the pathway, the clock and the events still due), so reference counting
frees the whole run at once and the collector, back on, has nothing of it to scan (a test
checks this).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block, if it was running, and restore it."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()
