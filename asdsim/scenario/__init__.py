"""Scenario inputs: the format (``schema``), reading files (``loading``, on the bounded YAML reader
``yamlfile``) and today's CSV snapshot (``snapshot``)."""

from asdsim.scenario.loading import (
    load_scenario,
    scenario_files,
    scenario_from_dict,
    scenario_hash,
    scenario_json_schema,
    scenario_to_yaml,
)
from asdsim.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "load_scenario",
    "scenario_files",
    "scenario_from_dict",
    "scenario_hash",
    "scenario_json_schema",
    "scenario_to_yaml",
]
