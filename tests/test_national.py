"""NHS England's Autism Statistics as an observed series: each measure mapped by hand from the
fixtures (tests/data/national, written in the published shape), the organisation matched by code
and name, the 2023 open-referral basis rule, suppression, every error, the CLI, and the round trip
through the observed-series reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from asdsim.cli import main
from asdsim.errors import AsdsimError, ScenarioError
from asdsim.experiments.national import (
    OBSERVED_COLUMNS,
    UNDER_COUNT,
    list_organisations,
    read_national,
    write_observed,
)
from asdsim.experiments.national_measures import (
    MAPPED,
    NEW_BASIS_FROM,
    NOT_MAPPED,
    RECORDED,
    SUBMITTED,
    file_basis,
    mapping_for,
)
from asdsim.experiments.observed import read_observed
from asdsim.scenario.yamlfile import display_path
from tests.conftest import BASE, deep_update

DATA = Path(__file__).parent / "data" / "national"
OLD = DATA / "autism_statistics_2023_03.csv"  # periods to March 2023: the basis before
NEW = DATA / "autism_statistics_2023_06.csv"  # periods to June 2023: the basis since
BOTH = [OLD, NEW]
SHOWN_OLD, SHOWN_NEW = display_path(OLD), display_path(NEW)  # as messages name them
HEADER = ("REPORTING_PERIOD_START,REPORTING_PERIOD_END,STATUS,BREAKDOWN,PRIMARY_LEVEL,"
          "PRIMARY_LEVEL_DESCRIPTION,SECONDARY_LEVEL,SECONDARY_LEVEL_DESCRIPTION,MEASURE_ID,"
          "MEASURE_NAME,MEASURE_VALUE\n")
RXA = "Provider,RXA,Cheshire and Wirral Partnership NHS Foundation Trust,NONE,NONE"


def _rows(series) -> list[tuple]:
    frame = series.observed
    return [(r.date.isoformat(), r.measure, r.value,
             None if r.over_weeks is None or r.over_weeks != r.over_weeks else int(r.over_weeks),
             r.age_group, r.period_start.isoformat() if r.period_start else None,
             r.published_measure, r.open_referral_basis)
            for r in frame.astype(object).where(frame.notna(), None).itertuples()]


def _file(tmp_path: Path, body: str, name: str = "stats.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def _row(measure: str, value: str, end: str = "31/01/2023", start: str = "01/01/2023",
         name: str = "", org: str = RXA) -> str:
    return f"{start},{end},Final,{org},{measure},{name},{value}\n"


# -- the mapping, by hand from the fixtures ---------------------------------------------------


def test_children_from_two_publications_by_hand():
    series = read_national(BOTH, "RXA")
    assert series.organisation.code == "RXA" and series.organisation.breakdown == "Provider"
    # January's referrals come from the older file (flows are not touched by the basis change);
    # February's are suppressed; March's 33 was revised to 34 by the later publication; every
    # open-referral figure is on the newer basis (the older file's 400/410/420 and 250/255/260
    # are dropped); May's over-13-weeks figure is suppressed
    assert _rows(series) == [
        ("2023-01-31", "referrals_received", 30, None, "0-17", "2023-01-01", "ASD12a", None),
        ("2023-03-31", "open_referrals", 300, None, "0-17", None, "ASD16b", SUBMITTED),
        ("2023-03-31", "referrals_received", 34, None, "0-17", "2023-03-01", "ASD12a", None),
        ("2023-04-30", "open_referrals", 310, None, "0-17", None, "ASD16b", SUBMITTED),
        ("2023-04-30", "referrals_received", 36, None, "0-17", "2023-04-01", "ASD12a", None),
        ("2023-04-30", "waiting_over_13_weeks", 200, 13, "0-17", None, "ASD16c", SUBMITTED),
        ("2023-05-31", "open_referrals", 320, None, "0-17", None, "ASD16b", SUBMITTED),
        ("2023-05-31", "referrals_received", 38, None, "0-17", "2023-05-01", "ASD12a", None),
        ("2023-06-30", "open_referrals", 330, None, "0-17", None, "ASD16b", SUBMITTED),
        ("2023-06-30", "referrals_received", 35, None, "0-17", "2023-06-01", "ASD12a", None),
        ("2023-06-30", "waiting_over_13_weeks", 215, 13, "0-17", None, "ASD16c", SUBMITTED),
    ]
    assert series.bases == (SUBMITTED,)
    assert series.suppressed == 2
    assert series.observed["source"].iloc[0] == f"{SHOWN_OLD} line 4"


def test_every_age_on_the_older_basis_alone_is_kept_and_marked():
    series = read_national(BOTH, "RXA", ages="all")
    assert _rows(series) == [
        ("2023-01-31", "open_referrals", 500, None, None, None, "ASD16", RECORDED),
        ("2023-01-31", "referrals_received", 40, None, None, "2023-01-01", "ASD12", None),
        ("2023-01-31", "waiting_over_13_weeks", 300, 13, None, None, "ASD16a", RECORDED),
        ("2023-02-28", "open_referrals", 510, None, None, None, "ASD16", RECORDED),
        ("2023-02-28", "referrals_received", 44, None, None, "2023-02-01", "ASD12", None),
        ("2023-02-28", "waiting_over_13_weeks", 305, 13, None, None, "ASD16a", RECORDED),
        ("2023-03-31", "open_referrals", 520, None, None, None, "ASD16", RECORDED),
        ("2023-03-31", "referrals_received", 42, None, None, "2023-03-01", "ASD12", None),
        ("2023-03-31", "waiting_over_13_weeks", 310, 13, None, None, "ASD16a", RECORDED),
        ("2023-04-30", "referrals_received", 45, None, None, "2023-04-01", "ASD12", None),
    ]
    assert series.bases == (RECORDED,)
    reasons = series.skipped.set_index(["file", "line"])["reason"]
    # the age-group and gender breakdowns of the provider are skipped, not summed
    assert "breakdown within the organisation (Provider; Age Group)" in reasons[(SHOWN_OLD, 11)]
    assert "breakdown within the organisation (Provider; Gender)" in reasons[(SHOWN_NEW, 15)]
    assert "counts children 0-17" in reasons[(SHOWN_NEW, 2)]


def test_measures_not_mapped_are_listed_with_the_reason():
    series = read_national(BOTH, "RXA")
    unmapped = series.unmapped.set_index("published_measure")
    assert dict(unmapped["rows"]) == {"ASD03": 1, "ASD13a": 2, "ASD17": 1}
    assert "month of referral" in unmapped.loc["ASD03", "reason"]
    assert "closures" in unmapped.loc["ASD13a", "reason"]
    assert "no measure of the model" in unmapped.loc["ASD17", "reason"]
    assert unmapped.loc["ASD13a", "measure_name"].startswith("Referrals for suspected autism closed")
    skipped = series.skipped
    assert (skipped["reason"].str.startswith("not mapped")).sum() == 4


def test_the_mapping_table_means_what_the_model_counts():
    # referrals are a flow over the month; open referrals and the 13-week wait a stock at its end
    assert mapping_for("asd12A").measure == "referrals_received" and mapping_for("ASD12a").is_flow
    assert mapping_for("ASD16b").measure == "open_referrals" and mapping_for("ASD16b").open_referrals
    assert mapping_for("ASD16c").over_weeks == 13 and mapping_for("ASD16c").ages == "0-17"
    assert not mapping_for("ASD12").open_referrals and mapping_for("ASD12").ages == "all"
    assert mapping_for("ASD01") == mapping_for("ASD12")  # the quarterly files' new referrals
    assert mapping_for("ASD03") == NOT_MAPPED["ASD03"]
    assert "no measure of the model" in mapping_for("ASD99")
    assert set(MAPPED).isdisjoint(NOT_MAPPED)


# -- the organisation ---------------------------------------------------------------------------


@pytest.mark.parametrize("named", ["RXA", " rxa ", "Cheshire and Wirral Partnership NHS Foundation "
                                   "Trust", "cheshire-and-wirral partnership nhs foundation trust"])
def test_the_organisation_by_code_or_name(named):
    assert read_national(BOTH, named).organisation.code == "RXA"


def test_a_sub_icb_by_its_name():
    series = read_national(BOTH, "NHS Cheshire and Merseyside ICB - 27D")
    assert series.organisation.breakdown == "Sub ICB"
    # its open referrals are on both bases: the newer alone (June's 290) is kept
    assert _rows(series) == [
        ("2023-01-31", "referrals_received", 25, None, "0-17", "2023-01-01", "ASD12a", None),
        ("2023-06-30", "open_referrals", 290, None, "0-17", None, "ASD16b", SUBMITTED)]


def test_the_organisations_listed():
    frame = list_organisations(BOTH)
    assert frame.values.tolist() == [
        ["England", "ENG", "England"],
        ["Provider", "RBT", "Mid Cheshire Hospitals NHS Foundation Trust"],
        ["Provider", "RXA", "Cheshire and Wirral Partnership NHS Foundation Trust"],
        ["Sub ICB", "27D", "NHS Cheshire and Merseyside ICB - 27D"]]


@pytest.mark.parametrize(("named", "hint"), [
    ("RXB", "did you mean 'RXA'?"),
    ("Cheshire and Wirral Partnership Trust", "did you mean 'Cheshire and Wirral Partnership NHS "
                                              "Foundation Trust'?")])
def test_an_unknown_organisation_says_what_is_near(named, hint):
    with pytest.raises(ScenarioError) as caught:
        read_national(BOTH, named)
    (problem,) = caught.value.problems
    assert problem.file == SHOWN_OLD and problem.field == "PRIMARY_LEVEL"
    assert "no organisation of the files" in problem.message and hint in problem.message


def test_a_name_two_organisations_share_asks_for_the_code(tmp_path):
    path = _file(tmp_path, _row("ASD12a", "5", org="Provider,AAA,Same Trust,NONE,NONE")
                 + _row("ASD12a", "6", org="Provider,BBB,Same Trust,NONE,NONE"))
    with pytest.raises(ScenarioError, match=r"matches 2 organisations: Provider AAA .* Provider BBB"):
        read_national(path, "same trust")
    assert read_national(path, "BBB").observed["value"].tolist() == [6]


# -- the basis, suppression and figures published twice -------------------------------------


def test_a_file_is_on_the_newer_basis_from_the_september_2023_publication():
    assert NEW_BASIS_FROM == dt.date(2023, 6, 30)
    assert file_basis(dt.date(2023, 6, 30)) == SUBMITTED
    assert file_basis(dt.date(2023, 5, 31)) == RECORDED


def test_mixed_bases_are_refused_when_asked():
    with pytest.raises(ScenarioError) as caught:
        read_national(BOTH, "RXA", bases="refuse")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (SHOWN_OLD, 6, "METRIC")
    assert f"{SHOWN_NEW} line 3" in problem.message and "20-37%" in problem.message
    # one basis alone is never refused
    assert read_national(OLD, "RXA", bases="refuse").bases == (RECORDED,)
    assert read_national(NEW, "RXA", bases="refuse").bases == (SUBMITTED,)


def test_the_older_basis_dropped_is_listed():
    skipped = read_national(BOTH, "RXA").skipped
    older = skipped[skipped["reason"].str.contains("before September 2023")]
    assert sorted(older["line"]) == [6, 8, 19, 21, 26, 28]  # ASD16b and ASD16c, January to March
    assert set(older["file"]) == {SHOWN_OLD}


def test_a_figure_published_again_is_taken_from_the_later_publication():
    skipped = read_national(BOTH, "RXA").skipped
    again = skipped[skipped["reason"].str.startswith("published again")]
    assert again[["file", "line"]].values.tolist() == [[SHOWN_OLD, 24]]
    assert f"{SHOWN_NEW} line 2" in again["reason"].iloc[0]


def test_two_files_of_one_period_that_differ_are_refused(tmp_path):
    a = _file(tmp_path, _row("ASD12a", "5"), "a.csv")
    b = _file(tmp_path, _row("ASD12a", "6"), "b.csv")
    with pytest.raises(ScenarioError, match=r"differs from .*a\.csv line 2"):
        read_national([a, b], "RXA")
    same = _file(tmp_path, _row("ASD12a", "5"), "c.csv")
    assert read_national([a, same], "RXA").observed["value"].tolist() == [5]


def test_only_suppressed_figures_leave_nothing_to_compare(tmp_path):
    path = _file(tmp_path, _row("ASD12a", "*") + _row("ASD03", "4"))
    with pytest.raises(ScenarioError, match="RXA has no figure the model can compare with"):
        read_national(path, "RXA")


# -- bad input: file, line, column ---------------------------------------------------------------


@pytest.mark.parametrize(("row", "column", "rule"), [
    (_row("ASD12a", "n/a"), "MEASURE_VALUE", "expected a number, or * where the count was "
                                             "suppressed"),
    (_row("ASD12a", "12.5"), "MEASURE_VALUE", "expected a whole number of referrals"),
    (_row("ASD17", "lots"), "MEASURE_VALUE", "expected a number, or *"),
    (_row("ASD12a", "5", end="31/13/2023"), "REPORTING_PERIOD_END", "is not a calendar date "
                                                                    "read day first"),
    (_row("ASD12a", "5", end="Jan 2023"), "REPORTING_PERIOD_END", "expected a date as "
                                                                  "YYYY-MM-DD or DD/MM/YYYY"),
    (_row("ASD12a", "5", start=""), "REPORTING_PERIOD_START", "is empty; expected a date"),
    (_row("ASD12a", "5", start="2023-02-01"), "REPORTING_PERIOD_START", "is after "
                                                                        "REPORTING_PERIOD_END"),
    (_row("ASD16b", "5", name="New referrals for suspected autism"), "MEASURE_NAME",
     "does not describe ASD16b"),
    (_row("", "5"), "MEASURE_ID", "is empty"),
])
def test_a_bad_row_is_named_by_file_line_and_column(tmp_path, row, column, rule):
    path = _file(tmp_path, _row("ASD12a", "7", end="28/02/2023", start="01/02/2023") + row)
    with pytest.raises(ScenarioError) as caught:
        read_national(path, "RXA")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (display_path(path), 3, column)
    assert rule in problem.message


def test_a_figure_given_twice_in_one_file(tmp_path):
    path = _file(tmp_path, _row("ASD12a", "7") + _row("asd12A", "8"))
    with pytest.raises(ScenarioError) as caught:
        read_national(path, "RXA")
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "MEASURE_ID")
    assert "same figure as line 2" in problem.message


def test_a_missing_column_is_named(tmp_path):
    path = _file(tmp_path, "01/01/2023,31/01/2023,Provider,RXA,Trust,ASD12a\n",
                 header="REPORTING_PERIOD_START,REPORTING_PERIOD_END,BREAKDOWN,PRIMARY_LEVEL,"
                        "PRIMARY_LEVEL_DESCRIPTION,MEASURE_ID\n")
    with pytest.raises(ScenarioError) as caught:
        read_national(path, "RXA")
    (problem,) = caught.value.problems
    assert problem.line == 1 and "missing column(s): metric_value or measure_value" in problem.message


def test_a_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    from asdsim.experiments.calibrate import table

    monkeypatch.setattr(table, "MAX_SNAPSHOT_BYTES", OLD.stat().st_size - 1)
    with pytest.raises(ScenarioError, match="national statistics file is larger than the limit"):
        read_national(OLD, "RXA")
    monkeypatch.setattr(table, "MAX_SNAPSHOT_BYTES", OLD.stat().st_size)
    assert read_national(OLD, "RXA").organisation.code == "RXA"


def test_options_are_checked():
    with pytest.raises(ValueError, match="ages"):
        read_national(BOTH, "RXA", ages="children")
    with pytest.raises(ValueError, match="bases"):
        read_national(BOTH, "RXA", bases="mix")
    with pytest.raises(AsdsimError, match="no national statistics file"):
        read_national([], "RXA")


# -- the round trip and the CLI -----------------------------------------------------------------


def test_the_written_series_reads_back_as_observed_points(tmp_path, make_scenario):
    out = write_observed(read_national(BOTH, "RXA"), tmp_path / "observed.csv", BOTH)
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(OBSERVED_COLUMNS)
    scenario = make_scenario(start_date="2023-01-01", horizon_weeks=30)
    series = read_observed(out, scenario)
    got = [(p.date, p.measure, p.value, p.over_weeks, p.age_group, p.period_start, p.age_years)
           for p in series.points]
    day = dt.date
    children = (0.0, 18.0)
    assert got == [
        (day(2023, 1, 31), "referrals_received", 30, None, "0-17", day(2023, 1, 1), children),
        (day(2023, 3, 31), "open_referrals", 300, None, "0-17", None, children),
        (day(2023, 3, 31), "referrals_received", 34, None, "0-17", day(2023, 3, 1), children),
        (day(2023, 4, 30), "open_referrals", 310, None, "0-17", None, children),
        (day(2023, 4, 30), "referrals_received", 36, None, "0-17", day(2023, 4, 1), children),
        (day(2023, 4, 30), "waiting_over_weeks", 200, 13.0, "0-17", None, children),
        (day(2023, 5, 31), "open_referrals", 320, None, "0-17", None, children),
        (day(2023, 5, 31), "referrals_received", 38, None, "0-17", day(2023, 5, 1), children),
        (day(2023, 6, 30), "open_referrals", 330, None, "0-17", None, children),
        (day(2023, 6, 30), "referrals_received", 35, None, "0-17", day(2023, 6, 1), children),
        (day(2023, 6, 30), "waiting_over_weeks", 215, 13.0, "0-17", None, children),
    ]
    assert series.suppressed == 0 and series.points[0].source == "observed.csv line 2"


def test_the_command_writes_the_series_and_says_what_it_skipped(tmp_path, capsys):
    out = tmp_path / "observed.csv"
    assert main(["national", str(OLD), str(NEW), "--organisation", "rxa", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("Provider RXA (Cheshire and Wirral Partnership NHS Foundation "
                                  "Trust), ages 0-17: 11 points (ASD12a 5, ASD16b 4, ASD16c 2)")
    assert "open referrals counted on the submitted_months basis" in printed.out
    assert "skipped 2 rows: the value is suppressed (*)" in printed.out
    assert "not mapped: ASD13a (2 rows): " in printed.out
    assert printed.err.count(UNDER_COUNT) == 1
    assert len(out.read_text(encoding="utf-8").splitlines()) == 12
    # again: refused without --force, replaced with it (a file asdsim national wrote)
    assert main(["national", str(OLD), "--organisation", "RXA", "--out", str(out)]) == 1
    assert "exists; choose another --out or add --force" in capsys.readouterr().err
    assert main(["national", str(OLD), "--organisation", "RXA", "--out", str(out), "--ages", "all",
                 "--force"]) == 0
    assert "ASD16," in out.read_text(encoding="utf-8")


def test_the_command_never_writes_over_an_input_or_a_file_it_did_not_write(tmp_path, capsys):
    copy = tmp_path / "stats.csv"
    copy.write_bytes(OLD.read_bytes())
    assert main(["national", str(copy), "--organisation", "RXA", "--out", str(copy),
                 "--force"]) == 1
    assert "is the input" in capsys.readouterr().err
    assert copy.read_bytes() == OLD.read_bytes()
    mine = tmp_path / "notes.csv"
    mine.write_text("my,own\n", encoding="utf-8")
    assert main(["national", str(copy), "--organisation", "RXA", "--out", str(mine),
                 "--force"]) == 1
    assert "was not written by asdsim national" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "my,own\n"
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    assert main(["national", str(copy), "--organisation", "RXA", "--out", str(binary),
                 "--force"]) == 1
    assert binary.read_bytes() == b"\xff\xfe\x00"
    assert main(["national", str(copy), "--organisation", "RXA", "--out", str(tmp_path)]) == 1
    assert "holds the input" in capsys.readouterr().err
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main(["national", str(copy), "--organisation", "RXA", "--out", str(folder)]) == 1
    assert "is a folder; expected the path of the CSV file" in capsys.readouterr().err


def test_the_command_on_bad_input_exits_1_and_writes_nothing(tmp_path, capsys):
    path = _file(tmp_path, _row("ASD12a", "n/a"))
    out = tmp_path / "observed.csv"
    assert main(["national", str(path), "--organisation", "RXA", "--out", str(out)]) == 1
    assert f"{display_path(path)}:2: MEASURE_VALUE: expected a number" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == [path]
    assert main(["national", str(OLD), "--organisation", "RXA", "--out", str(out),
                 "--bases", "refuse", "--ages", "0-17"]) == 0  # one file: one basis


def test_the_command_lists_organisations_and_checks_its_options(tmp_path, capsys):
    assert main(["national", str(OLD), str(NEW), "--list-organisations"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["England\tENG\tEngland",
                     "Provider\tRBT\tMid Cheshire Hospitals NHS Foundation Trust",
                     "Provider\tRXA\tCheshire and Wirral Partnership NHS Foundation Trust",
                     "Sub ICB\t27D\tNHS Cheshire and Merseyside ICB - 27D"]
    assert main(["national", str(OLD), "--out", str(tmp_path / "o.csv")]) == 2
    assert "--organisation needed" in capsys.readouterr().err
    assert main(["national", str(OLD), "--organisation", "RXA", "--ages", "5-11",
                 "--out", str(tmp_path / "o.csv")]) == 2
    assert main(["national", str(OLD), "--organisation", "RXA", "--bases", "mix",
                 "--out", str(tmp_path / "o.csv")]) == 2
    assert not (tmp_path / "o.csv").exists()


def test_the_series_written_is_what_calibrate_and_backtest_fit(tmp_path):
    # the documented chain, at its smallest: every figure read reaches the fit, and every
    # figure after the cut is the one the back-test scores
    then = tmp_path / "then.yaml"
    then.write_text(yaml.safe_dump(deep_update(BASE, {"start_date": "2023-01-01",
                                                      "horizon_weeks": 30})), encoding="utf-8")
    observed = tmp_path / "observed.csv"
    assert main(["national", str(OLD), str(NEW), "--organisation", "RXA",
                 "--out", str(observed)]) == 0
    fast = ["--periods", "single", "--replications", "2", "--jobs", "1"]
    assert main(["calibrate", "--base", str(then), "--observed", str(observed),
                 "--out", str(tmp_path / "history.yaml"), *fast]) == 0
    fitted = pd.read_csv(tmp_path / "history_fit" / "fit.csv")
    written = read_national(BOTH, "RXA").observed
    assert fitted["observed"].tolist() == written["value"].tolist()
    assert fitted["measure"].tolist() == [m.replace("_13_", "_") for m in written["measure"]]
    assert main(["backtest", str(then), "--observed", str(observed), "--cut", "2023-04-30",
                 "--out", str(tmp_path / "backtest"), "--draws", "2", *fast]) == 0
    held_out = pd.read_csv(tmp_path / "backtest" / "backtest.csv")
    later = written[written["date"] > dt.date(2023, 4, 30)]
    assert sorted(held_out["observed"]) == sorted(later["value"])
