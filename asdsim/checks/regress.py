"""Regression scenarios: stored expected KPIs, and a check that a model change has not moved them.

Every scenario file ``NAME.yaml`` in a regression folder has an expected-results file
``NAME.expected.yaml`` beside it, written by ``asdsim regress DIR --update`` and never by hand.
It records the scenario's hash, the asdsim version, the seed and replications, and for every KPI
its mean, 95% confidence interval (each to 12 significant digits) and a tolerance.

``asdsim regress DIR`` runs each scenario again with the stored seed and replications. When the
scenario's hash and the asdsim version also match the stored ones, the run is the stored run
repeated: every KPI must match to floating-point precision (:data:`FLOAT_PRECISION`), so any
change to the model's output, however small, is caught. Otherwise the KPI's stored tolerance
applies: a new mean is accepted within ``max(relative * |stored|, absolute)`` of the stored mean
or, with ``ci: true``, anywhere inside the stored 95% CI (the wider of the two). The default is
``{relative: 0.05, absolute: <floor for the unit>, ci: true}``.

A KPI not reached (NaN) must still be not reached; a KPI missing from the run, or new in it, is
reported. A scenario whose hash or asdsim version differs from the stored one is reported as
changed, with its KPI comparison under the stored tolerances still shown, and counts as a
failure: the stored numbers describe something else, so someone must look and run ``--update``.
Files whose names start with ``_`` are base files for ``extends:`` and are not run.

The library returns a :class:`RegressionReport`; :mod:`asdsim.checks.junit` writes it as JUnit
XML and ``asdsim regress`` (:mod:`asdsim.cli.regress`) prints it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from asdsim.checks.expected import (
    DEFAULT_RELATIVE,
    DEFAULT_REPLICATIONS,
    EXPECTED_SUFFIX,
    FLOAT_PRECISION,
    HEADER,
    SIGNIFICANT_DIGITS,
    UNIT_FLOORS,
    Expected,
    RegressError,
    StoredKpi,
    Tolerance,
    default_tolerance,
    expected_path,
    find_scenarios,
    rounded,
)
from asdsim.errors import ScenarioError
from asdsim.experiments.runner import DEFAULT_SEED, simulate
from asdsim.files import write_text_atomic
from asdsim.scenario import Scenario, load_scenario, scenario_hash

Progress = Callable[[str, int, int], None]


__all__ = [
    "DEFAULT_RELATIVE", "DEFAULT_REPLICATIONS", "EXPECTED_SUFFIX", "FLOAT_PRECISION", "HEADER",
    "SIGNIFICANT_DIGITS", "UNIT_FLOORS", "Expected", "KpiComparison", "Progress", "RegressError",
    "RegressionReport", "ScenarioComparison", "Status", "StoredKpi", "Tolerance", "Updated",
    "check", "check_scenario", "compare_kpi", "default_tolerance", "expected_path",
    "find_scenarios", "rounded", "update",
]


# -------------------------------------------------------------------------------- comparison


def _number(x: float) -> str:
    return "not reached" if math.isnan(x) else f"{x:.4g}"


def _with_ci(mean: float, low: float, high: float) -> str:
    if math.isnan(mean):
        return "not reached"
    if math.isnan(low) or math.isnan(high):
        return _number(mean)
    return f"{_number(mean)} [{_number(low)}, {_number(high)}]"


Status = Literal["same", "within", "moved", "missing", "new"]


@dataclass(frozen=True)
class KpiComparison:
    """One KPI of one scenario: stored against new."""

    scenario: str
    kpi: str
    unit: str
    stored_mean: float
    stored_low: float
    stored_high: float
    new_mean: float
    new_low: float
    new_high: float
    tolerance: Tolerance | None
    """The rule applied: :data:`FLOAT_PRECISION` for a repeated run, else the stored one."""
    status: Status
    """same (equal to floating-point precision), within tolerance, moved beyond it, missing from
    the run, new in the run."""
    detail: str = ""

    @property
    def passed(self) -> bool:
        """Unchanged or within tolerance."""
        return self.status in ("same", "within")

    @property
    def moved(self) -> bool:
        """Whether anything differs from the stored value (beyond floating-point precision)."""
        return self.status != "same"

    @property
    def direction(self) -> str:
        """``up`` or ``down`` when both means are numbers and differ, else empty."""
        if math.isnan(self.stored_mean) or math.isnan(self.new_mean) or self.new_mean == self.stored_mean:
            return ""
        return "up" if self.new_mean > self.stored_mean else "down"

    def stored_text(self) -> str:
        """The stored mean and 95% CI (``absent`` for a new KPI)."""
        if self.status == "new":
            return "absent"
        return _with_ci(self.stored_mean, self.stored_low, self.stored_high)

    def new_text(self) -> str:
        """The new mean and 95% CI (``absent`` for a missing KPI)."""
        if self.status == "missing":
            return "absent"
        return _with_ci(self.new_mean, self.new_low, self.new_high)

    def change_text(self) -> str:
        """The change of the mean, and in percent of the stored mean (``+1.2 (+5.0%)``)."""
        if math.isnan(self.stored_mean) or math.isnan(self.new_mean):
            return ""
        diff = self.new_mean - self.stored_mean
        pct = f" ({100 * diff / abs(self.stored_mean):+.1f}%)" if self.stored_mean else ""
        return f"{diff:+.4g}{pct}"

    def result_text(self) -> str:
        """The outcome in words: ``same``, ``within tolerance``, ``moved up``, ``MISSING`` ..."""
        if self.status == "moved":
            text = f"moved {self.direction}" if self.direction else "moved"
        else:
            text = {"same": "same", "within": "within tolerance", "missing": "MISSING",
                    "new": "NEW"}[self.status]
        return f"{text} ({self.detail})" if self.detail else text

    def line(self) -> str:
        """One line saying what happened, for logs and JUnit messages."""
        rule = f", tolerance {self.tolerance.describe()}" if self.tolerance else ""
        return f"{self.kpi}: {self.result_text()}: stored {self.stored_text()}, new {self.new_text()}{rule}"


def compare_kpi(scenario: str, stored: StoredKpi | None, new: dict[str, Any] | None,
                repeated: bool = False) -> KpiComparison:
    """Compare one KPI's new mean and CI with its stored values.

    Parameters
    ----------
    scenario
        The scenario's name, carried into the result.
    stored, new
        The stored KPI and the new row (``mean``, ``ci_low``, ``ci_high``; ``kpi`` and ``unit``
        for a new KPI); either may be None (a new or a missing KPI), not both.
    repeated
        The run repeats the stored one (same seed, scenario and asdsim version): the KPI must
        match to :data:`FLOAT_PRECISION`. Otherwise the stored tolerance applies.
    """
    nan = math.nan
    if stored is None:
        if new is None:
            raise ValueError("compare_kpi needs a stored KPI, a new one, or both")
        return KpiComparison(scenario, str(new["kpi"]), str(new["unit"]), nan, nan, nan,
                             new["mean"], new["ci_low"], new["ci_high"], None, "new",
                             "not in the expected file")
    rule = FLOAT_PRECISION if repeated else stored.tolerance
    if new is None:
        return KpiComparison(scenario, stored.kpi, stored.unit, stored.mean, stored.ci_low,
                             stored.ci_high, nan, nan, nan, rule, "missing", "no longer computed")
    mean, low, high = float(new["mean"]), float(new["ci_low"]), float(new["ci_high"])
    args = (scenario, stored.kpi, stored.unit, stored.mean, stored.ci_low, stored.ci_high,
            mean, low, high, rule)

    def same(a: float, b: float) -> bool:
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        low_, high_ = FLOAT_PRECISION.band(b, nan, nan)
        return low_ <= a <= high_

    if same(mean, stored.mean) and same(low, stored.ci_low) and same(high, stored.ci_high):
        return KpiComparison(*args, "same")
    if math.isnan(stored.mean) or math.isnan(mean):
        what = "now reached" if math.isnan(stored.mean) else "no longer reached"
        return KpiComparison(*args, "moved", what)
    lo, hi = rule.band(stored.mean, stored.ci_low, stored.ci_high)
    return KpiComparison(*args, "within" if lo <= mean <= hi else "moved")


@dataclass
class ScenarioComparison:
    """One regression scenario: its status and its KPI comparisons."""

    name: str
    path: Path
    expected_path: Path
    status: str
    """ok, moved (a KPI moved beyond its rule, is missing or is new), scenario changed, version
    changed, no expected file, invalid scenario, invalid expected file."""
    problems: list[str] = field(default_factory=list)
    kpis: list[KpiComparison] = field(default_factory=list)
    wall_seconds: float = 0.0
    stored: Expected | None = None
    new_hash: str = ""
    new_version: str = ""

    @property
    def passed(self) -> bool:
        """Whether the scenario is unchanged and no KPI moved."""
        return self.status == "ok"

    @property
    def changed(self) -> bool:
        """Whether the run differs from the stored one in scenario, asdsim version or seed, so
        the stored tolerances apply rather than floating-point precision."""
        return self.stored is not None and (self.new_hash != self.stored.scenario_hash
                                            or self.new_version != self.stored.asdsim_version)

    @property
    def errored(self) -> bool:
        """Whether it could not be compared at all (no or invalid file, invalid scenario)."""
        return self.status in ("no expected file", "invalid scenario", "invalid expected file")


@dataclass
class RegressionReport:
    """The outcome of :func:`check`."""

    scenarios: list[ScenarioComparison]
    wall_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether every scenario passed."""
        return all(s.passed for s in self.scenarios)

    def table(self) -> pd.DataFrame:
        """Every KPI comparison: scenario, kpi, unit, stored and new mean and CI, tolerance,
        status, passed."""
        rows = [{"scenario": k.scenario, "kpi": k.kpi, "unit": k.unit,
                 "stored_mean": k.stored_mean, "stored_ci_low": k.stored_low,
                 "stored_ci_high": k.stored_high, "new_mean": k.new_mean, "new_ci_low": k.new_low,
                 "new_ci_high": k.new_high,
                 "tolerance": k.tolerance.describe() if k.tolerance else "",
                 "status": k.status, "passed": k.passed, "detail": k.detail}
                for s in self.scenarios for k in s.kpis]
        return pd.DataFrame(rows, columns=["scenario", "kpi", "unit", "stored_mean", "stored_ci_low",
                                           "stored_ci_high", "new_mean", "new_ci_low", "new_ci_high",
                                           "tolerance", "status", "passed", "detail"])


