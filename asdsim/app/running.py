"""Running designs from the page: the size cap's message, and waiting on the shared engine
with progress and the place in the queue (the work runs in its worker processes).
"""

from __future__ import annotations

import re
import time
from typing import Any

import streamlit as st

from asdsim.app import settings
from asdsim.app.engine import Job, QueueFull, get_engine
from asdsim.app.sizing import expected_children
from asdsim.scenario.loading import scenario_hash
from asdsim.scenario.schema import Scenario

# (Comments, not docstrings, below: Streamlit's "magic" would show a bare string on the page.)

POLL_SECONDS = 0.25
MAX_WAIT_SECONDS = 3600.0  # a page stops waiting after an hour (the run still finishes, cached)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: str) -> str:
    """Text shown as itself in Markdown (a scenario's name may hold ``*``, ``[`` or ``<``)."""
    return _MARKDOWN.sub(r"\\\1", text)


def size_message(scenario: Scenario, replications: int) -> str | None:
    """Why a run is too large, or None."""
    children = expected_children(scenario, replications)
    limit = settings.max_children()
    if children <= limit:
        return None
    per_rep = children / replications
    return (f"This run is too large: {replications} replications × {scenario.horizon_weeks} weeks "
            f"× about {scenario.demand.referrals_per_week:g} referrals a week (with growth and the "
            f"starting list, about {per_rep:,.0f} children a replication) come to about "
            f"{children:,} children simulated, over this server's limit of {limit:,}. "
            f"Use fewer replications (at most {max(limit // max(int(per_rep), 1), 0):,}), a "
            "shorter horizon or less demand.")


def follow(jobs: dict[str, Job], what: str) -> bool:
    """Show the jobs' progress (or their place in the queue) until they end; True when all are
    done. The page only waits: the work runs in the shared worker processes."""
    engine = get_engine()
    started = time.monotonic()
    bar = st.progress(0.0, text="Starting")
    try:
        while True:
            states = [engine.status(job) for job in jobs.values()]
            failed = [s for s in states if s.state == "failed"]
            if failed:
                bar.empty()
                st.error(f"The run failed: {md(str(failed[0].error))}")
                return False
            done = sum(s.done for s in states)
            total = sum(s.total for s in states)
            if all(s.state == "done" for s in states):
                bar.empty()
                return True
            places = [s.position for s in states if s.position is not None]
            if places and not any(s.state == "running" for s in states):
                text = (f"Waiting for a free worker: place {min(places)} in the queue "
                        f"(at most {engine.max_running} runs at once)")
            else:
                text = f"{what}: {done} of {total}"
            bar.progress(min(done / max(total, 1), 1.0), text=text)
            if time.monotonic() - started > MAX_WAIT_SECONDS:
                st.error("Stopped waiting after an hour; the run finishes into the cache, so "
                         "press Run again later.")
                return False
            pending = next(job for job, s in zip(jobs.values(), states, strict=True)
                           if s.state != "done")
            engine.wait(pending, POLL_SECONDS)
    finally:
        for job in jobs.values():
            engine.release(job)


def run(designs: dict[str, Scenario], seed: int, replications: int,
        scope: str | None) -> dict[str, Any] | None:
    """Ask the shared engine for every design, showing progress and the place in the queue."""
    engine = get_engine()
    started = time.monotonic()
    jobs: dict[str, Job] = {}
    try:
        for name, scenario in designs.items():
            jobs[name] = engine.submit(scenario, seed, replications, scope)
    except QueueFull as exc:
        for job in jobs.values():
            engine.release(job)
        st.warning(f"The server is busy: {md(str(exc))}")
        return None
    if not follow(jobs, "Simulating: replications done"):
        return None
    edited = list(designs.values())[-1]
    return {"results": {name: job.results for name, job in jobs.items()},
            "seconds": time.monotonic() - started,
            "cached": all(job.cached for job in jobs.values()),
            "baseline": next(iter(designs)) if len(designs) > 1 else None,
            "edited": edited, "replications": replications, "seed": seed,
            "question": (scenario_hash(edited), seed, replications)}
