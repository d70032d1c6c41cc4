"""Every child leaves the pathway exactly once, and nothing happens to it afterwards.

The model is watched from outside: every exit and every attended or missed appointment is
logged through the pathway's own hooks, and a shipped scenario with DNA discharges is run for a
few replications. A discharged child that is booked again shows up as a second exit, or as an
appointment (and clinic hours) after its exit.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import asdsim
from asdsim.model import pathway as pathway_module
from asdsim.model.clinic import ClinicTeam
from asdsim.model.pathway import Pathway
from tests.conftest import BASE, deep_update

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _watched_run(scenario: asdsim.Scenario, replication: int, monkeypatch) -> tuple[list, list]:
    exits: list[tuple[int, str, float]] = []
    visits: list[tuple[int, float, bool]] = []  # (child, day, attended)
    release = Pathway.release

    def logged_release(self, child, reason, day):
        exits.append((child.id, reason, day))
        return release(self, child, reason, day)

    attend = ClinicTeam.attend_or_dna

    def logged_attend(self, case, step, day):
        attended = attend(self, case, step, day)
        visits.append((case.child.id, day, attended))
        return attended

    monkeypatch.setattr(Pathway, "release", logged_release)
    monkeypatch.setattr(ClinicTeam, "attend_or_dna", logged_attend)
    model = pathway_module.Pathway(scenario, 7, replication)
    model.run()
    return exits, visits


@pytest.mark.parametrize("name", ["as_is_2018", "nice_mdt"])
def test_a_child_exits_once_and_nothing_happens_after(name, monkeypatch):
    scenario = asdsim.load_scenario(SCENARIOS / f"{name}.yaml")
    discharged_total = 0
    for replication in range(3):
        exits, visits = _watched_run(scenario, replication, monkeypatch)
        counts = Counter(cid for cid, _, _ in exits)
        twice = [cid for cid, n in counts.items() if n > 1]
        assert not twice, f"{len(twice)} children left the pathway more than once, e.g. {twice[:5]}"
        exit_day = {cid: day for cid, _, day in exits}
        reasons = {cid: reason for cid, reason, _ in exits}
        late = [(cid, day) for cid, day, _ in visits if cid in exit_day and day > exit_day[cid] + 1e-9]
        assert not late, f"{len(late)} appointments after a child's exit, e.g. {late[:5]}"
        discharged = {cid for cid, r in reasons.items() if r == "discharged_dna"}
        discharged_total += len(discharged)
    assert discharged_total > 0  # the scenario does exercise the discharge rule


def test_a_discharged_child_uses_no_further_hours():
    # Every appointment is missed, and discharge comes after the second miss: no child is ever
    # assessed, each is discharged exactly once, and no discharged child has attended hours.
    data = deep_update(BASE, {"teams": {"mdt": {"dna": {"discharge_after": 2}}}})
    for step in data["teams"]["mdt"]["steps"]:
        step["dna_probability"] = 1.0
    scenario = asdsim.scenario_from_dict(data)
    results = asdsim.simulate(scenario, replications=2, seed=3)
    patients = results.patients
    assert (patients.exit_reason == "assessed").sum() == 0
    discharged = patients[patients.exit_reason == "discharged_dna"]
    assert len(discharged) > 0
    assert (discharged.staff_hours == 0).all()
    assert discharged.diagnosis_date.isna().all()
