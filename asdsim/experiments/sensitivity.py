"""One-at-a-time sensitivity: which assumptions move a KPI most (``asdsim sensitivity``).

Each input (by default every number the scenario lists under ``assumed:``) is set low and then
high (by default 20% below and above its value), one at a time, all else as in the scenario.
Every run uses the same seed and replications as the baseline (common random numbers), so
replication ``r`` of each run meets the same children with the same luck, and the change in the
KPI is taken replication by replication: its 95% interval is that of the paired differences.
Inputs are ranked by the size of the swing (the high run's KPI less the low run's, paired), so
a tornado chart shows the inputs that matter most at the top.

A change that the scenario format refuses (a probability above 1) is left out and listed in
``skipped``; whole-number fields are rounded.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asdsim.analysis.definitions import definition
from asdsim.analysis.stats import mean_ci
from asdsim.errors import AsdsimError, ScenarioError
from asdsim.experiments.runner import DEFAULT_SEED, Progress, simulate
from asdsim.scenario.loading import load_scenario, scenario_from_dict
from asdsim.scenario.schema import Scenario, number_at, parse_path, set_in, value_in
from asdsim.scenario.values import ValueProblem, parse_number

DEFAULT_KPI = "assessment_started_within_3_months"
DEFAULT_CHANGE = 0.2
"""Relative change down and up of each input by default (20%)."""

_RELATIVE = re.compile(r"(?:±|\+-|\+/-)?\s*(\d+(?:\.\d+)?)\s*%")
_ABSOLUTE = re.compile(r"([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*[,:]\s*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)")


def parse_vary(text: str) -> tuple[str, tuple[str, float] | tuple[str, float, float]]:
    """``path=±20%`` (relative) or ``path=LOW,HIGH`` (values) -> (path, change).

    Raises
    ------
    AsdsimError
        When the text is not of either form.
    """
    path, sep, spec = text.partition("=")
    spec = spec.strip()
    try:  # numbers read as everywhere else (asdsim.scenario.values): ASCII, finite
        if sep and (m := _RELATIVE.fullmatch(spec)):
            return path.strip(), ("relative", parse_number(m.group(1), 0.0, 100.0) / 100.0)
        if sep and (m := _ABSOLUTE.fullmatch(spec)):
            return path.strip(), ("values", parse_number(m.group(1)), parse_number(m.group(2)))
    except ValueProblem as problem:
        raise AsdsimError(f"--vary {text!r}: {problem}") from None
    raise AsdsimError(f"--vary {text!r}: expected PATH=±20% or PATH=LOW,HIGH")


@dataclass
class Sensitivity:
    """Results of a one-at-a-time sensitivity analysis."""

    scenario: str
    """Name of the scenario."""
    kpi: str
    """The KPI judged."""
    unit: str
    """Its unit."""
    baseline: float
    """The KPI's mean in the scenario as it is."""
    runs: pd.DataFrame
    """One row per input and side: input, side (low/high), value, base_value, kpi_mean, diff_mean,
    diff_ci_low, diff_ci_high (paired difference from the baseline), n."""
    ranking: pd.DataFrame
    """One row per input, largest effect first: rank, input, low_value, base_value, high_value,
    swing (high run less low run, paired), swing_ci_low, swing_ci_high."""
    replications: int
    """Replications of every run."""
    seed: int
    """The seed every run shares."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Inputs left out, and why."""


def _per_replication(results: Any, kpi: str) -> pd.Series:
    k = results.kpis_by_replication
    return k[k.kpi == kpi].set_index("replication").value.astype(float)


