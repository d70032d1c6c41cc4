"""Scenario sweeps: every point of a grid run, stored as it finishes, and gathered into one table.

Each finished point is stored at once as ``DIR/points/<scenario hash>-s<seed>-r<replications>
.parquet``: its KPI table, reduced from its replications in the worker, written under a temporary
name and renamed, with the row count and a checksum of the content in the file's metadata. A stored
file that cannot be read or does not match its metadata is computed again, never used; so an
interrupted sweep resumes where it stopped and a repeated sweep reuses every point. The final
table is built from the stored files in point order, so it is the same whichever backend ran the
points and in whatever order they finished. The grid file format is described in
:mod:`asdsim.experiments.grid`; where points run, in :mod:`asdsim.experiments.backends`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from asdsim.analysis.kpis import kpi_table
from asdsim.errors import AsdsimError
from asdsim.experiments.backends import Backend, TaskFailed
from asdsim.experiments.grid import Grid, GridError, Point, load_grid
from asdsim.experiments.runner import run_replication
from asdsim.files import (
    TEMPORARY_PREFIX,
    WRITTEN_LIST,
    guard_output,
    open_atomic,
    record_written,
    unwritten_files,
    write_text_atomic,
)
from asdsim.scenario import Scenario, scenario_hash, scenario_to_yaml
from asdsim.spreadsheet import write_csv

__all__ = ["Grid", "GridError", "PointDone", "PointStore", "SweepError", "load_grid", "run_sweep"]

log = logging.getLogger(__name__)

HEADLINE_KPI = "assessment_started_within_3_months"
KPI_COLUMNS = ("kpi", "mean", "ci_low", "ci_high", "unit", "n")
FINAL_OUTPUTS = ("sweep.parquet", "sweep.csv", "summary.png", "sweep.json", "base_scenario.yaml")
SWEEP_FILES = (*FINAL_OUTPUTS, "points/*.parquet")
"""What a sweep writes in its folder (the folder's :data:`asdsim.files.WRITTEN_LIST`): nothing
else there is ever replaced or deleted."""


def claim_folder(out: Path) -> None:
    """Make ``out`` a sweep folder, or check that it is one, before anything is written.

    A sweep writes into a folder that is missing, empty, or already a sweep's (it has the list of
    files a sweep writes, or is a sweep folder from before that list: a ``points`` folder and
    nothing but a sweep's files). Files put there by hand are never touched.

    Raises
    ------
    SweepError
        For a file, or a folder of something else.
    """
    if out.is_symlink() and not out.exists():
        raise SweepError(f"{out} is a symbolic link to nothing; choose another --out")
    if out.exists() and not out.is_dir():
        raise SweepError(f"{out} exists and is not a folder")
    if (out / "points").is_symlink() or ((out / "points").exists() and not (out / "points").is_dir()):
        raise SweepError(f"{out / 'points'} is not a folder of this sweep; choose another --out")
    if out.is_dir() and any(out.iterdir()) and unwritten_files(out) is None:
        old = (out / "points").is_dir() and all(p.name in (*FINAL_OUTPUTS, "points")
                                                 for p in out.iterdir())
        if not old:
            raise SweepError(f"{out} is a folder that a sweep did not write; choose a new or empty "
                             "--out (nothing in it was changed)")
    out.mkdir(parents=True, exist_ok=True)
    if not (out / WRITTEN_LIST).is_file():
        record_written(out, SWEEP_FILES)


class SweepError(AsdsimError):
    """A sweep could not finish: a point failed, or the output folder cannot be used."""


# ------------------------------------------------------------------------------- the unit of work


@dataclass(frozen=True)
class PointTask:
    """What a worker needs to run one point."""

    key: str
    scenario: Scenario
    seed: int
    replications: int


@dataclass(frozen=True)
class PointResult:
    """A finished point: its KPI table, reduced in the worker so only a few rows travel back."""

    key: str
    kpis: pd.DataFrame
    seconds: float


def run_point(task: PointTask) -> PointResult:
    """Run every replication of one point and reduce them to the KPI table (in a worker)."""
    started = time.perf_counter()
    records = [run_replication(task.scenario, task.seed, r) for r in range(task.replications)]
    table = kpi_table(records, task.scenario)
    return PointResult(task.key, table, time.perf_counter() - started)


# -------------------------------------------------------------------------------------- the store


def _checksum(table: pd.DataFrame) -> str:
    """Checksum of a table's columns and values (exact: floats by their shortest repr)."""
    text = json.dumps({"columns": list(table.columns), "values": table.to_dict(orient="list")},
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write a Parquet file with page checksums, atomically (:func:`asdsim.files.open_atomic`)."""
    with open_atomic(path) as handle:
        pq.write_table(table, handle, write_page_checksum=True)


class PointStore:
    """Finished points, one Parquet file each, under ``root/points``.

    A file holds a point's KPI table; its metadata holds the point's key, row count, a checksum
    of the content and the asdsim version that made it, and the file's pages carry CRCs.
    :meth:`load` returns None for a file that is missing, unreadable, inconsistent or (given
    ``version``) made by another version of the model, so such a point is simply computed again.

    Parameters
    ----------
    root
        The sweep's output folder.
    version
        The asdsim version whose results are wanted; None accepts any.
    """

    META = b"asdsim.point"
    columns: tuple[str, ...] = KPI_COLUMNS
    """The columns a stored table must have."""

    def __init__(self, root: str | Path, version: str | None = None):
        self.folder = Path(root) / "points"
        self.version = version

    @staticmethod
    def key(scenario_hash: str, seed: int, replications: int) -> str:
        """The name a point is stored under: what determines its result, and nothing else."""
        return f"{scenario_hash}-s{seed}-r{replications}"

    def path(self, key: str) -> Path:
        """The file of a point."""
        return self.folder / f"{key}.parquet"

    def save(self, key: str, kpis: pd.DataFrame, provenance: dict[str, Any] | None = None) -> Path:
        """Store a point's KPI table (atomically: a reader sees the old state or the whole file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(kpis, preserve_index=False)
        meta = {**(provenance or {}), "key": key, "rows": len(kpis), "checksum": _checksum(kpis),
                "asdsim_version": self.version}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               self.META: json.dumps(meta).encode()})
        path = self.path(key)
        _write_parquet_atomic(table, path)
        return path

    def load(self, key: str) -> pd.DataFrame | None:
        """A stored point's KPI table, or None when it is missing or not intact."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path, page_checksum_verification=True)
            meta = json.loads((table.schema.metadata or {})[self.META])
            kpis = table.to_pandas()
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
            log.warning("point file %s is unreadable (%s); it will be computed again", path, exc)
            return None
        reason = None
        if meta.get("key") != key:
            reason = f"it holds point {meta.get('key')!r}"
        elif tuple(kpis.columns) != self.columns:
            reason = f"its columns are {list(kpis.columns)}"
        elif meta.get("rows") != len(kpis):
            reason = f"it has {len(kpis)} rows, not {meta.get('rows')}"
        elif meta.get("checksum") != _checksum(kpis):
            reason = "its checksum does not match"
        elif self.version is not None and meta.get("asdsim_version") != self.version:
            reason = f"asdsim {meta.get('asdsim_version')} made it, not {self.version}"
        if reason:
            log.warning("point file %s is not intact (%s); it will be computed again", path, reason)
            return None
        return kpis

    def stored(self) -> list[Path]:
        """The point files present (intact or not), without half-written temporary files."""
        return sorted(self.folder.glob("[!.]*.parquet")) if self.folder.is_dir() else []

    def clean_temporary(self) -> int:
        """Remove half-written files left by an interrupted sweep; returns how many."""
        if not self.folder.is_dir():
            return 0
        stale = list(self.folder.glob(f"{TEMPORARY_PREFIX}*"))
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)


# -------------------------------------------------------------------------------------- the sweep


@dataclass(frozen=True)
class PointDone:
    """Progress: one point is finished (computed now, or found already stored)."""

    point: Point
    done: int
    """Points finished so far, this one included."""
    total: int
    reused: bool
    """True when the point was already stored."""
    seconds: float
    """Time the worker took (0 for a stored point)."""


Progress = Callable[[PointDone], None]


@dataclass
class SweepResult:
    """What a sweep wrote, and how much of it was computed this time."""

    table: pd.DataFrame
    """One row per point per KPI: ``point``, the varied fields, ``kpi``, ``mean``, ``ci_low``,
    ``ci_high``, ``unit``, ``n``, ``scenario_hash``."""
    table_path: Path
    chart_path: Path | None
    provenance: dict[str, Any]
    computed: int
    reused: int
    recomputed: int
    """Points whose stored file was not intact, computed again."""


def _param_column(values: list[Any]) -> pd.Series:
    """A column of one field's values: numbers, text or booleans as such, anything else as JSON."""
    kinds = {type(v) for v in values}
    if kinds <= {dt.date}:
        return pd.Series([v.isoformat() for v in values], dtype="str")
    column = pd.Series(values)
    if column.dtype == object and not (kinds <= {str} or kinds <= {bool}):
        column = pd.Series([json.dumps(v, sort_keys=True, default=str) for v in values], dtype="str")
    return column


