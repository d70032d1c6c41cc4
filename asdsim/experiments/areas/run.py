"""Running every area alike, resumably, and writing the results folder.

Every area runs with the same seed and replications, so replication ``r`` of each area (and of
each design of it) draws from the same random streams: common random numbers. One area is one
unit of work (all its replications, reduced in the worker), through the backends of
:mod:`asdsim.experiments.backends`, and stored as it finishes in a
:class:`~asdsim.experiments.sweep.PointStore` keyed by the area scenario's hash, seed and
replications, so an interrupted run resumes and a repeated one reuses every area.
"""

from __future__ import annotations

import io
import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from asdsim.analysis.definitions import split
from asdsim.analysis.kpis import kpi_table, snapshot_days
from asdsim.analysis.validation import COLUMNS as VALIDATION_COLUMNS
from asdsim.analysis.validation import EXTRA_COLUMNS, validation_table
from asdsim.errors import AsdsimError
from asdsim.experiments.areas.table import Area, AreaSet
from asdsim.experiments.areas.totals import TALLY_COLUMNS, replication_tallies, total_table
from asdsim.experiments.backends import Backend, TaskFailed
from asdsim.experiments.runner import DEFAULT_SEED, check_run_size, run_replication
from asdsim.experiments.sweep import KPI_COLUMNS, PointStore
from asdsim.scenario import Scenario

HEADLINE_BASES = ("assessment_started_within_3_months", "first_appointment_within_13_weeks",
                  "started_within_3_months_count", "referrals", "open_referrals",
                  "waiting_over_13_weeks", "waiting_over_52_weeks", "funded_cost_per_year",
                  "cost_funded_total", "cost_outsourced")
"""KPIs (by base name) written to ``areas.csv`` for each area."""


class AreasRunError(AsdsimError):
    """An areas run could not finish: an area failed."""


@dataclass(frozen=True)
class AreaTask:
    """What a worker needs to run one area."""

    key: str
    scenario: Scenario
    seed: int
    replications: int


OBSERVED_COLUMNS = (*VALIDATION_COLUMNS[:4], *EXTRA_COLUMNS, *VALIDATION_COLUMNS[4:])
"""An area's observed points beside the simulation, as stored (every column, always)."""


@dataclass(frozen=True)
class AreaResult:
    """A finished area: its KPI table, its per-replication tallies and its observed points
    beside the simulated values (reduced in the worker)."""

    key: str
    kpis: pd.DataFrame
    tallies: pd.DataFrame
    observed: pd.DataFrame
    seconds: float


def observed_table(records: list, scenario: Scenario) -> pd.DataFrame:
    """The area's observed points beside the simulated values (the table ``asdsim run`` writes as
    validation.csv), with every column of :data:`OBSERVED_COLUMNS` and dates as text, so every
    area's table has one shape to store and to stack."""
    table = validation_table(records, scenario).reindex(columns=list(OBSERVED_COLUMNS))
    for column in ("date", "period_start"):
        table[column] = table[column].map(lambda d: d.isoformat() if hasattr(d, "isoformat")
                                          else None).astype(object)
    for column in ("locality", "age_group", "use", "source"):  # missing: None, as stored
        table[column] = table[column].astype(object).where(table[column].notna(), None)
    for column in ("over_weeks", "observed", "simulated_mean", "simulated_low", "simulated_high"):
        table[column] = table[column].astype(float)
    table["inside"] = table["inside"].astype(bool)
    return table


def run_area(task: AreaTask) -> AreaResult:
    """Run every replication of one area and reduce them (in a worker)."""
    started = time.perf_counter()
    records = [run_replication(task.scenario, task.seed, r) for r in range(task.replications)]
    rows = [row for rec in records for row in replication_tallies(rec, task.scenario)]
    table = kpi_table(records, task.scenario)
    tallies = pd.DataFrame(rows, columns=list(TALLY_COLUMNS))
    return AreaResult(task.key, table, tallies, observed_table(records, task.scenario),
                      time.perf_counter() - started)


class TallyStore(PointStore):
    """Each area's per-replication tallies, one Parquet file each, beside its KPI table."""

    columns = TALLY_COLUMNS


class ObservedStore(PointStore):
    """Each area's observed points beside the simulation, one Parquet file each."""

    columns = OBSERVED_COLUMNS


@dataclass(frozen=True)
class AreaDone:
    """Progress: one area is finished (computed now, or found already stored)."""

    area: Area
    done: int
    total: int
    reused: bool
    seconds: float


