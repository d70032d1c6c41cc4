"""The app's settings, read from the environment (``asdsim app`` sets them before the server starts).

The page never takes a file path or a limit from the browser: the folder of extra scenarios and
the limits come from here only.
"""

from __future__ import annotations

import os
from pathlib import Path

SCENARIOS_ENV = "ASDSIM_APP_SCENARIOS"
"""A folder of scenario files to offer beside the shipped ones (``asdsim app --scenarios DIR``)."""
MAX_CHILDREN_ENV = "ASDSIM_APP_MAX_CHILDREN"
"""The largest run accepted, in children simulated (replications x horizon x demand)."""
WORKERS_ENV = "ASDSIM_APP_WORKERS"
"""Worker processes of the shared pool, and simulations run at once (default: one per CPU)."""

DEFAULT_MAX_CHILDREN = 400_000
"""Default size cap of one run: about 10 s of two cores, and 300 MB of tables at most."""
MAX_REPLICATIONS = 100
"""Most replications the page offers."""
MAX_YAML_BYTES = 1_000_000
"""Largest scenario file accepted (the CLI's limit)."""
MAX_CSV_BYTES = 50_000_000
"""Largest snapshot accepted (the CLI's limit)."""


def _positive_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        return default
    return value if value > 0 else default


def scenarios_dir() -> Path | None:
    """The folder given with ``--scenarios``, or None."""
    text = os.environ.get(SCENARIOS_ENV, "").strip()
    return Path(text) if text else None


def max_children() -> int:
    """The size cap of one run, in children simulated over all its replications."""
    return _positive_int(MAX_CHILDREN_ENV, DEFAULT_MAX_CHILDREN)


def workers() -> int:
    """Worker processes of the shared pool (and simulations run at once)."""
    return _positive_int(WORKERS_ENV, os.cpu_count() or 1)
