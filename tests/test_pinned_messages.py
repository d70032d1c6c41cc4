"""Problems the scenario reader reports, pinned whole: file, line, field and message.

A scenario or snapshot that cannot be used must say which file, which line, which field and
what was expected, so the wording of these messages is the format's specification, not
decoration. Mutation testing found that the tests checked only a word or two of most of them
(a message wrapped in "XX", upper-cased, or with its list separator changed went unnoticed).
Each test here states, written out by hand from the documented rule, the complete list of
problems one small bad input gives: a missing, extra, reordered or reworded problem fails.
"""

from __future__ import annotations

import codecs
import copy
import os
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

import asdsim
from asdsim.scenario import csvfile, yamlfile
from asdsim.scenario import snapshot as snapshot_module
from asdsim.scenario.base import FieldProblems
from asdsim.scenario.dates import date_rule, parse_date
from asdsim.scenario.distributions import Fixed, Uniform
from asdsim.scenario.paths import format_field, short_names
from asdsim.scenario.schema import StaffGroup
from asdsim.scenario.snapshot import attach_snapshot, parse_snapshot, read_snapshot
from asdsim.scenario.yamlfile import display_path, parse_yaml, read_limited, read_yaml
from tests.test_pinned_scenario import BASE, build

COLUMNS_READ = "referral_date, age_years, date_of_birth, stage, priority, locality, steps_done"
EXCEL = "'CSV UTF-8 (comma delimited)'"
HEADER = "referral_date,age_years,stage\n"

Found = list[tuple[str, int | None, str, str]]


def found(exc: asdsim.ScenarioError) -> Found:
    """(file, line, field, message) of every problem, in the order reported."""
    return [(p.file, p.line, p.field, p.message) for p in exc.problems]


def snapshot_problems(raw: bytes | str, **kwargs: Any) -> Found:
    if isinstance(raw, str):
        raw = raw.encode()
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_snapshot(raw, "list.csv", **kwargs)
    return found(info.value)


def row_problems(row: str, header: str = "referral_date,age_years,date_of_birth,stage,steps_done",
                 **kwargs: Any) -> list[tuple[str, str]]:
    """(column, message) of the problems of one data row (line 2)."""
    problems = snapshot_problems(f"{header}\n{row}\n", **kwargs)
    assert {(file, line) for file, line, _, _ in problems} == {("list.csv", 2)}
    return [(column, message) for _, _, column, message in problems]


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False),
                    encoding="utf-8")
    return path


def load_problems(path: Path) -> Found:
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    return found(info.value)


# ------------------------------------------------------------------ snapshot: whole-file problems


def test_a_snapshot_in_no_readable_encoding_is_refused_whole():
    # a byte-order mark that the rest of the file does not live up to
    bad_utf8 = codecs.BOM_UTF8 + b"referral_date\n\xff\n"
    assert snapshot_problems(bad_utf8) == [
        ("list.csv", None, "", "starts as UTF-8-SIG but is not valid UTF-8-SIG text")]
    odd_utf16 = codecs.BOM_UTF16_LE + b"r\x00e"  # an odd number of bytes cannot be UTF-16
    assert snapshot_problems(odd_utf16) == [
        ("list.csv", None, "", "starts as UTF-16 but is not valid UTF-16 text")]
    assert snapshot_problems(b"referral_date\x00,stage\n") == [
        ("list.csv", None, "", "contains NUL bytes: expected a text file in UTF-8, UTF-16 with a "
         f"byte-order mark, or Windows-1252 (save it from Excel as {EXCEL})")]
    # 0x81 is not a character in Windows-1252 (nor the start of UTF-8): reported at its line
    assert snapshot_problems(b"referral_date,stage\n2019-01-01,\x81\n") == [
        ("list.csv", 2, "", "is not text in UTF-8, UTF-16 or Windows-1252 (save it from Excel "
         f"as {EXCEL})")]


def test_a_windows_1252_snapshot_is_read():
    # "é" as Windows-1252 (0xe9) is not UTF-8, so the file is read as Windows-1252
    raw = "referral_date,age_years,stage,locality\n2019-01-01,5,awaiting_triage,Bromé\n"
    snapshot = parse_snapshot(raw.encode("cp1252"), "list.csv")
    assert snapshot.rows[0].locality == "Bromé"


def test_a_snapshot_without_the_columns_it_needs_is_refused_at_the_header():
    assert snapshot_problems(" \n\n") == [
        ("list.csv", None, "", "the snapshot is empty: expected a header row naming the columns "
         f"({COLUMNS_READ}) and one row per child")]
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        header = separator.join(("referral_date", "age_years", "stage"))
        assert snapshot_problems(header + "\n") == [
            ("list.csv", 1, "", f"the columns seem to be separated by {name}; expected commas (in "
             f"Excel, save as {EXCEL})")]
    assert snapshot_problems("referral_date,Stage,age_years, stage \n") == [
        ("list.csv", 1, "stage", "the header names this column more than once")]
    assert snapshot_problems("referral_date,notes\n") == [
        ("list.csv", 1, "", "missing column(s): stage, age_years or date_of_birth (the header "
         f"names the columns; those read are {COLUMNS_READ})")]
    # two columns, one of them holding a semicolon: the separator is named as the likely cause
    assert snapshot_problems("referral_date,stage;age_years\n") == [
        ("list.csv", 1, "", "missing column(s): stage, age_years or date_of_birth (the header "
         f"names the columns; those read are {COLUMNS_READ}); the header has semicolons in it: columns "
         "must be separated by commas")]
    assert snapshot_problems(HEADER + ",,\n") == [
        ("list.csv", None, "", "the snapshot has a header but no rows; for an empty list use "
         "initial_state.kind: empty")]


