"""An areas table written as YAML: the same areas as its CSV, and its own messages by line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from asdsim.cli.root import main
from asdsim.experiments.areas import AreasError, load_areas
from tests.test_areas import MINIMAL, _table, _tables


def _yaml(folder: Path, text: str, name: str = "areas.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(AreasError) as caught:
        load_areas(path)
    return [str(p) for p in caught.value.problems]


TWO_AREAS = f"""\
    areas:
      - area: busy
        scenario: {MINIMAL}
        demand.referrals_per_week: 4
        horizon_weeks: 30
      - {{area: quiet, scenario: {MINIMAL}, demand.referrals_per_week: 1.5, horizon_weeks: 30}}
"""


def test_a_yaml_table_gives_the_areas_of_the_same_csv_table(tmp_path):
    (tmp_path / "csv").mkdir()
    (tmp_path / "yaml").mkdir()
    from_csv = load_areas(_table(tmp_path / "csv", [["busy", str(MINIMAL), 4, 30],
                                                   ["quiet", str(MINIMAL), 1.5, 30]]))
    from_yaml = load_areas(_yaml(tmp_path / "yaml", TWO_AREAS))
    assert [a.name for a in from_yaml.areas] == ["busy", "quiet"]
    assert [a.line for a in from_yaml.areas] == [2, 6]
    assert [a.overrides for a in from_yaml.areas] == [a.overrides for a in from_csv.areas]
    assert [a.scenario_hash for a in from_yaml.areas] == [a.scenario_hash for a in from_csv.areas]
    assert from_yaml.fields == from_csv.fields
    assert from_yaml.name == "yaml"  # a folder's areas.yaml takes the folder's name
    # a bare list, a .yml name, and a folder holding only areas.yaml read the same
    bare = _yaml(tmp_path, f"""\
        - {{area: busy, scenario: {MINIMAL}, demand.referrals_per_week: 4, horizon_weeks: 30}}
        - {{area: quiet, scenario: {MINIMAL}, demand.referrals_per_week: 1.5, horizon_weeks: 30}}
    """, "bare.yml")
    assert [a.scenario_hash for a in load_areas(bare).areas] == \
        [a.scenario_hash for a in from_csv.areas]
    assert load_areas(tmp_path / "yaml").path == tmp_path / "yaml" / "areas.yaml"


def test_a_key_left_out_keeps_the_files_value_and_null_sets_one(tmp_path):
    path = _yaml(tmp_path, f"""\
        - {{area: as_written, scenario: {MINIMAL}}}
        - {{area: on_arrival, scenario: {MINIMAL}, triage.capacity_per_week: null}}
        - {{area: "2024", scenario: {MINIMAL}, description: "North: the ICB's own figures"}}
    """)
    written, on_arrival, quoted = load_areas(path).areas
    assert written.overrides == {} and written.scenario.triage.capacity_per_week == 5
    assert on_arrival.scenario.triage.capacity_per_week is None
    assert quoted.name == "2024"
    assert quoted.scenario.description == "North: the ICB's own figures"


def test_each_problem_names_the_line_of_its_area_or_key(tmp_path):
    path = _yaml(tmp_path, f"""\
        areas:
          - area: a
            scenario: {MINIMAL}
            demand.referrals_per_week: -2
          - area: a
            scenario: {MINIMAL}
          - scenario: {MINIMAL}
            demand.referals_per_week: 3
          - area: 2024
            scenario: {MINIMAL}
    """)
    problems = _problems(path)
    assert problems == [f"{path}:9: area: got 2024: expected text, and YAML reads this as "
                        "another kind of value (a number, date, true/false or list): write it in "
                        "quotes"]
    path = _yaml(tmp_path, path.read_text().replace("area: 2024", "area: b"))
    problems = _problems(path)
    assert problems[0].startswith(f"{path}:2: demand.referrals_per_week: got -2: expected a "
                                  "number >=")
    assert f"{path}:5: area: each area must appear once; 'a' is also on line 2" in problems
    assert f"{path}:7: area: this column is required in every row" in problems
    path = _yaml(tmp_path, f"""\
        - area: a
          scenario: {MINIMAL}
          demand.referals_per_week: 3
    """)
    (problem,) = _problems(path)
    assert f"{path}:1: demand.referals_per_week: not a field of" in problem
    assert "did you mean 'referrals_per_week'" in problem


@pytest.mark.parametrize(("text", "line", "message"), [
    ("areas: []\n", 1, "the table has no areas"),
    ("", 1, "the table has no areas"),
    ("area: a\nscenario: b.yaml\n", 1, "the table is not a list of areas"),
    ("areas:\n  - a\n  - {area: b, scenario: x.yaml}\n", 2,
     "expected a mapping of area:, scenario: and the fields the area sets"),
    ("- {area: a, scenario: b.yaml, area: c}\n", 1, "key given twice in the same mapping"),
    ("- [unclosed\n", 2, "not valid YAML"),
])
def test_a_table_that_is_not_a_list_of_areas_is_named_with_its_line(tmp_path, text, line,
                                                                      message):
    path = _yaml(tmp_path, text)
    problems = _problems(path)
    assert problems[0].startswith(f"{path}:{line}: ") and message in problems[0], problems


def test_a_folder_holding_both_tables_is_refused(tmp_path):
    _table(tmp_path, [["a", str(MINIMAL), 3, 30]])
    _yaml(tmp_path, f"- {{area: a, scenario: {MINIMAL}}}\n")
    (problem,) = _problems(tmp_path)
    assert "holds both areas.csv and areas.yaml: keep one, or name the table's file" in problem
    assert len(load_areas(tmp_path / "areas.yaml").areas) == 1


def test_the_command_runs_a_yaml_table_to_the_tables_of_its_csv(tmp_path, capsys):
    (tmp_path / "csv").mkdir()
    csv_table = _table(tmp_path / "csv", [["busy", str(MINIMAL), 4, 30],
                                          ["quiet", str(MINIMAL), 1.5, 30]])
    yaml_table = _yaml(tmp_path, TWO_AREAS)
    for table, out in ((csv_table, "from_csv"), (yaml_table, "from_yaml")):
        assert main(["areas", str(table), "--out", str(tmp_path / out), "--jobs", "1",
                     "--replications", "2", "--seed", "3"]) == 0
    assert _tables(tmp_path / "from_yaml") == _tables(tmp_path / "from_csv")
