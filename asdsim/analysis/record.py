"""Turning a finished replication into plain arrays (cheap to pickle and to concatenate).

Anything dated after the horizon has not happened yet as far as the outputs go: such a milestone
is NaN, never a sentinel, and a child whose exit lies beyond the horizon is still ``waiting`` or
``in_assessment``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from asdsim.model.caseload import CaseloadTeam
from asdsim.model.child import MILESTONES, Child
from asdsim.model.pathway import Pathway
from asdsim.model.runtime import collector_paused
from asdsim.model.teams import TeamRunner


@dataclass
class ReplicationRecord:
    """Everything the tables and KPIs need from one replication."""

    replication: int
    columns: dict[str, np.ndarray]
    """Patient columns, one element per child."""
    rereferral_days: np.ndarray
    """Days of re-referrals (new referrals of children rejected earlier)."""
    staff: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]
    """(team, group) -> (hours available, hours used) per week over the horizon."""
    slots: dict[str, tuple[np.ndarray, np.ndarray]]
    """Caseload team -> (slots available, slots busy on average) per week."""
    outsourced_cost_gbp: float
    wall_seconds: float = 0.0
    rereferral_gaps: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    """(child, rejected, referred again) days, shape (n, 3): the child is not an open referral
    between the two days (a return beyond the horizon has not happened yet)."""
    triage_decisions: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    """(referral, first triage decision) days of every referral decided, shape (n, 2)."""
    starting_list_decisions: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    """The rows of ``triage_decisions`` that decided a starting-list child's own referral (made
    before the run, even when dated its first day), shape (m, 2)."""
    visits: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    """(team, step) -> (appointments, missed) over the horizon, for contact steps."""
    outsourcing_bought: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    """(day, price) of each outsourced assessment bought."""
    outsourcing_skipped: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    """(day, money not spent) of each month a block's stop rule skipped."""
    left_lists: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    """(child, joined, left) days of each waiting list a child left by a transfer to another
    team's, shape (m, 3); the teams are in ``left_list_teams``."""
    left_list_teams: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    """The team of each row of ``left_lists``."""
    rejoined: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    """(child, day) a transferred child joined the list it is on now, shape (k, 2): a transferred
    child not here is on no team's list (held, or gone)."""


def record(pathway: Pathway, replication: int) -> ReplicationRecord:
    """Collect a finished replication's results as arrays."""
    with collector_paused():
        return _record(pathway, replication)


