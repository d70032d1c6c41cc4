"""Writing a results folder all at once: everything goes into a temporary folder beside the
destination, which is renamed into place only when complete, so a failure or Ctrl-C never leaves
a half-written folder behind."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from asdsim.analysis.paired import Comparison
from asdsim.analysis.results import Results
from asdsim.errors import AsdsimError
from asdsim.files import write_text_atomic
from asdsim.reporting.charts import save_charts
from asdsim.reporting.report import render_report
from asdsim.reporting.tables import incremental_table, wte_table
from asdsim.scenario.loading import scenario_to_yaml


class OutputExists(AsdsimError):
    """The output folder exists and is not empty, and replacing it was not asked for."""


def check_destination(out: Path, force: bool = False) -> None:
    """Refuse to replace a non-empty folder (or a file) unless ``force``; call before long work.

    Raises
    ------
    OutputExists
        When ``out`` is a non-empty folder or a file and ``force`` is false.
    """
    out = Path(out)
    if force or not out.exists():
        return
    if out.is_dir() and not any(out.iterdir()):
        return
    kind = "folder" if out.is_dir() else "file"
    raise OutputExists(f"{out} is an existing {kind} that is not empty; choose another --out or "
                       "add --force to replace it")


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
def atomic_folder(out: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` when the block ends without error.

    The temporary folder sits beside ``out`` (same file system, so the final rename is atomic)
    and is removed on any error or interrupt. With ``force`` an existing ``out`` is replaced only
    once the new folder is complete.

    Raises
    ------
    OutputExists
        When ``out`` is a non-empty folder (or a file) and ``force`` is false.
    """
    out = Path(out)
    check_destination(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _make_folder(out.parent, f".{out.name}.", ".tmp")
    try:
        yield tmp
        if out.exists() or out.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            old.rmdir()  # a fresh name to move the old output to
            out.rename(old)
            tmp.rename(out)
            _remove(old)
        else:
            tmp.rename(out)
    finally:
        _remove(tmp)


def _text(path: Path, text: str) -> None:
    write_text_atomic(path, text, fsync=False)  # the folder rename is what makes the whole atomic


def _json(path: Path, data: Any) -> None:
    _text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_run(results: Results, out: Path, force: bool = False, csv: bool = False,
              command: list[str] | None = None) -> Path:
    """Write one scenario's results folder, all at once.

    Files: ``kpis.csv``, ``patients.parquet`` (``patients.csv`` with ``csv``), ``weekly.csv``,
    ``staff_weekly.csv``, ``wte.csv`` (funded WTE by team and staff group), ``charts/*.png``,
    ``report.html``, ``scenario.resolved.yaml`` (after ``extends:``) and ``provenance.json``
    (with ``command``, the command line that ran).

    Raises
    ------
    OutputExists
        When ``out`` is not empty and ``force`` is false.
    """
    with atomic_folder(out, force) as tmp:
        results.kpis.to_csv(tmp / "kpis.csv", index=False)
        if csv:
            results.patients.to_csv(tmp / "patients.csv", index=False)
        else:
            results.patients.to_parquet(tmp / "patients.parquet", index=False)
        results.weekly.to_csv(tmp / "weekly.csv", index=False)
        results.staff_weekly.to_csv(tmp / "staff_weekly.csv", index=False)
        runs = {results.scenario.name: results}
        wte_table(runs).to_csv(tmp / "wte.csv", index=False)
        _text(tmp / "scenario.resolved.yaml", scenario_to_yaml(results.scenario))
        _json(tmp / "provenance.json", {**results.provenance, "command": command or []})
        charts = save_charts(runs, tmp / "charts")
        _text(tmp / "report.html", render_report(runs, charts, extra_provenance={"command": command or []}))
    return out


def write_comparison(comparison: Comparison, out: Path, force: bool = False,
                     command: list[str] | None = None) -> Path:
    """Write a comparison folder, all at once.

    Files: ``comparison.csv``, ``wte.csv`` (funded WTE by design, team and staff group),
    ``incremental_cost.csv`` (extra funded cost per extra child started within 3 months against
    the baseline, with its 95% CI), ``charts/*.png``, ``report.html``, ``scenarioN.resolved.yaml``
    (N in the order given) and ``provenance.json`` (baseline, command, each scenario's
    provenance and resolved file).

    Raises
    ------
    OutputExists
        When ``out`` is not empty and ``force`` is false.
    """
    with atomic_folder(out, force) as tmp:
        comparison.table.to_csv(tmp / "comparison.csv", index=False)
        wte_table(comparison.results).to_csv(tmp / "wte.csv", index=False)
        if len(comparison.results) > 1:
            incremental_table(comparison.results, comparison.baseline).to_csv(
                tmp / "incremental_cost.csv", index=False)
        files = {}
        for i, (name, res) in enumerate(comparison.results.items()):
            files[name] = f"scenario{i + 1}.resolved.yaml"
            _text(tmp / files[name], scenario_to_yaml(res.scenario))
        provenance = {"baseline": comparison.baseline, "command": command or [],
                      "resolved_files": files,
                      "scenarios": {n: r.provenance for n, r in comparison.results.items()}}
        _json(tmp / "provenance.json", provenance)
        charts = save_charts(comparison.results, tmp / "charts", comparison)
        _text(tmp / "report.html", render_report(
            comparison.results, charts, comparison.table, comparison.baseline,
            extra_provenance={"command": command or []}))
    return out