def test_more_children_than_the_limit_are_refused_at_the_first_row_past_it(monkeypatch):
    monkeypatch.setattr(snapshot_module, "MAX_SNAPSHOT_ROWS", 1500)
    rows = "".join(f"2019-01-01,{i % 17},awaiting_triage,{i}\n" for i in range(1501))
    # header line 1, rows on lines 2 to 1502: row 1,501 (line 1502) is one too many
    assert snapshot_problems("referral_date,age_years,stage,id\n" + rows) == [
        ("list.csv", 1502, "", "more than 1,500 children; at most that many are read")]


def test_rows_that_do_not_fit_the_header_are_reported_at_their_lines():
    text = HEADER + "2019-01-01,5\n2019-01-01,5,awaiting_triage\n2019-01-01,5,awaiting_triage\n"
    assert snapshot_problems(text) == [
        ("list.csv", 2, "", "the row has 2 cells but the header has 3 columns (a comma inside a "
         "cell must be within double quotes)"),
        ("list.csv", 4, "", "the row repeats line 3 in every column: a child listed twice would "
         "be simulated twice (if they are two children, add a column that tells them apart, "
         "such as an id, which is not read)"),
    ]


# -------------------------------------------------------------------- snapshot: one row's cells


@pytest.mark.parametrize(("row", "problems"), [
    (",5,,awaiting_triage,", [("referral_date", "is empty; expected a date as YYYY-MM-DD")]),
    ("2019-01-01,x,,awaiting_triage,", [("age_years", "expected a number of years, like 5.5")]),
    ('2019-01-01,"5,5",,awaiting_triage,',
     [("age_years", "expected a number of years with a point for decimals, like 5.5")]),
    ("2019-01-01,-1,,awaiting_triage,", [("age_years", "expected a number of years, 0 or more")]),
    ("2019-01-01,inf,,awaiting_triage,", [("age_years", "expected a number of years, 0 or more")]),
    ("2019-01-01,,2019-01-02,awaiting_triage,",
     [("date_of_birth", "is after referral_date; expected the date of birth of a child referred "
       "after birth")]),
    ("2019-01-01,,2015/01/01,awaiting_triage,",
     [("date_of_birth", "expected a date as YYYY-MM-DD, not with '/' or '.' (Excel may have "
       "reformatted the column: format it as yyyy-mm-dd before saving, or, for dates written "
       "DD/MM/YYYY, use initial_state.dates: day_first)")]),
    ("2019-01-01,,,awaiting_triage,",
     [("age_years", "age_years or date_of_birth is needed; both are empty")]),
    ("2019-01-01,5,,waiting,",
     [("stage", "expected one of awaiting_triage, awaiting_assessment, in_assessment")]),
    ("2019-01-01,5,,,",
     [("stage", "expected one of awaiting_triage, awaiting_assessment, in_assessment (the cell is "
       "empty)")]),
    ("2019-01-01,5,,in_assessment,x",
     [("steps_done", "expected a whole number of steps from 0 to 50")]),
    ("2019-01-01,5,,in_assessment,51",
     [("steps_done", "expected a whole number of steps from 0 to 50")]),
    ("2019-01-01,5,,awaiting_triage,2", [("steps_done", "goes only with stage in_assessment")]),
    # every problem of a row is listed, in column order
    ("2019-13-01,-2,,nowhere,x",
     [("referral_date", "expected a date in the calendar as YYYY-MM-DD"),
      ("age_years", "expected a number of years, 0 or more"),
      ("stage", "expected one of awaiting_triage, awaiting_assessment, in_assessment"),
      ("steps_done", "expected a whole number of steps from 0 to 50")]),
])
def test_each_bad_cell_is_reported_in_its_column(row, problems):
    assert row_problems(row) == problems


def test_an_empty_date_names_the_forms_the_files_date_rule_reads():
    for rule, forms in (("day_first", "YYYY-MM-DD or DD/MM/YYYY"),
                        ("month_first", "YYYY-MM-DD or MM/DD/YYYY")):
        assert row_problems(",5,,awaiting_triage,", dates=rule) == [
            ("referral_date", f"is empty; expected a date as {forms}")]


def test_steps_done_is_read_for_a_child_part_way_through():
    snapshot = parse_snapshot(b"referral_date,age_years,stage,steps_done\n"
                              b"2019-01-01,5,In-Assessment,50\n2019-01-02,5,awaiting triage,\n",
                              "list.csv")
    assert [(r.stage, r.steps_done) for r in snapshot.rows] == [("in_assessment", 50),
                                                                ("awaiting_triage", 0)]


# ------------------------------------------------------------------------------- dates in cells


