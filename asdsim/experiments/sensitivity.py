"""One-at-a-time sensitivity: which assumptions move a KPI most (``asdsim sensitivity``).

Each input (by default every number the scenario lists under ``assumed:``) is set low and then
high (by default 20% below and above its value), one at a time, all else as in the scenario.
Every run uses the same seed and replications as the baseline (common random numbers), so
replication ``r`` of each run meets the same children with the same luck, and the change in the
KPI is taken replication by replication: its 95% interval is that of the paired differences.
The low and the high change are reported and drawn apart, so a change that moves the KPI one
way only (more staff where staff are not short, fewer where they are) shows; inputs are ranked
by the larger of the two changes (in absolute value), so a tornado chart shows the inputs that
matter most at the top. The swing (the high run's KPI less the low run's, paired) is given too.

A staff input (``teams.T.staff.G.wte`` or ``teams.T.caseload.clinicians``) is the WTE from the
start; its dated changes (``capacity_changes``) are moved by the same amount, as a plan's lever
moves them (:func:`asdsim.experiments.plan.levers.shift_changes`), so a recruitment already
planned stays that many posts above the changed base. ``notes`` says, per input, how many were moved.

A change that the scenario format refuses (a probability above 1) is left out and listed in
``skipped``; whole-number fields are rounded, other values kept to six significant figures. A
share KPI at 0% or 100% in every baseline replication is warned of (``warnings``): a change
that would push it further cannot show.
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
from asdsim.experiments.plan.levers import shift_changes
from asdsim.experiments.runner import DEFAULT_SEED, Progress, simulate
from asdsim.scenario.loading import load_scenario, scenario_from_dict
from asdsim.scenario.schema import Scenario, number_at, parse_path, set_in, value_in
from asdsim.scenario.staffing import in_force as staff_in_force
from asdsim.scenario.values import ValueProblem, parse_number

DEFAULT_KPI = "assessment_started_within_3_months"
DEFAULT_CHANGE = 0.2
"""Relative change down and up of each input by default (20%)."""

RANKING_COLUMNS = ["input", "low_value", "base_value", "high_value", "low_change", "low_ci_low",
                   "low_ci_high", "high_change", "high_ci_low", "high_ci_high", "largest_change",
                   "swing", "swing_ci_low", "swing_ci_high"]
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
    diff_ci_low, diff_ci_high (paired difference from the baseline), n, dated_changes_moved."""
    ranking: pd.DataFrame
    """One row per input, largest effect first: rank, input, low_value, base_value, high_value,
    low_change, low_ci_low, low_ci_high (the low run less the baseline, paired), high_change,
    high_ci_low, high_ci_high (the high run less the baseline), largest_change (the larger of
    the two in absolute value, with its sign: the rank's key), swing (high run less low run,
    paired), swing_ci_low, swing_ci_high."""
    replications: int
    """Replications of every run."""
    seed: int
    """The seed every run shares."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Inputs left out, and why."""
    notes: dict[str, str] = field(default_factory=dict)
    """Per input, what else was changed with it (dated changes of a staff input moved)."""
    warnings: list[str] = field(default_factory=list)
    """What may hide an effect (the baseline KPI at 0% or 100%)."""


def _staff_input(keys: tuple[str | int, ...]) -> tuple[str, str, str | None] | None:
    """``(team, key, group)`` of a staff input path (a group's WTE or a caseload's clinicians),
    the fields a dated capacity change sets; None for any other path."""
    if len(keys) == 5 and keys[0] == "teams" and keys[2] == "staff" and keys[4] == "wte":
        return str(keys[1]), "wte", str(keys[3])
    if len(keys) == 4 and keys[0] == "teams" and keys[2:] == ("caseload", "clinicians"):
        return str(keys[1]), "clinicians", None
    return None


def _move_dated_changes(data: dict[str, Any], base: Scenario, keys: tuple[str | int, ...],
                        delta: float) -> int:
    """Move a staff input's dated changes by ``delta`` in the scenario data, as a plan's lever
    does from the start date; returns how many dated changes were moved (none: data unchanged)."""
    staff = _staff_input(keys)
    if staff is None:
        return 0
    team, key, group = staff
    # a change dated on the start date overrides the field itself, so it moves too
    later = [c for c in base.capacity_changes if c.team == team and c.date >= base.start_date
             and getattr(c, key) is not None and (key == "clinicians" or c.group == group)]
    if not later:
        return 0
    in_force = staff_in_force(base, team, base.start_date, group if key == "wte" else None)
    data["capacity_changes"] = shift_changes([dict(c) for c in data.get("capacity_changes", [])],
                                             team, key, group, in_force, delta, base.start_date)
    return len(later)


def _at_bound(baseline: pd.Series, unit: str) -> str | None:
    """Why no one-at-a-time change may show, if the baseline share sits at 0% or 100%."""
    values = baseline.dropna().to_numpy()
    if unit != "share" or not len(values):
        return None
    for bound, words in ((1.0, "100%"), (0.0, "0%")):
        if np.all(values == bound):
            return (f"the baseline KPI is {words} in every replication, so a change that would "
                    f"push it further cannot show and a small change the other way may not "
                    f"either: an input ranked as having no effect may still matter (try a KPI "
                    f"or a scenario away from {words})")
    return None

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
    planned, skipped, moved = _planned_runs(base, inputs)
    notes = {path: (f"its {count} dated change{'s' if count != 1 else ''} (capacity_changes) "
                    "moved by the same amount") for path, count in moved.items()
             if count and path not in skipped}
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
                     "diff_ci_high": high, "n": n, "dated_changes_moved": moved.get(path, 0)})
    runs = pd.DataFrame(rows, columns=["input", "side", "value", "base_value", "kpi_mean",
                                       "diff_mean", "diff_ci_low", "diff_ci_high", "n",
                                       "dated_changes_moved"])
    warning = _at_bound(baseline, unit)
    base_mean = float(baseline.mean()) if len(baseline) else math.nan
    return Sensitivity(scenario=base.name, kpi=kpi, unit=unit, baseline=base_mean, runs=runs,
                       ranking=_ranking(planned, runs, values), replications=replications,
                       seed=seed, skipped=skipped, notes=notes,
                       warnings=[warning] if warning else [])