def _tasks(grid: Grid, pending: dict[str, Point]) -> Iterator[PointTask]:
    """Tasks for the pending points, each scenario built only when the backend asks for it."""
    for key, point in pending.items():
        yield PointTask(key, grid.scenario(point), grid.spec.seed, grid.spec.replications)


def run_sweep(grid: Grid, out_dir: str | Path, backend: Backend | None = None,
              progress: Progress | None = None, chart: bool = True) -> SweepResult:
    """Run every point of a grid that is not already stored, then build the table and chart.

    Parameters
    ----------
    grid
        From :func:`load_grid`.
    out_dir
        Output folder: ``points/`` (one file per point, kept for resuming), ``sweep.parquet``
        (and the same table as ``sweep.csv``), ``summary.png``, ``sweep.json`` (provenance) and
        ``base_scenario.yaml``. All but ``points/``
        are removed at the start and written only when every point is done.
    backend
        Where points run (:func:`asdsim.experiments.backends.make_backend`); this process when None. The
        caller closes it.
    progress
        Called with a :class:`PointDone` after each point.
    chart
        Draw ``summary.png``.

    Raises
    ------
    SweepError
        When a point fails (points finished before it stay stored).
    """
    from asdsim import __version__

    started = time.perf_counter()
    backend = backend or Backend()
    out = Path(out_dir)
    guard_output(out, grid.files)
    claim_folder(out)
    store = PointStore(out, version=__version__)
    store.folder.mkdir(parents=True, exist_ok=True)
    store.clean_temporary()
    # a previous sweep's outputs would not describe this one until it finishes
    for name in FINAL_OUTPUTS:
        (out / name).unlink(missing_ok=True)
    spec = grid.spec
    total = len(grid.points)
    by_key: dict[str, list[Point]] = {}
    for point in grid.points:
        by_key.setdefault(store.key(point.scenario_hash, spec.seed, spec.replications), []).append(point)

    done = reused = recomputed = 0
    pending: dict[str, Point] = {}
    for key, points in by_key.items():
        if store.load(key) is None:
            recomputed += store.path(key).exists()
            pending[key] = points[0]
            continue
        for point in points:
            done += 1
            reused += 1
            if progress:
                progress(PointDone(point, done, total, True, 0.0))

    stamp = {"asdsim_version": __version__, "seed": spec.seed, "replications": spec.replications}
    try:
        for task, result in backend.map_unordered(run_point, _tasks(grid, pending)):
            # no timings in the file: the same point always gives the same bytes
            store.save(task.key, result.kpis, {**stamp, "scenario_hash": task.key.split("-")[0]})
            for point in by_key[task.key]:
                done += 1
                if progress:
                    progress(PointDone(point, done, total, False, result.seconds))
    except TaskFailed as exc:
        task = exc.item
        point = by_key[task.key][0]
        raise SweepError(f"point {point.index} ({point.label()}) failed: {exc}") from exc.__cause__

    table = _assemble(grid, store)
    table_path = out / "sweep.parquet"
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    meta = {"grid": grid.name, "fields": list(grid.fields), **stamp}
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}),
                                           b"asdsim.experiments.sweep": json.dumps(meta).encode()})
    _write_parquet_atomic(arrow, table_path)
    write_csv(table, out / "sweep.csv")  # the same table, for spreadsheets
    write_text_atomic(out / "base_scenario.yaml", scenario_to_yaml(grid.base))
    chart_path = None
    if chart:
        from asdsim.reporting.sweep_chart import summary_chart

        chart_path = summary_chart(table, list(grid.fields), out / "summary.png", HEADLINE_KPI,
                                   title=f"{grid.name}: {len(grid.points)} points, {spec.replications} "
                                         f"replication{'s' if spec.replications != 1 else ''} each, "
                                         f"seed {spec.seed}")
    computed = len(pending)
    provenance = {
        "grid_file": str(grid.path.resolve()),
        "grid_sha256": hashlib.sha256(grid.path.read_bytes()).hexdigest(),
        "base_file": str(grid.base_path.resolve()),
        "base_scenario": grid.base.name,
        "base_scenario_hash": scenario_hash(grid.base),
        "fields": {f: list(v) for f, v in zip(grid.fields, grid.values, strict=True)},
        "points": total,
        "headline_kpi": HEADLINE_KPI,
        **stamp,
        "backend": backend.describe(),
        "computed": computed,
        "reused": reused,
        "recomputed_not_intact": recomputed,
        "wall_seconds": round(time.perf_counter() - started, 3),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__, "pandas": pd.__version__, "pyarrow": pa.__version__,
    }
    write_text_atomic(out / "sweep.json", json.dumps(provenance, indent=2, default=str) + "\n")
    return SweepResult(table, table_path, chart_path, provenance, computed, reused, recomputed)


def _assemble(grid: Grid, store: PointStore) -> pd.DataFrame:
    """The sweep table, read back from the stored points in point order."""
    spec = grid.spec
    frames: list[pd.DataFrame] = []
    for point in grid.points:
        kpis = store.load(store.key(point.scenario_hash, spec.seed, spec.replications))
        if kpis is None:
            raise SweepError(f"the stored file of point {point.index} ({point.label()}) changed while the "
                             f"sweep ran; run the sweep again")
        frames.append(kpis)
    counts = np.array([len(f) for f in frames])
    kpis = pd.concat(frames, ignore_index=True)
    columns: dict[str, Any] = {"point": np.repeat(np.array([p.index for p in grid.points], np.int64), counts)}
    for name in grid.fields:
        column = _param_column([p.params[name] for p in grid.points])
        columns[name] = column.iloc[np.repeat(np.arange(len(grid.points)), counts)].reset_index(drop=True)
    table = pd.concat([pd.DataFrame(columns), kpis], axis=1)
    table["scenario_hash"] = pd.Series(np.repeat([p.scenario_hash for p in grid.points], counts),
                                       dtype=kpis["kpi"].dtype)
    return table
