"""Each child's pre-drawn uniforms (:class:`asdsim.model.randomness.Draws`) are drawn per
activity when first read: the numbers are those of the activity's stream in child order, the
same whenever and in whatever order the tables are read, and a run draws no table of an activity
it never meets."""

from __future__ import annotations

import numpy as np
import pytest

import asdsim
from asdsim.model.pathway import Pathway
from asdsim.model.randomness import BOOKINGS, TRIAGE_ATTEMPTS, Draws, Streams
from tests.conftest import BASE, caseload_scenario

ACTIVITIES = ("triage", "rereferral", "information", "withdrawal", "review", "dna", "rebook",
              "duration", "outcome", "session", "unmet")


def test_a_table_is_its_activity_streams_first_uniforms_in_child_order():
    draws = Draws.make(Streams(7, 2), 5)
    first = Streams(7, 2)["dna"].random(5 * BOOKINGS)
    # child i's k-th DNA uniform is the stream's (i * BOOKINGS + k)-th number
    assert draws.dna.shape == (5, BOOKINGS)
    assert draws.dna[3, 4] == first[3 * BOOKINGS + 4]
    np.testing.assert_array_equal(draws.dna.ravel(), first)
    assert draws.rereferral.shape == (5, TRIAGE_ATTEMPTS, 2)
    assert draws.withdrawal.shape == (5,)


def test_the_order_tables_are_read_in_changes_no_number():
    forwards, backwards = Draws.make(Streams(3, 0), 40), Draws.make(Streams(3, 0), 40)
    read = {name: getattr(forwards, name) for name in ACTIVITIES}
    for name in reversed(ACTIVITIES):
        np.testing.assert_array_equal(getattr(backwards, name), read[name])
    assert len({id(getattr(forwards, name)) for name in ACTIVITIES}) == len(ACTIVITIES)
    assert forwards.dna is read["dna"]  # drawn once, then kept


def test_a_draw_past_a_table_comes_from_the_same_stream_after_it():
    streams = Streams(5, 1)
    draws = Draws.make(streams, 4)
    _ = draws.session
    after = streams["session"].random()
    assert after == Streams(5, 1)["session"].random(4 * BOOKINGS + 1)[-1]


def test_an_activity_that_is_not_one_is_an_attribute_error():
    with pytest.raises(AttributeError, match="sessions"):
        _ = Draws.make(Streams(1, 0), 3).sessions


def _drawn(scenario: asdsim.Scenario) -> set[str]:
    pathway = Pathway(scenario, seed=1, replication=0)
    pathway.run()
    return {name for name in ACTIVITIES if name in vars(pathway.draws)}


def test_a_clinic_hours_run_draws_no_durations_and_a_caseload_run_does():
    clinic = _drawn(asdsim.scenario_from_dict(BASE))
    assert "duration" not in clinic and "review" not in clinic
    assert {"triage", "dna", "session", "outcome"} <= clinic
    assert "duration" in _drawn(caseload_scenario(2.0, 3, 10.0, 20))
