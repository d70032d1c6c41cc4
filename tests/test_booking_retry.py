"""A started child whose next step finds no hours is not searched for again every week.

Hours left only fall between give-backs, so :class:`asdsim.model.clinic.ClinicTeam` remembers
the windows in which a step found no hours and does not search them again until hours are given
back. These tests pin how many searches that saves on a hand-worked case, and that it changes no
number of any table.
"""

from __future__ import annotations

import pandas as pd
import pytest

import asdsim
from asdsim.model import clinic
from asdsim.model.pathway import Pathway
from tests.conftest import BASE, deep_update

STARTED = 40
"""Children part-way through assessment at the start (history done, observation next)."""
PSYCHOLOGIST_WEEK = 20
"""The week the team's only psychologist starts (no psychologist hours before it)."""
HORIZON = 8
"""Booking horizon in weeks: the pass of week w searches weeks w to w + 7."""
BLOCKED = PSYCHOLOGIST_WEEK - HORIZON + 1
"""Passes whose window ends before the psychologist's first week (weeks 0 to 12): 13."""


def _waiting_for_a_psychologist(**over) -> asdsim.Scenario:
    """40 started children whose next step (the joint observation) needs a psychologist, in a
    team that has none until week 20; no new referrals."""
    return asdsim.scenario_from_dict(deep_update(deep_update(BASE, {
        "horizon_weeks": 40,
        "demand": {"referrals_per_week": 0},
        "teams": {"mdt": {"booking_horizon_weeks": HORIZON,
                          "staff": {"psychologist": {"wte": 0.0}}}},
        "capacity_changes": [{"date": "2020-05-25", "team": "mdt", "group": "psychologist",
                              "wte": 1.0}],  # day 140: week 20
        "initial_state": {"kind": "generated", "backlog": [
            {"stage": "in_assessment", "count": STARTED, "weeks_waited_min": 20,
             "weeks_waited_max": 40, "steps_done": 1}]},
    }), over))


class _Forgetful(set):
    """A memory of failed searches that remembers nothing: every search is made again."""

    def add(self, item: object) -> None:
        pass


@pytest.fixture
def searches(monkeypatch) -> list[int]:
    """Counts the searches of a team's hours for steps of more than one staff group (calls of
    ``clinic._book_parts``; a step of one group is searched inline): the step these tests block,
    the joint observation, is one."""
    count = [0]
    parts = clinic._book_parts

    def counted(*args):
        count[0] += 1
        return parts(*args)

    monkeypatch.setattr(clinic, "_book_parts", counted)
    return count


def _forget(patch: pytest.MonkeyPatch) -> None:
    """Make clinic teams search again every time (the behaviour before failed searches were
    remembered)."""
    init = clinic.ClinicTeam.__init__

    def init_forgetful(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._no_hours = _Forgetful()

    patch.setattr(clinic.ClinicTeam, "__init__", init_forgetful)


@pytest.fixture
def forgetful(monkeypatch) -> None:
    """Clinic teams that search again every time."""
    _forget(monkeypatch)


def _searches_before_the_psychologist(searches: list[int]) -> int:
    pathway = Pathway(_waiting_for_a_psychologist(), seed=1, replication=0)
    pathway.env.run(until=7.0 * BLOCKED - 1.0)  # the passes of weeks 0 to 12
    return searches[0]


def test_one_search_a_week_while_no_started_child_can_be_booked(searches):
    # Every pass of weeks 0-12 finds the 40 children waiting for the same step in the same
    # window, which ends before week 20: the first finds no psychologist hours, and the other
    # 39 are known to find none. Nothing is given back (nobody is booked), so it is one search
    # a week: 13, not 13 x 40.
    assert _searches_before_the_psychologist(searches) == BLOCKED


def test_forgetting_failed_searches_searches_for_every_child_every_week(searches, forgetful):
    # the same run searching again for each child: the cost the memory removes
    assert _searches_before_the_psychologist(searches) == BLOCKED * STARTED


@pytest.mark.parametrize("over", [
    {},
    # missed appointments give hours back (the memory is forgotten) and rebook the rest
    {"demand": {"referrals_per_week": 6},
     "teams": {"mdt": {"steps": [
         {"name": "history", "hours": {"paediatrician": 2}, "dna_probability": 0.3},
         {"name": "observation", "hours": {"paediatrician": 1, "psychologist": 1},
          "joint": True, "min_gap_days": 7, "dna_probability": 0.3},
         {"name": "mdt", "hours": {"paediatrician": 1, "psychologist": 1}, "joint": True,
          "contact": False, "outcome": True, "min_gap_days": 7}]}}},
    # hours factors, an uncertain outcome adding steps, withdrawals from a long list
    {"demand": {"referrals_per_week": 8,
                "flags": {"co_occurring": {"probability": 0.4, "hours_factor": 1.5}}},
     "teams": {"mdt": {"outcomes": {"autism": 0.5, "other_neurodevelopmental": 0.2,
                                    "none": 0.1, "uncertain": 0.2},
                       "uncertain_steps": [{"name": "more", "hours": {"psychologist": 2},
                                            "min_gap_days": 14}],
                       "waiting_list": {"withdrawal_per_year": 0.2}}}},
])
def test_remembering_failed_searches_changes_no_number(over, monkeypatch):
    scenario = _waiting_for_a_psychologist(**over)
    remembered = asdsim.simulate(scenario, replications=2, seed=7, jobs=1)
    with monkeypatch.context() as patch:
        _forget(patch)
        searched = asdsim.simulate(scenario, replications=2, seed=7, jobs=1)
    assert remembered.patients.exit_reason.eq("assessed").any()
    for table in ("patients", "weekly", "staff_weekly", "kpis"):
        pd.testing.assert_frame_equal(getattr(remembered, table), getattr(searched, table))
