"""Running a replication fast: Python's cyclic garbage collector paused while it runs.

A replication allocates hundreds of thousands of small objects (children, cases, events, heap
entries) that all live until it ends, so the collector's passes over them find nothing to free
and cost about a third of the run time. The collector is paused for the run and for turning its
results into arrays, and restored afterwards (reference counting still frees everything that
is not in a cycle at once).
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
