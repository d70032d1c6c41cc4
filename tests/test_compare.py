"""Comparing scenarios: paired differences under common random numbers, and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import asdsim
from asdsim import compare
from asdsim.analysis.paired import COLUMNS, paired_table
from asdsim.analysis.stats import mean_ci
from asdsim.errors import AsdsimError

FIXTURES = Path(__file__).parent / "fixtures"
SMALL, MORE = FIXTURES / "small.yaml", FIXTURES / "more_staff.yaml"


@pytest.fixture(scope="module")
def comparison():
    return compare([SMALL, MORE], replications=3, seed=7)


def test_table_has_every_kpi_of_every_scenario(comparison):
    table = comparison.table
    assert list(table.columns) == COLUMNS
    assert comparison.baseline == "small"
    assert list(comparison.results) == ["small", "more staff"]
    for name, res in comparison.results.items():
        mine = table[table.scenario == name].set_index("kpi")
        assert list(mine.index) == list(res.kpis.kpi)
        pd.testing.assert_series_equal(mine["mean"], res.kpis.set_index("kpi")["mean"],
                                       check_names=False)


def test_difference_is_the_mean_of_paired_replications(comparison):
    per_rep = {name: res.kpis_by_replication.pivot(index="replication", columns="kpi",
                                                   values="value")
               for name, res in comparison.results.items()}
    table = comparison.table.set_index(["scenario", "kpi"])
    for kpi in ("assessment_started_within_3_months", "cost_total", "exit[assessed]"):
        diff = (per_rep["more staff"][kpi] - per_rep["small"][kpi]).to_numpy()
        mean, low, high, _ = mean_ci(diff)
        row = table.loc[("more staff", kpi)]
        assert row.diff_mean == pytest.approx(mean)
        assert (row.diff_ci_low, row.diff_ci_high) == pytest.approx((low, high))
    # three times the school team's staff: more assessed, sooner, at a higher cost
    assert table.loc[("more staff", "exit[assessed]")].diff_ci_low > 0
    assert table.loc[("more staff", "assessment_started_within_3_months")].diff_mean > 0
    baseline = table.loc["small"]
    assert (baseline.diff_mean.dropna() == 0).all()


def test_common_random_numbers_give_narrow_paired_intervals(comparison):
    """The same demand in both scenarios: the referral count is identical replication by
    replication, so its paired difference is exactly zero while each mean has a wide CI."""
    table = comparison.table.set_index(["scenario", "kpi"])
    row = table.loc[("more staff", "referrals")]
    assert row.diff_mean == 0 and row.diff_ci_low == 0 and row.diff_ci_high == 0
    assert row.ci_high - row.ci_low > 1


def test_censored_kpi_difference_is_nan_when_any_replication_is_censored(comparison):
    res = comparison.results["small"]
    per_rep = res.kpis_by_replication
    p90 = per_rep[per_rep.kpi == "first_appointment_wait_p90"].value
    assert p90.isna().any(), "fixture should leave the 90th percentile unreached"
    table = comparison.table.set_index(["scenario", "kpi"])
    assert math.isnan(table.loc[("more staff", "first_appointment_wait_p90")].diff_mean)

    # one replication censored, the others reached: NaN, not a mean of the others
    base = res.kpis_by_replication.copy()
    other = comparison.results["more staff"].kpis_by_replication.copy()
    mask = base.kpi == "first_appointment_wait_median"
    base.loc[mask, "value"] = [10.0, np.nan, 12.0]
    fake = {"small": _with_per_rep(res, base), "more staff": _with_per_rep(
        comparison.results["more staff"], other)}
    row = paired_table(fake, "small").set_index(["scenario", "kpi"]).loc[
        ("more staff", "first_appointment_wait_median")]
    assert math.isnan(row.diff_mean) and math.isnan(row.diff_ci_low)


def _with_per_rep(res: asdsim.Results, per_rep: pd.DataFrame) -> asdsim.Results:
    copy = asdsim.Results(res.scenario, res.provenance, res.records)
    copy.__dict__["kpis_by_replication"] = per_rep  # a cached_property, set by hand
    return copy


def test_baseline_by_name_file_or_stem():
    assert compare([SMALL, MORE], 1, baseline="more staff").baseline == "more staff"
    assert compare([SMALL, MORE], 1, baseline=str(MORE)).baseline == "more staff"
    assert compare([SMALL, MORE], 1, baseline="more_staff").baseline == "more staff"
    with pytest.raises(AsdsimError, match="baseline 'nope' is not one of the scenarios"):
        compare([SMALL, MORE], 1, baseline="nope")


def test_repeated_names_say_which_files(tmp_path):
    copy = tmp_path / "copy.yaml"
    copy.write_text(SMALL.read_text())
    with pytest.raises(AsdsimError, match=r"'small' is used by .*small\.yaml and .*copy\.yaml"):
        compare([SMALL, copy], 1)


def test_every_invalid_file_is_reported(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("name: other\nhorizon_weeks: 0\n")
    with pytest.raises(asdsim.ScenarioError) as caught:
        compare([FIXTURES / "invalid.yaml", other, SMALL], 1)
    files = {Path(p.file).name for p in caught.value.problems}
    assert files == {"invalid.yaml", "other.yaml"}


def test_scenario_objects_and_progress():
    seen = []
    small = asdsim.load_scenario(SMALL)
    more = asdsim.load_scenario(MORE)
    result = compare([small, more], 2, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (4, 4) and all(total == 4 for _, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert set(result.table.scenario) == {"small", "more staff"}