@dataclass
class AreasResult:
    """Every area's KPIs and the totals."""

    areas: AreaSet
    kpis: dict[str, pd.DataFrame]
    """Each area's KPI table (``kpi, mean, ci_low, ci_high, unit, n``), by area name."""
    tallies: dict[str, pd.DataFrame]
    """Each area's per-replication tallies, by area name."""
    observed: dict[str, pd.DataFrame]
    """Each area's observed points beside the simulated values (empty: none), by area name."""
    total: pd.DataFrame
    """The KPIs of all areas together (:func:`total_table`)."""
    seed: int
    replications: int
    backend: str
    computed: int
    reused: int
    wall_seconds: float

    def table(self) -> pd.DataFrame:
        """``areas.csv``: each area's headline KPIs, one row an area and KPI."""
        frames = []
        for name, kpis in self.kpis.items():
            chosen = kpis[kpis["kpi"].map(lambda k: split(k)[0] in HEADLINE_BASES)]
            frames.append(chosen.assign(area=name))
        table = pd.concat(frames, ignore_index=True)
        return table[["area", *KPI_COLUMNS]]

    def observed_table(self) -> pd.DataFrame:
        """``observed.csv``: every area's observed points beside the simulated values, one row a
        point (empty when no area has any); the columns no point uses are left out."""
        frames = [table.assign(area=name) for name, table in self.observed.items()
                  if not table.empty]
        if not frames:
            return pd.DataFrame(columns=["area", *VALIDATION_COLUMNS])
        table = pd.concat(frames, ignore_index=True)
        unused = [c for c in EXTRA_COLUMNS if table[c].isna().all()]
        return table[["area", *(c for c in OBSERVED_COLUMNS if c not in unused)]]


def _period(argument: str | None) -> bool:
    """Whether a KPI's argument is a year or quarter of referral (``2024``, ``2024Q3``)."""
    return argument is not None and argument[:4].isdigit() and "-" not in argument


def _key(area: Area, seed: int, replications: int) -> str:
    return PointStore.key(area.scenario_hash, seed, replications)


def run_areas(areas: AreaSet, store_dir: str | Path, replications: int = 10,
              seed: int = DEFAULT_SEED, backend: Backend | None = None,
              progress: Callable[[AreaDone], None] | None = None) -> AreasResult:
    """Run every area not already stored, then gather the tables and the totals.

    Parameters
    ----------
    areas
        From :func:`load_areas`.
    store_dir
        Where finished areas are kept (``points/`` under it), for resuming.
    replications, seed
        The same for every area (common random numbers).
    backend
        Where areas run; this process when None. The caller closes it.
    progress
        Called with an :class:`AreaDone` after each area.

    Raises
    ------
    AreasRunError
        When an area fails (areas finished before it stay stored).
    AsdsimError
        When one area's replications would not fit in this machine's memory
        (:func:`asdsim.experiments.runner.check_run_size`), before anything runs.
    """
    from asdsim import __version__

    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    if seed < 0:
        raise ValueError(f"the seed must be 0 or more, got {seed}")
    for area in areas.areas:  # each worker holds one area's replications at a time
        check_run_size(area.scenario, replications, seed)
    started = time.perf_counter()
    backend = backend or Backend()
    kpi_store = PointStore(store_dir, version=__version__)
    tally_store = TallyStore(store_dir, version=__version__)
    observed_store = ObservedStore(store_dir, version=__version__)
    kpi_store.folder.mkdir(parents=True, exist_ok=True)
    kpi_store.clean_temporary()
    by_key: dict[str, list[Area]] = {}
    for area in areas.areas:
        by_key.setdefault(_key(area, seed, replications), []).append(area)
    total, done = len(areas.areas), 0
    pending: dict[str, Area] = {}
    for key, group in by_key.items():
        if kpi_store.load(key) is None or tally_store.load(key + "-tallies") is None \
                or observed_store.load(key + "-observed") is None:
            pending[key] = group[0]
            continue
        for area in group:
            done += 1
            if progress:
                progress(AreaDone(area, done, total, True, 0.0))
    reused = done

    def tasks() -> Iterator[AreaTask]:
        for key, area in pending.items():
            yield AreaTask(key, area.scenario, seed, replications)

    stamp = {"seed": seed, "replications": replications}
    try:
        for task, result in backend.map_unordered(run_area, tasks()):
            tally_store.save(task.key + "-tallies", result.tallies, stamp)
            observed_store.save(task.key + "-observed", result.observed, stamp)
            kpi_store.save(task.key, result.kpis, stamp)
            for area in by_key[task.key]:
                done += 1
                if progress:
                    progress(AreaDone(area, done, total, False, result.seconds))
    except TaskFailed as exc:
        area = by_key[exc.item.key][0]
        raise AreasRunError(f"area {area.name} (line {area.line}) failed: {exc}") from exc.__cause__
    kpis: dict[str, pd.DataFrame] = {}
    tallies: dict[str, pd.DataFrame] = {}
    observed: dict[str, pd.DataFrame] = {}
    for area in areas.areas:
        key = _key(area, seed, replications)
        table, tally = kpi_store.load(key), tally_store.load(key + "-tallies")
        points = observed_store.load(key + "-observed")
        if table is None or tally is None or points is None:
            raise AreasRunError(f"the stored result of area {area.name} changed while the run "
                                "worked; run it again")
        kpis[area.name], tallies[area.name], observed[area.name] = table, tally, points
    return AreasResult(areas, kpis, tallies, observed, total_table(list(tallies.values())), seed,
                       replications, backend.describe(), len(pending), reused,
                       round(time.perf_counter() - started, 3))