def _record(pathway: Pathway, replication: int) -> ReplicationRecord:
    horizon = pathway.horizon
    kids = pathway.children
    scenario = pathway.scenario
    cols: dict[str, np.ndarray] = {}
    n = len(kids)
    # one pass over the children per kind of column (attrgetter reads a child's fields in C, and
    # fromiter fills the array from them without a tuple per child to convert)
    days = (*MILESTONES, "started_day")
    reals = (*days, "staff_hours")
    get = operator.attrgetter(*reals)
    table = np.fromiter(chain.from_iterable(map(get, kids)), dtype=float,
                        count=n * len(reals)).reshape(n, len(reals))
    real = {name: table[:, j].copy() for j, name in enumerate(reals)}
    for name in days:
        values = real[name]
        values[values > horizon] = np.nan
        cols[name] = values
    wholes = ("priority", "referrals", "transfers", "dna_count", "outsourced")
    get = operator.attrgetter(*wholes)
    counts = np.fromiter(chain.from_iterable(map(get, kids)), dtype=np.int64,
                         count=n * len(wholes)).reshape(n, len(wholes))
    whole = {name: counts[:, j].copy() for j, name in enumerate(wholes)}
    exit_day = cols["exit_day"]
    reasons = _objects(kids, "exit_reason")
    reasons[np.equal(reasons, None)] = ""
    started = ~np.isnan(cols["started_day"])
    open_now = np.isnan(exit_day)
    reasons[open_now & started] = "in_assessment"
    reasons[open_now & ~started] = "waiting"
    cols["exit_reason"] = reasons
    outcome = _objects(kids, "outcome")
    outcome[np.isnan(cols["diagnosis_day"])] = None
    cols["outcome"] = outcome
    cols["team"] = _objects(kids, "team")
    fixed = pathway.fixed  # (what no event changes: kept as arrays from the start)
    cols["age_at_referral_years"] = fixed["age_years"].copy()
    sources = np.array(pathway.sources, dtype=object)
    localities = np.array(pathway.localities, dtype=object)
    classes = np.array(scenario.priority_classes, dtype=object)
    cols["source"] = sources[fixed["source"]]
    cols["locality"] = localities[fixed["locality"]]
    cols["priority"] = classes[whole["priority"]]
    cols["from_backlog"] = fixed["from_backlog"].copy()
    cols["outsourced"] = whole["outsourced"].astype(bool)
    for name in ("referrals", "transfers", "dna_count"):
        cols[name] = whole[name]
    cols["staff_hours"] = real["staff_hours"]
    cols["hours_factor"] = fixed["hours_factor"].copy()

    weeks = pathway.weeks
    staff: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    slots: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, team in pathway.teams.items():
        for group, ledger in team.staff_ledger(weeks).items():
            staff[(name, group)] = ledger
        if isinstance(team, CaseloadTeam):
            slots[name] = team.slot_ledger(weeks)
    visits: dict[tuple[str, str], tuple[int, int]] = {}
    for name, team in pathway.teams.items():
        for step, tally in _visits(team, horizon).items():
            visits[(name, step)] = tally
    return ReplicationRecord(
        replication=replication, columns=cols,
        rereferral_days=np.array(pathway.rereferral_days, dtype=float),
        rereferral_gaps=_rows(pathway.rereferral_gaps, 3),
        triage_decisions=_rows(pathway.triage_decisions, 2),
        starting_list_decisions=_rows(pathway.starting_list_decisions, 2),
        visits=visits,
        outsourcing_bought=_rows(pathway.outsourcing_bought, 2),
        outsourcing_skipped=_rows(pathway.outsourcing_skipped, 2),
        left_lists=_rows([(child, joined, left) for child, _, joined, left in pathway.left_lists], 3),
        left_list_teams=np.array([team for _, team, _, _ in pathway.left_lists], dtype=object),
        rejoined=_rows(list(pathway.rejoined.items()), 2),
        staff=staff, slots=slots, outsourced_cost_gbp=pathway.outsourced_cost_gbp,
    )


def _visits(team: TeamRunner, horizon: float) -> dict[str, tuple[int, int]]:
    """(appointments, missed) of each contact step of a team over the horizon, the steps in the
    order of their first appointment on the clock (the visits are not in clock order: a settled
    package's later appointments are attended early, ClinicTeam._finish), a tie in the order
    the team recorded them; counted in C from the team's visit days and codes."""
    days = np.array(team.visit_days, dtype=float)
    codes = np.array(team.visit_codes, dtype=np.int64)
    before = days < horizon
    days, codes = days[before], codes[before]
    if not len(codes):
        return {}
    steps = codes >> 1
    counts = np.bincount(codes, minlength=2 * len(team.visit_steps)).reshape(-1, 2)
    seen, first_seen = np.unique(steps, return_index=True)
    earliest = np.full(len(team.visit_steps), np.inf)
    np.minimum.at(earliest, steps, days)
    order = seen[np.lexsort((first_seen, earliest[seen]))]
    return {team.visit_steps[i]: (int(counts[i].sum()), int(counts[i, 1])) for i in order}


def _rows(rows: list[tuple[float, ...]], width: int) -> np.ndarray:
    """Tuples of ``width`` numbers as a float array of shape (len(rows), width), filled from
    them in C (``np.array`` of a list of tuples converts each tuple on its own)."""
    return np.fromiter(chain.from_iterable(rows), dtype=float,
                       count=len(rows) * width).reshape(-1, width)


def _objects(kids: list[Child], name: str) -> np.ndarray:
    """One field of every child as an object array, read in C."""
    return np.fromiter(map(operator.attrgetter(name), kids), dtype=object, count=len(kids))
