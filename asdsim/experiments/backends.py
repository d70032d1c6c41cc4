"""Where work runs: this process, local worker processes, or a Dask cluster.

The one way asdsim runs work in parallel: a sweep's points, a simulation's replications
(:mod:`asdsim.experiments.runner`) and the verification checks (:mod:`asdsim.checks.verify`).
Every backend offers the same two things: ``map_unordered(fn, items)``, which yields
``(item, fn(item))`` pairs as they finish, in whatever order they finish, and ``close()``. The
caller makes its results independent of that order (each item carries its own key, and results
are put back in key order), so parallel runs give exactly what serial runs give. At most a small
window of items is in flight at a time, so a grid of thousands of points never sits in memory as
submitted tasks, and a failure stops the work after little waste.

There is no scheduler here: local processes are a :class:`concurrent.futures.ProcessPoolExecutor`
and a cluster is a :class:`dask.distributed.Client`. Dask is an optional extra
(``pip install asdsim[dask]``) and is imported only when a Dask backend is made.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import islice
from typing import Any, Generic, TypeVar

from asdsim.errors import AsdsimError

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 2
"""Items submitted ahead per worker: enough to keep a worker busy while a result travels back."""
DASK_EXTRA = "pip install asdsim[dask]"
WORKER_START_SECONDS = 0.05
"""Wall time a local worker process costs before it does useful work: forking it, its first
task in a cold process, and stopping it. Measured by ``benchmarks/bench_core.py`` (about 0.01 s
to start and stop a worker with nothing to do, and 0.04 to 0.05 s more of CPU time in each
worker's first replication), so parallel work is worth it only when each worker has more than
that to do."""


class BackendError(AsdsimError):
    """A backend cannot be used as asked (Dask not installed, no scheduler at the address)."""


class TaskFailed(AsdsimError, Generic[T]):
    """A work item raised; ``item`` is the item and the original error is the ``__cause__``."""

    def __init__(self, item: T, error: BaseException):
        self.item = item
        super().__init__(f"{type(error).__name__}: {error}")


class Backend:
    """Runs one function over many items; subclasses say where.

    Use as a context manager, or call :meth:`close` when done.
    """

    name = "serial"
    workers = 1

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(item, fn(item))`` for every item, in the order the results arrive.

        Raises
        ------
        TaskFailed
            When ``fn`` raises for an item; items still in flight are cancelled.
        """
        for item in items:
            try:
                result = fn(item)
            except Exception as exc:
                raise TaskFailed(item, exc) from exc
            yield item, result

    def close(self) -> None:
        """Release the workers."""

    def describe(self) -> str:
        """A short description for provenance and the terminal."""
        return f"{self.name}, {self.workers} worker{'s' if self.workers != 1 else ''}"

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def map_submitted(submit: Callable[..., Future[R]], fn: Callable[[T], R], items: Iterable[T],
                  workers: int) -> Iterator[tuple[T, R]]:
    """Yield ``(item, fn(item))`` as futures from ``submit(fn, item)`` finish, keeping
    ``IN_FLIGHT_PER_WORKER`` items a worker in flight (so a long or endless ``items`` is read
    as the work goes). A failed item raises :class:`TaskFailed`; the items still in flight are
    cancelled when the caller stops early."""
    source = iter(items)
    running: dict[Future[R], T] = {}

    def top_up(count: int) -> None:
        for item in islice(source, count):
            running[submit(fn, item)] = item

    top_up(workers * IN_FLIGHT_PER_WORKER)
    try:
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                item = running.pop(future)
                error = future.exception()
                if error is not None:
                    raise TaskFailed(item, error) from error
                yield item, future.result()
            top_up(len(done))
    finally:
        for future in running:
            future.cancel()


class ProcessBackend(Backend):
    """Local worker processes (:class:`~concurrent.futures.ProcessPoolExecutor`).

    Parameters
    ----------
    jobs
        Number of worker processes, at least 1.
    """

    name = "processes"

    def __init__(self, jobs: int):
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.workers = jobs
        self._pool = ProcessPoolExecutor(max_workers=jobs)

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(item, fn(item))`` as worker processes finish them (see :class:`Backend`)."""
        return map_submitted(self._pool.submit, fn, items, self.workers)

    def close(self) -> None:
        """Stop the worker processes (work not yet started is cancelled)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _worker_version() -> str:
    from asdsim import __version__

    return __version__


class DaskBackend(Backend):
    """An existing Dask cluster, or a :class:`~dask.distributed.LocalCluster` started for the run.

    Parameters
    ----------
    address
        The scheduler's address (``tcp://host:8786``), or ``"local"`` to start a local cluster of
        ``local_workers`` single-threaded worker processes, closed again by :meth:`close`.
    local_workers
        Workers of a local cluster; ignored for an existing cluster, which brings its own.
    timeout_seconds
        How long to wait for the scheduler to answer.

    Raises
    ------
    BackendError
        When Dask is not installed, the scheduler does not answer, the cluster has no workers, or
        the workers cannot import the same version of asdsim as this process.
    """

    name = "dask"

    def __init__(self, address: str, local_workers: int = 2, timeout_seconds: float = 30.0):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise BackendError(
                f"the Dask backend needs dask.distributed, which is not installed ({exc}); "
                f"install it with: {DASK_EXTRA}"
            ) from None
        self._cluster: Any = None
        self._client: Any = None
        self.address = address
        try:
            if address == "local":
                if local_workers < 1:
                    raise ValueError(f"local_workers must be at least 1, got {local_workers}")
                self._cluster = LocalCluster(
                    n_workers=local_workers, threads_per_worker=1, processes=True,
                    dashboard_address=None,
                )
                self._client = Client(self._cluster, timeout=timeout_seconds)
            else:
                self._client = Client(address, timeout=timeout_seconds)
        except (OSError, TimeoutError, ValueError) as exc:
            self.close()
            raise BackendError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        except RuntimeError as exc:  # a local cluster whose workers did not start
            self.close()
            raise BackendError(f"cannot start a local Dask cluster: {exc}") from None
        threads = self._client.nthreads()
        if not threads:
            self.close()
            raise BackendError(f"the Dask cluster at {address} has no workers")
        self.workers = sum(threads.values())
        self._check_versions()

    def _check_versions(self) -> None:
        mine = _worker_version()
        try:
            versions = self._client.run(_worker_version)
        except Exception as exc:
            self.close()
            raise BackendError(
                f"the Dask workers at {self.address} cannot run asdsim ({type(exc).__name__}: {exc}); "
                "install asdsim on every worker"
            ) from None
        other = {worker: v for worker, v in versions.items() if v != mine}
        if other:
            self.close()
            shown = ", ".join(f"{w} has {v}" for w, v in sorted(other.items()))
            raise BackendError(f"Dask workers run another asdsim version than this one ({mine}): {shown}")

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(item, fn(item))`` as the cluster finishes them (see :class:`Backend`)."""
        from dask.distributed import as_completed

        source = iter(items)
        running: dict[Any, tuple[Any, T]] = {}
        futures = as_completed()

        def submit(count: int) -> None:
            for item in islice(source, count):
                future = self._client.submit(fn, item, pure=False)
                running[future.key] = (future, item)
                futures.add(future)

        submit(self.workers * IN_FLIGHT_PER_WORKER)
        try:
            for future in futures:
                _, item = running.pop(future.key)
                try:
                    result = future.result()
                except Exception as exc:  # the task's own error, or a lost worker's
                    raise TaskFailed(item, exc) from exc
                future.release()
                yield item, result
                submit(1)
        finally:
            futures.clear()
            for future, _ in running.values():
                future.cancel()

    def close(self) -> None:
        """Disconnect from the cluster, and stop it if this backend started it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def describe(self) -> str:
        """A short description for provenance and the terminal."""
        where = "local cluster" if self.address == "local" else self.address
        return f"dask ({where}), {self.workers} worker{'s' if self.workers != 1 else ''}"


def choose_workers(work_seconds: float, items: int, cpus: int | None = None) -> int:
    """The number of local workers that finishes ``items`` equal items soonest.

    ``n`` workers (``n`` at most ``cpus`` and ``items``) take about
    ``n * WORKER_START_SECONDS + ceil(items / n) * work_seconds / items`` of wall time, and this
    process alone ``work_seconds``; the fewest workers with the shortest time are chosen. So a
    small run stays in this process, and a long one gets one worker per CPU.

    Parameters
    ----------
    work_seconds
        Estimated CPU time of all the items in one process.
    items
        Number of items (each runs whole on one worker).
    cpus
        CPUs to use at most (default: this machine's).
    """
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    each = work_seconds / max(items, 1)
    best, best_seconds = 1, work_seconds
    for n in range(2, min(cpus, items) + 1):
        seconds = n * WORKER_START_SECONDS + math.ceil(items / n) * each
        if seconds < best_seconds:
            best, best_seconds = n, seconds
    return best


def make_backend(jobs: int | None = None, dask: str | None = None,
                 work_seconds: float | None = None, items: int | None = None) -> Backend:
    """The backend the command line asks for.

    Parameters
    ----------
    jobs
        Local worker processes; 1 runs in this process. None: chosen from the work by
        :func:`choose_workers` when ``work_seconds`` and ``items`` are given, else one per CPU.
        With ``dask="local"`` it is the number of Dask workers (None: one per CPU); with a
        scheduler address it is ignored.
    dask
        ``None`` for local processes, ``"local"`` for a new local Dask cluster, or the address of
        an existing scheduler (``tcp://host:8786``).
    work_seconds, items
        The estimated CPU time of the work in one process, and how many items it comes in.
    """
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    cpus = os.cpu_count() or 1
    if dask is not None:
        return DaskBackend(dask, local_workers=jobs if jobs is not None else cpus)
    if jobs is not None:
        count = jobs
    elif work_seconds is not None and items is not None:
        count = choose_workers(work_seconds, items, cpus)
    else:
        count = cpus
    return Backend() if count == 1 else ProcessBackend(count)
