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
import yaml

from asdsim.errors import AsdsimError, ScenarioError
from asdsim.experiments.runner import DEFAULT_SEED, simulate
from asdsim.files import write_text_atomic
from asdsim.scenario import load_scenario, scenario_hash

EXPECTED_SUFFIX = ".expected.yaml"
DEFAULT_REPLICATIONS = 10
DEFAULT_RELATIVE = 0.05
UNIT_FLOORS = {"share": 0.01, "weeks": 0.5, "children": 1.0, "hours": 0.1, "GBP": 1.0}
"""Absolute floor of the default tolerance, by KPI unit: a tiny stored value (a share near zero,
a count of two children) may move by this much without counting as a regression."""
SIGNIFICANT_DIGITS = 12
"""Digits a stored number keeps: enough for any KPI, few enough that ``--update`` writes 1.0 and
not 0.9999999999999999."""
HEADER = """\
# Expected results of {file}, written by `asdsim regress --update`: do not edit by hand.
# After a deliberate change to the scenario or the model, run
#   asdsim regress DIR --update        (DIR: this folder)
# and review the diff. Run with the same seed, scenario and asdsim version, every KPI must match
# to floating-point precision. Otherwise a new mean passes within max(relative x |stored|,
# absolute) of the stored mean or, with ci: true, inside the stored 95% CI. Set rules with
# --update --tolerance RULE (every KPI) or --tolerance KPI:RULE (one), e.g. relative=0.1,ci.
"""

Progress = Callable[[str, int, int], None]


class RegressError(AsdsimError):
    """A regression folder or expected-results file that cannot be used."""


# --------------------------------------------------------------------------------- tolerances


@dataclass(frozen=True)
class Tolerance:
    """How far a KPI may move from its stored value before it counts as a regression.

    A new mean is accepted within ``max(relative * |stored|, absolute)`` of the stored mean, or,
    with ``ci``, anywhere inside the stored 95% confidence interval: the wider of the two.
    """

    relative: float = 0.0
    """Share of the stored mean the KPI may move by."""
    absolute: float = 0.0
    """Amount, in the KPI's unit, it may always move by (a floor for small values)."""
    ci: bool = False
    """Also accept any new mean inside the stored 95% CI."""

    def band(self, mean: float, ci_low: float, ci_high: float) -> tuple[float, float]:
        """The accepted range of a new mean, given the stored mean and CI."""
        half = max(self.relative * abs(mean), self.absolute)
        low, high = mean - half, mean + half
        if self.ci and not math.isnan(ci_low) and not math.isnan(ci_high):
            low, high = min(low, ci_low), max(high, ci_high)
        return low, high

    def describe(self) -> str:
        """The rule in a few words (``±5% (≥0.01) or CI``: the stored CI)."""
        if self == FLOAT_PRECISION:
            return "float precision"
        parts = []
        if self.relative:
            parts.append(f"±{100 * self.relative:g}%" + (f" (≥{self.absolute:g})"
                                                          if self.absolute else ""))
        elif self.absolute:
            parts.append(f"±{self.absolute:g}")
        if self.ci:
            parts.append("CI")
        return " or ".join(parts) if parts else "exact"

    def to_dict(self) -> dict[str, Any]:
        """The rule as written in an expected-results file."""
        return {"relative": float(self.relative), "absolute": float(self.absolute), "ci": self.ci}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Tolerance:
        """Read a rule from an expected-results file; ``where`` names it in errors."""
        keys = {"relative", "absolute", "ci"}
        if not isinstance(data, dict) or not set(data) <= keys or not data:
            raise RegressError(f"{where}.tolerance: expected a mapping with relative, absolute "
                               f"and ci, got {data!r}")
        try:
            relative, absolute = float(data.get("relative", 0.0)), float(data.get("absolute", 0.0))
        except (TypeError, ValueError):
            raise RegressError(f"{where}.tolerance: relative and absolute must be numbers, "
                               f"got {data!r}") from None
        if not (relative >= 0 and absolute >= 0) or not isinstance(data.get("ci", False), bool):
            raise RegressError(f"{where}.tolerance: relative and absolute must be non-negative "
                               f"numbers and ci true or false, got {data!r}")
        return cls(relative, absolute, bool(data.get("ci", False)))

    @classmethod
    def parse(cls, text: str) -> Tolerance:
        """Read a rule from the command line: comma-separated ``relative=F``, ``absolute=A``,
        ``ci``, or ``exact`` (``relative=0.05,absolute=0.01,ci``)."""
        relative = absolute = 0.0
        ci = exact = False
        for part in (p.strip() for p in text.split(",")):
            key, _, value = part.partition("=")
            try:
                if key in ("relative", "absolute") and value:
                    number = float(value)
                    if not number >= 0:
                        raise ValueError
                    relative, absolute = (number, absolute) if key == "relative" else (relative, number)
                elif part in ("ci", "exact"):
                    ci, exact = ci or part == "ci", exact or part == "exact"
                else:
                    raise ValueError
            except ValueError:
                raise ValueError(f"tolerance {text!r}: expected comma-separated relative=FRACTION, "
                                 "absolute=AMOUNT and ci, or exact") from None
        if exact and (relative or absolute or ci):
            raise ValueError(f"tolerance {text!r}: 'exact' cannot be combined with other rules")
        return cls(relative, absolute, ci)


