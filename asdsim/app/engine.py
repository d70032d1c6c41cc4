"""Where the app's simulations run: one pool of worker processes shared by every session.

A page never simulates in its own thread. It asks the :class:`Engine` for a run; the engine
answers from its cache when the same scenario (by :func:`asdsim.scenario_hash`), seed and
replications were run before, joins a run already under way for the same question, or queues a
new one. At most ``max_running`` runs are under way at once; the rest wait in order, and a page
can show a waiting run's place in the queue. A run under way sends its replications to the pool
one task each (:func:`asdsim.experiments.runner.run_replication`, the function
:func:`asdsim.simulate` runs), so its tables are exactly those of ``asdsim.simulate`` with the
same seed and replications, whatever the pool's size.

Runs of a scenario built from an upload are cached under the uploading session's scope, so no
other session can be answered from them.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import platform
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy
import simpy

from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.results import Results
from asdsim.app.sizing import expected_children as expected_children  # the plan page imports it from here
from asdsim.errors import AsdsimError
from asdsim.experiments.backends import Backend, TaskFailed, map_submitted
from asdsim.experiments.runner import run_replication
from asdsim.scenario.loading import scenario_hash
from asdsim.scenario.schema import Scenario


class QueueFull(AsdsimError):
    """Too many runs are waiting; the page asks the user to try again shortly."""


@dataclass(frozen=True)
class RunKey:
    """What identifies a run in the cache."""

    scenario_hash: str
    seed: int
    replications: int
    scope: str | None = None
    """None for a run anyone may be answered from; a session's id for one from its upload."""


@dataclass(eq=False)
class Job:
    """One run: queued, running, done or failed.

    Attributes are read by pages while the pool's threads update them; a page reads
    :meth:`Engine.status`, which copies them under the engine's lock.
    """

    key: RunKey
    scenario: Scenario
    state: str = "queued"
    done: int = 0
    error: str | None = None
    results: Any = None
    """:class:`~asdsim.Results` of a run, or what a call returned (a plan)."""
    cached: bool = False
    waiters: int = 1
    started: float = 0.0
    call: Callable[[Backend, Callable[..., None]], Any] | None = field(default=None, repr=False)
    """For a call (a plan): run in a server thread with a backend on the shared pool."""
    steps: int | None = None
    """A call's steps of progress (its evaluations); a run's are its replications."""
    records: dict[int, ReplicationRecord] = field(default_factory=dict, repr=False)
    futures: list[Future[Any]] = field(default_factory=list, repr=False)

    @property
    def total(self) -> int:
        """Steps to do: replications, or a call's evaluations."""
        return self.steps if self.steps is not None else self.key.replications


@dataclass(frozen=True)
class Status:
    """A snapshot of a job for a page: state, replications done, place in the queue."""

    state: str
    done: int
    total: int
    position: int | None
    error: str | None
    cached: bool


PRELOAD = ["asdsim.experiments.runner", "asdsim.model.pathway", "asdsim.analysis.record"]
"""Modules the fork server imports once, so each worker forked from it starts at once."""


def _context() -> multiprocessing.context.BaseContext:
    """Start workers with forkserver where there is one: the server's process has threads, and
    forking a process with threads can copy a held lock into the child. The fork server imports
    the simulator once (:data:`PRELOAD`); workers are forked from it already loaded."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _ready() -> int:
    """A worker's first task: nothing, so that it starts (returns its process id)."""
    return os.getpid()


