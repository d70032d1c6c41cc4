"""The starting state: a generated backlog, or the children of today's CSV snapshot, and the
children of a warm start part-way through assessment.

The snapshot itself is read (once) when the scenario is loaded, by
:mod:`asdsim.scenario.snapshot`; here its kept rows become the children waiting at the start.
Their ages are the middle of the month of age they had completed at referral, and they are put
in an order drawn from the seeded ``backlog`` stream, so nothing in the outputs follows the
file's row order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from asdsim.model.demand import draw_children
from asdsim.scenario.schema import AgeBand, Scenario
from asdsim.scenario.snapshot import locality_index, scenario_snapshot
from asdsim.scenario.warm import running_service

BACKLOG_STAGES = ("awaiting_triage", "awaiting_assessment", "in_assessment")
"""Where a child of the starting state is: the index is ``Backlog.stage``."""


@dataclass(frozen=True)
class Backlog:
    """Children waiting at the start, one array element per child."""

    referral_day: np.ndarray
    """Day of referral (negative: before the start)."""
    age_years: np.ndarray
    """Age at referral."""
    stage: np.ndarray
    """Index into ``BACKLOG_STAGES``."""
    priority: np.ndarray
    """Priority rank."""
    locality: np.ndarray
    """Index into the scenario's localities."""
    source: np.ndarray
    """Index into the scenario's sources."""
    hours_factor: np.ndarray
    """Multiplier on assessment hours."""
    team: tuple[str | None, ...]
    """Team whose list the child is on (None: route by age)."""
    steps_done: np.ndarray | None = None
    """For children part-way through assessment: steps already done (None: none are)."""

    def __len__(self) -> int:
        return len(self.referral_day)


def _empty() -> Backlog:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    return Backlog(z, z, zi, zi, zi, zi, z, ())


def generate_backlog(scenario: Scenario, rng: np.random.Generator) -> Backlog:
    """Children of the scenario's generated backlog groups, or of its CSV snapshot, and those
    of its warm start (:mod:`asdsim.scenario.warm`) after them.

    Parameters
    ----------
    scenario
        The scenario; a snapshot is the one kept with it when it was loaded (never re-read).
    rng
        The ``backlog`` random stream.

    Returns
    -------
    Backlog
        One element per child waiting at the start.
    """
    state = scenario.initial_state
    if state.kind == "csv":
        listed = _from_snapshot(scenario, rng)
    elif state.kind == "generated":
        listed = _drawn(scenario, rng, [
            _Draw(g.count, g.weeks_waited_min, g.weeks_waited_max, BACKLOG_STAGES.index(g.stage),
                  g.team, g.steps_done, g.age_bands,
                  None if g.localities is None else dict(g.localities), bool(g.age_bands))
            for g in state.backlog])
    else:
        listed = _empty()
    if not state.warm:
        return listed
    in_assessment = BACKLOG_STAGES.index("in_assessment")
    warm = _drawn(scenario, rng, [
        _Draw(n, *team.weeks_waited(k + 1), in_assessment, team.team, k + 1, team.age_bands,
              team.localities, False)
        for team in running_service(scenario) for k, n in enumerate(team.counts) if n])
    return _joined(listed, warm)


@dataclass(frozen=True)
class _Draw:
    """A group of children to draw alike."""

    count: int
    weeks_min: float
    weeks_max: float
    stage: int
    team: str | None
    steps_done: int
    age_bands: tuple[AgeBand, ...] | None
    localities: dict[str, float] | None
    ages_now: bool
    """Whether ``age_bands`` are ages at the start (ages at referral are younger by the wait)."""


def _drawn(scenario: Scenario, rng: np.random.Generator, draws: list[_Draw]) -> Backlog:
    """The children of each group in turn, each group's attributes then its waits from ``rng``."""
    if not draws:
        return _empty()
    parts = []
    for d in draws:
        kids = draw_children(scenario, d.count, rng, d.age_bands, d.localities)
        weeks = d.weeks_min + (d.weeks_max - d.weeks_min) * rng.random(d.count)
        if d.ages_now:
            kids = replace(kids, age_years=np.maximum(kids.age_years - 7.0 * weeks / 365.25, 0.0))
        parts.append((kids, -7.0 * weeks, d))
    team: list[str | None] = []
    for kids, _, d in parts:
        team.extend([d.team] * len(kids.age_years))
    return Backlog(
        referral_day=np.concatenate([p[1] for p in parts]),
        age_years=np.concatenate([p[0].age_years for p in parts]),
        stage=np.concatenate([np.full(len(p[1]), p[2].stage, dtype=np.int64) for p in parts]),
        priority=np.concatenate([p[0].priority for p in parts]),
        locality=np.concatenate([p[0].locality for p in parts]),
        source=np.concatenate([p[0].source for p in parts]),
        hours_factor=np.concatenate([p[0].hours_factor for p in parts]),
        team=tuple(team),
        steps_done=np.concatenate([np.full(len(p[1]), p[2].steps_done, dtype=np.int64)
                                   for p in parts]),
    )


def _joined(first: Backlog, second: Backlog) -> Backlog:
    """The children of ``first`` then those of ``second``."""
    if not len(second):
        return first
    if not len(first):
        return second

    def steps(b: Backlog) -> np.ndarray:
        return np.zeros(len(b), dtype=np.int64) if b.steps_done is None else b.steps_done

    return Backlog(
        *(np.concatenate([getattr(first, f), getattr(second, f)])
          for f in ("referral_day", "age_years", "stage", "priority", "locality", "source",
                    "hours_factor")),
        team=first.team + second.team,
        steps_done=np.concatenate([steps(first), steps(second)]),
    )


def _from_snapshot(scenario: Scenario, rng: np.random.Generator) -> Backlog:
    """The snapshot's children, in an order drawn from ``rng`` (not the file's)."""
    snapshot = scenario_snapshot(scenario)
    if snapshot is None or not snapshot.rows:
        return _empty()
    rows = [snapshot.rows[i] for i in rng.permutation(len(snapshot.rows))]
    n = len(rows)
    localities = list(scenario.demand.localities)
    classes = list(scenario.priority_classes)
    source = draw_children(scenario, n, rng).source  # not in a snapshot: drawn as for referrals
    return Backlog(
        referral_day=np.array([float((r.referral_date - scenario.start_date).days) for r in rows]),
        age_years=np.array([r.age_years for r in rows]),
        stage=np.array([BACKLOG_STAGES.index(r.stage) for r in rows], dtype=np.int64),
        priority=np.array([classes.index(r.priority) if r.priority else len(classes) - 1
                           for r in rows], dtype=np.int64),
        locality=np.array([locality_index(r.locality, localities) for r in rows], dtype=np.int64),
        source=source, hours_factor=np.ones(n), team=(None,) * n,
        steps_done=np.array([r.steps_done for r in rows], dtype=np.int64),
    )