FLOAT_PRECISION = Tolerance(relative=1e-9, absolute=1e-12)
"""The rule when the stored run is repeated exactly (same seed, scenario and asdsim version): only
rounding may differ, from the stored digits or another platform's arithmetic."""


def default_tolerance(unit: str) -> Tolerance:
    """±5% (at least the unit's floor, ``UNIT_FLOORS``), or anywhere in the stored 95% CI.

    A KPI fails only when it leaves both: a move within the scatter of a noisy KPI, or a
    practically negligible move of a precise one, is not a regression.
    """
    return Tolerance(DEFAULT_RELATIVE, UNIT_FLOORS.get(unit, 0.0), True)


# ------------------------------------------------------------------------ expected-results files


def rounded(x: float) -> float:
    """``x`` to :data:`SIGNIFICANT_DIGITS` significant digits, as stored."""
    return float(f"{x:.{SIGNIFICANT_DIGITS}g}")


class _Inline(dict):  # type: ignore[type-arg]
    """A mapping written on one line."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Inline, lambda dumper, data: dumper.represent_mapping(
    "tag:yaml.org,2002:map", data, flow_style=True))


@dataclass(frozen=True)
class StoredKpi:
    """One KPI as stored in an expected-results file."""

    kpi: str
    unit: str
    mean: float
    ci_low: float
    ci_high: float
    tolerance: Tolerance


@dataclass(frozen=True)
class Expected:
    """The contents of an expected-results file."""

    scenario_file: str
    scenario_name: str
    scenario_hash: str
    asdsim_version: str
    seed: int
    replications: int
    kpis: dict[str, StoredKpi]

    def to_yaml(self) -> str:
        """The file's text: a header saying how it is made, then the data."""
        def number(x: float) -> float | None:
            return None if math.isnan(x) else rounded(x)

        data = {
            "scenario": self.scenario_file, "scenario_name": self.scenario_name,
            "scenario_hash": self.scenario_hash, "asdsim_version": self.asdsim_version,
            "seed": self.seed, "replications": self.replications,
            "kpis": {k.kpi: {"unit": k.unit, "mean": number(k.mean), "ci_low": number(k.ci_low),
                             "ci_high": number(k.ci_high),
                             "tolerance": _Inline(k.tolerance.to_dict())}
                     for k in self.kpis.values()},
        }
        return HEADER.format(file=self.scenario_file) + yaml.dump(
            data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)

    @classmethod
    def read(cls, path: Path) -> Expected:
        """Read and check an expected-results file."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RegressError(f"{path}: cannot read expected results: {exc}") from None
        required = ("scenario", "scenario_hash", "asdsim_version", "seed", "replications", "kpis")
        if not isinstance(data, dict) or any(key not in data for key in required):
            missing = [key for key in required if not isinstance(data, dict) or key not in data]
            raise RegressError(f"{path}: not an expected-results file (missing {', '.join(missing)}); "
                               "write it with asdsim regress --update")
        kpis: dict[str, StoredKpi] = {}
        if not isinstance(data["kpis"], dict):
            raise RegressError(f"{path}: 'kpis' must be a mapping of KPI names")
        for name, row in data["kpis"].items():
            where = f"{path}: kpis.{name}"
            if not isinstance(row, dict) or "mean" not in row:
                raise RegressError(f"{where}: needs unit, mean, ci_low, ci_high and tolerance")

            def number(key: str, row: dict[str, Any] = row, where: str = where) -> float:
                value = row.get(key)
                if value is None:
                    return math.nan
                try:
                    return float(value)
                except (TypeError, ValueError):
                    raise RegressError(f"{where}.{key}: expected a number, got {value!r}") from None

            kpis[str(name)] = StoredKpi(str(name), str(row.get("unit", "")), number("mean"),
                                        number("ci_low"), number("ci_high"),
                                        Tolerance.from_dict(row.get("tolerance"), where))
        try:
            seed, replications = int(data["seed"]), int(data["replications"])
        except (TypeError, ValueError):
            raise RegressError(f"{path}: seed and replications must be whole numbers") from None
        return cls(str(data["scenario"]), str(data.get("scenario_name", "")),
                   str(data["scenario_hash"]), str(data["asdsim_version"]), seed, replications, kpis)


def expected_path(scenario_path: Path) -> Path:
    """Where a scenario's expected results live: ``NAME.expected.yaml`` beside ``NAME.yaml``."""
    return scenario_path.with_name(scenario_path.stem + EXPECTED_SUFFIX)


