"""Comparing scenarios under common random numbers.

Every scenario runs with the same seed, so replication r of each meets the same children with the
same luck. A KPI's paired difference from the baseline is therefore computed replication by
replication, and its confidence interval is much narrower than the two separate intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from asdsim.errors import AsdsimError, Problem, ScenarioError
from asdsim.kpis import CENSORED
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
    """The comparison table: every KPI of every scenario with its paired difference.

    Parameters
    ----------
    results
        Each scenario's results, run with one seed and the same replications.
    baseline
        The scenario the differences are taken from (its own differences are zero, or NaN where
        the KPI itself is).

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, kpi, unit, mean, ci_low, ci_high, diff_mean, diff_ci_low,
        diff_ci_high``; a difference is NaN where the KPI is missing from the baseline, and a
        censored KPI (a wait quantile, the backlog clearance time) not reached in some replication
        of either scenario has a NaN difference, as its mean is NaN (a mean of the others would
        be biased).
    """
    base = results[baseline].kpis_by_replication.set_index(["kpi", "replication"]).value
    base_kpis = set(base.index.get_level_values(0))
    rows = []
    for name, res in results.items():
        per_rep = res.kpis_by_replication.set_index(["kpi", "replication"]).value
        for row in res.kpis.to_dict("records"):
            kpi = row["kpi"]
            d_mean = d_low = d_high = math.nan
            if kpi in base_kpis:
                # aligned on the replication number: the same children and luck in both
                diff = (per_rep.loc[kpi] - base.loc[kpi]).to_numpy(dtype=float)
                if not (str(kpi).startswith(CENSORED) and np.isnan(diff).any()):
                    d_mean, d_low, d_high, _ = mean_ci(diff)
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
    ScenarioError
        When any scenario file is invalid (with the problems of every file).
    AsdsimError
        When no scenario is given, two share a name, or the baseline is not among them.
    """
    if not scenarios:
        raise AsdsimError("compare needs at least one scenario")
    loaded: list[Scenario] = []
    sources: list[str] = []  # where each scenario came from, for messages
    problems: list[Problem] = []
    for item in scenarios:
        if isinstance(item, Scenario):
            loaded.append(item)
            sources.append(f"scenario {item.name!r}")
            continue
        try:
            loaded.append(load_scenario(item))
        except ScenarioError as error:
            problems.extend(error.problems)
        sources.append(str(item))
    if problems:  # report every invalid file at once, not only the first
        raise ScenarioError(problems)
    names = [s.name for s in loaded]
    for name in dict.fromkeys(names):
        where = [src for src, n in zip(sources, names, strict=True) if n == name]
        if len(where) > 1:
            raise AsdsimError(f"scenario name {name!r} is used by {' and '.join(where)}; names must "
                              "be unique to compare (change 'name:' in all but one)")
    chosen = names[0] if baseline is None else _baseline_name(baseline, sources, names)
    results: dict[str, Results] = {}
    total = replications * len(loaded)
    for i, scenario in enumerate(loaded):
        def step(done: int, _total: int, offset: int = i * replications) -> None:
            if progress:
                progress(offset + done, total)

        results[scenario.name] = simulate(scenario, replications, seed, jobs, step)
    return Comparison(results=results, baseline=chosen, table=paired_table(results, chosen))


def _baseline_name(baseline: str, sources: list[str], names: list[str]) -> str:
    """The scenario named by ``baseline``: a scenario name, or one of the files (path or stem)."""
    if baseline in names:
        return baseline
    for source, name in zip(sources, names, strict=True):
        path = Path(source)
        if baseline == path.stem or (Path(baseline).exists() and path.exists()
                                     and Path(baseline).resolve() == path.resolve()):
            return name
    raise AsdsimError(f"baseline {baseline!r} is not one of the scenarios (by name or file): "
                      f"{', '.join(repr(n) for n in names)}")
