"""The as-happened scenario against the published figures: the starting list and the fitted
June 2019 list met, the figures it does not reproduce reported as such (measured, not tuned)."""

from __future__ import annotations

from pathlib import Path

import pytest

import asdsim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "as_happened_2018_2020.yaml"
TOLERANCE = 0.05
"""A target is met when the simulated mean is within 5% of the published figure."""
MINIMUM_GAPS_TO_OUTCOME_DAYS = 42 + 42 + 28 + 28
"""The sequential as-is steps' minimum gaps up to the diagnostic decision."""


@pytest.fixture(scope="module")
def results():
    return asdsim.simulate(SCENARIO, replications=8, seed=2024)


def _row(table, date, measure, locality=None):
    rows = table[(table.date.astype(str) == date) & (table.measure == measure)
                 & (table.locality.fillna("") == (locality or ""))]
    assert len(rows) == 1
    return rows.iloc[0]


def test_the_starting_list_and_the_fitted_june_list_are_met(results):
    table = results.validation
    for date, measure, locality in [("2018-10-01", "awaiting_assessment", None),
                                    ("2018-10-01", "awaiting_assessment_over_weeks", None),
                                    ("2018-10-01", "awaiting_assessment", "eastern"),
                                    ("2019-06-30", "awaiting_assessment", None)]:
        row = _row(table, date, measure, locality)
        assert row.use == "calibration"
        assert row.simulated_mean == pytest.approx(row.observed, rel=TOLERANCE), (
            f"{date} {measure} {locality}: simulated {row.simulated_mean:.0f} against "
            f"published {row.observed:.0f}")


def test_the_warm_start_runs_a_service_from_day_0(results):
    # Cold, the first diagnosis came 145 days in (measured: 144.4 to 145.0 days over 8
    # replications); warm, children part-way through assessment are decided in the first days.
    firsts = results.patients.groupby("replication").diagnosis_day.min()
    assert len(firsts) == 8 and (firsts < 7.0).all()
    # Those children waited the list's published longest wait (104 weeks) before starting and
    # have been in assessment at most the steps' minimum gaps up to the decision since, so the
    # model's longest wait among open referrals at the start is above 104 weeks by at most that
    row = _row(results.validation, "2018-10-01", "longest_wait_weeks", "eastern")
    assert 104.0 < row.simulated_mean <= 104.0 + (MINIMUM_GAPS_TO_OUTCOME_DAYS + 1) / 7.0


def test_what_it_does_not_reproduce_is_compared_and_reported(results, record_property):
    table = results.validation
    missed = [_row(table, "2019-06-30", "awaiting_assessment_over_weeks"),
              _row(table, "2019-12-31", "awaiting_assessment", "eastern"),
              _row(table, "2019-12-31", "longest_wait_weeks", "eastern")]
    assert [row.use for row in missed] == ["validation", "calibration", "validation"]
    for row in missed:
        record_property(f"{row.date} {row.measure} {row.locality or 'area'}",
                        f"published {row.observed:g}, simulated {row.simulated_mean:.0f} "
                        f"[{row.simulated_low:.0f}-{row.simulated_high:.0f}]")
        assert not row.inside
    # what the docs say of them, checked: the fitted capacity does not reproduce the eastern
    # fall to 39 by December 2019, nor a longest wait of 12 weeks
    east, longest = missed[1], missed[2]
    assert east.simulated_low > 10 * east.observed
    assert longest.simulated_low > 10 * longest.observed


def _east_december(scenario, factors, points):
    """Mean over 4 replications of each point with the eastern teams' capacity scaled."""
    from asdsim.analysis.validation import point_values
    from asdsim.experiments.history import Lever, apply_factors
    from asdsim.experiments.runner import run_replication

    levers = [Lever("capacity", day, team) for day, team in factors]
    scaled = apply_factors(scenario, levers, [10.0] * len(levers))
    records = [run_replication(scaled, 12345, r) for r in range(4)]
    return point_values(records, scaled, points).mean(axis=0)


def test_no_capacity_gives_the_eastern_fall_or_a_12_week_longest_wait():
    # What docs/as-happened.md says the fit cannot identify, and why, checked at ten times the
    # capacity (the bound of the search is tenfold).
    import datetime as dt

    from asdsim.scenario.schema import ObservedPoint

    scenario = asdsim.load_scenario(SCENARIO)
    december = dt.date(2019, 12, 31)
    points = [ObservedPoint(date=december, measure="awaiting_assessment", locality="eastern",
                            value=0, source="x"),
              ObservedPoint(date=december, measure="awaiting_assessment", locality="eastern",
                            age_group="0-3", value=0, source="x"),
              ObservedPoint(date=december, measure="longest_wait_weeks", locality="eastern",
                            value=0, source="x")]
    # the school-age team alone, ten times from July 2019: the under-4s held for the pre-school
    # pilot stay, and the eastern count stays well above the published 39
    east, under4, _ = _east_december(scenario, [(dt.date(2019, 7, 1), "school_age_east")], points)
    assert east > 60 and under4 > 0.8 * east
    # every eastern team ten times from the start: the list is nearly cleared, yet the longest
    # wait among open referrals stays above the steps' minimum gaps to the decision (20 weeks)
    east, _, longest = _east_december(
        scenario, [(scenario.start_date, "school_age_east"), (scenario.start_date, "preschool_east")],
        points)
    assert east < 39 and longest > MINIMUM_GAPS_TO_OUTCOME_DAYS / 7.0


def test_no_capacity_gives_261_children_waiting_under_12_weeks_in_june_2019():
    # 587 waiting, 326 of them over 12 weeks: 261 referred in the 12 weeks before. At a tenth of
    # every team's capacity (the search's lower bound: nobody referred then has started) the
    # model's count is what the assumed 10 referrals a week bring, well short of 261.
    import datetime as dt

    from asdsim.analysis.validation import point_values
    from asdsim.experiments.history import Lever, apply_factors
    from asdsim.experiments.runner import run_replication
    from asdsim.scenario.schema import ObservedPoint

    scenario = asdsim.load_scenario(SCENARIO)
    june = dt.date(2019, 6, 30)
    points = [ObservedPoint(date=june, measure="awaiting_assessment", value=0, source="x"),
              ObservedPoint(date=june, measure="awaiting_assessment_over_weeks", over_weeks=12,
                            value=0, source="x")]
    levers = [Lever("capacity", scenario.start_date, team) for team in scenario.teams]
    slow = apply_factors(scenario, levers, [0.1] * len(levers))
    waiting, over = point_values([run_replication(slow, 12345, r) for r in range(4)], slow,
                                 points).mean(axis=0)
    assert waiting - over < 10.0 * 12 < 261