@pytest.mark.parametrize(("text", "rule", "reason"), [
    ("tomorrow", "iso", "expected a date as YYYY-MM-DD"),
    ("2019-02-29", "iso", "expected a date in the calendar as YYYY-MM-DD"),
    ("01.02.2019", "iso",
     "expected a date as YYYY-MM-DD, not with '/' or '.' (Excel may have reformatted the column: "
     "format it as yyyy-mm-dd before saving, or, for dates written DD/MM/YYYY, use "
     "initial_state.dates: day_first)"),
    ("tomorrow", "day_first", "expected a date as YYYY-MM-DD or DD/MM/YYYY (day first)"),
    ("tomorrow", "month_first", "expected a date as YYYY-MM-DD or MM/DD/YYYY (month first)"),
    ("2019/02/01", "day_first", "expected a date as YYYY-MM-DD or DD/MM/YYYY (day first)"),
    ("01/02/19", "day_first",
     "expected a date as YYYY-MM-DD or DD/MM/YYYY (day first), with a four-digit year"),
    ("2019-13-01 00:00", "day_first", "expected a date in the calendar as YYYY-MM-DD"),
    ("13/13/2019", "day_first",
     "is not a calendar date read day first; if the file's dates are written the other way, use "
     "initial_state.dates: month_first"),
    ("13/01/2019", "month_first",
     "is not a calendar date read month first; if the file's dates are written the other way, "
     "use initial_state.dates: day_first"),
])
def test_a_date_that_cannot_be_read_gets_its_reason(text, rule, reason):
    assert parse_date(text, rule) == reason


def test_the_reason_names_how_the_caller_asks_for_another_rule():
    # asdsim calibrate names its own options in place of initial_state.dates
    switch = {"iso": "--iso", "day_first": "--dayfirst", "month_first": "--no-dayfirst"}
    assert parse_date("13/01/2019", "month_first", switch=switch) == (
        "is not a calendar date read month first; if the file's dates are written the other way, "
        "use --dayfirst")
    assert parse_date("13/01/2019", "iso", switch=switch).endswith(
        "for dates written DD/MM/YYYY, use --dayfirst)")


# -------------------------------------------------------------- snapshot against its scenario


def snapshot_scenario(tmp_path: Path, rows: str, header: str, **over: Any) -> Found:
    (tmp_path / "list.csv").write_text(header + rows, encoding="utf-8")
    data = copy.deepcopy(BASE)
    data.update(over)
    data["initial_state"] = {"kind": "csv", "csv": "list.csv"}
    write(tmp_path / "s.yaml", data)
    return load_problems(tmp_path / "s.yaml")


def test_rows_that_do_not_fit_the_scenario_are_reported_at_their_lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = ("2020-01-07,5,awaiting_triage,,\n"          # referred after start_date 2020-01-06
            "2019-01-01,18,awaiting_triage,,\n"         # 18 at referral
            "2019-01-01,17.5,awaiting_triage,,\n"       # 17.5 in 2019-01, 18 by 2020-01-06
            "2019-01-02,5,awaiting_triage,soon,\n"      # not a priority class
            "2019-01-03,5,awaiting_triage,Urgent,\n")   # a priority class in the wrong case
    got = snapshot_scenario(tmp_path, rows, "referral_date,age_years,stage,priority,notes\n")
    assert got == [
        ("list.csv", 2, "referral_date", "is after the scenario's start_date (2020-01-06); "
         "expected children referred by then"),
        ("list.csv", 3, "age_years", "gives an age at referral of 18 or more; the pathway is for "
         "children (routing.age_out_years is 18)"),
        ("list.csv", 4, "age_years", "gives an age of 18 or more by start_date (2020-01-06); the "
         "pathway is for children (routing.age_out_years is 18): remove the row"),
        ("list.csv", 5, "priority", "expected one of urgent, routine, or empty for routine"),
        ("list.csv", 6, "priority", "expected one of urgent, routine, or empty for routine; did "
         "you mean 'urgent'?"),
    ]


def test_localities_of_the_rows_are_checked_against_the_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    demand = {**BASE["demand"], "localities": {"north": 0.5, "south": 0.5}}
    rows = "2019-01-01,5,awaiting_triage,\n2019-01-02,5,awaiting_triage,nroth\n"
    got = snapshot_scenario(tmp_path, rows, "referral_date,age_years,stage,locality\n",
                            demand=demand)
    assert got == [
        ("list.csv", 2, "locality", "is empty; expected one of north, south"),
        ("list.csv", 3, "locality", "expected one of north, south; did you mean 'north'?"),
    ]
    got = snapshot_scenario(tmp_path, "2019-01-01,5,awaiting_triage\n",
                            "referral_date,age_years,stage\n", demand=demand)
    assert got == [("list.csv", 1, "locality",
                    "missing column: the scenario has several localities (north, south)")]


def test_an_age_from_a_date_of_birth_is_reported_in_that_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    got = snapshot_scenario(tmp_path, "2019-01-01,2001-01-01,awaiting_triage\n",
                            "referral_date,date_of_birth,stage\n")
    assert got == [("list.csv", 2, "date_of_birth", "gives an age at referral of 18 or more; the "
                    "pathway is for children (routing.age_out_years is 18)")]


def test_a_snapshot_read_by_another_date_rule_is_not_attached(tmp_path):
    snapshot = parse_snapshot((HEADER + "2019-01-01,5,awaiting_triage\n").encode(), "list.csv",
                              dates="day_first")
    with pytest.raises(asdsim.ScenarioError) as info:
        attach_snapshot(build(), snapshot)
    assert found(info.value) == [("list.csv", None, "initial_state.dates",
                                  "the snapshot was read with dates day_first but the scenario "
                                  "says iso")]


