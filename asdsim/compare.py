"""Comparing scenarios under common random numbers.

Every scenario runs with the same seed, so replication r of each meets the same children with the
same luck. A KPI's paired difference from the baseline is therefore computed replication by
replication, and its confidence interval is much narrower than the two separate intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from asdsim.errors import AsdsimError
from asdsim.results import Results
from asdsim.runner import DEFAULT_SEED, Progress, simulate
from asdsim.scenario.loading import load_scenario
from asdsim.scenario.schema import Scenario
from asdsim.stats import mean_ci

COLUMNS = ["scenario", "kpi", "unit", "mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low",
           "diff_ci_high"]


@dataclass
class Comparison:
    """Results of several scenarios run with one seed, and their paired differences."""

    results: dict[str, Results]
    """Each scenario's results, by scenario name, in the order given."""
    baseline: str
    """Name of the scenario the differences are taken from."""
    table: pd.DataFrame
    """Per scenario and KPI: mean and 95% CI, and the paired difference from the baseline."""


def paired_table(results: dict[str, Results], baseline: str) -> pd.DataFrame:
    """The comparison table: every KPI of every scenario with its paired difference."""
    base = results[baseline].kpis_by_replication.set_index(["kpi", "replication"]).value
    rows = []
    for name, res in results.items():
        per_rep = res.kpis_by_replication.set_index(["kpi", "replication"]).value
        for row in res.kpis.to_dict("records"):
            kpi = row["kpi"]
            if name == baseline:
                d_mean, d_low, d_high = 0.0, 0.0, 0.0
            elif kpi in base.index.get_level_values(0):
                diff = (per_rep.loc[kpi] - base.loc[kpi]).to_numpy(dtype=float)
                d_mean, d_low, d_high, _ = mean_ci(diff)
            else:
                d_mean = d_low = d_high = float("nan")
            rows.append([name, kpi, row["unit"], row["mean"], row["ci_low"], row["ci_high"],
                         d_mean, d_low, d_high])
    return pd.DataFrame(rows, columns=COLUMNS)


def compare(scenarios: Sequence[Scenario | str | Path], replications: int = 10,
            seed: int = DEFAULT_SEED, jobs: int = 1, baseline: str | None = None,
            progress: Progress | None = None) -> Comparison:
    """Run scenarios with common random numbers and compare them with a baseline.

    Parameters
    ----------
    scenarios
        Scenarios or scenario files; names must be unique.
    replications, seed, jobs
        As for :func:`asdsim.simulate`; the same seed for every scenario.
    baseline
        Name (or file) of the baseline scenario; the first one by default.
    progress
        Called as ``progress(done, total)`` over all replications of all scenarios.

    Raises
    ------
    AsdsimError
        When two scenarios share a name or the baseline is not among them.
    """
    loaded: list[Scenario] = []
    files: dict[str, str] = {}
    for item in scenarios:
        scenario = item if isinstance(item, Scenario) else load_scenario(item)
        if not isinstance(item, Scenario):
            files[str(Path(item))] = scenario.name
            files[Path(item).stem] = scenario.name
        loaded.append(scenario)
    names = [s.name for s in loaded]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise AsdsimError(f"scenario names must be unique to compare; repeated: {duplicated}")
    chosen = names[0] if baseline is None else files.get(baseline, baseline)
    if chosen not in names:
        raise AsdsimError(f"baseline {baseline!r} is not one of the scenarios: {names}")
    results: dict[str, Results] = {}
    total = replications * len(loaded)
    for i, scenario in enumerate(loaded):
        def step(done: int, _total: int, offset: int = i * replications) -> None:
            if progress:
                progress(offset + done, total)

        results[scenario.name] = simulate(scenario, replications, seed, jobs, step)
    return Comparison(results=results, baseline=chosen, table=paired_table(results, chosen))
