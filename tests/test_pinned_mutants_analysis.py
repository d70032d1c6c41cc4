"""Pinned analysis behaviour that mutation testing found unpinned (see
docs/mutation-survivors.md). Hand-worked small runs in the style of tests/test_pinned_model.py
(day 0 is Monday 6 January 2020); the comment above each test names the mutant it kills."""

from __future__ import annotations

from asdsim.analysis.definitions import REGISTRY
from tests.test_pinned_model import CASELOAD, backlog, generated, run, scenario, team


def test_a_visit_on_the_horizon_day_is_not_counted_in_the_dna_share():
    # Kills record's `if day < horizon` -> `day <= horizon` for the visits behind dna_share.
    # Caseload, one child on day 0, horizon 2 weeks (day 14). History (outcome) on day 0, 14
    # days long; feedback, always missed, right after it, on day 14: the horizon, outside the
    # run. dna_share counts the history visit (attended: 0.0) and no feedback visit at all.
    steps = [{"name": "history", "hours": {"p": 1}, "outcome": True, "duration_days": 14},
             {"name": "feedback", "hours": {"p": 1}, "dna_probability": 1.0}]
    s = scenario(teams={"t": team(steps=steps, **CASELOAD)}, horizon_weeks=2,
                 initial_state=generated(backlog(1)))
    results = run(s)
    assert results.kpi("dna_share[t/history]") == 0.0
    assert "dna_share[t/feedback]" not in set(results.kpis.kpi)



def test_every_kpi_has_its_own_label_and_the_basis_shows_in_it():
    # Kills the registry's labels set to None (restricted mean, mean of those seen) and the
    # '(listed)' basis of a share's label misspelt. The KPI registry is built at import, so
    # these mutants are checked in a fresh process (scripts/mutation.sh --direct).
    labels = [d.label for d in REGISTRY.values()]
    assert all(isinstance(label, str) and label for label in labels)
    assert len(set(labels)) == len(labels)
    assert REGISTRY["first_appointment_wait_restricted_mean"].label == (
        "Mean wait to first appointment within follow-up")
    assert REGISTRY["diagnosis_wait_mean_seen"].label == "Mean wait to diagnosis, children seen"
    assert REGISTRY["first_appointment_within_13_weeks_listed"].label == (
        "First appointment within 13 weeks (listed)")
