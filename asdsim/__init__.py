"""asdsim: discrete-event simulation of children's autism diagnostic pathways.

The Python API in four names::

    import asdsim
    scenario = asdsim.load_scenario("nice_mdt")  # a shipped scenario by name, or a file path
    results = asdsim.simulate(scenario, replications=20, seed=1, jobs=2)
    results.kpis            # one row per KPI, mean and 95% CI
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("asdsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

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
