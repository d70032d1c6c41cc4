"""Drawing a scenario's uncertain inputs, one set per replication.

A scenario's ``uncertain:`` gives a range or a distribution for some assumed numbers. When inputs
are drawn, replication ``r`` runs a scenario in which each such number is the quantile of a
uniform taken from its own stream, seeded by the run's seed, ``r`` and a stable hash of the
number's path (in its one spelling, :func:`~asdsim.scenario.schema.canonical_path`), never by the
order the inputs are listed in. So

* the same seed gives the same values;
* two scenarios that give the same input the same distribution draw the same value for it in the
  same replication (common random numbers, so paired differences compare like with like);
* adding or removing another uncertain input changes no other input's draws.

The streams are apart from the model's own (their names cannot clash), so a replication meets the
same children with the same luck whatever its inputs. Nothing here touches global random state.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from asdsim.scenario.loading import scenario_from_dict
from asdsim.scenario.schema import Scenario, canonical_path, parse_path, set_in, value_in
from asdsim.scenario.snapshot import attach_snapshot, scenario_snapshot

STREAM_PREFIX = "uncertain input "
"""Prefix of the name an input's stream is keyed by (no model stream's name starts so)."""

INPUT_COLUMNS = ("replication", "path", "value")
"""Columns of the table of drawn inputs."""


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def input_uniform(seed: int, replication: int, path: str) -> float:
    """The uniform in [0, 1) that one input's draw in one replication is made from.

    Parameters
    ----------
    seed
        The run's seed.
    replication
        Replication number.
    path
        The input's dotted field path (any spelling of it: ``demand.monthly_factors.7`` and
        ``demand.monthly_factors[7]`` share a stream).
    """
    sequence = np.random.SeedSequence(
        entropy=int(seed),
        spawn_key=(int(replication), _name_key(STREAM_PREFIX + canonical_path(path))))
    return float(np.random.Generator(np.random.PCG64(sequence)).random())


def draw_inputs(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    """The values of a scenario's uncertain inputs in one replication, by path.

    Each value is the input's distribution's quantile of :func:`input_uniform`; a whole-number
    field gets the nearest whole number. Empty when nothing is uncertain.
    """
    data: dict[str, Any] | None = None
    out: dict[str, float] = {}
    for path, dist in scenario.uncertain.items():
        value = float(dist.quantile(input_uniform(seed, replication, path)))
        keys = parse_path(path) or ()
        if data is None:
            data = scenario.model_dump(mode="json")
        if isinstance(value_in(data, keys), int):
            value = float(round(value))
        out[canonical_path(path)] = value
    return out


def with_inputs(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with some numbers replaced and nothing left uncertain.

    Whole-number fields get whole numbers; a CSV snapshot the scenario carries is kept with it.

    Raises
    ------
    ScenarioError
        When a value is refused (the scenario's own check of ``uncertain`` makes this rare).
    """
    data = scenario.model_dump(mode="json")
    data.pop("uncertain", None)
    for path, value in values.items():
        keys = parse_path(path) or ()
        set_in(data, keys, round(value) if isinstance(value_in(data, keys), int) else float(value))
    changed = Scenario.model_validate(data) if scenario.initial_state.kind == "csv" else \
        scenario_from_dict(data, name=scenario.name)
    snapshot = scenario_snapshot(scenario)
    if snapshot is not None:
        attach_snapshot(changed, snapshot)
    return changed


def replication_scenario(scenario: Scenario, seed: int, replication: int) -> Scenario:
    """The scenario replication ``replication`` runs when inputs are drawn (the scenario itself,
    less ``uncertain``, when nothing is uncertain)."""
    return with_inputs(scenario, draw_inputs(scenario, seed, replication))


def inputs_table(scenario: Scenario, seed: int, replications: int) -> pd.DataFrame:
    """The drawn inputs of replications ``0 .. replications-1``: one row per replication and
    input, with columns ``replication``, ``path`` and ``value`` (empty when nothing is
    uncertain)."""
    rows = [(r, path, value) for r in range(replications)
            for path, value in draw_inputs(scenario, seed, r).items()]
    return pd.DataFrame(rows, columns=list(INPUT_COLUMNS)).astype(
        {"replication": "int64", "path": "object", "value": "float64"})