def test_a_snapshot_file_that_cannot_be_read_is_reported_where_it_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(asdsim.ScenarioError) as info:
        read_snapshot(tmp_path / "folder.csv", named_by=("s.yaml", 7))
    assert found(info.value) == [("s.yaml", 7, "initial_state.csv",
                                  "expected a snapshot, but this is a folder (looked for folder.csv)")]
    with pytest.raises(asdsim.ScenarioError) as info:
        read_snapshot(tmp_path / "none.csv")
    assert found(info.value) == [("none.csv", None, "initial_state.csv", "snapshot not found")]


# ------------------------------------------------------------------------- reading a YAML file


def test_a_file_that_is_not_a_regular_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_problems(tmp_path / "none.yaml") == [("none.yaml", None, "", "file not found")]
    (tmp_path / "dir.yaml").mkdir()
    assert load_problems(tmp_path / "dir.yaml") == [
        ("dir.yaml", None, "", "expected a file, but this is a folder")]
    with pytest.raises(asdsim.ScenarioError) as info:
        read_yaml("/dev/null", what="grid file", field="base")
    assert found(info.value) == [("/dev/null", None, "base", "expected a regular grid file, but "
                                  "this is a device, pipe or socket")]
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 2000)
    with pytest.raises(asdsim.ScenarioError) as info:
        read_limited(big, 1500, what="grid file")
    assert found(info.value) == [("big.yaml", None, "", "grid file is larger than the limit of 1.5 kB")]
    with pytest.raises(asdsim.ScenarioError) as info:
        read_limited(big, 1000, shown="named so")
    assert found(info.value) == [("named so", None, "", "file is larger than the limit of 1 kB")]
    (tmp_path / "huge.yaml").write_bytes(b"#" * 1_000_001)
    assert load_problems(tmp_path / "huge.yaml") == [
        ("huge.yaml", None, "", "file is larger than the limit of 1 MB")]


def test_a_file_longer_than_its_stated_size_is_cut_off_at_the_limit():
    # /proc files say they are empty but are not: the read itself stops past the limit
    status = Path("/proc/self/status")
    if not status.is_file():
        pytest.skip("no /proc on this machine")
    with pytest.raises(asdsim.ScenarioError) as info:
        read_limited(status, 10, what="snapshot", field="initial_state.csv")
    assert found(info.value) == [("/proc/self/status", None, "initial_state.csv",
                                  "snapshot is larger than the limit of 0.01 kB")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_pipe_put_in_place_of_a_file_after_the_first_look_is_refused_not_waited_on(
        tmp_path, monkeypatch):
    # The first look (unreadable) is made to miss the pipe, as if the file were swapped between
    # the look and the open: the open must not block waiting for a writer.
    os.mkfifo(tmp_path / "pipe.yaml")
    monkeypatch.setattr(yamlfile, "unreadable", lambda *args, **kwargs: None)
    with pytest.raises(asdsim.ScenarioError) as info:
        read_limited(tmp_path / "pipe.yaml", 100, shown="pipe.yaml")
    assert found(info.value) == [("pipe.yaml", None, "", "expected a regular file, but this is a "
                                  "device, pipe or socket")]


def test_a_read_problem_is_raised_as_the_error_class_asked_for(tmp_path):
    class GridError(asdsim.ScenarioError):
        pass

    with pytest.raises(GridError):
        read_yaml(tmp_path / "none.yaml", what="grid file", error=GridError)
    (tmp_path / "bad.yaml").write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(GridError) as info:
        read_yaml(tmp_path / "bad.yaml", error=GridError)
    assert found(info.value)[0][1:] == (2, "", "expected text in UTF-8 (save the file as UTF-8)")


@pytest.mark.parametrize(("text", "problems"), [
    ("a: &x [1, *x]\n",
     [(1, "", "the alias *x refers to the mapping or list it is inside (a recursive alias)")]),
    ("a:\n" + "".join("  " * d + "- \n" for d in range(1, 51)) + "  " * 51 + "- 1\n",
     # the mapping at line 1 is level 1, the list opening on line k level k: 51 is one too deep
     [(51, "", "mappings and lists nest more than 50 deep")]),
    ("x: 1\na: " + "[" * 51 + "]" * 51 + "\n", [(2, "", "mappings and lists nest more than 50 deep")]),
    ("a: 1\ntrue: 2\n~: 3\n4: 5\n",
     [(2, "", "the key 'true' is read by YAML as true/false, not as a name; write it in quotes"),
      (3, "", "the key '~' is read by YAML as empty (null), not as a name; write it in quotes"),
      (4, "", "the key '4' is read by YAML as not text, not as a name; write it in quotes")]),
    ("top:\n  ? [a, b]\n  : 1\n",
     [(2, "top", "the key 'a mapping or list' is read by YAML as not text, not as a name; write it "
       "in quotes")]),
    ("top:\n  " + "1" * 45 + ": 1\n",
     [(2, "top", f"the key '{'1' * 37}...' is read by YAML as not text, not as a name; write it in "
       "quotes")]),
    ("top:\n  a: 1\n  list:\n    - b: 1\n      b: 2\n  a: 3\n",
     [(5, "top.list[0].b", "key given twice in the same mapping"),
      (6, "top.a", "key given twice in the same mapping")]),
    ("a: " + "1" * 5000 + "\n", [(None, "", "not valid YAML: a number has too many digits")]),
])
def test_yaml_problems_are_reported_at_their_lines(text, problems):
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_yaml(text, "f.yaml")
    assert [(line, field, message) for file, line, field, message in found(info.value)] == problems
    assert {p.file for p in info.value.problems} == {"f.yaml"}


def test_an_alias_bomb_is_refused_where_it_grows_past_the_limit():
    # each level repeats the one before ten times: 10 ** 5 = 100,000 scalars at level e
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{k}: &{k} [{', '.join(['*' + p] * 10)}]" for p, k in zip("abcd", "bcde", strict=True)]
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_yaml("\n".join(lines) + "\n", "f.yaml")
    assert found(info.value) == [
        ("f.yaml", 5, "", "aliases expand the file to more than 100,000 values (an alias bomb?)")]


def test_a_yaml_syntax_error_names_the_parsers_reason_and_line():
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.field) == ("f.yaml", "")
    assert problem.message.startswith("not valid YAML: ") and len(problem.message) > 20