def sensitivity(scenario: Scenario | str | Path, kpi: str = DEFAULT_KPI,
                vary: Mapping[str, tuple[str, float] | tuple[str, float, float]] | None = None,
                change: float = DEFAULT_CHANGE, replications: int = 5, seed: int = DEFAULT_SEED,
                jobs: int = 1, progress: Progress | None = None) -> Sensitivity:
    """Change each input low and high, one at a time, under common random numbers.

    Parameters
    ----------
    scenario
        A scenario or scenario file.
    kpi
        The KPI to judge (a name from docs/kpis.md, such as ``assessment_started_within_3_months``).
    vary
        Field path -> ``("relative", 0.2)`` (20% down and up) or ``("values", low, high)``;
        default: every path in the scenario's ``assumed:`` list, by ``change``.
    change
        Relative change of the default inputs.
    replications, seed, jobs
        As for :func:`asdsim.simulate`: every run uses the same seed.
    progress
        Called as ``progress(done, total)`` over all replications.

    Raises
    ------
    AsdsimError
        When there is nothing to vary, the KPI is unknown, or an input path names no number.
    """
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    try:
        unit = definition(kpi).unit
    except (KeyError, ValueError):
        raise AsdsimError(f"unknown KPI {kpi!r}; see docs/kpis.md for the names") from None
    inputs = dict(vary) if vary else {p: ("relative", change) for p in base.assumed}
    if not inputs:
        raise AsdsimError(f"scenario {base.name!r} lists nothing under assumed: and no --vary was "
                          "given: nothing to vary")
    data = base.model_dump(mode="json")
    planned: list[tuple[str, str, float, float, Scenario]] = []
    skipped: dict[str, str] = {}
    for path, how in inputs.items():
        value, why = number_at(base, path)
        keys = parse_path(path)
        if why is not None or value is None or keys is None:
            raise AsdsimError(f"--vary {path}: {why}")
        sides = (value * (1 - how[1]), value * (1 + how[1])) if how[0] == "relative" else how[1:]
        whole = isinstance(value_in(data, keys), int)
        for side, new in zip(("low", "high"), sides, strict=True):
            new = round(new) if whole else float(new)
            changed = base.model_dump(mode="json")
            set_in(changed, keys, new)
            try:
                planned.append((path, side, new, value, scenario_from_dict(changed, name=path)))
            except ScenarioError as exc:
                skipped[path] = f"{side} value {new:g} is refused: {exc.problems[0].message}"
    planned = [p for p in planned if p[0] not in skipped]
    total = replications * (1 + len(planned))

    def step(offset: int) -> Progress:
        def update(done: int, _total: int) -> None:
            if progress:
                progress(offset + done, total)
        return update

    baseline = _per_replication(simulate(base, replications, seed, jobs, step(0)), kpi)
    rows = []
    values: dict[tuple[str, str], pd.Series] = {}
    for i, (path, side, new, old, changed) in enumerate(planned):
        got = _per_replication(simulate(changed, replications, seed, jobs,
                                        step((i + 1) * replications)), kpi)
        values[(path, side)] = got
        mean, low, high, n = mean_ci((got - baseline).to_numpy())
        rows.append({"input": path, "side": side, "value": new, "base_value": old,
                     "kpi_mean": float(got.mean()), "diff_mean": mean, "diff_ci_low": low,
                     "diff_ci_high": high, "n": n})
    runs = pd.DataFrame(rows, columns=["input", "side", "value", "base_value", "kpi_mean",
                                       "diff_mean", "diff_ci_low", "diff_ci_high", "n"])
    ranked = []
    for path in dict.fromkeys(p[0] for p in planned):
        mean, low, high, _ = mean_ci((values[(path, "high")] - values[(path, "low")]).to_numpy())
        part = runs[runs.input == path].set_index("side")
        ranked.append({"input": path, "low_value": part.loc["low", "value"],
                       "base_value": part.loc["low", "base_value"],
                       "high_value": part.loc["high", "value"], "swing": mean,
                       "swing_ci_low": low, "swing_ci_high": high})
    ranking = pd.DataFrame(ranked, columns=["input", "low_value", "base_value", "high_value",
                                            "swing", "swing_ci_low", "swing_ci_high"])
    order = np.argsort(-np.nan_to_num(ranking.swing.abs().to_numpy(), nan=-1.0), kind="stable")
    ranking = ranking.iloc[order].reset_index(drop=True)
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    base_mean = float(baseline.mean()) if len(baseline) else math.nan
    return Sensitivity(scenario=base.name, kpi=kpi, unit=unit, baseline=base_mean, runs=runs,
                       ranking=ranking, replications=replications, seed=seed, skipped=skipped)


def write_sensitivity(result: Sensitivity, out: str | Path, force: bool = False) -> Path:
    """Write ``ranking.csv``, ``runs.csv`` and ``tornado.png`` into a folder, all at once.

    Raises
    ------
    asdsim.reporting.outputs.OutputExists
        When ``out`` is not empty and ``force`` is false.
    """
    from asdsim.reporting.outputs import MARKER, atomic_folder
    from asdsim.reporting.tornado import tornado
    from asdsim.spreadsheet import write_csv

    with atomic_folder(Path(out), force) as tmp:
        # marks the folder as asdsim's results, so a later --force may replace it
        (tmp / MARKER).write_text(json.dumps({"kind": "sensitivity", "kpi": result.kpi,
                                              "replications": result.replications}) + "\n")
        write_csv(result.ranking, tmp / "ranking.csv")
        write_csv(result.runs, tmp / "runs.csv")
        tornado(result.runs, result.ranking, result.kpi, result.unit, result.baseline,
                result.replications).savefig(tmp / "tornado.png", dpi=110)
    return Path(out)
