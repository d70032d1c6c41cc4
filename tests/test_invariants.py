"""Invariants over generated scenarios (hypothesis): accounting, ordering, capacity."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asdsim
from asdsim.analysis.kpis import replication_kpis
from asdsim.analysis.record import record
from asdsim.analysis.results import Results
from asdsim.model.caseload import CaseloadTeam
from asdsim.model.child import EXIT_REASONS, LIST_EXIT_REASONS, OPEN_REASONS
from asdsim.model.clinic import ClinicTeam
from asdsim.model.pathway import Pathway
from asdsim.model.teams import EPS
from tests import hypothesis_profiles  # noqa: F401  (ci: derandomized; dev: random)

ORDERED = ("first_referral_day", "referral_day", "triage_day", "list_join_day",
           "first_appointment_day", "diagnosis_day", "exit_day")


@st.composite
def scenarios(draw) -> asdsim.Scenario:
    mode = draw(st.sampled_from(["clinic_hours", "caseload"]))
    discipline = draw(st.sampled_from(["fifo", "priority", "longest_wait"]))
    steps = [
        {"name": "first", "hours": {"a": draw(st.floats(0.5, 3))},
         "dna_probability": draw(st.floats(0, 0.3)),
         "duration_days": {"dist": "exponential", "mean": draw(st.floats(1, 60))}},
        {"name": "joint", "hours": {"a": 1, "b": draw(st.floats(0.5, 3))},
         "joint": draw(st.booleans()), "min_gap_days": draw(st.floats(0, 21)),
         "outcome": True, "duration_days": draw(st.floats(0, 10))},
    ]
    if draw(st.booleans()):
        steps.append({"name": "feedback", "hours": {"b": 1}, "min_gap_days": 14,
                      "duration_days": 1})
    team = {
        "capacity_mode": mode, "max_age_years": draw(st.sampled_from([4.0, 18.0])),
        "on_age_boundary": draw(st.sampled_from(["stay", "transfer"])),
        "waiting_list": {"discipline": discipline,
                         "withdrawal_per_year": draw(st.floats(0, 0.5))},
        "staff": {"a": {"wte": draw(st.floats(0.05, 3))}, "b": {"wte": draw(st.floats(0.05, 3))}},
        "caseload": {"clinicians": draw(st.integers(1, 6)),
                     "cases_per_clinician": draw(st.integers(1, 3))},
        "booking_horizon_weeks": draw(st.integers(1, 20)),
        "steps": steps,
        "outcomes": {"autism": 0.6, "other_neurodevelopmental": 0.2, "none": 0.1,
                     "uncertain": 0.1},
        "uncertain_steps": [{"name": "second_opinion", "hours": {"b": 2}, "min_gap_days": 30,
                             "duration_days": 20}],
    }
    if draw(st.booleans()):  # the list policies: prioritisation, leaving, validation
        team["waiting_list"].update({
            "discipline": "priority",
            "prioritisation": {"share": draw(st.floats(0, 1)), "age_bands": [
                {"min_years": 0, "max_years": 5, "share": draw(st.floats(0, 1))}]},
            "leaving": {"per_year": draw(st.floats(0.01, 2)), "after_weeks": draw(st.floats(0, 30))},
            "validation": {"every_weeks": draw(st.floats(1, 26)), "over_weeks": draw(st.floats(0, 20)),
                           "discharge_share": draw(st.floats(0, 1))}})
    teams = {"young": team}
    if team["max_age_years"] < 18:
        older = {**team, "min_age_years": 4.0, "max_age_years": 18.0,
                 "localities": ["north"] if draw(st.booleans()) else None}
        teams["older"] = older
    data = {
        "name": "generated", "start_date": "2021-03-01",
        "horizon_weeks": draw(st.integers(10, 80)),
        "demand": {
            "referrals_per_week": draw(st.floats(0, 25)),
            "annual_growth": draw(st.floats(-0.2, 0.5)),
            "age_bands": [{"min_years": 0.5, "max_years": 6, "weight": 1},
                          {"min_years": 6, "max_years": 17.9, "weight": 1}],
            "localities": {"north": 0.5, "south": 0.5},
            "flags": {"urgent": {"probability": 0.2, "priority": "urgent",
                                 "hours_factor": 1.5}},
        },
        "triage": {
            "capacity_per_week": draw(st.one_of(st.none(), st.floats(1, 40))),
            "outcomes": {"accept": 0.8, "reject": 0.1, "more_information": 0.1},
            "rereferral_probability": 0.3, "rereferral_delay_days": 20,
            "information_return_probability": 0.7, "information_wait_days": 10,
        },
        "routing": {"uncovered": draw(st.sampled_from(["no_pathway", "hold", "out_of_area"]))},
        "teams": teams,
        "initial_state": {"kind": "generated", "backlog": [
            {"stage": "awaiting_assessment", "count": draw(st.integers(0, 60)),
             "weeks_waited_max": 60},
            {"stage": "awaiting_triage", "count": draw(st.integers(0, 20)),
             "weeks_waited_max": 4}]},
    }
    return asdsim.scenario_from_dict(data)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # examples: profile
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold(scenario, seed):
    pathway = Pathway(scenario, seed, 0)
    pathway.run()
    rec = record(pathway, 0)
    c = rec.columns
    n = len(c["referral_day"])
    assert n == len(pathway.children)
    # what the record reads from arrays kept at the start is what every child still holds
    for name, values in pathway.fixed.items():
        assert values.tolist() == [getattr(child, name) for child in pathway.children], name
    # every child is accounted for, by an exit reason or as still open at the horizon
    reasons = c["exit_reason"]
    assert set(reasons) <= set(EXIT_REASONS) | set(LIST_EXIT_REASONS) | set(OPEN_REASONS)
    assert np.array_equal(np.isnan(c["exit_day"]), np.isin(reasons, OPEN_REASONS))
    # the KPI table accounts for them too: its exit counts (each way out, and still open) add
    # up to every child, the list policies' exits included where a team has them
    exits = {k: v for k, _, v in replication_kpis(rec, scenario) if k.startswith("exit[")}
    assert sum(exits.values()) == n
    # milestones never run backwards, so no wait is negative
    # each child waits on at most one team's list at a time: the teams' lists never hold more
    # children than wait in all, and a list left by a transfer was joined before it was left
    results = Results(scenario, {}, [rec])
    by_team = results.teams_weekly.groupby("week").waiting_for_assessment.sum()
    assert (by_team.to_numpy() <= results.weekly.waiting_for_assessment.to_numpy()).all()
    assert (results.teams_weekly.waiting_for_assessment >= 0).all()
    assert (rec.left_lists[:, 1] <= rec.left_lists[:, 2]).all()
    assert len(rec.left_lists) == c["transfers"].sum()
    for a, b in itertools.pairwise(ORDERED):
        both = ~np.isnan(c[a]) & ~np.isnan(c[b])
        assert (c[b][both] >= c[a][both] - 1e-9).all(), (a, b)
    assessed = reasons == "assessed"
    assert not np.isnan(c["diagnosis_day"][assessed]).any()
    assert (c["exit_day"] <= scenario.horizon_days + 1e-9)[~np.isnan(c["exit_day"])].all()
    for team in pathway.teams.values():
        if isinstance(team, ClinicTeam):
            # hours booked never exceed hours available, in any week, for any group
            assert (np.array(team.remaining) >= -EPS * 10).all()
            assert (team.hours_used() <= team.available + 1e-6).all()
        else:
            assert isinstance(team, CaseloadTeam)
            _check_caseload(team)


def _check_caseload(team: CaseloadTeam) -> None:
    """Open cases never exceed the slots in force when each case started."""
    if not team.cases:
        return
    # times rounded to 1e-9 days: SimPy's clock adds delays, so an end and the next start at
    # "the same" time can differ in the last bit
    events = sorted([(round(s, 9), 1) for s, _ in team.cases]
                    + [(round(e, 9), -1) for _, e in team.cases])
    days = np.array([d for d, _ in team.slot_changes])
    slots = np.array([s for _, s in team.slot_changes])
    busy = 0
    for day, step in events:
        busy += step
        if step > 0:
            assert busy <= slots[np.searchsorted(days, day, side="right") - 1]