def test_keys_brought_in_by_a_yaml_merge_key_are_read(tmp_path):
    # `<<: *d` merges the mapping anchored as d; a key given beside it wins. A merged key has
    # no line of its own: it is placed at the line of the mapping it was merged into.
    text = "defaults: &d\n  wte: 2\n  autism_share: 0.5\nstaff:\n  p:\n    <<: *d\n    wte: 3\n"
    doc = read_yaml(write(tmp_path / "f.yaml", text))
    assert doc.data["staff"]["p"] == {"wte": 3, "autism_share": 0.5}
    assert doc.line(("staff", "p", "autism_share")) == 5
    assert doc.line(("staff", "p", "wte")) == 7


# ---------------------------------------------------------------------- a scenario file's form


def base_text(**over: Any) -> str:
    data = copy.deepcopy(BASE)
    data.update(over)
    return yaml.safe_dump(data, sort_keys=False)


def test_a_file_that_is_not_a_mapping_is_refused_at_its_first_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "s.yaml", "- name: a\n- name: b\n")
    assert load_problems(tmp_path / "s.yaml") == [("s.yaml", 1, "", "a scenario must be a YAML mapping")]


def test_extends_problems_are_reported_at_the_line_that_names_the_base(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = len(base_text().splitlines()) + 1
    for value, shown, message in (
            (5, "5", "expected the path of a base scenario file, relative to this file"),
            (" ", "' '", "expected the path of a base scenario file, relative to this file"),
            (["a.yaml"], None, "expected the path of a base scenario file, relative to this file"),
            ("none.yaml", None, "base file not found (looked for none.yaml)"),
            (".", None, "expected a base file, but this is a folder (looked for .)")):
        write(tmp_path / "s.yaml", base_text() + yaml.safe_dump({"extends": value}))
        with pytest.raises(asdsim.ScenarioError) as info:
            asdsim.load_scenario(tmp_path / "s.yaml")
        assert [(p.file, p.line, p.field, p.message, p.value) for p in info.value.problems] == [
            ("s.yaml", line, "extends", message, shown)]


def test_an_extends_cycle_lists_the_files_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path / "b.yaml", "name: b\nextends: a.yaml\n")
    assert load_problems(tmp_path / "a.yaml") == [
        ("b.yaml", 2, "extends", "extends cycle: a.yaml -> b.yaml -> a.yaml")]
    write(tmp_path / "c.yaml", "extends: c.yaml\n")
    assert load_problems(tmp_path / "c.yaml") == [
        ("c.yaml", 1, "extends", "extends cycle: c.yaml -> c.yaml")]


def test_a_value_overridden_in_a_nested_mapping_is_reported_at_the_overriding_line(
        tmp_path, monkeypatch):
    # The base's team is valid; the file extending it overrides one number deep inside it with
    # a bad one: the problem is at the override's line in the extending file, not in the base.
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "base.yaml", base_text())
    write(tmp_path / "s.yaml", "extends: base.yaml\nteams:\n  t:\n    staff:\n      p:\n"
                               "        wte: -1\n")
    assert load_problems(tmp_path / "s.yaml") == [
        ("s.yaml", 6, "teams.t.staff.p.wte", "expected a number >= 0.0")]
    # and a bad value left in the base is reported in the base
    write(tmp_path / "base.yaml", base_text(horizon_weeks=0))
    write(tmp_path / "s.yaml", "extends: base.yaml\nname: mine\n")
    assert load_problems(tmp_path / "s.yaml") == [
        ("base.yaml", 3, "horizon_weeks", "expected a number >= 1")]


def test_snapshot_problems_are_listed_by_line_with_unplaced_ones_last(tmp_path, monkeypatch):
    # One row problem listed (the limit set to 1), one more counted (no line), and a row read
    # well that does not fit the scenario (checked after reading, at line 4): listed by line,
    # the count without a line last.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(csvfile, "MAX_ROW_PROBLEMS", 1)  # the row problems of every CSV reader
    rows = "2019-01-01,5,nowhere\n2019-01-02,5,nowhere\n2020-02-01,5,awaiting_triage\n"
    (tmp_path / "list.csv").write_text(HEADER + rows, encoding="utf-8")
    write(tmp_path / "s.yaml", base_text(initial_state={"kind": "csv", "csv": "list.csv"}))
    assert load_problems(tmp_path / "s.yaml") == [
        ("list.csv", 2, "stage", "expected one of awaiting_triage, awaiting_assessment, "
         "in_assessment"),
        ("list.csv", 4, "referral_date", "is after the scenario's start_date (2020-01-06); "
         "expected children referred by then"),
        ("list.csv", None, "", "and 1 more problems in other rows (fix these first)"),
    ]


