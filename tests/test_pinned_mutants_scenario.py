"""Pinned scenario-layer behaviour that mutation testing found unpinned (see
docs/mutation-survivors.md): the resolved-scenario YAML, and which problems an invalid scenario
or snapshot reports, where. The comment above each test names the mutants it kills."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import asdsim
from asdsim.scenario import snapshot as snapshot_module
from asdsim.scenario.loading import scenario_json_schema, scenario_to_yaml
from asdsim.scenario.schema import number_at, parse_path
from asdsim.scenario.snapshot import MAX_ROW_PROBLEMS, parse_snapshot, read_snapshot
from asdsim.scenario.uncertainty import with_inputs
from asdsim.scenario.yamlfile import YamlFile, read_limited
from tests.test_pinned_scenario import BASE, build, problems


def test_the_resolved_yaml_loads_back_to_the_same_scenario_in_field_order(tmp_path):
    # Kills scenario_to_yaml's `model_dump(mode="json")` -> mode None / "JSON" / "XXjsonXX"
    # (tuples and dates the YAML dumper cannot write), `sort_keys=False` -> True (the schema's
    # field order, name first, lost) and `allow_unicode=True` -> None (non-ASCII escaped).
    s = build(name="Réseau Nord")
    text = scenario_to_yaml(s)
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert body[0] == "name: Réseau Nord"
    assert body[1].startswith("description:")
    path = tmp_path / "resolved.yaml"
    path.write_text(text, encoding="utf-8")
    assert asdsim.load_scenario(path).model_dump(mode="json") == s.model_dump(mode="json")


def test_every_unknown_key_is_reported_not_only_the_first():
    # Kills loading._problems' `continue` -> `break` after an unknown key (the rest dropped).
    text = problems(bogus_one=1, bogus_two=2)
    assert "bogus_one" in text and "bogus_two" in text


def test_every_teams_validator_problem_is_reported():
    # Kills loading._problems' `continue` -> `break` after a validator's list of problems.
    two = [{"name": "a", "hours": {"p": 1}, "outcome": True},
           {"name": "b", "hours": {"p": 1}, "outcome": True}]
    teams = {name: {"staff": {"p": {"wte": 1}}, "steps": two} for name in ("t1", "t2")}
    text = problems(teams=teams, horizon_weeks=0)
    assert text.count("exactly one step must have 'outcome: true'") == 2
    assert "horizon_weeks" in text


def test_an_empty_snapshot_is_reported_as_empty():
    # Kills parse_snapshot's empty-file error -> `ScenarioError(None)`.
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_snapshot(b"", "x.csv")
    (problem,) = info.value.problems
    assert problem.file == "x.csv"
    assert problem.message.startswith("the snapshot is empty")


def test_row_problems_past_the_limit_are_counted_in_one_last_problem():
    # Kills _Problems.all's last item -> None, and _Problems.__init__'s `shown` -> None.
    # MAX_ROW_PROBLEMS + 3 rows, each with one bad age: the first MAX_ROW_PROBLEMS are listed
    # (lines 2 on), then one problem counts the 3 more.
    rows = "referral_date,age_years,stage\n" + "".join(
        f"2019-01-01,x{i},awaiting_triage\n" for i in range(MAX_ROW_PROBLEMS + 3))
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_snapshot(rows.encode(), "x.csv")
    found = info.value.problems
    assert len(found) == MAX_ROW_PROBLEMS + 1
    assert [p.line for p in found[:3]] == [2, 3, 4] and found[0].field == "age_years"
    assert all(p.file == "x.csv" for p in found)
    assert found[-1].message == "and 3 more problems in other rows (fix these first)"


@pytest.mark.parametrize(("row", "column", "message"), [
    # both ages empty: reported in age_years (kills the column -> "AGE_YEARS")
    ("2019-01-01,,,awaiting_triage,", "age_years", "age_years or date_of_birth is needed"),
    # a stage not in the list (kills the message -> None)
    ("2019-01-01,5,,waiting,", "stage", "expected one of awaiting_triage"),
    # steps_done not a whole number (kills problems.add losing its line argument)
    ("2019-01-01,5,,in_assessment,x", "steps_done", "expected a whole number of steps"),
    # steps_done with another stage (kills the line -> None)
    ("2019-01-01,5,,awaiting_triage,1", "steps_done", "goes only with stage in_assessment"),
])
def test_a_bad_row_is_reported_at_its_line_and_column(row, column, message):
    raw = f"referral_date,age_years,date_of_birth,stage,steps_done\n{row}\n".encode()
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_snapshot(raw, "x.csv")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("x.csv", 2, column)
    assert problem.message.startswith(message)


def test_a_snapshot_that_cannot_be_read_is_reported_where_the_scenario_names_it(tmp_path):
    # Kills read_snapshot's `file, line = named_by` -> `= None`.
    with pytest.raises(asdsim.ScenarioError) as info:
        read_snapshot(tmp_path / "missing.csv", named_by=("scenario.yaml", 7))
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == (
        "scenario.yaml", 7, "initial_state.csv")
    assert "(looked for " in problem.message


def test_trailing_empty_cells_are_read_and_a_short_row_is_reported():
    # Kills parse_snapshot's `and not (trailing cells all empty)` -> `and (...)`.
    # Line 2 has two extra empty cells (as spreadsheets export): read. Line 3 has a cell too
    # few: reported at line 3, and only that row is a problem.
    raw = (b"referral_date,age_years,stage\n"
           b"2019-01-01,5,awaiting_triage,,\n"
           b"2019-01-02,5\n")
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_snapshot(raw, "x.csv")
    (problem,) = info.value.problems
    assert problem.line == 3
    assert problem.message.startswith("the row has 2 cells but the header has 3 columns")
    assert [r.line for r in info.value.partial.rows] == [2]


@pytest.mark.parametrize(("text", "line"), [
    ("name: [unclosed\n", 2),  # not valid YAML: found at the end of the text, line 2
    ("name: !unknown_tag value\n", 1),  # valid YAML that cannot be constructed
])
def test_a_yaml_error_is_reported_in_its_file(tmp_path, text, line):
    # Kills parse_yaml's `_yaml_problem(name, exc)` -> `_yaml_problem(exc)` (a crash), for an
    # error found while constructing the document.
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    (problem,) = info.value.problems
    assert problem.file.endswith("broken.yaml") and problem.line == line


def test_a_yaml_file_not_in_utf8_is_reported_for_the_whole_file(tmp_path):
    # Kills read_yaml's UTF-8 problem losing its field ("" -> None) or an argument (a crash).
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Réseau\n".encode("latin-1"))
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    (problem,) = info.value.problems
    assert problem.file.endswith("latin1.yaml") and problem.field == ""
    assert problem.message == "expected text in UTF-8 (save the file as UTF-8)"


def test_a_long_offending_value_is_shown_cut_to_60_characters():
    # Kills loading._shown's `text[:57] + "..."` -> `text[:57] - "..."` (a crash).
    with pytest.raises(asdsim.ScenarioError) as info:
        build(horizon_weeks="x" * 80)
    (problem,) = info.value.problems
    assert problem.field == "horizon_weeks"
    assert problem.value == repr("x" * 80)[:57] + "..."


def scenario_yaml(**over: object) -> str:
    """The pinned BASE scenario as YAML text, with top-level keys replaced or added."""
    data = {**BASE, **over}
    return yaml.safe_dump(data, sort_keys=False)


def test_a_chain_of_more_than_20_extends_is_reported(tmp_path):
    # Kills loading._read's limit problem -> `ScenarioError(None)`.
    # s0 extends s1, ..., s21 extends s22 (the full scenario): 22 files extend one another.
    (tmp_path / "s22.yaml").write_text(scenario_yaml(), encoding="utf-8")
    for i in range(22):
        (tmp_path / f"s{i}.yaml").write_text(f"extends: s{i + 1}.yaml\n", encoding="utf-8")
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(tmp_path / "s0.yaml")
    (problem,) = info.value.problems
    assert problem.field == "extends"
    assert problem.message == "more than 20 files extend one another"


def test_extends_that_is_not_a_path_is_reported_at_its_line(tmp_path):
    # Kills loading._read's 'expected the path' problem -> `ScenarioError(None)`.
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nextends: [a.yaml, b.yaml]\n", encoding="utf-8")
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (2, "extends")
    assert problem.message.startswith("expected the path of a base scenario file")


def test_a_missing_snapshot_is_reported_at_the_line_that_names_it(tmp_path):
    # Kills load_scenario's origin key ("initial_state", "csv") -> "XXcsvXX" (line 1 instead).
    path = tmp_path / "s.yaml"
    text = scenario_yaml(initial_state={"kind": "csv", "csv": "missing.csv"})
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("  csv: missing.csv") + 1
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    (problem,) = info.value.problems
    assert problem.file.endswith("s.yaml") and problem.line == line > 1
    assert problem.field == "initial_state.csv"


def test_an_unreadable_snapshot_read_directly_is_reported_in_initial_state_csv(tmp_path):
    # Kills read_snapshot's field "initial_state.csv" -> "XXinitial_state.csvXX" / upper case.
    with pytest.raises(asdsim.ScenarioError) as info:
        read_snapshot(tmp_path / "missing.csv")
    (problem,) = info.value.problems
    assert problem.field == "initial_state.csv" and problem.file.endswith("missing.csv")


def test_a_header_without_rows_is_reported_for_the_whole_file():
    # Kills the 'header but no rows' problem losing its file or its field ("" -> None).
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_snapshot(b"referral_date,age_years,stage\n", "x.csv")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("x.csv", None, "")
    assert problem.message.startswith("the snapshot has a header but no rows")


@pytest.mark.parametrize("style", ["flow", "block"])
def test_yaml_nested_more_than_50_deep_is_reported_at_its_line(tmp_path, style):
    # Kills _flow_too_deep's line count ("\n" -> "XX\nXX": always line 1) and compose_node's
    # limit problem losing its mark (a crash). 51 nested lists, opened on line 2.
    if style == "flow":
        deep = "[" * 51 + "]" * 51
    else:
        deep = "\n" + "".join("  " * i + "-\n" for i in range(51)) + "  " * 51 + "- 1"
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nteams: " + deep + "\n", encoding="utf-8")
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    (problem,) = info.value.problems
    assert problem.message == "mappings and lists nest more than 50 deep"
    assert problem.line >= 2


# The sensitivity command's parameter paths and the app's line lookup: no test in the mutation
# selection ran them ("no tests").


def test_parse_path_splits_names_and_indices():
    # Kills parse_path's match -> None (every path refused) and its regex losing its text.
    assert parse_path("outsourcing[0].price_gbp") == ("outsourcing", 0, "price_gbp")
    assert parse_path("teams.mdt.steps[1][2].hours") == ("teams", "mdt", "steps", 1, 2, "hours")
    assert parse_path("teams..wte") is None


def test_number_at_finds_a_number_and_says_why_a_path_names_none():
    # Kills number_at's `keys = parse_path(text)` -> None, `getattr(node, key)` -> `(node,
    # None)`, the `[i]` of an index in the reason, and the 'did you mean' lookup losing its key.
    s = build()
    assert number_at(s, "horizon_weeks") == (10.0, None)
    assert number_at(s, "teams.t.staff.p.wte") == (1.0, None)
    assert number_at(s, "teams.t.steps[0].nope") == (
        None, "teams.t.steps[0] has no field 'nope'")
    assert number_at(s, "horizon_week") == (
        None, "the scenario has no field 'horizon_week'; did you mean 'horizon_weeks'?")


def test_a_yaml_files_line_is_that_of_the_nearest_enclosing_key():
    # Kills YamlFile.line's `range(len(keys), -1, -1)` -> a stop of None or a step of -2.
    doc = YamlFile(path=Path("x.yaml"), name="x.yaml", data={},
                   lines={(): 1, ("teams",): 3, ("teams", "t"): 4})
    assert doc.line(("teams", "t", "staff")) == 4
    assert doc.line(("teams", "u")) == 3
    assert doc.line(("horizon_weeks",)) == 1


def test_a_snapshot_of_one_row_more_than_the_limit_is_refused(monkeypatch):
    # Kills parse_snapshot's `len(rows) >= MAX_SNAPSHOT_ROWS` -> `>` and the limit's problem
    # -> `ScenarioError(None)`. With the limit at 3: 3 rows are read; a 4th is refused, at its
    # line (5).
    monkeypatch.setattr(snapshot_module, "MAX_SNAPSHOT_ROWS", 3)
    head = "referral_date,age_years,stage\n"
    rows = [f"2019-01-0{i + 1},5,awaiting_triage\n" for i in range(4)]
    assert len(parse_snapshot((head + "".join(rows[:3])).encode(), "x.csv").rows) == 3
    with pytest.raises(asdsim.ScenarioError) as info:
        parse_snapshot((head + "".join(rows)).encode(), "x.csv")
    (problem,) = info.value.problems
    assert problem.line == 5
    assert problem.message == "more than 3 children; at most that many are read"


def test_read_limited_reads_a_file_of_exactly_the_limit_and_refuses_one_byte_more(tmp_path):
    # Kills read_limited's `max_bytes + 1 - total` -> `max_bytes - 1 - total` (a file cut
    # short instead of read whole, and one over the limit not refused).
    path = tmp_path / "f.txt"
    path.write_bytes(b"0123456789")
    assert read_limited(path, 10, shown="f.txt") == b"0123456789"
    path.write_bytes(b"0123456789A")
    with pytest.raises(asdsim.ScenarioError) as info:
        read_limited(path, 10, shown="f.txt")
    assert "larger than the limit" in info.value.problems[0].message


def test_a_snapshot_row_that_does_not_fit_the_scenario_is_refused(tmp_path):
    # Kills attach_snapshot's `problems = check_snapshot(...)` -> `None` (rows never checked
    # against the scenario). A child 18 or older at the start is outside the pathway.
    path = tmp_path / "snapshot.csv"
    path.write_text("referral_date,age_years,stage\n2019-01-06,17.5,awaiting_triage\n",
                    encoding="utf-8")
    with pytest.raises(asdsim.ScenarioError) as info:
        build(initial_state={"kind": "csv", "csv": str(path)})
    (problem,) = info.value.problems
    assert problem.line == 2 and problem.field == "age_years"
    assert "18 or more by start_date" in problem.message


def test_number_at_says_a_mapping_is_not_a_single_number():
    # Kills number_at's `"a mapping" if isinstance(node, Model | dict)` -> never a mapping.
    assert number_at(build(), "teams.t.staff") == (
        None, "is a mapping, not a single number; name one number in it")


def test_the_json_schema_names_its_draft_and_allows_extends():
    # Kills scenario_json_schema's "$schema" key misspelt.
    schema = scenario_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["extends"]["type"] == "string"
    assert schema["title"] == "asdsim scenario"


def test_a_date_given_as_a_number_is_refused_as_not_a_date():
    # Kills base._date_text's PydanticCustomError losing its error type (a crash).
    assert problems(start_date=20200106) == "start_date: expected a date as YYYY-MM-DD"


def test_a_repeated_row_is_reported_at_its_line_in_the_file_read(tmp_path):
    # Kills parse_snapshot's duplicate-row problem losing its line, and read_snapshot's
    # `shown = display_path(path)` -> None (parse problems without their file).
    path = tmp_path / "snap.csv"
    path.write_text("referral_date,age_years,stage\n"
                    "2019-01-01,5,awaiting_triage\n"
                    "2019-01-01,5,awaiting_triage\n", encoding="utf-8")
    with pytest.raises(asdsim.ScenarioError) as info:
        read_snapshot(path)
    (problem,) = info.value.problems
    assert problem.file.endswith("snap.csv") and problem.line == 3
    assert problem.message.startswith("the row repeats line 2 in every column")


def test_drawn_inputs_keep_the_snapshot_read_at_loading_and_never_read_the_file_again(tmp_path):
    # Kills with_inputs' `kind == "csv"` -> "CSV" (the changed scenario rebuilt from its dump,
    # which reads the snapshot's path again) and `attach_snapshot(changed, snapshot)` losing
    # its snapshot. The file is deleted and the per-process cache emptied after loading.
    (tmp_path / "list.csv").write_text("referral_date,age_years,stage\n2019-06-01,5,awaiting_triage\n",
                                       encoding="utf-8")
    data = {**BASE, "initial_state": {"kind": "csv", "csv": "list.csv"}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    s = asdsim.load_scenario(tmp_path / "s.yaml")
    snapshot = snapshot_module.scenario_snapshot(s)
    (tmp_path / "list.csv").unlink()
    snapshot_module._LOADED.clear()
    changed = with_inputs(s, {"teams.t.staff.p.wte": 2.5})
    assert changed.teams["t"].staff["p"].wte == 2.5
    assert snapshot_module.scenario_snapshot(changed) is snapshot
