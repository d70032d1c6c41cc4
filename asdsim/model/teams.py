"""Assessment teams: a waiting list and the capacity that works through it.

Two kinds of team share the waiting list and the assessment logic (milestones, DNA, outcome),
which live here in :class:`TeamRunner`:

* ``ClinicTeam`` (clinic-hours mode, :mod:`asdsim.model.clinic`) keeps a ledger of hours left per
  staff group per week. Once a week it books children's assessments as whole packages, each
  step in the earliest week where every group it needs has the hours: the first within the
  booking horizon, each later one within the horizon from the day its gap allows. Children whose
  package must be rebooked (after a DNA) go first, then new starts in waiting-list order,
  stopping at the first child who cannot be booked; there are no new starts in a week in which a
  started assessment that is due could not be booked. Within its week, an appointment falls in
  the first five days (working days), by the child's own uniform, so waits are measured in days,
  not whole weeks. A joint step needs all its groups in the same week; a non-joint step books
  each group's part where it fits.
* ``CaseloadTeam`` (caseload mode, :mod:`asdsim.model.caseload`) holds at most ``slots`` open
  cases; a case holds its slot for the elapsed time of its steps. With one exponential step this
  is an M/M/c queue.

A waiting child is an entry in a heap, not a live process; an entry whose case has left the
list (booked, withdrawn, transferred, gone) is skipped when it reaches the top. What a team knows
of a child (its place in the assessment, its bookings) is the child's :class:`Case`; when the
child leaves, the pathway calls :meth:`TeamRunner.close` and every event that refers to the case
becomes void.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from typing import Protocol

import numpy as np

from asdsim.model.case import CLOSED, STARTED, Case
from asdsim.model.child import Child
from asdsim.model.randomness import Draws
from asdsim.model.runtime import Clock
from asdsim.model.steps import EPS as EPS
from asdsim.model.steps import CompiledStep, compile_steps
from asdsim.scenario.schema import Team

WORKING_DAYS = 5.0
"""Days of each week on which clinics run: booked appointments are spread over them."""
DEFINITE_OUTCOMES = ("autism", "other_neurodevelopmental", "none")


class Host(Protocol):
    """What a team needs from the pathway that runs it, handed to the team when it is built.

    A team draws its children's uniforms and reports every exit through this interface, and
    never imports the pathway: the pathway sits above the teams (the model's layers are an
    import-linter contract in ``pyproject.toml``). :class:`~asdsim.model.pathway.Pathway` is the
    host of a replication; a test may hand a team a stand-in.
    """

    env: Clock
    """The replication's clock."""
    horizon: float
    """Day the replication ends."""
    draws: Draws
    """Every child's pre-drawn uniforms."""

    def start(self, generator: Generator) -> None:
        """Run a clock process for the whole replication (a team's weekly booking pass)."""

    def release(self, child: Child, reason: str, day: float) -> None:
        """The child leaves the pathway (the one exit path: it closes the child's case)."""

    def uniform(self, table: np.ndarray, child: Child, k: int, activity: str) -> float:
        """The child's k-th uniform of an activity (past the pre-drawn ones, its stream)."""


class WaitingList:
    """A team's waiting list of cases, ordered by its discipline."""

    def __init__(self, discipline: str):
        self.discipline = discipline
        self._by_priority = discipline == "priority"
        self._by_referral = discipline == "longest_wait"
        self._heap: list[tuple] = []
        self._seq = 0

    def push(self, case: Case) -> None:
        """Put a case on the list."""
        child = case.child
        self._seq += 1
        if self._by_priority:
            entry = (child.priority, child.list_join_day, self._seq, case)
        elif self._by_referral:
            entry = (0, child.first_referral_day, self._seq, case)
        else:
            entry = (0, child.list_join_day, self._seq, case)
        heapq.heappush(self._heap, entry)

    def head(self) -> Case | None:
        """The next waiting case in order, without removing it."""
        heap = self._heap
        while heap:
            case = heap[0][3]
            if case.waiting:
                return case
            heapq.heappop(heap)
        return None

    def pop(self) -> Case:
        """Remove and return the next case (after ``head`` found one)."""
        return heapq.heappop(self._heap)[3]

    def waiting(self) -> list[Case]:
        """Every waiting case, in no particular order."""
        return [entry[3] for entry in self._heap if entry[3].waiting]