def _asdsim_version() -> str:
    from asdsim import __version__

    return __version__


def check_scenario(path: Path, jobs: int = 1, progress: Progress | None = None) -> ScenarioComparison:
    """Run one regression scenario with its stored seed and replications and compare its KPIs."""
    name = path.stem
    expected_file = expected_path(path)
    result = ScenarioComparison(name, path, expected_file, "ok")
    inputs = _inputs(path, expected_file, result)
    if inputs is None:
        return result
    scenario, stored = inputs
    result.stored = stored
    result.new_hash = scenario_hash(scenario)
    result.new_version = _asdsim_version()
    seed = stored.seed  # the stored run repeated, unless the scenario or asdsim changed
    started = time.perf_counter()
    update = None if progress is None else (lambda done, total: progress(name, done, total))
    results = simulate(scenario, stored.replications, seed, jobs, update)
    result.wall_seconds = time.perf_counter() - started
    new: dict[str, dict[str, Any]] = {str(row["kpi"]): {str(k): v for k, v in row.items()}
                                      for row in results.kpis.to_dict("records")}
    names = list(stored.kpis) + [k for k in new if k not in stored.kpis]
    repeated = not result.changed and seed == stored.seed
    result.kpis = [compare_kpi(name, stored.kpis.get(k), new.get(k), repeated) for k in names]
    _judge(result, stored, repeated)
    return result


