"""The scenario format: immutable, validated descriptions of a diagnostic pathway.

A scenario is read from YAML once, at the edge, and checked here in full before any model is
built. Every model is frozen and forbids unknown keys; every field has a docstring, which becomes
its description in the JSON Schema. Units live in field names (``_per_week``, ``_days``,
``_years``, ``_gbp``). Checks that involve more than one field (age bands that overlap, a step
that needs a staff group its team lacks, a dated change outside the horizon) are made by the
``model_validator`` of the smallest model that sees all the fields involved.

By section: :mod:`~asdsim.scenario.schema.demand`, :mod:`~asdsim.scenario.schema.triage`,
:mod:`~asdsim.scenario.schema.teams` (teams, staff groups, steps),
:mod:`~asdsim.scenario.schema.listpolicy` (prioritisation, leaving and validation of a list),
:mod:`~asdsim.scenario.schema.changes` (capacity changes, outsourced blocks),
:mod:`~asdsim.scenario.schema.routing` (routing and the starting state),
:mod:`~asdsim.scenario.schema.reporting` (reporting dates, observed figures),
:mod:`~asdsim.scenario.schema.published` (a published distribution of waits),
:mod:`~asdsim.scenario.schema.uncertain`; the whole :class:`Scenario` with the checks across
sections in :mod:`~asdsim.scenario.schema.scenario`; dotted field paths in
:mod:`~asdsim.scenario.schema.paths`; shared limits in :mod:`~asdsim.scenario.schema.common`.
"""

from asdsim.scenario.schema.changes import CapacityChange, OutsourcedBlock
from asdsim.scenario.schema.common import (
    FIRST_DATE,
    LAST_DATE,
    MAX_AGE_YEARS,
    MAX_HORIZON_WEEKS,
    MAX_REFERRALS_PER_WEEK,
    SUM_TOLERANCE,
    Age,
    PositiveAge,
)
from asdsim.scenario.schema.demand import AgeBand, Demand, Flag, StepChange
from asdsim.scenario.schema.listpolicy import Leaving, Prioritisation, UrgentBand, Validation
from asdsim.scenario.schema.paths import (
    canonical_path,
    json_copy,
    number_at,
    parse_path,
    set_in,
    value_in,
)
from asdsim.scenario.schema.published import PublishedQuantile, PublishedWaits
from asdsim.scenario.schema.reporting import FLOW_MEASURES, ObservedPoint, Reporting
from asdsim.scenario.schema.routing import BacklogGroup, InitialState, Routing, UncoveredRule
from asdsim.scenario.schema.scenario import Scenario
from asdsim.scenario.schema.teams import (
    Caseload,
    DnaRules,
    Outcomes,
    Review,
    StaffGroup,
    Step,
    Team,
    WaitingList,
    YoungChild,
)
from asdsim.scenario.schema.triage import Triage, TriageOutcomes
from asdsim.scenario.schema.uncertain import HIGHEST_UNIFORM, UncertainInput

__all__ = [
    "FIRST_DATE", "FLOW_MEASURES", "HIGHEST_UNIFORM", "LAST_DATE", "MAX_AGE_YEARS",
    "MAX_HORIZON_WEEKS", "MAX_REFERRALS_PER_WEEK", "SUM_TOLERANCE", "Age", "AgeBand",
    "BacklogGroup", "CapacityChange", "Caseload", "Demand", "DnaRules", "Flag", "InitialState",
    "Leaving", "ObservedPoint", "Outcomes", "OutsourcedBlock", "PositiveAge", "Prioritisation",
    "PublishedQuantile", "PublishedWaits",
    "Reporting", "Review", "Routing", "Scenario", "StaffGroup", "Step", "StepChange", "Team",
    "Triage", "TriageOutcomes", "UncertainInput", "UncoveredRule", "UrgentBand", "Validation",
    "WaitingList", "YoungChild", "canonical_path", "json_copy", "number_at", "parse_path", "set_in",
    "value_in",
]
