"""Running several scenarios with one seed and comparing them with a baseline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from asdsim.analysis.paired import Comparison, headline_cohort, paired_table
from asdsim.analysis.results import Results
from asdsim.errors import AsdsimError, Problem, ScenarioError
from asdsim.experiments.runner import DEFAULT_SEED, Inputs, Progress, simulate
from asdsim.scenario.loading import load_scenario
from asdsim.scenario.schema import Scenario


def compare(scenarios: Sequence[Scenario | str | Path], replications: int = 10,
            seed: int = DEFAULT_SEED, jobs: int = 1, baseline: str | None = None,
            progress: Progress | None = None, inputs: Inputs = "fixed",
            allow_different_cohorts: bool = False) -> Comparison:
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
    inputs
        As for :func:`asdsim.simulate`: ``"drawn"`` draws each scenario's uncertain inputs per
        replication; an input two scenarios share, with the same distribution, gets the same
        value in the same replication of both, so the paired differences compare like with like.
    allow_different_cohorts
        Compare designs whose headline cohorts differ (see
        :func:`asdsim.analysis.paired.headline_cohort`); their differences are then unpaired
        and every table labels them so.

    Raises
    ------
    ScenarioError
        When any scenario file is invalid (with the problems of every file).
    AsdsimError
        When no scenario is given, two share a name, the baseline is not among them, inputs
        are to be drawn and no scenario gives any uncertain input, or the headline cohorts
        differ and ``allow_different_cohorts`` is false.
    """
    if not scenarios:
        raise AsdsimError("compare needs at least one scenario")
    loaded, sources = _load_all(scenarios)
    names = [s.name for s in loaded]
    _check_names(names, sources)
    if inputs == "drawn" and not any(s.uncertain for s in loaded):
        raise AsdsimError("inputs are to be drawn, but no scenario gives uncertain: inputs "
                          "(see docs/uncertainty.md)")
    if not allow_different_cohorts:
        _check_cohorts(loaded, sources)
    chosen = names[0] if baseline is None else _baseline_name(baseline, sources, names)
    results: dict[str, Results] = {}
    drawn = inputs == "drawn"
    total = sum(replications * (2 if drawn and s.uncertain else 1) for s in loaded)
    offset = 0
    for scenario in loaded:
        def step(done: int, _total: int, offset: int = offset) -> None:
            if progress:
                progress(offset + done, total)

        results[scenario.name] = simulate(scenario, replications, seed, jobs, step, inputs)
        offset += replications * (2 if drawn and scenario.uncertain else 1)
    return Comparison(results=results, baseline=chosen, table=paired_table(results, chosen))


def _load_all(scenarios: Sequence[Scenario | str | Path]) -> tuple[list[Scenario], list[str]]:
    """Every scenario loaded, and where each came from (for messages); the problems of every
    invalid file at once, not only the first."""
    loaded: list[Scenario] = []
    sources: list[str] = []
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
    if problems:
        raise ScenarioError(problems)
    return loaded, sources


def _check_names(names: list[str], sources: list[str]) -> None:
    """Refuse two scenarios of one name: their results would be keyed alike."""
    for name in dict.fromkeys(names):
        where = [src for src, n in zip(sources, names, strict=True) if n == name]
        if len(where) > 1:
            raise AsdsimError(f"scenario name {name!r} is used by {' and '.join(where)}; names must "
                              "be unique to compare (change 'name:' in all but one)")


def _check_cohorts(loaded: list[Scenario], sources: list[str]) -> None:
    """Refuse designs whose headline cohorts differ: a paired difference would compare
    different children."""
    cohorts = [headline_cohort(s) for s in loaded]
    if len(set(cohorts)) <= 1:
        return
    listed = "; ".join(f"{src}: referred {first.isoformat()} to {last.isoformat()}"
                       for src, (first, last) in zip(sources, cohorts, strict=True))
    raise AsdsimError(
        "the scenarios judge different headline cohorts (reporting.cohort_from_date, start_date "
        f"or horizon_weeks differ), so their differences would not be paired: {listed}. Give "
        "them the same cohort, or pass --allow-different-cohorts to compare them unpaired")


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
