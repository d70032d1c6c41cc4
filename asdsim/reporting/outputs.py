"""Writing a results folder all at once: everything goes into a temporary folder beside the
destination, which is renamed into place only when complete, so a failure or Ctrl-C never leaves
a half-written folder behind.

The folder's rules come from :mod:`asdsim.files`: it is never, holds, or sits inside an input
(:func:`~asdsim.files.guard_output`), and it lists the files written in it
(:data:`~asdsim.files.WRITTEN_LIST`), so ``--force`` replaces only a folder of files asdsim wrote.
Every CSV file goes through :func:`asdsim.spreadsheet.write_csv`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from asdsim.analysis.paired import Comparison
from asdsim.analysis.results import Results
from asdsim.errors import AsdsimError
from asdsim.files import WRITTEN_LIST, guard_output, record_written, unwritten_files, write_text_atomic
from asdsim.reporting.charts import save_charts
from asdsim.reporting.report import render_report
from asdsim.reporting.tables import comparison_table, incremental_table, wte_table
from asdsim.reporting.validation_chart import validation_chart
from asdsim.reporting.wait_spread_chart import wait_spread_chart, wait_spread_table
from asdsim.scenario.loading import scenario_to_yaml
from asdsim.spreadsheet import write_csv


class OutputExists(AsdsimError):
    """The output folder exists and is not empty, and replacing it was not asked for."""


MARKER = "provenance.json"
"""Every results folder asdsim writes has this file: ``--force`` replaces only such a folder."""


def check_destination(out: Path, force: bool = False, inputs: Sequence[Path | str] = ()) -> None:
    """Check an output folder before any long work: refuse to replace what should not be.

    ``out`` must not be, hold or sit inside any of ``inputs`` (every file the command reads:
    :func:`asdsim.files.guard_output`). A non-empty folder (or a file) is replaced only with
    ``force``, and even then only when it is an asdsim results folder (it has
    ``provenance.json``) whose every file asdsim wrote (:func:`asdsim.files.unwritten_files`).
    The parent folder must be writable.

    Raises
    ------
    OutputExists
        When ``out`` is in the way and may not be replaced, saying why.
    """
    out = Path(out)
    guard_output(out, inputs)
    if out.is_symlink() and not out.exists():
        raise OutputExists(f"{out} is a symbolic link to nothing; choose another --out")
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        kind = "folder" if out.is_dir() else "file"
        if not force:
            raise OutputExists(f"{out} is an existing {kind} that is not empty; choose another "
                               "--out or add --force to replace it")
        if not (out.is_dir() and (out / MARKER).is_file()):
            raise OutputExists(f"{out} is a {kind} asdsim did not write (no {MARKER}); --force "
                               "replaces only an earlier results folder, so choose another --out")
        others = unwritten_files(out)
        if others is None:
            raise OutputExists(f"{out} has no list of the files asdsim wrote ({WRITTEN_LIST}: an "
                               "older asdsim wrote it), so --force cannot tell them from yours; "
                               "delete it yourself or choose another --out")
        if others:
            raise OutputExists(f"{out} holds {others[0]}, which asdsim did not write; move it out "
                               "or choose another --out (--force never deletes a file asdsim did "
                               "not write)")
    parent = out.parent if str(out.parent) else Path(".")
    existing = next((p for p in (parent, *parent.parents) if p.exists()), Path("."))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputExists(f"cannot write to {existing}: choose an --out you can write to")


def clean_stale(out: Path) -> list[Path]:
    """Remove temporary folders that runs killed before they finished (SIGKILL, a power cut)
    left beside ``out``: their names carry the process id, and the process is gone."""
    removed = []
    parent = Path(out).parent
    if not parent.is_dir():
        return removed
    for path in parent.glob(f".{Path(out).name}.*.tmp"):
        pid = path.name[len(Path(out).name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            _remove(path)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    """The process's file-creation mask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _make_folder(parent: Path, prefix: str, suffix: str) -> Path:
    """A fresh folder beside the destination, with the permissions a plain ``mkdir`` would give
    (``tempfile.mkdtemp`` makes it private, 0700, which the renamed output would keep)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    folder.chmod(0o777 & ~_umask())
    return folder


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


@contextmanager
def atomic_folder(out: Path, force: bool = False, inputs: Sequence[Path | str] = ()) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` when the block ends without error.

    The temporary folder sits beside ``out`` (same file system, so the final rename is atomic),
    is named with this process's id (so a later run can clean it up if this one is killed) and
    is removed on any error or interrupt. The destination is checked again at the end: if
    another run wrote ``out`` meanwhile, this one fails rather than replace it; with ``force``
    an earlier results folder is replaced only once the new one is complete.

    Raises
    ------
    OutputExists
        When ``out`` is in the way (see :func:`check_destination`), at the start or at the end.
    """
    out = Path(out)
    check_destination(out, force, inputs)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    tmp = _make_folder(out.parent, f".{out.name}.{os.getpid()}.", ".tmp")
    try:
        yield tmp
        record_written(tmp)
        try:
            check_destination(out, force, inputs)  # again: another run may have written it
        except OutputExists as error:
            raise OutputExists(f"{out} was written by another run while this one worked, and "
                               f"is kept; nothing of this run was saved ({error})") from None
        if out.exists() or out.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            old.rmdir()  # a fresh name to move the old output to
            out.rename(old)
            tmp.rename(out)
            _remove(old)
        else:
            try:
                os.rename(tmp, out)  # fails if another run's folder arrived in between
            except OSError as error:
                raise OutputExists(f"{out} was written by another run while this one worked; "
                                   "nothing of this run was kept there") from error
    finally:
        _remove(tmp)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    write_csv(frame, path)  # the folder rename is what makes the whole atomic