def test_a_multi_line_problem_of_a_check_is_split_into_one_problem_a_line():
    # FieldProblems joins its items one a line; the loader reports each at its own field
    err = FieldProblems([(("a", 0, "b"), "first"), ((), "second")])
    assert str(err) == "a[0].b: first\nsecond"


@pytest.mark.parametrize(("over", "problems"), [
    ({"horizon_weeks": "ten"}, [("horizon_weeks", "expected a whole number", "'ten'")]),
    ({"horizon_weeks": 2.5}, [("horizon_weeks", "expected a whole number", "2.5")]),
    ({"horizon_weeks": 0}, [("horizon_weeks", "expected a number >= 1", "0")]),
    ({"name": True}, [("name", "expected text, not true/false (YAML reads yes, no, on and off as "
                       "true/false; write it in quotes)", "True")]),
    ({"start_date": False}, [("start_date", "expected text, not true/false (YAML reads yes, no, on "
                              "and off as true/false; write it in quotes)", "False")]),
    ({"start_date": 20200106}, [("start_date", "expected a date as YYYY-MM-DD", "20200106")]),
    ({"teams": 5}, [("teams", "expected a mapping of names to values", "5")]),
    ({"demand": "lots"}, [("demand", "expected a mapping", "'lots'")]),
    ({"capacity_changes": 5}, [("capacity_changes", "expected a list", "5")]),
    ({"name": 5}, [("name", "expected text", "5")]),
    ({"horzon_weeks": 3}, [("horzon_weeks", "unknown key; did you mean 'horizon_weeks'?", None)]),
    ({"zzz": 3}, [("zzz", "unknown key; expected one of: name, description, assumptions, "
                   "start_date, horizon_weeks, priority_classes, demand, triage, routing, teams, "
                   "capacity_changes, outsourcing, initial_state, reporting, observed, published_waits, "
                   "assumed, uncertain", None)]),
    ({"routing": {"age_out_years": True}},
     [("routing.age_out_years", "expected a number, not true/false (YAML reads yes, no, on and "
       "off as true/false)", "True")]),
    ({"routing": {"age_out_years": float("nan")}},
     [("routing.age_out_years", "expected a finite number (not .inf or .nan)", "nan")]),
])
def test_a_value_of_the_wrong_kind_says_what_was_expected(over, problems):
    with pytest.raises(asdsim.ScenarioError) as info:
        build(**over)
    assert [(p.field, p.message, p.value) for p in info.value.problems] == problems
    assert {(p.file, p.line) for p in info.value.problems} == {("<dict>", None)}


def test_an_unknown_key_below_a_named_entry_is_matched_against_that_entrys_fields():
    # teams and staff are mappings of names to models: the hint comes from the model below the
    # name (StaffGroup, Caseload behind an optional field), not from the mapping
    team = copy.deepcopy(BASE["teams"]["t"])
    team["staff"]["p"]["wtee"] = 1
    del team["staff"]["p"]["wte"]
    with pytest.raises(asdsim.ScenarioError) as info:
        build(teams={"t": team})
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("teams.t.staff.p.wte", "this field is required"),
        ("teams.t.staff.p.wtee", "unknown key; did you mean 'wte'?")]
    team = copy.deepcopy(BASE["teams"]["t"])
    team["capacity_mode"] = "caseload"
    team["caseload"] = {"clinicians": 2, "cases_per_clinicain": 3}
    with pytest.raises(asdsim.ScenarioError) as info:
        build(teams={"t": team})
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("teams.t.caseload.cases_per_clinicain", "unknown key; did you mean 'cases_per_clinician'?")]


def test_a_date_with_a_time_or_outside_the_calendar_is_refused_at_its_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = base_text().replace("start_date: '2020-01-06'", "start_date: 2020-01-06 10:00:00")
    write(tmp_path / "s.yaml", text)
    assert load_problems(tmp_path / "s.yaml") == [
        ("s.yaml", 2, "start_date", "expected a date as YYYY-MM-DD, without a time of day")]
    write(tmp_path / "s.yaml", text.replace("2020-01-06 10:00:00", "2020-02-30"))
    ((file, line, field, message),) = load_problems(tmp_path / "s.yaml")
    assert (file, line, field) == ("s.yaml", 2, "start_date")
    # the parser's own reason follows in brackets
    assert message.startswith("expected a date in the calendar as YYYY-MM-DD (") and message.endswith(")")


