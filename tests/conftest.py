"""Shared builders: small scenarios as plain dicts, validated through the public API."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import asdsim
from asdsim.scenario import snapshot as snapshot_module


@pytest.fixture(autouse=True)
def _fresh_snapshot_caches():
    """Each test reads and checks its snapshots itself: the per-process caches of read and
    checked snapshots start empty, so no test sees another's result (and a mutation-testing
    worker, forked after the tests ran once, does not reuse problems found by unmutated code)."""
    snapshot_module._CHECKED.clear()
    snapshot_module._LOADED.clear()


def deep_update(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into a copy of ``base`` (mappings merge, other values replace)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


BASE: dict[str, Any] = {
    "name": "test",
    "start_date": "2020-01-06",
    "horizon_weeks": 104,
    "demand": {
        "referrals_per_week": 10,
        "age_bands": [{"min_years": 2, "max_years": 16, "weight": 1}],
        "localities": {"north": 0.5, "south": 0.5},
    },
    "teams": {
        "mdt": {
            "staff": {
                "paediatrician": {"wte": 1.0, "autism_share": 0.4},
                "psychologist": {"wte": 1.0, "autism_share": 0.4},
            },
            "steps": [
                {"name": "history", "hours": {"paediatrician": 2}},
                {"name": "observation", "hours": {"paediatrician": 1, "psychologist": 1},
                 "joint": True, "min_gap_days": 7},
                {"name": "mdt", "hours": {"paediatrician": 1, "psychologist": 1}, "joint": True,
                 "contact": False, "outcome": True, "min_gap_days": 7},
            ],
        }
    },
}


def caseload_scenario(arrivals_per_day: float, servers: int, mean_days: float,
                      weeks: int) -> asdsim.Scenario:
    """An M/M/c queue: Poisson referrals, instant triage, one exponential step per case."""
    return asdsim.scenario_from_dict({
        "name": f"mmc-{servers}",
        "start_date": "2020-01-06",
        "horizon_weeks": weeks,
        "demand": {"referrals_per_week": 7 * arrivals_per_day,
                   "age_bands": [{"min_years": 0, "max_years": 1, "weight": 1}]},
        "teams": {"team": {
            "capacity_mode": "caseload",
            "caseload": {"clinicians": servers, "cases_per_clinician": 1},
            "staff": {"clinician": {"wte": servers}},
            "steps": [{"name": "case", "hours": {"clinician": 1}, "outcome": True,
                       "duration_days": {"dist": "exponential", "mean": mean_days}}],
        }},
    })


@pytest.fixture
def make_scenario():
    """Build a validated scenario from BASE with overrides merged in."""

    def make(**over: Any) -> asdsim.Scenario:
        return asdsim.scenario_from_dict(deep_update(BASE, over))

    return make


def halve_clinic_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberately broken model: every staff group has half its clinic hours.

    Patches ``hours_available`` wherever a loaded asdsim module imported it, so the patch holds
    however the model's modules are arranged. Scenario files are untouched, so a check sees the
    model's output move, not a changed scenario. Applies in this process only (``jobs=1``).
    """
    import sys

    from asdsim.model import capacity

    original = capacity.hours_available

    def halved(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **kwargs) * 0.5

    patched = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("asdsim.") and getattr(module, "hours_available", None) is original:
            monkeypatch.setattr(module, "hours_available", halved)
            patched += 1
    assert patched, "no module uses asdsim.model.capacity.hours_available any more"
