"""Fits the data cannot support are refused or flagged, never written as fitted values
(issue 23, class 7); the fit report draws whatever groups are empty or degenerate."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import pytest

from asdsim.cli import main
from asdsim.errors import ScenarioError
from asdsim.experiments.calibrate import GROWTH_DAYS, calibrate, fit_referrals, write_calibration
from asdsim.templates_area import create_area


@pytest.fixture
def area(tmp_path) -> Path:
    create_area(tmp_path / "area")
    return tmp_path / "area"


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_a_short_history_keeps_the_assumed_growth_and_says_so(area):
    header, rows = _rows(area / "referrals.csv")
    short = _write(area / "short.csv", header, rows[:150])  # about three months
    fit = calibrate(short, area / "scenario.yaml")
    assert not fit.referral_fit.growth_fitted
    assert "demand.annual_growth" not in set(fit.parameters.parameter)
    assert fit.scenario.demand.annual_growth == fit.data["demand"]["annual_growth"]
    base_growth = calibrate(area / "referrals.csv", area / "scenario.yaml").data  # a long history
    assert "annual_growth" in base_growth["demand"]
    assert any("not fitted" in note and "annual_growth" in note for note in fit.notes)


def test_with_a_fixed_growth_the_rate_is_the_mean_of_a_flat_history():
    # 70 days, two referrals every day: with growth fixed at 0 the rate is 14 a week exactly
    start = np.datetime64("2024-01-01")
    days = np.repeat(start + np.arange(70), 2)
    fit = fit_referrals(days, dt.date(2024, 3, 11), assumed_growth=0.0)
    assert not fit.growth_fitted and fit.value("referrals_per_week") == pytest.approx(14.0)
    # the same history with 10% assumed growth: the rate at the start is 14 grown for the time
    # from the middle of the data (day 35) to the start (day 70)
    fit = fit_referrals(days, dt.date(2024, 3, 11), assumed_growth=0.1)
    assert fit.value("referrals_per_week") == pytest.approx(14.0 * 1.1 ** (35 / 365.25), rel=2e-3)


@pytest.mark.parametrize("year", ["1925", "2001"])
def test_a_date_decades_outside_the_rest_is_refused_by_its_line(area, capsys, year):
    header, rows = _rows(area / "referrals.csv")
    at = header.index("referral_date")
    rows[5][at] = f"{year}-06-01"
    born = header.index("date_of_birth")
    rows[5][born] = "1920-01-01" if year == "1925" else "1996-01-01"
    path = _write(area / "typo.csv", header, rows)
    assert main(["calibrate", "--referrals", str(path), "--base", str(area / "scenario.yaml"),
                 "--out", str(area / "c.yaml")]) == 1
    err = capsys.readouterr().err
    assert "typo.csv:7: referral_date:" in err and "line 7" in err
    assert f"{year}-06-01" not in err and year not in err
    assert not (area / "c.yaml").exists()


def test_a_source_with_no_referrals_keeps_its_assumed_share(area):
    header, rows = _rows(area / "referrals.csv")
    at = header.index("source")
    sources = sorted({r[at] for r in rows})
    gone = sources[0]
    kept_rows = [r for r in rows if r[at] != gone]
    fit = calibrate(_write(area / "some.csv", header, kept_rows), area / "scenario.yaml")
    base_share = {k.casefold(): v for k, v in fit.data["demand"]["sources"].items()}
    fitted = set(fit.parameters.parameter)
    name = next(k for k in fit.data["demand"]["sources"] if k.casefold() == gone.casefold()
                or k.casefold().replace("_", " ") == gone.casefold())
    assert f"demand.sources.{name}" not in fitted
    assert sum(fit.data["demand"]["sources"].values()) == pytest.approx(1.0)
    assert base_share[name.casefold()] > 0
    assert any("cannot be estimated" in note and repr(name) in note for note in fit.notes)


@pytest.mark.parametrize("case", ["one source", "no optional columns", "one activity row",
                                  "one list row", "triage all empty"])
def test_the_fit_report_draws_degenerate_groups(area, tmp_path, case):
    referrals = area / "referrals.csv"
    activity = waiting = None
    header, rows = _rows(referrals)
    if case == "one source":
        at = header.index("source")
        rows = [[*r[:at], rows[0][at], *r[at + 1:]] for r in rows]
    elif case == "no optional columns":
        keep = [header.index("referral_date")]
        header, rows = ["referral_date"], [[r[i] for i in keep] for r in rows]
    elif case == "triage all empty":
        at = header.index("triage_outcome")
        rows = [[*r[:at], "", *r[at + 1:]] for r in rows]
    referrals = _write(tmp_path / "r.csv", header, rows)
    if case == "one activity row":
        a_header, a_rows = _rows(area / "activity.csv")
        activity = _write(tmp_path / "a.csv", a_header, a_rows[:1])
    if case == "one list row":
        w_header, w_rows = _rows(area / "waiting_list.csv")
        waiting = _write(tmp_path / "w.csv", w_header, w_rows[:1])
    try:
        fit = calibrate(referrals, area / "scenario.yaml", activity=activity, waiting_list=waiting,
                        dayfirst=False)
    except ScenarioError as error:  # refused is allowed; a crash is not
        assert error.problems
        return
    scenario, report = write_calibration(fit, tmp_path / "c.yaml")
    assert scenario.is_file() and (report / "report.html").is_file()
    assert GROWTH_DAYS == 365


def test_numerical_warnings_of_the_fit_are_kept_not_printed():
    import warnings

    # two referrals every day with growth fixed at 0 is a perfect fit: statsmodels warns
    # (perfect separation), which Python would print with its source line on a terminal
    days = np.repeat(np.datetime64("2024-01-01") + np.arange(70), 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_referrals(days, dt.date(2024, 3, 11), assumed_growth=0.0)
    assert caught == []
    assert fit.warnings  # kept, for calibrate's note
