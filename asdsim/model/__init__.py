"""The pathway model: one replication of a scenario as a discrete-event simulation.

Modules: ``pathway`` (building a replication, routing, the one exit path), ``triage`` (referrals
arriving, triage decisions, re-referrals), ``outsourcing`` (blocks of outsourced assessments),
``teams`` (waiting lists and what the two capacity modes share), ``clinic`` and ``caseload``
(the two modes), ``case`` (a team's view of one child), ``child`` (a child's identity and
milestones), ``steps`` (a team's steps resolved for the event loop), ``capacity`` (hours and
caseload slots over time), ``demand`` (who is referred, when), ``backlog`` (the starting state),
``randomness`` (named seeded streams and each child's pre-drawn uniforms) and ``runtime`` (the
garbage collector paused for a run).

The layers
----------
Each module imports only those below it (an import-linter contract in ``pyproject.toml``)::

    pathway
    clinic | caseload | outsourcing | triage
    teams
    case
    child | steps
    backlog
    demand | capacity
    randomness | runtime

A team never imports the pathway: the pathway hands each team a
:class:`~asdsim.model.teams.Host` (itself) through which the team draws its children's uniforms
and reports exits; triage is handed a :class:`~asdsim.model.triage.TriageHost` the same way. A
child, at the bottom, knows its case only as a :class:`~asdsim.model.child.OpenCase` (the team's
name and whether the case is closed).

The event protocol
------------------
SimPy is used as an event clock with callbacks, not with processes and resources per child:

* **An event** is a SimPy timeout with one callback: a referral arriving, a child's appointment,
  a scheduled withdrawal or age boundary, the end of a wait for information. A few clock
  processes run for the whole replication: daily triage sessions, each clinic team's weekly
  booking pass and monthly outsourced blocks.
* **Who may schedule one.** The pathway schedules routing events (``Pathway.later``: hold,
  review, re-referral, information) and a waiting child's expiry (``Pathway._expire``:
  withdrawal, age-out, transfer at an age boundary); a team schedules its own appointments and
  slot releases. Every event carries what it is about, a child or a :class:`~asdsim.model.case.Case`,
  and checks when it fires that it still applies: a routing event is void once the child has
  left, an expiry once the case has started or closed, an appointment once the case has closed
  or the booking is no longer the case's next one. Nothing keeps validity counters by hand.
* **A case** is opened when a child joins a team's list (``TeamRunner.join``) and moves
  waiting -> booked (clinic hours only) -> started -> closed. Only the pathway closes a case:
  on a transfer (``Pathway._expire``) or an exit.
* **An exit** goes through ``Pathway.release(child, reason, day)`` and nothing else, whatever
  the reason (assessed, rejected, no pathway, aged out, withdrawn, discharged after DNAs, ...).
  It must undo everything the child holds: the team's ``close(case)`` gives back clinic hours
  booked and not attended, drops the case from the queue of packages waiting to be booked, and
  marks the case closed so its waiting-list entry, expiry and appointments are all void. A
  second exit of the same child raises ``RuntimeError``: an exit is final.
* **Attending or missing** an appointment is decided in one place,
  ``TeamRunner.attend_or_dna``, for both capacity modes: it draws the child's next DNA uniform,
  discharges through the host's ``release`` after the team's limit, or sets the day to rebook from; an
  attended step marks the child's milestones.
* **Settled assessments.** An appointment is an event, except inside a *settled* assessment:
  when a clinic-hours package is booked whole and, by the child's pre-drawn uniforms, no
  appointment in it will be missed and its outcome will be definite, only its next appointment
  gets an event. Once that is attended (the assessment has started), nothing in the rest can
  touch anyone else's hours or list, so ``ClinicTeam._finish`` attends the rest at once, each at
  the clock time its event would have had (``Booking.at``) and none at or past the horizon, and
  releases the child on the last. The tables are exactly those of one event per appointment
  (checked by comparing hashes of every shipped scenario's tables); a replication of the
  standard benchmark scenario needs about 40% of the events.

Randomness: each child's uniforms for every activity are drawn before the run, in child order,
from named streams (``randomness``), so the same child meets the same luck in every scenario run
with the same seed (common random numbers).
"""
