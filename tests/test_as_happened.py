"""The as-happened scenario against the published figures: calibration targets met, held-out
figures reported (never fitted)."""

from __future__ import annotations

from pathlib import Path

import pytest

import asdsim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "as_happened_2018_2020.yaml"
TOLERANCE = 0.05
"""A calibration target is met when the simulated mean is within 5% of the published figure."""


@pytest.fixture(scope="module")
def table():
    return asdsim.simulate(SCENARIO, replications=8, seed=2024).validation


def test_calibration_targets_are_met(table):
    calibration = table[table.use == "calibration"]
    assert len(calibration) == 5
    for row in calibration.itertuples():
        assert row.simulated_mean == pytest.approx(row.observed, rel=TOLERANCE), (
            f"{row.date} {row.measure} {row.locality}: simulated {row.simulated_mean:.0f} against "
            f"published {row.observed:.0f}")


def test_held_out_figures_are_compared_and_reported(table, record_property):
    held_out = table[table.use == "validation"]
    assert len(held_out) == 3
    for row in held_out.itertuples():
        label = f"{row.date} {row.measure} {row.locality or 'area'}"
        record_property(label, f"published {row.observed:g}, simulated {row.simulated_mean:.0f} "
                               f"[{row.simulated_low:.0f}-{row.simulated_high:.0f}], "
                               f"{'inside' if row.inside else 'outside'}")
    # what the docs say of them, checked: capacity alone does not reproduce the fall in the
    # eastern list by December 2019 (published 39, with the longest wait 12 weeks)
    east = held_out[held_out.measure == "awaiting_assessment"].iloc[0]
    assert not east.inside and east.simulated_low > 10 * east.observed