def _validation(runs: dict[str, Results], tmp: Path, charts: dict[str, Path]) -> None:
    """validation.csv and a validation chart per run, for runs whose scenario lists observed
    figures (nothing otherwise)."""
    tables = [res.validation.assign(scenario=name) for name, res in runs.items()
              if not res.validation.empty]
    if not tables:
        return
    _csv(pd.concat(tables, ignore_index=True), tmp / "validation.csv")
    for i, res in enumerate(runs.values()):
        fig = validation_chart(res)
        if fig is None:
            continue
        key = "validation" if len(runs) == 1 else f"validation_{i + 1}"
        charts[key] = tmp / "charts" / f"{key}.png"
        fig.savefig(charts[key], dpi=110)
        fig.clear()


def _wait_spread(results: Results, tmp: Path, charts: dict[str, Path]) -> None:
    """wait_spread.csv and its chart, for a scenario with ``published_waits`` (nothing otherwise)."""
    table = wait_spread_table(results)
    fig = wait_spread_chart(results)
    if table is None or fig is None:
        return
    _csv(table, tmp / "wait_spread.csv")
    charts["wait_spread"] = tmp / "charts" / "wait_spread.png"
    fig.savefig(charts["wait_spread"], dpi=110)
    fig.clear()


def _text(path: Path, text: str) -> None:
    write_text_atomic(path, text, fsync=False)  # the folder rename is what makes the whole atomic


def _json(path: Path, data: Any) -> None:
    _text(path, json.dumps(data, indent=2, default=str) + "\n")


def _drawn_inputs(runs: dict[str, Results], tmp: Path) -> None:
    """``inputs.csv`` (the inputs each replication drew) and ``uncertainty.csv`` (each KPI with
    fixed and with drawn inputs, and the share of its spread from what is not known), for runs
    whose inputs were drawn (nothing otherwise); a ``scenario`` column when there are several."""
    drawn = {name: res for name, res in runs.items() if res.drawn}
    if not drawn:
        return
    several = len(runs) > 1

    def table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(scenario=name)[["scenario", *frame.columns]] if several else frame

    _csv(pd.concat([table(n, r.inputs) for n, r in drawn.items() if r.inputs is not None],
                   ignore_index=True), tmp / "inputs.csv")
    _csv(pd.concat([table(n, r.uncertainty) for n, r in drawn.items() if r.uncertainty is not None],
                   ignore_index=True), tmp / "uncertainty.csv")