def end_label(scenario: Scenario) -> str:
    """The last reporting date as KPI names carry it (``open_referrals[2023-09-30]``)."""
    return snapshot_days(scenario)[-1][0]


def store_path(out: str | Path) -> Path:
    """Where an areas run keeps finished areas until its output folder is written: a hidden
    folder beside it, ``.DIR.areas``, so an interrupted run resumes from it."""
    out = Path(out)
    return out.parent / f".{out.name}.areas"


def write_areas(result: AreasResult, out: str | Path, force: bool = False,
                level: float = 0.9, command: Sequence[str] | None = None) -> Path:
    """Write ``areas.csv``, ``total.csv``, ``ranking.csv``, ``ranked.png``, ``report.html``,
    ``provenance.json``, ``observed.csv`` (when an area has observed points) and the finished
    areas (``points/``) into a folder, all at once.

    The folder is written beside ``out`` and renamed into place at the end (see
    :func:`asdsim.reporting.outputs.atomic_folder`); a non-empty ``out`` is replaced only with
    ``force``, and only when it is an earlier results folder. The store of finished areas
    (:func:`store_path`) then moves into the folder as ``points/``.
    """
    from asdsim import __version__
    from asdsim.files import record_written
    from asdsim.reporting.areas_report import ranked_chart, ranking, render_areas_report, summarise_areas
    from asdsim.reporting.outputs import atomic_folder
    from asdsim.spreadsheet import write_csv

    out = Path(out)
    areas = result.areas
    scenario = areas.first
    end = end_label(scenario)
    summary = summarise_areas(result.kpis, result.total, scenario, end, level)
    ranked = ranking(result.kpis, summary)
    inputs = [areas.path, *{a.scenario_path for a in areas.areas}]
    # the report's table leaves out the years and quarters of referral (total.csv has them)
    headline = result.total[result.total["kpi"].map(
        lambda k: split(k)[0] in HEADLINE_BASES and not _period(split(k)[1]))]
    provenance = {
        "asdsim_version": __version__, "command": list(command or []),
        "areas_table": str(areas.path.resolve()), "areas": len(areas.areas),
        "fields": list(areas.fields), "seed": result.seed, "replications": result.replications,
        "level": level, "backend": result.backend, "computed": result.computed,
        "reused": result.reused, "wall_seconds": result.wall_seconds,
        "scenario_hashes": {a.name: a.scenario_hash for a in areas.areas},
    }
    method = {"areas": len(areas.areas), "replications": result.replications, "seed": result.seed,
              "start": scenario.start_date.isoformat(), "end": scenario.end_date.isoformat()}
    with atomic_folder(out, force, inputs) as folder:
        write_csv(result.table(), folder / "areas.csv")
        write_csv(result.total, folder / "total.csv")
        write_csv(ranked, folder / "ranking.csv")
        observed = result.observed_table()
        if not observed.empty:
            write_csv(observed, folder / "observed.csv")
        figure = ranked_chart(ranked, level)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110)
        (folder / "ranked.png").write_bytes(buffer.getvalue())
        html = render_areas_report(areas.name, summary, ranked, headline, buffer.getvalue(),
                                   provenance, method)
        (folder / "report.html").write_text(html, encoding="utf-8")
        (folder / "summary.txt").write_text("\n".join(summary.sentences) + "\n", encoding="utf-8")
        (folder / "provenance.json").write_text(json.dumps(provenance, indent=2, default=str) + "\n",
                                                encoding="utf-8")
    # the finished areas move in only once the folder is in place, so a failure at the last
    # moment still leaves them beside it for the next run
    store = store_path(out)
    if (store / "points").is_dir():
        (store / "points").rename(out / "points")
        record_written(out)  # the finished areas are asdsim's too, so a later --force may replace them
    shutil.rmtree(store, ignore_errors=True)
    return out


def resume_store(out: str | Path) -> Path:
    """The store for a run into ``out``: :func:`store_path`, seeded with the finished areas of an
    earlier results folder at ``out`` (copied, so that folder is untouched until replaced)."""
    store = store_path(out)
    earlier = Path(out) / "points"
    if earlier.is_dir():
        (store / "points").mkdir(parents=True, exist_ok=True)
        for item in earlier.glob("[!.]*.parquet"):
            target = store / "points" / item.name
            if not target.exists():
                shutil.copy2(item, target)
    return store
