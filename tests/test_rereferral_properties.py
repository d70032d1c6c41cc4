"""Invariants of one child over generated single-child scenarios (hypothesis).

One child of a CSV snapshot, waiting for triage, referred some days before the start at some
age; triage accepts or rejects (rejected referrals come back after a whole number of days, or
not); an under-4 team that keeps or transfers children who turn 4, or none (then the child is
held, or is unmet need and may be referred again when old enough); a school-age team to 18;
missed appointments, discharge and withdrawal. Whatever the path, for the one child:

* it is counted once: one row, one exit (or open status) in the KPI table, a referral counted in
  the horizon only when its first referral is in it, and each of its re-referrals once;
* every age the model acts on is measured from the date of birth fixed by the FIRST referral, on
  the day of the event: the team it is listed with, the transfer at 4, ageing out at 18;
* a re-referral's clock starts at its own referral: the referral in force is the last one, each
  referral has one first triage decision on or after its own day, and waits run from it.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import event, given
from hypothesis import strategies as st

import asdsim
from tests import hypothesis_profiles  # noqa: F401  (ci: derandomized; dev: random)

START = dt.date(2020, 1, 6)
YEAR = 365.25
HAIR = 1e-6
"""The model moves a child a hair past an age boundary so that the age then is surely past it."""


@st.composite
def one_child_scenarios(draw) -> dict[str, Any]:
    # the first of each sampled_from is what hypothesis tries most (and shrinks to): teams with
    # no hours, so children wait across the age boundaries; referrals that come back
    wte = st.sampled_from([0, 0, 1])
    steps = [{"name": "assess", "hours": {"p": 1}, "outcome": True,
              "dna_probability": draw(st.sampled_from([0.0, 0.5, 1.0]))}]
    common = {"dna": {"discharge_after": draw(st.integers(1, 3)),
                      "rebook_after_days": draw(st.integers(0, 30))},
              "waiting_list": {"withdrawal_per_year": draw(st.sampled_from([0.0, 0.0, 0.0, 0.5]))},
              "steps": steps}
    teams: dict[str, Any] = {"school": {
        "min_age_years": 4, "staff": {"p": {"wte": draw(wte), "hours_per_wte_week": 10}},
        **common}}
    routing: dict[str, Any] = {}
    if draw(st.sampled_from([True, True, False])):
        teams["young"] = {"max_age_years": 4,
                          "on_age_boundary": draw(st.sampled_from(["transfer", "stay"])),
                          "staff": {"p": {"wte": draw(wte), "hours_per_wte_week": 10}},
                          **common}
    else:
        routing = {"uncovered": draw(st.sampled_from(["hold", "no_pathway"])),
                   "rereferred_when_eligible": {"all": draw(st.sampled_from([1.0, 0.0]))}}
    accept = draw(st.sampled_from([0.5, 0.25, 0.75, 1.0, 0.0]))
    boundary = draw(st.sampled_from([18, 4, 18, 4, None]))
    if boundary is not None:
        # a few months short of 4 or 18 at referral and still short of it at the start: the
        # age rules act while the child is rejected, re-referred or waiting
        days_before_start = draw(st.integers(0, 60))
        months = draw(st.integers(12 * boundary - 10, 12 * boundary - 3))
    else:
        days_before_start = draw(st.integers(0, 400))
        # under 18 at the start (the snapshot reader refuses an older child)
        months = draw(st.integers(0, int((18 - days_before_start / YEAR) * 12) - 1))
    return {
        "months": months,
        "days_before_start": days_before_start,
        "seed": draw(st.integers(1, 10_000)),
        "scenario": {
            "name": "one child", "start_date": START.isoformat(),
            "horizon_weeks": draw(st.integers(8, 120)),
            "demand": {"referrals_per_week": 0,
                       "age_bands": [{"min_years": 5, "max_years": 6, "weight": 1}]},
            "triage": {"outcomes": {"accept": accept, "reject": 1 - accept},
                       "rereferral_probability": draw(st.sampled_from([1.0, 0.5])),
                       "rereferral_delay_days": draw(st.integers(1, 120))},
            "routing": routing,
            "teams": teams,
        },
    }


def run(case: dict[str, Any]) -> asdsim.Results:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "snapshot.csv"
        referred = START - dt.timedelta(days=case["days_before_start"])
        # an age in years that the reader reduces to the drawn whole months
        path.write_text("referral_date,age_years,stage\n"
                        f"{referred.isoformat()},{(case['months'] + 0.5) / 12},awaiting_triage\n",
                        encoding="utf-8")
        scenario = asdsim.scenario_from_dict(
            {**case["scenario"], "initial_state": {"kind": "csv", "csv": str(path)}})
        return asdsim.simulate(scenario, replications=1, seed=case["seed"])


@given(one_child_scenarios())
def test_one_child_counted_once_aged_from_its_birth_and_timed_from_its_referral(case):
    results = run(case)
    horizon = results.scenario.horizon_days
    patients = results.patients
    record = results.records[0]
    assert len(patients) == 1
    child = patients.iloc[0]
    first = -float(case["days_before_start"])
    event(f"{child.exit_reason}, {'re-referred' if child.referrals > 1 else 'once'}, "
          f"{child.transfers} transfers")
    age = (case["months"] + 0.5) / 12

    # --- counted once
    kpis = results.kpis.set_index("kpi")["mean"]
    assert kpis[[k for k in kpis.index if k.startswith("exit[")]].sum() == 1
    assert kpis["referrals"] == (1 if first >= 0 else 0)
    rereferrals = record.rereferral_days
    assert child.referrals == 1 + len(rereferrals)
    assert results.weekly.referrals_in.sum() == (1 if first >= 0 else 0) + len(rereferrals)

    # --- the first referral is kept; ages from the birth date it fixes
    assert (child.first_referral_day, child.age_at_referral_years) == (first, age)
    born = first - age * YEAR

    def age_on(day: float) -> float:
        return (day - born) / YEAR

    listed = child.list_join_day
    if not math.isnan(listed):
        assert age_on(listed) < 18
        if child.transfers == 0:
            # the team is the one for the child's age on the day it was listed
            assert (child.team == "young") == (age_on(listed) < 4)
        else:
            assert child.team == "school" and age_on(listed) < 4
    started = record.columns["started_day"][0]
    exit_day = child.exit_day

    def waiting_on(day: float) -> bool:
        """On a list, not started and not gone, on that day (before the horizon)."""
        return (not math.isnan(listed) and listed < day and not started <= day
                and not exit_day < day and day < horizon)

    eighteen, four = born + 18 * YEAR, born + 4 * YEAR
    if waiting_on(eighteen):
        assert child.exit_reason == "aged_out" and abs(exit_day - eighteen) < 1e-6
    if child.exit_reason == "aged_out":
        # at 18 while waiting, or already 18 when routed (on the day it was accepted)
        assert age_on(exit_day) >= 18 - 1e-9
        assert abs(exit_day - eighteen) < 1e-6 or exit_day == child.accepted_day
    young = results.scenario.teams.get("young")
    transfers_at_four = young is not None and young.on_age_boundary == "transfer"
    if transfers_at_four and waiting_on(four + HAIR) and age_on(listed) < 4:
        assert child.transfers == 1
    else:
        assert child.transfers == 0

    # --- each referral's clock is its own
    arrivals = [first, *rereferrals.tolist()]
    assert child.referral_day == arrivals[-1]
    assert (child.referral_day > first) == (child.referrals > 1)
    decisions = record.triage_decisions
    assert decisions[:, 0].tolist() == arrivals  # one first decision per referral, in order
    assert np.all(decisions[:, 1] >= np.maximum(decisions[:, 0], 0.0))
    assert child.triage_day == decisions[-1, 1]
    for wait, milestone in (("wait_first_appointment_days", "first_appointment_day"),
                            ("wait_diagnosis_days", "diagnosis_day")):
        if not math.isnan(child[milestone]):
            assert child[wait] == child[milestone] - child.referral_day
            assert child[milestone] >= child.referral_day