def _inputs(path: Path, expected_file: Path,
            result: ScenarioComparison) -> tuple[Scenario, Expected] | None:
    """The scenario and its expected results, or None with ``result``'s status and problems
    saying which cannot be read."""
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        result.status = "invalid scenario"
        result.problems = [str(p) for p in exc.problems]
        return None
    if not expected_file.exists():
        result.status = "no expected file"
        result.problems = [f"{expected_file} does not exist; create it with: asdsim regress "
                           f"{path.parent} --update"]
        return None
    try:
        stored = Expected.read(expected_file)
    except RegressError as exc:
        result.status = "invalid expected file"
        result.problems = [str(exc)]
        return None
    return scenario, stored


def _judge(result: ScenarioComparison, stored: Expected, repeated: bool) -> None:
    """Say in ``result`` what changed since the expected results were written, and its status."""
    if result.new_hash != stored.scenario_hash:
        result.problems.append(f"scenario changed since the expected results were written "
                               f"(hash {stored.scenario_hash}, now {result.new_hash})")
    version = result.new_version
    if version != stored.asdsim_version:
        result.problems.append(f"asdsim version changed since the expected results were written "
                               f"({stored.asdsim_version}, now {version})")
    failed = [k for k in result.kpis if not k.passed]
    if failed:
        rule = "their stored tolerance" if not repeated else "floating-point precision (same seed, " \
            "scenario and asdsim version)"
        result.problems.append(f"{len(failed)} of {len(result.kpis)} KPIs moved beyond {rule}, "
                               "or are missing or new")
    if result.new_hash != stored.scenario_hash:
        result.status = "scenario changed"
    elif version != stored.asdsim_version:
        result.status = "version changed"
    elif failed:
        result.status = "moved"