def write_run(results: Results, out: Path, force: bool = False, csv: bool = False,
              command: list[str] | None = None, inputs: Sequence[Path | str] = ()) -> Path:
    """Write one scenario's results folder, all at once.

    Files: ``kpis.csv``, ``patients.parquet`` (``patients.csv`` with ``csv``), ``weekly.csv``,
    ``staff_weekly.csv``, ``wte.csv`` (funded WTE by team and staff group), ``charts/*.png``,
    ``report.html``, ``scenario.resolved.yaml`` (after ``extends:``) and ``provenance.json``
    (with ``command``, the command line that ran); with drawn inputs also ``inputs.csv`` and
    ``uncertainty.csv``; with ``published_waits`` in the scenario also ``wait_spread.csv``.

    Raises
    ------
    OutputExists
        When ``out`` is not empty and ``force`` is false.
    """
    with atomic_folder(out, force, inputs) as tmp:
        _csv(results.kpis, tmp / "kpis.csv")
        if csv:
            _csv(results.patients, tmp / "patients.csv")
        else:
            results.patients.to_parquet(tmp / "patients.parquet", index=False)
        _csv(results.weekly, tmp / "weekly.csv")
        _csv(results.staff_weekly, tmp / "staff_weekly.csv")
        runs = {results.scenario.name: results}
        _drawn_inputs(runs, tmp)
        _csv(wte_table(runs), tmp / "wte.csv")
        _text(tmp / "scenario.resolved.yaml", scenario_to_yaml(results.scenario))
        _json(tmp / "provenance.json", {**results.provenance, "command": command or []})
        charts = save_charts(runs, tmp / "charts")
        _validation(runs, tmp, charts)
        _wait_spread(results, tmp, charts)
        _text(tmp / "report.html", render_report(runs, charts, extra_provenance={"command": command or []}))
    return out


def write_comparison(comparison: Comparison, out: Path, force: bool = False,
                     command: list[str] | None = None, inputs: Sequence[Path | str] = ()) -> Path:
    """Write a comparison folder, all at once.

    Files: ``comparison.csv``, ``wte.csv`` (funded WTE by design, team and staff group),
    ``incremental_cost.csv`` (extra funded cost per extra child started within 3 months against
    the baseline, with its 95% CI), ``charts/*.png``, ``report.html``, ``scenarioN.resolved.yaml``
    (N in the order given) and ``provenance.json`` (baseline, command, each scenario's
    provenance and resolved file); with drawn inputs also ``inputs.csv`` and
    ``uncertainty.csv``, each with a ``scenario`` column.

    Raises
    ------
    OutputExists
        When ``out`` is not empty and ``force`` is false.
    """
    with atomic_folder(out, force, inputs) as tmp:
        _csv(comparison_table(comparison.table), tmp / "comparison.csv")
        _drawn_inputs(comparison.results, tmp)
        _csv(wte_table(comparison.results), tmp / "wte.csv")
        if len(comparison.results) > 1:
            _csv(incremental_table(comparison.results, comparison.baseline),
                 tmp / "incremental_cost.csv")
        files = {}
        for i, (name, res) in enumerate(comparison.results.items()):
            files[name] = f"scenario{i + 1}.resolved.yaml"
            _text(tmp / files[name], scenario_to_yaml(res.scenario))
        provenance = {"baseline": comparison.baseline, "command": command or [],
                      "resolved_files": files,
                      "scenarios": {n: r.provenance for n, r in comparison.results.items()}}
        _json(tmp / "provenance.json", provenance)
        charts = save_charts(comparison.results, tmp / "charts", comparison)
        _validation(comparison.results, tmp, charts)
        _text(tmp / "report.html", render_report(
            comparison.results, charts, comparison.table, comparison.baseline,
            extra_provenance={"command": command or []}))
    return out