class Engine:
    """A bounded pool of worker processes, a queue of runs and a cache of finished runs.

    Parameters
    ----------
    workers
        Worker processes of the pool.
    max_running
        Runs under way at once (default: ``workers``); later runs wait their turn.
    max_waiting
        Runs allowed to wait; one more raises :class:`QueueFull`.
    max_cached
        Finished runs kept, least recently used dropped first.
    max_cached_children
        Children simulated, summed over the finished runs kept: a bound on the cache's memory.
    """

    def __init__(self, workers: int, max_running: int | None = None, max_waiting: int = 64,
                 max_cached: int = 24, max_cached_children: int = 1_500_000):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.max_running = max_running or workers
        self.max_waiting = max_waiting
        self.max_cached = max_cached
        self.max_cached_children = max_cached_children
        self._lock = threading.Condition()
        self._pool: ProcessPoolExecutor | None = None
        self._waiting: deque[Job] = deque()
        self._active: dict[RunKey, Job] = {}
        self._cache: OrderedDict[RunKey, Results] = OrderedDict()
        self._running = 0
        self.hits = 0
        """Runs answered from the cache."""
        self.computed = 0
        """Runs simulated."""
        self.peak_running = 0
        """Most runs under way at once."""
        self._closed = False
        self._warmed = False

    # ------------------------------------------------------------------ asking

    def submit(self, scenario: Scenario, seed: int, replications: int,
               scope: str | None = None) -> Job:
        """A job answering ``scenario`` with ``seed`` and ``replications``.

        Returns a finished job at once on a cache hit, joins a run already under way for the same
        key, or queues a new run.

        Raises
        ------
        QueueFull
            When ``max_waiting`` runs are already waiting.
        """
        if replications < 1:
            raise ValueError(f"replications must be at least 1, got {replications}")
        key = RunKey(scenario_hash(scenario), int(seed), int(replications), scope)
        return self._enqueue(key, scenario, None, None)

    def submit_call(self, key: RunKey, scenario: Scenario, steps: int,
                    call: Callable[[Backend, Callable[..., None]], Any]) -> Job:
        """A job running ``call(backend, progress)`` in a server thread once its turn comes.

        The backend sends work to the shared pool (:class:`PoolBackend`); ``progress(done,
        total, ...)`` moves the job's progress. Queued, joined and cached like a run.
        """
        return self._enqueue(key, scenario, call, steps)

    def _enqueue(self, key: RunKey, scenario: Scenario,
                 call: Callable[[Backend, Callable[..., None]], Any] | None,
                 steps: int | None) -> Job:
        """A finished job on a cache hit, the job under way for the same key, or a new queued
        one (a run when ``call`` is None)."""
        with self._lock:
            if self._closed:
                raise AsdsimError("the app is shutting down")
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return Job(key, scenario, state="done",
                           done=steps if steps is not None else key.replications, results=hit,
                           cached=True, waiters=0, steps=steps)
            job = self._active.get(key)
            if job is not None:
                job.waiters += 1
                return job
            if len(self._waiting) >= self.max_waiting:
                raise QueueFull(f"{len(self._waiting)} runs are already waiting; try again in a "
                                "minute")
            job = Job(key, scenario, call=call, steps=steps)
            self._active[key] = job
            self._waiting.append(job)
            self._dispatch()
            return job

    def status(self, job: Job) -> Status:
        """The job's state, replications done and place in the queue (1 = next)."""
        with self._lock:
            position = None
            if job.state == "queued":
                position = next((i + 1 for i, j in enumerate(self._waiting) if j is job), None)
            return Status(job.state, job.done, job.total, position, job.error, job.cached)

    def wait(self, job: Job, timeout: float) -> Status:
        """Block up to ``timeout`` seconds for the job to change, then return its status."""
        with self._lock:
            if job.state in ("queued", "running"):
                self._lock.wait(timeout)
        return self.status(job)

    def release(self, job: Job) -> None:
        """The asking page no longer waits for ``job``: a queued run nobody waits for is dropped
        (one under way finishes, into the cache)."""
        with self._lock:
            job.waiters = max(job.waiters - 1, 0)
            if job.waiters == 0 and job.state == "queued" and job in self._waiting:
                self._waiting.remove(job)
                self._active.pop(job.key, None)
                job.state = "failed"
                job.error = "cancelled: nobody was waiting for it"
                self._lock.notify_all()

    def cached(self, key: RunKey) -> Any:
        """The finished run for ``key``, if kept."""
        with self._lock:
            return self._cache.get(key)

    def forget_scope(self, scope: str) -> None:
        """Drop every cached run of a session's uploads."""
        with self._lock:
            for key in [k for k in self._cache if k.scope == scope]:
                del self._cache[key]

    def warm(self) -> None:
        """Start the worker processes now (in the background), so the first run does not wait
        for them; a no-op once they are up."""
        with self._lock:
            if self._closed or self._warmed:
                return
            self._warmed = True
            pool = self._executor()
            for _ in range(self.workers):
                pool.submit(_ready)

    def stats(self) -> dict[str, int]:
        """Counts for a page or a benchmark: running, waiting, cached, hits, computed."""
        with self._lock:
            return {"running": self._running, "waiting": len(self._waiting),
                    "cached": len(self._cache), "hits": self.hits, "computed": self.computed,
                    "peak_running": self.peak_running, "workers": self.workers}

    def shutdown(self) -> None:
        """Stop the workers; runs under way fail."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            for job in list(self._waiting):
                job.state, job.error = "failed", "the app is shutting down"
            self._waiting.clear()
            self._lock.notify_all()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ running

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context())
        return self._pool

    def _dispatch(self) -> None:
        """Start waiting runs while there is room (called with the lock held)."""
        while self._waiting and self._running < self.max_running:
            job = self._waiting.popleft()
            job.state = "running"
            job.started = time.perf_counter()
            self._running += 1
            self.peak_running = max(self.peak_running, self._running)
            if job.call is not None:
                threading.Thread(target=self._run_call, args=(job,), daemon=True,
                                 name=f"asdsim-app-call-{job.key.scenario_hash}").start()
                continue
            try:
                pool = self._executor()
                for r in range(job.total):
                    future = pool.submit(run_replication, job.scenario, job.key.seed, r)
                    job.futures.append(future)
            except (BrokenProcessPool, RuntimeError) as exc:  # a worker died: start afresh
                self._pool = None
                self._warmed = False
                self._fail(job, f"the worker processes stopped ({exc}); run again")
                continue
            for r, future in enumerate(job.futures):
                future.add_done_callback(self._callback(job, r))

    def _run_call(self, job: Job) -> None:
        """Run a call job (in its own thread) and file its result."""
        assert job.call is not None

        def progress(done: int, total: int, *_: Any) -> None:
            with self._lock:
                job.done, job.steps = int(done), max(int(total), 1)
                self._lock.notify_all()

        try:
            result = job.call(PoolBackend(self), progress)
        except Exception as exc:
            cause = exc.__cause__ if isinstance(exc, TaskFailed) and exc.__cause__ else exc
            with self._lock:
                if job.state == "running":
                    self._fail(job, f"{type(cause).__name__}: {cause}")
            return
        with self._lock:
            if job.state != "running":
                return
            job.results = result
            job.done = job.total
            job.state = "done"
            self.computed += 1
            self._keep(job.key, result)
            self._end(job)

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._lock:
            if self._closed:
                raise AsdsimError("the app is shutting down")
            return self._executor().submit(fn, *args)

    def _callback(self, job: Job, replication: int) -> Callable[[Future[Any]], None]:
        def done(future: Future[Any]) -> None:
            self._finished(job, replication, future)
        return done

    def _finished(self, job: Job, replication: int, future: Future[Any]) -> None:
        with self._lock:
            if job.state != "running":
                return
            if future.cancelled():
                self._fail(job, "cancelled")
                return
            error = future.exception()
            if error is not None:
                if isinstance(error, BrokenProcessPool):
                    self._pool = None
                    self._warmed = False
                self._fail(job, f"{type(error).__name__}: {error}")
                return
            job.records[replication] = future.result()
            job.done = len(job.records)
            if job.done == job.total:
                records = [job.records[r] for r in range(job.total)]
                job.results = Results(scenario=job.scenario,
                                      provenance=_provenance(job, records, self.workers),
                                      records=records)
                job.records = {}
                job.futures = []
                job.state = "done"
                self.computed += 1
                self._keep(job.key, job.results)
                self._end(job)
            else:
                self._lock.notify_all()

    def _fail(self, job: Job, message: str) -> None:
        """Mark a running job failed, cancel its other replications (lock held)."""
        job.state, job.error = "failed", message
        for future in job.futures:
            future.cancel()
        job.futures = []
        job.records = {}
        self._end(job)

    def _end(self, job: Job) -> None:
        self._running -= 1
        self._active.pop(job.key, None)
        self._lock.notify_all()
        self._dispatch()

    def _keep(self, key: RunKey, results: Any) -> None:
        self._cache[key] = results
        self._cache.move_to_end(key)

        def children(res: Any) -> int:
            return int(getattr(res, "provenance", {}).get("children_simulated", 0))

        while len(self._cache) > 1 and (
                len(self._cache) > self.max_cached
                or sum(children(r) for r in self._cache.values()) > self.max_cached_children):
            self._cache.popitem(last=False)


T = TypeVar("T")
R = TypeVar("R")


class PoolBackend(Backend):
    """A backend (:mod:`asdsim.experiments.backends`) on the engine's shared pool, for work such
    as a plan that maps a function over items itself. Closing it leaves the pool running."""

    name = "the app's shared pool"

    def __init__(self, engine: Engine):
        self._engine = engine
        self.workers = engine.workers

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(item, fn(item))`` as the shared workers finish them (see
        :meth:`asdsim.experiments.backends.Backend.map_unordered`)."""
        return map_submitted(self._engine._submit, fn, items, self.workers)


def _provenance(job: Job, records: list[ReplicationRecord], workers: int) -> dict[str, Any]:
    """The run's provenance, as :func:`asdsim.simulate` records it."""
    from asdsim import __version__

    return {
        "scenario": job.scenario.name,
        "scenario_hash": job.key.scenario_hash,
        "seed": job.key.seed,
        "replications": job.key.replications,
        "jobs": workers,
        "asdsim_version": __version__,
        "wall_seconds": round(time.perf_counter() - job.started, 3),
        "children_simulated": int(sum(len(r.columns["referral_day"]) for r in records)),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__,
        "simpy": simpy.__version__, "cpu_count": os.cpu_count(),
        "run_by": "asdsim app",
    }


_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> Engine:
    """The engine every session of this server shares (made on first use)."""
    global _ENGINE
    from asdsim.app import settings

    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = Engine(workers=settings.workers())
        return _ENGINE


def reset_engine() -> None:
    """Shut the shared engine down (tests; the next :func:`get_engine` makes a new one)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is not None:
            _ENGINE.shutdown()
        _ENGINE = None