def find_scenarios(path: str | Path) -> list[Path]:
    """The regression scenarios in a folder (or the one file given).

    Every ``*.yaml`` or ``*.yml`` file except expected-results files and files starting with
    ``_`` (base files for ``extends:``), in name order.

    Raises
    ------
    RegressError
        If the path does not exist, or a folder holds no scenario.
    """
    path = Path(path)
    if path.is_file():
        if path.name.endswith(EXPECTED_SUFFIX):
            raise RegressError(f"{path} is an expected-results file; give its scenario or folder")
        return [path]
    if not path.is_dir():
        raise RegressError(f"no such folder or file: {path}")
    files = sorted(p for p in path.iterdir()
                   if p.is_file() and p.suffix in (".yaml", ".yml")
                   and not p.name.endswith(EXPECTED_SUFFIX) and not p.name.startswith("_"))
    if not files:
        raise RegressError(f"no scenario files (*.yaml) in {path}")
    return files


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
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        result.status = "invalid scenario"
        result.problems = [str(p) for p in exc.problems]
        return result
    if not expected_file.exists():
        result.status = "no expected file"
        result.problems = [f"{expected_file} does not exist; create it with: asdsim regress "
                           f"{path.parent} --update"]
        return result
    try:
        stored = Expected.read(expected_file)
    except RegressError as exc:
        result.status = "invalid expected file"
        result.problems = [str(exc)]
        return result
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
    return result


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
        kpis: dict[str, StoredKpi] = {}
        for row in results.kpis.to_dict("records"):
            kpi, unit = str(row["kpi"]), str(row["unit"])
            rule = tolerances.get(kpi) or tolerances.get(None)
            if rule is None:
                rule = old.kpis[kpi].tolerance if old and kpi in old.kpis else default_tolerance(unit)
            kpis[kpi] = StoredKpi(kpi, unit, float(row["mean"]), float(row["ci_low"]),
                                  float(row["ci_high"]), rule)
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