_Run = tuple[str, str, float, float, Scenario]
"""One planned run: input path, side (low or high), its value, the base value, its scenario."""


def _planned_runs(base: Scenario, inputs: Mapping[str, tuple]
                  ) -> tuple[list[_Run], dict[str, str], dict[str, int]]:
    """The low and high run of each input, the inputs skipped (a side the scenario refuses, and
    why) and how many dated changes each input's change moved with it."""
    data = base.model_dump(mode="json")
    planned: list[_Run] = []
    skipped: dict[str, str] = {}
    moved: dict[str, int] = {}
    for path, how in inputs.items():
        value, why = number_at(base, path)
        keys = parse_path(path)
        if why is not None or value is None or keys is None:
            raise AsdsimError(f"--vary {path}: {why}")
        sides = (value * (1 - how[1]), value * (1 + how[1])) if how[0] == "relative" else how[1:]
        whole = isinstance(value_in(data, keys), int)
        for side, new in zip(("low", "high"), sides, strict=True):
            new = round(new) if whole else float(f"{new:.6g}")  # 0.45, not 0.45000000000000007
            changed = base.model_dump(mode="json")
            set_in(changed, keys, new)
            count = _move_dated_changes(changed, base, keys, new - value)
            moved[path] = count
            try:
                planned.append((path, side, new, value, scenario_from_dict(changed, name=path)))
            except ScenarioError as exc:
                skipped[path] = f"{side} value {new:g} is refused: {exc.problems[0].message}"
    return [p for p in planned if p[0] not in skipped], skipped, moved


def _ranking(planned: list[_Run], runs: pd.DataFrame,
             values: dict[tuple[str, str], pd.Series]) -> pd.DataFrame:
    """One row an input, ranked by its largest change, then by its swing from low to high."""
    ranked = []
    for path in dict.fromkeys(p[0] for p in planned):
        mean, low, high, _ = mean_ci((values[(path, "high")] - values[(path, "low")]).to_numpy())
        part = runs[runs.input == path].set_index("side")
        lo, hi = part.loc["low"], part.loc["high"]
        largest = max((lo.diff_mean, hi.diff_mean), key=lambda d: -1.0 if math.isnan(d) else abs(d))
        ranked.append({"input": path, "low_value": lo.value, "base_value": lo.base_value,
                       "high_value": hi.value, "low_change": lo.diff_mean,
                       "low_ci_low": lo.diff_ci_low, "low_ci_high": lo.diff_ci_high,
                       "high_change": hi.diff_mean, "high_ci_low": hi.diff_ci_low,
                       "high_ci_high": hi.diff_ci_high, "largest_change": largest, "swing": mean,
                       "swing_ci_low": low, "swing_ci_high": high})
    ranking = pd.DataFrame(ranked, columns=RANKING_COLUMNS)
    key = np.nan_to_num(ranking.largest_change.abs().to_numpy(dtype=float), nan=-1.0)
    order = np.lexsort((-np.nan_to_num(ranking.swing.abs().to_numpy(dtype=float), nan=-1.0), -key))
    ranking = ranking.iloc[order].reset_index(drop=True)
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    return ranking


def write_sensitivity(result: Sensitivity, out: str | Path, force: bool = False) -> Path:
    """Write ``ranking.csv``, ``runs.csv`` and ``tornado.png`` into a folder, all at once.

    Raises
    ------
    asdsim.reporting.outputs.OutputExists
        When ``out`` is not empty and ``force`` is false.
    """
    from asdsim.reporting.formatting import rounded
    from asdsim.reporting.outputs import MARKER, atomic_folder
    from asdsim.reporting.tornado import tornado
    from asdsim.spreadsheet import write_csv

    with atomic_folder(Path(out), force) as tmp:
        # marks the folder as asdsim's results, so a later --force may replace it
        (tmp / MARKER).write_text(json.dumps({"kind": "sensitivity", "kpi": result.kpi,
                                              "replications": result.replications,
                                              "notes": result.notes,
                                              "warnings": result.warnings}) + "\n")
        changes = [c for c in RANKING_COLUMNS if c.endswith(("change", "_ci_low", "_ci_high"))
                   or c == "swing"]
        write_csv(rounded(result.ranking, dict.fromkeys(changes, result.unit)), tmp / "ranking.csv")
        runs = ["kpi_mean", "diff_mean", "diff_ci_low", "diff_ci_high"]
        write_csv(rounded(result.runs, dict.fromkeys(runs, result.unit)), tmp / "runs.csv")
        tornado(result.runs, result.ranking, result.kpi, result.unit, result.baseline,
                result.replications, result.warnings).savefig(tmp / "tornado.png", dpi=110)
    return Path(out)