@pytest.mark.parametrize(("step", "problems"), [
    ({"outcome": "maybe"}, [("teams.t.steps[0].outcome", "expected true or false", "'maybe'")]),
    ({"outcome": [1]}, [("teams.t.steps[0].outcome", "expected true or false", None)]),
    ({"duration_days": {"mean": 3}},
     [("teams.t.steps[0].duration_days", "expected a number, or a mapping with 'dist' (fixed, "
       "exponential, uniform, lognormal, gamma, triangular)", None)]),
    ({"duration_days": {"dist": "weird"}},
     [("teams.t.steps[0].duration_days", "unknown distribution 'weird'; expected one of 'fixed', "
       "'exponential', 'uniform', 'lognormal', 'gamma', 'triangular'", None)]),
    # the distribution's tag is not part of the field's path; a distribution's own keys get no
    # "did you mean" (the field is one of several models)
    ({"duration_days": {"dist": "uniform", "low": 1, "high": 2, "mode": 3}},
     [("teams.t.steps[0].duration_days.mode", "unknown key", None)]),
    ({"duration_days": {"dist": "fixed"}},
     [("teams.t.steps[0].duration_days.value", "this field is required", None)]),
])
def test_a_steps_value_of_the_wrong_kind_says_what_was_expected(step, problems):
    team = copy.deepcopy(BASE["teams"]["t"])
    team["steps"][0].update(step)
    with pytest.raises(asdsim.ScenarioError) as info:
        build(teams={"t": team})
    assert [(p.field, p.message, p.value) for p in info.value.problems] == problems


@pytest.mark.parametrize(("over", "problems"), [
    # bounds: >= and > from the field's own limits, < from weeks_lost_per_year (under 52)
    ({"demand": {**BASE["demand"], "annual_growth": -1}},
     [("demand.annual_growth", "expected a number > -1.0", "-1")]),
    ({"teams": {"t": {**BASE["teams"]["t"], "staff": {"p": {"wte": 1, "weeks_lost_per_year": 52}}}}},
     [("teams.t.staff.p.weeks_lost_per_year", "expected a number < 52.0", "52")]),
    # a whole number given as thousands of digits of text: refused before it is turned into one
    ({"horizon_weeks": "9" * 5000},
     [("horizon_weeks", "expected a whole number of a sensible size", "'" + "9" * 56 + "...")]),
    ({"horizon_weeks": "9" * 30},
     [("horizon_weeks", "expected a number of at most 1,000,000,000 in size", "'" + "9" * 30 + "'")]),
])
def test_a_number_out_of_its_range_names_the_bound(over, problems):
    with pytest.raises(asdsim.ScenarioError) as info:
        build(**over)
    assert [(p.field, p.message, p.value) for p in info.value.problems] == problems


def test_a_snapshot_is_not_read_when_its_date_rule_is_not_one_of_the_three(tmp_path, monkeypatch):
    # With dates: weird the scenario is refused for that field alone; the snapshot, whose row
    # any other rule than iso would report, is not read by a rule that does not exist.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "list.csv").write_text(HEADER + "2019/01/01,5,awaiting_triage\n", encoding="utf-8")
    text = base_text(initial_state={"kind": "csv", "csv": "list.csv", "dates": "weird"})
    write(tmp_path / "s.yaml", text)
    line = text.splitlines().index("  dates: weird") + 1
    assert load_problems(tmp_path / "s.yaml") == [
        ("s.yaml", line, "initial_state.dates", "expected one of 'iso', 'day_first' or 'month_first'")]


def test_a_snapshot_named_through_a_yaml_merge_key_is_reported_at_the_files_first_line(
        tmp_path, monkeypatch):
    # keys merged in by `<<:` have no line of their own, so a missing snapshot named that way
    # is reported at line 1 of the scenario file
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "s.yaml", base_text() + "initial_state:\n  <<: {kind: csv, csv: none.csv}\n")
    assert load_problems(tmp_path / "s.yaml") == [
        ("s.yaml", 1, "initial_state.csv", "snapshot not found (looked for none.csv)")]


def test_a_snapshot_in_a_folder_is_named_with_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "list.csv").write_text(HEADER + "2019-01-01,5,nowhere\n", encoding="utf-8")
    write(tmp_path / "s.yaml", base_text(initial_state={"kind": "csv", "csv": "data/list.csv"}))
    assert load_problems(tmp_path / "s.yaml") == [
        (os.path.join("data", "list.csv"), 2, "stage",
         "expected one of awaiting_triage, awaiting_assessment, in_assessment")]


def test_a_name_in_the_wrong_case_is_suggested_even_when_too_short_to_match_closely(
        tmp_path, monkeypatch):
    # "AB" shares no letter with "ab" for difflib, so the hint comes from the case-folded match
    # (a priority class must be written as the scenario writes it; a locality need not be)
    monkeypatch.chdir(tmp_path)
    demand = {**BASE["demand"], "localities": {"ab": 0.5, "cd": 0.5}, "flags": {}}
    got = snapshot_scenario(tmp_path, "2019-01-01,5,awaiting_triage,AB,AB\n",
                            "referral_date,age_years,stage,priority,locality\n", demand=demand,
                            priority_classes=["ab", "cd"])
    assert got == [("list.csv", 2, "priority", "expected one of ab, cd, or empty for cd; did you "
                                               "mean 'ab'?")]


def test_a_locality_is_matched_ignoring_case_spaces_and_hyphens_as_in_referrals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    demand = {**BASE["demand"], "localities": {"north_east": 0.5, "cd": 0.5}}
    rows = "2019-01-01,5,awaiting_triage,North East\n2019-01-01,5,awaiting_triage, north-east \n"
    (tmp_path / "list.csv").write_text("referral_date,age_years,stage,locality\n" + rows)
    data = {**copy.deepcopy(BASE), "demand": demand,
            "initial_state": {"kind": "csv", "csv": "list.csv"}}
    write(tmp_path / "s.yaml", data)
    assert len(asdsim.load_scenario(tmp_path / "s.yaml")._snapshot.rows) == 2  # both north_east
    got = snapshot_scenario(tmp_path, "2019-01-01,5,awaiting_triage,North Wes\n",
                            "referral_date,age_years,stage,locality\n", demand=demand)
    assert got == [("list.csv", 2, "locality", "expected one of north_east, cd; did you mean "
                                               "'north_east'?")]


