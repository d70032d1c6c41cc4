"""asdsim: discrete-event simulation of children's autism diagnostic pathways.

The Python API in four names::

    import asdsim
    scenario = asdsim.load_scenario("nice_mdt")  # a shipped scenario by name, or a file path
    results = asdsim.simulate(scenario, replications=20, seed=1, jobs=2)
    results.kpis            # one row per KPI, mean and 95% CI

The public names are imported when first used (PEP 562), not with the package, so a command
that needs none of the heavy libraries (``asdsim --version``) does not pay for them.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("asdsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from asdsim.analysis.results import Results
    from asdsim.errors import AsdsimError, Problem, ScenarioError
    from asdsim.experiments.compare import compare
    from asdsim.experiments.plan import plan as plan  # least-cost staffing: asdsim.plan(...)
    from asdsim.experiments.runner import DEFAULT_SEED, simulate
    from asdsim.scenario import (
        Scenario,
        load_scenario,
        scenario_from_dict,
        scenario_hash,
        scenario_json_schema,
        scenario_to_yaml,
    )

_LAZY = {
    "DEFAULT_SEED": "asdsim.experiments.runner",
    "AsdsimError": "asdsim.errors",
    "Problem": "asdsim.errors",
    "Results": "asdsim.analysis.results",
    "Scenario": "asdsim.scenario",
    "ScenarioError": "asdsim.errors",
    "compare": "asdsim.experiments.compare",
    "load_scenario": "asdsim.scenario",
    "plan": "asdsim.experiments.plan",  # least-cost staffing: asdsim.plan(...)
    "scenario_from_dict": "asdsim.scenario",
    "scenario_hash": "asdsim.scenario",
    "scenario_json_schema": "asdsim.scenario",
    "scenario_to_yaml": "asdsim.scenario",
    "simulate": "asdsim.experiments.runner",
}
"""Each public name and the module it comes from."""

__all__ = [
    "DEFAULT_SEED",
    "AsdsimError",
    "Problem",
    "Results",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "load_scenario",
    "scenario_from_dict",
    "scenario_hash",
    "scenario_json_schema",
    "scenario_to_yaml",
    "simulate",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module when it is first used, and keep it here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'asdsim' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
