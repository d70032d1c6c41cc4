"""Expected-results files of regression scenarios (``NAME.expected.yaml``) and the tolerance of
each stored KPI: read, written and found beside their scenarios (:mod:`asdsim.checks.regress`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from asdsim.errors import AsdsimError

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