def test_a_date_of_birth_problem_names_the_callers_way_of_asking_for_another_rule():
    switch = {"iso": "--iso", "day_first": "--dayfirst", "month_first": "--no-dayfirst"}
    assert row_problems("2019-01-01,,01.02.2015,awaiting_triage,", switch=switch) == [
        ("date_of_birth", "expected a date as YYYY-MM-DD, not with '/' or '.' (Excel may have "
         "reformatted the column: format it as yyyy-mm-dd before saving, or, for dates written "
         "DD/MM/YYYY, use --dayfirst)")]


def test_the_command_line_date_options_name_their_rules():
    assert [date_rule(True), date_rule(False)] == ["day_first", "month_first"]


def test_a_yaml_error_is_reported_with_the_parsers_reason_and_mark():
    marked = yaml.MarkedYAMLError(problem="found a tab", problem_mark=yaml.Mark("f", 0, 6, 2, "", 0))
    assert yamlfile._yaml_problem("f.yaml", marked) == asdsim.Problem(
        "f.yaml", 7, "", "not valid YAML: found a tab")
    # an error without a mark or a problem of its own: no line, and its text as the reason
    assert yamlfile._yaml_problem("f.yaml", yaml.YAMLError("stream ended")) == asdsim.Problem(
        "f.yaml", None, "", "not valid YAML: stream ended")


def test_the_line_maps_own_count_of_values_refuses_a_document_past_the_limit(monkeypatch):
    # The loader counts values first, so this second guard is reached only by a node composed
    # elsewhere: [1, 2, 3] is four values (the list and three numbers).
    node = yaml.compose("[1, 2, 3]")
    monkeypatch.setattr(yamlfile, "MAX_NODES", 3)
    with pytest.raises(asdsim.ScenarioError) as info:
        yamlfile._line_map(node, "f.yaml", asdsim.ScenarioError)
    assert found(info.value) == [("f.yaml", None, "", "more than 3 values")]
    monkeypatch.setattr(yamlfile, "MAX_NODES", 4)
    assert yamlfile._line_map(node, "f.yaml", asdsim.ScenarioError) == {
        (): 1, (0,): 1, (1,): 1, (2,): 1}


def test_field_paths_are_shown_in_their_canonical_form_and_cut_to_two_names():
    assert format_field(("outsourcing", 0, "team")) == "outsourcing[0].team"
    assert format_field(("demand", "monthly_factors", 7)) == "demand.monthly_factors[7]"
    assert short_names(["horizon_weeks", "teams.mdt.staff.slt.wte", "outsourcing[0].price_gbp",
                        "teams.a.staff.p.wte", "teams.b.staff.p.wte"]) == {
        "horizon_weeks": "horizon_weeks", "teams.mdt.staff.slt.wte": "slt.wte",
        "outsourcing[0].price_gbp": "outsourcing[0].price_gbp",
        "teams.a.staff.p.wte": "teams.a.staff.p.wte", "teams.b.staff.p.wte": "teams.b.staff.p.wte"}


def test_a_file_is_named_relative_to_the_working_folder_when_inside_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert display_path("data/list.csv") == "data/list.csv"
    assert display_path(tmp_path / "data" / "list.csv") == os.path.join("data", "list.csv")
    outside = tmp_path.parent / "elsewhere.yaml"
    assert display_path(outside) == str(outside)


def test_a_scenario_built_in_code_gets_the_same_words_from_pydantic():
    # Scenario models used directly (not through the loader) raise pydantic's ValidationError;
    # the custom checks give it the error type and words the loader shows
    with pytest.raises(pydantic.ValidationError) as info:
        StaffGroup(wte=float("nan"))
    ((error),) = info.value.errors()
    assert (error["type"], error["msg"]) == ("finite_number", "expected a finite number (not .inf or .nan)")
    with pytest.raises(pydantic.ValidationError) as info:
        StaffGroup(wte=True)
    ((error),) = info.value.errors()
    assert (error["type"], error["msg"]) == (
        "bool_not_number", "expected a number, not true/false (YAML reads yes, no, on and off as "
        "true/false)")
    with pytest.raises(pydantic.ValidationError) as info:
        StaffGroup(wte=2e9)
    ((error),) = info.value.errors()
    assert (error["type"], error["msg"]) == (
        "number_too_large", "expected a number of at most 1,000,000,000 in size")
    with pytest.raises(pydantic.ValidationError) as info:
        asdsim.Scenario.model_validate({**BASE, "start_date": 20200106})
    ((error),) = info.value.errors()
    assert (error["type"], error["msg"]) == ("date_type", "expected a date as YYYY-MM-DD")




def test_a_plain_number_as_an_uncertain_input_is_a_fixed_value_and_a_pair_a_uniform_range():
    path = "teams.t.staff.p.wte"
    s = build(assumed=[path], uncertain={path: 3})
    assert s.uncertain == {path: Fixed(dist="fixed", value=3.0)}
    s = build(assumed=[path], uncertain={path: [0.5, 2.5]})
    assert s.uncertain == {path: Uniform(dist="uniform", low=0.5, high=2.5)}