class TeamRunner:
    """What both capacity modes share: the list, the steps, attendance, milestones and outcomes."""

    def __init__(self, host: Host, name: str, team: Team):
        self.host = host
        self.env = host.env
        self.name = name
        self.team = team
        self.groups = list(team.staff)
        self.list = WaitingList(team.waiting_list.discipline)
        flag_first = any(s.first_appointment for s in team.steps)
        flag_started = any(s.assessment_started for s in team.steps)
        self.steps = compile_steps(team.steps, self.groups, flag_first, flag_started)
        self.uncertain = compile_steps(team.uncertain_steps, self.groups, True, True)
        self.discharge_after = team.dna.discharge_after
        self.rebook = team.dna.rebook_after_days.sampler()
        outcomes = team.outcomes
        definite = np.array([outcomes.autism, outcomes.other_neurodevelopmental, outcomes.none])
        self.cumulative = tuple(np.cumsum(definite / definite.sum()))
        self._outcome_edges = tuple(zip(DEFINITE_OUTCOMES, self.cumulative, strict=True))
        self.uncertain_probability = outcomes.uncertain
        self.young = team.young_child
        draws = host.draws
        self.u_dna, self.u_rebook = draws.dna, draws.rebook
        self.u_outcome = draws.outcome
        self.u_session = draws.session
        # each appointment of a contact step: its day, and its step and whether it was missed as
        # one code (2 x the step's place in visit_steps, plus 1 when missed), kept as two plain
        # lists that record reads in C
        self.visit_steps = list(dict.fromkeys(s.name for s in self.steps + self.uncertain))
        self._visit_code = {name: 2 * i for i, name in enumerate(self.visit_steps)}
        self.visit_days: list[float] = []
        self.visit_codes: list[int] = []

    # -- a child's case with this team ---------------------------------------------------------

    def join(self, child: Child) -> Case:
        """Open a case for a child and put it on the waiting list."""
        case = Case(child, self.name, self.steps)  # (what open does, without its call)
        child.case = case
        child.team = self.name
        self.list.push(case)
        return case

    def open(self, child: Child) -> Case:
        """Open a case for a child with this team (not yet on the list)."""
        case = Case(child, self.name, self.steps)
        child.case = case
        child.team = self.name
        return case

    def resume(self, child: Child, steps_done: int) -> Case:
        """A child of the starting state part-way through assessment: its case starts at once
        from step ``steps_done`` (at most the outcome step), its earlier milestones at the start."""
        case = Case(child, self.name, self.steps)
        child.case = case
        child.team = self.name
        outcome_step = next((i for i, s in enumerate(self.steps) if s.outcome), len(self.steps) - 1)
        case.step = min(steps_done, outcome_step)
        child.first_appointment_day = child.assessment_started_day = 0.0  # at or before the start
        self._resume(case)
        return case

    def _resume(self, case: Case) -> None:
        raise NotImplementedError

    def dispose(self) -> None:
        """Forget the host and its clock (see :meth:`asdsim.model.pathway.Pathway.dispose`)."""
        self.host = None  # type: ignore[assignment]
        self.env = None  # type: ignore[assignment]

    def start(self, case: Case) -> None:
        """The child's assessment has begun: no more withdrawal, age-out or transfer."""
        case.state = STARTED
        case.child.started_day = self.env.now

    def close(self, case: Case) -> None:
        """The child leaves this team (called by the host only): the case's events are void."""
        case.state = CLOSED

    def take_longest_waiting(self, n: int) -> list[Case]:
        """Take up to ``n`` waiting cases off the list, longest since referral first, as started."""
        chosen = sorted(self.list.waiting(),
                        key=lambda c: (c.child.first_referral_day, c.child.id))[:n]
        for case in chosen:
            self.start(case)
        return chosen

    # -- what happens at an appointment ----------------------------------------------------------

    def attend_or_dna(self, case: Case, step: CompiledStep, day: float) -> bool:
        """The child attends ``step`` on ``day``, or misses it; returns whether it attended.

        An attended step counts towards the child's milestones. A missed one (with the child's
        next pre-drawn DNA uniform) either discharges the child, after the team's
        ``discharge_after`` missed appointments, or sets ``case.earliest_day`` to the day from which
        the rest of the assessment can be booked again.
        """
        child = case.child
        k = child.appointments
        child.appointments += 1
        host = self.host
        missed = False
        if step.dna_probability > 0:
            try:  # host.uniform, without its call for the pre-drawn ones
                u = self.u_dna.item(child.id, k)
            except IndexError:
                u = host.uniform(self.u_dna, child, k, "dna")
            missed = u < step.dna_probability
        if step.contact:
            self.visit_days.append(day)
            self.visit_codes.append(self._visit_code[step.name] + missed)
        if missed:
            child.dna_count += 1
            if child.dna_count >= self.discharge_after:
                # a decided outcome stands: a missed feedback appointment is not a discharge
                decided = not math.isnan(child.diagnosis_day)
                host.release(child, "assessed" if decided else "discharged_dna", day)
            else:
                u = host.uniform(self.u_rebook, child, child.dna_count - 1, "rebook")
                case.earliest_day = day + self.rebook(u)
            return False
        child.staff_hours += step.hours * child.hours_factor
        if step.first_appointment and child.first_appointment_day != child.first_appointment_day:
            child.first_appointment_day = day  # was NaN: the first
        if step.assessment_started and (
                child.assessment_started_day != child.assessment_started_day):
            child.assessment_started_day = day
        return True

    def definite_outcome(self, u: float) -> str:
        """One of the three definite outcomes for a uniform draw."""
        for name, edge in self._outcome_edges:
            if u < edge:
                return name
        return DEFINITE_OUTCOMES[-1]

    def decide(self, case: Case, index: int, day: float) -> None:
        """Outcome after step ``index``: at the outcome step, or after the uncertain steps."""
        step = case.plan[index]
        if not step.outcome and index != case.decide_at:
            return
        child = case.child
        if step.outcome:
            p = self.uncertain_probability
            if self.young is not None and child.age_at(day) < self.young.under_years:
                p = self.young.uncertain_probability
            if p > 0 and self.u_outcome.item(child.id, 0) < p:
                child.outcome = "uncertain"
                case.plan = case.plan[: index + 1] + self.uncertain + case.plan[index + 1:]
                case.decide_at = index + len(self.uncertain)
                return
        child.outcome = self.definite_outcome(self.u_outcome.item(child.id, 1))
        child.diagnosis_day = day

    def staff_ledger(self, weeks: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Hours available and used per week over ``weeks``, by staff group."""
        raise NotImplementedError