def check(path: str | Path, jobs: int = 1, progress: Progress | None = None) -> RegressionReport:
    """Compare every regression scenario in a folder (or one file) with its expected results.

    Parameters
    ----------
    path
        A folder of regression scenarios, or one scenario file.
    jobs
        Worker processes per scenario; results do not depend on it.
    progress
        Called as ``progress(scenario, done, total)`` after each replication.

    Returns
    -------
    RegressionReport
        One :class:`ScenarioComparison` per scenario.

    Raises
    ------
    RegressError
        If the path does not exist or holds no scenario.
    """
    started = time.perf_counter()
    scenarios = [check_scenario(p, jobs, progress) for p in find_scenarios(path)]
    return RegressionReport(scenarios, time.perf_counter() - started)


# ------------------------------------------------------------------------------------ update


@dataclass(frozen=True)
class Updated:
    """What ``--update`` did to one expected-results file."""

    scenario: str
    path: Path
    action: Literal["created", "updated", "unchanged"]
    kpis: int
    seed: int
    replications: int


def update(path: str | Path, replications: int | None = None, seed: int | None = None,
           tolerances: dict[str | None, Tolerance] | None = None, jobs: int = 1,
           progress: Progress | None = None) -> list[Updated]:
    """Run regression scenarios and write their expected-results files.

    Parameters
    ----------
    path
        A folder of regression scenarios, or one scenario file.
    replications, seed
        For each scenario: these if given, else those of its existing expected file, else
        ``DEFAULT_REPLICATIONS`` and ``asdsim.DEFAULT_SEED``.
    tolerances
        Rules to write: key ``None`` for every KPI, a KPI name for one. Other KPIs keep the rule
        of the existing file, or get :func:`default_tolerance`.
    jobs
        Worker processes; the results do not depend on it.
    progress
        Called as ``progress(scenario, done, total)`` after each replication.

    Raises
    ------
    RegressError
        If the path holds no scenario, a scenario is invalid (nothing is written then), or an
        existing expected file cannot be read.
    """
    if replications is not None and replications < 2:
        raise RegressError(f"replications must be at least 2 (for a confidence interval), "
                           f"got {replications}")
    tolerances = dict(tolerances or {})
    files = find_scenarios(path)
    scenarios = {}
    for file in files:  # check every scenario before running any
        try:
            scenarios[file] = load_scenario(file)
        except ScenarioError as exc:
            raise RegressError(f"{file} is not a valid scenario; nothing was written\n{exc}") from None
    out: list[Updated] = []
    for file in files:
        scenario = scenarios[file]
        target = expected_path(file)
        old = Expected.read(target) if target.exists() else None
        reps = replications or (old.replications if old else DEFAULT_REPLICATIONS)
        run_seed = seed if seed is not None else (old.seed if old else DEFAULT_SEED)
        name = file.stem
        update_cb = None if progress is None else (lambda d, t, n=name: progress(n, d, t))
        results = simulate(scenario, reps, run_seed, jobs, update_cb)
        kpis = _stored_kpis(results.kpis, tolerances, old)
        expected = Expected(file.name, scenario.name, scenario_hash(scenario), _asdsim_version(),
                            int(run_seed), int(reps), kpis)
        text = expected.to_yaml()
        previous = target.read_text(encoding="utf-8") if target.exists() else None
        if previous != text:
            write_text_atomic(target, text)
        action: Literal["created", "updated", "unchanged"] = (
            "created" if previous is None else "unchanged" if previous == text else "updated")
        out.append(Updated(name, target, action, len(kpis), int(run_seed), int(reps)))
    return out


def _stored_kpis(table: pd.DataFrame, tolerances: dict[str | None, Tolerance],
                 old: Expected | None) -> dict[str, StoredKpi]:
    """The KPIs to store, each with the rule given for it (or for every KPI), else its rule in
    the existing file, else :func:`default_tolerance`."""
    kpis: dict[str, StoredKpi] = {}
    for row in table.to_dict("records"):
        kpi, unit = str(row["kpi"]), str(row["unit"])
        rule = tolerances.get(kpi) or tolerances.get(None)
        if rule is None:
            rule = old.kpis[kpi].tolerance if old and kpi in old.kpis else default_tolerance(unit)
        kpis[kpi] = StoredKpi(kpi, unit, float(row["mean"]), float(row["ci_low"]),
                              float(row["ci_high"]), rule)
    return kpis
