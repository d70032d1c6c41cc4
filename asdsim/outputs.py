"""Writing a results folder all at once: everything goes into a temporary folder beside the
destination, which is renamed into place only when complete, so a failure or Ctrl-C never leaves
a half-written folder behind."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from asdsim.charts import save_charts
from asdsim.compare import Comparison
from asdsim.errors import AsdsimError
from asdsim.report import render_report
from asdsim.results import Results
from asdsim.scenario.loading import scenario_to_yaml


class OutputExists(AsdsimError):
    """The output folder exists and is not empty, and replacing it was not asked for."""


@contextmanager
def atomic_folder(out: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` when the block ends without error.

    Raises
    ------
    OutputExists
        When ``out`` is a non-empty folder (or a file) and ``force`` is false.
    """
    out = Path(out)
    if out.exists() and (out.is_file() or any(out.iterdir())) and not force:
        raise OutputExists(f"{out} exists and is not empty; use --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def write_run(results: Results, out: Path, force: bool = False, csv: bool = False,
              command: list[str] | None = None,
              before_finish: Callable[[Path], None] | None = None) -> Path:
    """Write one scenario's results folder (tables, charts, report, resolved scenario)."""
    with atomic_folder(out, force) as tmp:
        results.kpis.to_csv(tmp / "kpis.csv", index=False)
        if csv:
            results.patients.to_csv(tmp / "patients.csv", index=False)
        else:
            results.patients.to_parquet(tmp / "patients.parquet", index=False)
        results.weekly.to_csv(tmp / "weekly.csv", index=False)
        results.staff_weekly.to_csv(tmp / "staff_weekly.csv", index=False)
        (tmp / "scenario.resolved.yaml").write_text(scenario_to_yaml(results.scenario))
        provenance = {**results.provenance, "command": command or []}
        _json(tmp / "provenance.json", provenance)
        runs = {results.scenario.name: results}
        charts = save_charts(runs, tmp / "charts")
        (tmp / "report.html").write_text(render_report(runs, charts, extra_provenance=provenance))
        if before_finish:
            before_finish(tmp)
    return out


def write_comparison(comparison: Comparison, out: Path, force: bool = False,
                     command: list[str] | None = None) -> Path:
    """Write a comparison folder: comparison.csv, charts, report and each resolved scenario."""
    with atomic_folder(out, force) as tmp:
        comparison.table.to_csv(tmp / "comparison.csv", index=False)
        for i, res in enumerate(comparison.results.values()):
            (tmp / f"scenario{i + 1}.resolved.yaml").write_text(scenario_to_yaml(res.scenario))
        provenance = {"baseline": comparison.baseline, "command": command or [],
                      "scenarios": {n: r.provenance for n, r in comparison.results.items()}}
        _json(tmp / "provenance.json", provenance)
        charts = save_charts(comparison.results, tmp / "charts", comparison)
        (tmp / "report.html").write_text(render_report(
            comparison.results, charts, comparison.table, comparison.baseline,
            extra_provenance={"command": command or []}))
    return out
