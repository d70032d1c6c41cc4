"""The app's plan page logic: ``asdsim plan`` (least-cost staffing that meets targets) on the
server's shared pool, queued and cached like a run.

The page asks with a :class:`PlanRequest`; no target means the NICE standard from the quarter
the money starts (:data:`STANDARD_TEXT`), as ``asdsim plan`` without ``--target``. :func:`check`
parses the targets and levers as ``asdsim plan`` does (so a bad target or lever is named before
anything runs), and :func:`submit` hands the search to the engine, which runs it in a server thread with its
replications in the shared worker processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from asdsim.app.engine import Engine, Job, RunKey, expected_children
from asdsim.experiments.backends import Backend
from asdsim.experiments.plan import Plan, PlanError, make_levers, plan
from asdsim.experiments.targets import parse_targets
from asdsim.scenario.loading import scenario_hash
from asdsim.scenario.schema import Scenario

STANDARD_TEXT = "nice_standard"
"""The NICE standard as a target line: at least 90% of each quarter's referrals, from the quarter
of the date new money starts, start assessment within 3 months."""
CONFIRM_OPTIONS = 4
"""About how many options the plan runs again on fresh replications, for the size estimate."""


@dataclass(frozen=True)
class PlanRequest:
    """What the plan page asks: targets (none: the NICE standard), the date new money starts,
    the staff groups to vary (``team/group``), the most WTE added to each and its step, the
    confidence, replications, the evaluation budget and the seed."""

    targets: tuple[str, ...]
    from_date: dt.date
    vary: tuple[str, ...]
    most_added: float = 3.0
    step: float = 0.1
    confidence: float = 0.8
    replications: int = 5
    max_evaluations: int = 40
    seed: int = 12345

    def kwargs(self) -> dict[str, Any]:
        """The arguments of :func:`asdsim.experiments.plan.plan` (beyond scenario and backend)."""
        return {"targets": list(self.targets) or None, "from_date": self.from_date,
                "vary": list(self.vary),
                "bounds": {name: (0.0, self.most_added) for name in self.vary},
                "step": self.step, "confidence": self.confidence,
                "replications": self.replications, "max_evaluations": self.max_evaluations,
                "seed": self.seed}


def targets_from_text(text: str) -> tuple[str, ...]:
    """One target a line (blank lines and ``#`` comments left out)."""
    return tuple(line.strip() for line in text.splitlines()
                 if line.strip() and not line.strip().startswith("#"))


def default_from(scenario: Scenario) -> dt.date:
    """The date new money starts, by default: a year in, or a quarter of a shorter run in."""
    return scenario.start_date + dt.timedelta(days=min(365, scenario.horizon_days // 4))


def check(scenario: Scenario, request: PlanRequest) -> None:
    """Parse the targets and build the levers as ``asdsim plan`` does.

    Raises
    ------
    TargetError, PlanError
        Naming the target or lever that cannot be used.
    """
    if not scenario.start_date <= request.from_date < scenario.end_date:
        raise PlanError(f"the date new money starts, {request.from_date}, is outside the "
                        f"scenario's run, {scenario.start_date} to {scenario.end_date}")
    parse_targets(list(request.targets) or [STANDARD_TEXT], request.from_date)
    make_levers(scenario, list(request.vary), request.from_date,
                bounds={name: (0.0, request.most_added) for name in request.vary},
                step=request.step)


def plan_children(scenario: Scenario, request: PlanRequest) -> int:
    """About how many children the plan simulates at most: every evaluation's replications,
    plus the confirmation of a few options on three times as many fresh replications."""
    runs = request.replications * (request.max_evaluations + 3 * CONFIRM_OPTIONS)
    return expected_children(scenario, runs)


def key(scenario: Scenario, request: PlanRequest, scope: str | None) -> RunKey:
    """The cache key of a plan: the scenario's hash and everything asked."""
    asked = json.dumps({**asdict(request), "from_date": request.from_date.isoformat()},
                       sort_keys=True)
    digest = hashlib.sha256(f"{scenario_hash(scenario)}|{asked}".encode()).hexdigest()[:16]
    return RunKey(f"plan:{digest}", request.seed, request.replications, scope)


def submit(engine: Engine, scenario: Scenario, request: PlanRequest, scope: str | None) -> Job:
    """Queue the plan on the shared engine (or join the same plan, or answer from the cache)."""
    def call(backend: Backend, progress: Callable[..., None]) -> Plan:
        return plan(scenario, backend=backend, progress=progress, **request.kwargs())

    return engine.submit_call(key(scenario, request, scope), scenario,
                              request.max_evaluations, call)
