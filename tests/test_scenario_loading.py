"""Reading scenario files: extends, JSON Schema, CSV snapshots, and clear errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

import asdsim
from tests.conftest import BASE


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def test_loads_a_valid_file_into_an_immutable_scenario(tmp_path):
    scenario = asdsim.load_scenario(write(tmp_path / "s.yaml", BASE))
    assert scenario.name == "test" and scenario.horizon_weeks == 104
    with pytest.raises(Exception, match="frozen"):
        scenario.name = "changed"
    assert scenario.teams["mdt"].staff["paediatrician"].hours_per_wte_week == 37.5


def test_extends_merges_mappings_replaces_lists_and_null_deletes(tmp_path):
    base = dict(BASE, teams={**BASE["teams"], "extra": BASE["teams"]["mdt"]})
    base["demand"] = {**BASE["demand"], "localities": {"north": 0.5, "south": 0.5}}
    write(tmp_path / "base.yaml", base)
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "sub" / "child.yaml", textwrap.dedent("""\
        extends: ../base.yaml
        name: child
        demand:
          referrals_per_week: 99
        teams:
          extra: null
          mdt:
            staff:
              psychologist: {wte: 4}
    """))
    scenario = asdsim.load_scenario(child)
    assert scenario.name == "child"
    assert scenario.demand.referrals_per_week == 99
    assert scenario.demand.age_bands[0].max_years == 16  # inherited
    assert set(scenario.teams) == {"mdt"}
    assert scenario.teams["mdt"].staff["psychologist"].wte == 4
    assert scenario.teams["mdt"].staff["psychologist"].autism_share == 0.4  # merged, inherited
    assert scenario.teams["mdt"].staff["paediatrician"].wte == 1.0


def test_error_in_base_file_points_at_the_base(tmp_path):
    bad = dict(BASE, horizon_weeks="long")
    write(tmp_path / "base.yaml", bad)
    child = write(tmp_path / "child.yaml", "extends: base.yaml\nname: c\n")
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(child)
    problem = info.value.problems[0]
    assert problem.file.endswith("base.yaml") and problem.field == "horizon_weeks"
    assert problem.line == 3


def test_extends_cycle_is_reported(tmp_path):
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\n")
    with pytest.raises(asdsim.ScenarioError, match="cycle"):
        asdsim.load_scenario(tmp_path / "a.yaml")


def test_json_schema_describes_every_field():
    schema = asdsim.scenario_json_schema()
    assert schema["title"] == "asdsim scenario"
    assert "extends" in schema["properties"]
    assert schema["additionalProperties"] is False

    def walk(node):
        if isinstance(node, dict):
            for name, prop in node.get("properties", {}).items():
                assert prop.get("description"), f"field {name} has no description"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert schema["$defs"]["StaffGroup"]["properties"]["wte"]["description"]


def test_schema_validates_the_shipped_form_of_a_scenario():
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(BASE, asdsim.scenario_json_schema())


# ------------------------------------------------------------------------- malformed scenarios

BAD = {
    "unknown key with a close match": (
        {"demand": {"referals_per_week": 3}}, "demand.referals_per_week",
        "did you mean 'referrals_per_week'"),
    "unknown top-level key": ({"horizon": 10}, "horizon", "did you mean 'horizon_weeks'"),
    "wrong type": ({"horizon_weeks": "ten"}, "horizon_weeks", "expected a whole number"),
    "negative number": ({"demand": {"referrals_per_week": -4}}, "demand.referrals_per_week",
                        ">= 0"),
    "probability above one": (
        {"teams": {"mdt": {"steps": [{"name": "a", "hours": {"paediatrician": 1},
                                      "outcome": True, "dna_probability": 1.5}]}}},
        "teams.mdt.steps[0].dna_probability", "<= 1"),
    "probabilities not summing to one": (
        {"triage": {"outcomes": {"accept": 0.7, "reject": 0.2}}}, "triage.outcomes",
        "must sum to 1"),
    "overlapping age bands": (
        {"demand": {"age_bands": [{"min_years": 0, "max_years": 5, "weight": 1},
                                  {"min_years": 4, "max_years": 18, "weight": 1}]}},
        "demand.age_bands[1]", "age_bands overlap"),
    "gap in age bands": (
        {"demand": {"age_bands": [{"min_years": 0, "max_years": 5, "weight": 1},
                                  {"min_years": 6, "max_years": 18, "weight": 1}]}},
        "demand.age_bands[1]", "gap between 5 and 6"),
    "step needs a missing staff group": (
        {"teams": {"mdt": {"steps": [{"name": "obs", "hours": {"slt": 1}, "outcome": True}]}}},
        "teams.mdt.steps[0].hours.slt", "needs staff group 'slt'"),
    "dated change outside the horizon": (
        {"capacity_changes": [{"date": "2030-01-01", "team": "mdt", "group": "psychologist",
                               "wte": 2}]},
        "capacity_changes[0].date", "2030-01-01 is outside the horizon"),
    "unknown distribution": (
        {"triage": {"information_wait_days": {"dist": "weibull", "mean": 3}}},
        "triage.information_wait_days", "unknown distribution 'weibull'"),
    "bad date": ({"start_date": "2020-13-45"}, "start_date", "expected a date"),
    "missing required field": ({"name": None}, "name", "this field is required"),
    "bad enum value": (
        {"teams": {"mdt": {"waiting_list": {"discipline": "random"}}}},
        "teams.mdt.waiting_list.discipline", "expected one of 'fifo', 'priority'"),
    "no outcome step": (
        {"teams": {"mdt": {"steps": [{"name": "a", "hours": {"paediatrician": 1}}]}}},
        "teams.mdt.steps", "exactly one step must have 'outcome: true'"),
    "team locality not in demand": (
        {"teams": {"mdt": {"localities": ["east"]}}}, "teams.mdt.localities[0]",
        "'east' is not a locality"),
    "overlapping teams": (
        {"teams": {"other": {"max_age_years": 10, "staff": {"p": {"wte": 1}},
                             "steps": [{"name": "a", "hours": {"p": 1}, "outcome": True}]}}},
        "teams.other.min_age_years", "age ranges overlap with teams.mdt"),
    "monthly factors of the wrong length": (
        {"demand": {"monthly_factors": [1, 1, 1]}}, "demand.monthly_factors", "needs 12 values"),
}


@pytest.mark.parametrize("case", sorted(BAD), ids=lambda c: c.replace(" ", "-"))
def test_malformed_scenario_gets_a_clear_error(tmp_path, case):
    from tests.conftest import deep_update

    over, field, expected = BAD[case]
    data = deep_update(BASE, over)
    data = {k: v for k, v in data.items() if v is not None}
    path = write(tmp_path / "bad.yaml", data)
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    problems = info.value.problems
    assert any(expected in p.message for p in problems), [str(p) for p in problems]
    problem = next(p for p in problems if expected in p.message)
    assert problem.field == field
    assert problem.file == str(path)
    assert problem.line is not None and problem.line >= 1
    text = str(info.value)
    assert f"{path}:{problem.line}" in text and "Traceback" not in text


def test_error_shows_the_offending_value_and_its_line(tmp_path):
    path = write(tmp_path / "s.yaml", textwrap.dedent("""\
        name: x
        start_date: 2020-01-06
        horizon_weeks: 10
        demand:
          referrals_per_week: lots
          age_bands: [{min_years: 0, max_years: 18, weight: 1}]
        teams: {}
    """))
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    text = str(info.value)
    assert f"{path}:5: demand.referrals_per_week: got 'lots': expected a number" in text


def test_cross_field_problems_are_all_listed(tmp_path):
    data = dict(BASE, teams={}, priority_classes=[],
                reporting={"snapshot_dates": ["2030-01-01"]})
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(write(tmp_path / "s.yaml", data))
    found = {(p.field, p.message.split(" to ")[0]) for p in info.value.problems}
    assert ("teams", "at least one team is needed") in found
    assert ("priority_classes", "at least one class is needed") in found
    assert ("reporting.snapshot_dates[0]", "2030-01-01 is outside the horizon 2020-01-06") in found


@pytest.mark.parametrize(("content", "message"), [
    ("name: [unclosed\n", "not valid YAML"),
    ("- a\n- b\n", "must be a YAML mapping"),
    ("name: a\nname: b\n", "key given twice"),
])
def test_unreadable_yaml_is_reported_with_its_line(tmp_path, content, message):
    path = write(tmp_path / "s.yaml", content)
    with pytest.raises(asdsim.ScenarioError, match=message) as info:
        asdsim.load_scenario(path)
    assert info.value.problems[0].line is not None


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(asdsim.ScenarioError, match="file not found"):
        asdsim.load_scenario(tmp_path / "nope.yaml")


# ---------------------------------------------------------------------------------- snapshots

def test_csv_snapshot_reads_only_its_columns_and_seeds_the_list(tmp_path):
    write(tmp_path / "today.csv", textwrap.dedent("""\
        nhs_number,referral_date,age_years,stage,priority,locality,notes
        9990001,2019-06-01,5.5,awaiting_assessment,,north,secret A
        9990002,2019-12-01,3.0,awaiting_assessment,urgent,south,secret B
        9990003,2020-01-01,9.0,awaiting_triage,,north,secret C
    """))
    data = dict(BASE, initial_state={"kind": "csv", "csv": "today.csv"})
    scenario = asdsim.load_scenario(write(tmp_path / "s.yaml", data))
    results = asdsim.simulate(scenario, replications=1, seed=1)
    p = results.patients
    backlog = p[p.from_backlog]
    assert len(backlog) == 3
    assert sorted(backlog.referral_day) == [-219.0, -36.0, -5.0]
    assert set(backlog.priority) == {"urgent", "routine"}
    flat = [str(v) for v in p.to_numpy().ravel()]
    assert not any("secret" in v or "999000" in v for v in flat)
    assert "notes" not in p.columns and "nhs_number" not in p.columns


def test_csv_snapshot_bad_rows_are_reported_by_line(tmp_path):
    write(tmp_path / "today.csv", textwrap.dedent("""\
        referral_date,date_of_birth,stage,locality
        2019-06-01,2014-01-01,awaiting_assessment,north
        2019-06-31,2014-01-01,awaiting_assessment,north
        2019-06-01,2014-01-01,waiting,north
        2019-06-01,2014-01-01,awaiting_assessment,west
        2021-06-01,2014-01-01,awaiting_assessment,north
    """))
    data = dict(BASE, initial_state={"kind": "csv", "csv": "today.csv"})
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(write(tmp_path / "s.yaml", data))
    by_line = {p.line: p for p in info.value.problems}
    assert set(by_line) == {3, 4, 5, 6}
    assert by_line[3].field == "referral_date" and "YYYY-MM-DD" in by_line[3].message
    assert by_line[4].field == "stage" and by_line[5].field == "locality"
    assert "after the scenario's start_date" in by_line[6].message


def test_csv_snapshot_missing_column(tmp_path):
    write(tmp_path / "today.csv", "referral_date,stage\n2019-01-01,awaiting_triage\n")
    data = dict(BASE, initial_state={"kind": "csv", "csv": "today.csv"})
    with pytest.raises(asdsim.ScenarioError, match="missing column"):
        asdsim.load_scenario(write(tmp_path / "s.yaml", data))


def _snapshot_scenario(tmp_path, csv_text, name="today.csv", **over):
    path = tmp_path / name
    if isinstance(csv_text, bytes):
        path.write_bytes(csv_text)
    else:
        path.write_text(csv_text)
    data = dict(BASE, initial_state={"kind": "csv", "csv": name}, **over)
    return write(tmp_path / "s.yaml", data)


SNAPSHOT = textwrap.dedent("""\
    nhs_number,referral_date,date_of_birth,stage,priority,locality,notes
    9990001,2019-06-01,2014-03-17,awaiting_assessment,,north,secret A
    9990002,2019-12-01,2016-11-02,awaiting_assessment,urgent,south,secret B
    9990003,2020-01-01,2011-01-30,awaiting_triage,,north,secret C
""")


def test_snapshot_is_read_once_and_travels_with_the_scenario(tmp_path):
    import pickle

    path = _snapshot_scenario(tmp_path, SNAPSHOT)
    scenario = asdsim.load_scenario(path)
    first = asdsim.simulate(scenario, replications=2, seed=3).patients
    (tmp_path / "today.csv").unlink()  # replications, workers and the hash never read it again
    again = pickle.loads(pickle.dumps(scenario))
    assert again == scenario
    second = asdsim.simulate(again, replications=2, seed=3, jobs=2).patients
    assert first.equals(second)
    assert len(asdsim.scenario_hash(scenario)) == 16


def test_snapshot_hash_follows_the_bytes_not_the_folder(tmp_path):
    a, b, c = (tmp_path / d for d in "abc")
    for folder in (a, b, c):
        folder.mkdir()
    same = [asdsim.load_scenario(_snapshot_scenario(f, SNAPSHOT)) for f in (a, b)]
    changed = asdsim.load_scenario(_snapshot_scenario(c, SNAPSHOT.replace("secret C", "secret D")))
    assert asdsim.scenario_hash(same[0]) == asdsim.scenario_hash(same[1])
    assert asdsim.scenario_hash(changed) != asdsim.scenario_hash(same[0])  # even an unread cell


def test_resolved_yaml_names_the_snapshot_without_its_folder(tmp_path):
    import hashlib

    scenario = asdsim.load_scenario(_snapshot_scenario(tmp_path, SNAPSHOT))
    text = asdsim.scenario_to_yaml(scenario)
    assert str(tmp_path) not in text and "/" not in yaml.safe_load(text)["initial_state"]["csv"]
    assert yaml.safe_load(text)["initial_state"]["csv"] == "today.csv"
    assert hashlib.sha256(SNAPSHOT.encode()).hexdigest() in text


def test_snapshot_rebuilt_from_its_dump_keeps_the_data_read(tmp_path):
    scenario = asdsim.load_scenario(_snapshot_scenario(tmp_path, SNAPSHOT))
    (tmp_path / "today.csv").write_text("not a snapshot any more\n")
    rebuilt = asdsim.scenario_from_dict(scenario.model_dump(mode="json"))
    assert rebuilt == scenario
    assert asdsim.scenario_hash(rebuilt) == asdsim.scenario_hash(scenario)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_snapshot_reads_excel_encodings(tmp_path, encoding):
    text = SNAPSHOT.replace("secret A", "Zoë, café").replace("\n", "\r\n")
    text = text.replace("Zoë, café", '"Zoë, café"')
    scenario = asdsim.load_scenario(_snapshot_scenario(tmp_path, text.encode(encoding)))
    assert [r.line for r in scenario._snapshot.rows] == [2, 3, 4]
    assert [r.stage for r in scenario._snapshot.rows][-1] == "awaiting_triage"


def test_snapshot_cell_over_the_csv_field_limit_in_an_unread_column(tmp_path):
    import csv

    huge = "x" * (csv.field_size_limit() + 10)
    text = SNAPSHOT.replace("secret A", f'"{huge}"')
    scenario = asdsim.load_scenario(_snapshot_scenario(tmp_path, text))
    assert len(scenario._snapshot.rows) == 3
    assert csv.field_size_limit() < len(huge)  # the module's limit is left as it was


def test_snapshot_rows_fit_the_scenario_or_are_refused_without_their_cells(tmp_path):
    text = textwrap.dedent("""\
        name,referral_date,date_of_birth,age_years,stage,locality
        Ann Example,2019-06-01,2019-07-01,,awaiting_assessment,north
        Ben Example,2019-06-01,,19,awaiting_assessment,north
        Cat Example,2019-06-01,,25,awaiting_assessment,north
        Dan Example,2019-06-01,,-1,awaiting_assessment,north
        Eve Example,2019-06-01,,17.99,awaiting_assessment,north
        Fay Example,2019-06-01,2001-08-09,,awaiting_assessment,north
    """)
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(_snapshot_scenario(tmp_path, text))
    by_line = {p.line: p for p in info.value.problems}
    assert set(by_line) == {2, 3, 4, 5, 6, 7}
    assert by_line[2].field == "date_of_birth" and "after referral_date" in by_line[2].message
    assert all(by_line[n].field == "age_years" for n in (3, 4, 5, 6))
    assert "for children" in by_line[3].message and "by start_date" in by_line[6].message
    assert by_line[7].field == "date_of_birth"
    shown = str(info.value)
    for cell in ("Example", "2019-07-01", "2001-08-09", "2019-06-01", "17.99"):
        assert cell not in shown


# A list exported from Excel on a UK machine: dates day first. 03/04/2019 is 3 April day first
# and 4 March month first; 13/05/2014 is a date only day first.
UK_SNAPSHOT = textwrap.dedent("""\
    nhs_number,referral_date,date_of_birth,stage,locality
    9990001,03/04/2019,13/05/2014,awaiting_assessment,north
    9990002,2019-12-01,02/11/2016,awaiting_triage,south
""")


def test_snapshot_dates_day_first_or_month_first_by_initial_state_dates(tmp_path):
    import datetime as dt

    from asdsim.scenario.snapshot import read_snapshot

    def load(folder, dates):
        (tmp_path / folder).mkdir()
        text = UK_SNAPSHOT if dates == "day_first" else UK_SNAPSHOT.replace("13/05/2014", "05/13/2014")
        data = dict(BASE, initial_state={"kind": "csv", "csv": "today.csv", "dates": dates})
        (tmp_path / folder / "today.csv").write_text(text)
        return asdsim.load_scenario(write(tmp_path / folder / "s.yaml", data))

    day, month = load("d", "day_first"), load("m", "month_first")
    assert [r.referral_date for r in day._snapshot.rows] == [dt.date(2019, 4, 3), dt.date(2019, 12, 1)]
    assert [r.referral_date for r in month._snapshot.rows] == [dt.date(2019, 3, 4), dt.date(2019, 12, 1)]
    assert day._snapshot.rows[0].age_months == 4 * 12 + 10  # born 13 May 2014, referred 3 April 2019
    assert day.initial_state.dates == "day_first"
    assert asdsim.simulate(day, replications=1, seed=1).patients.from_backlog.sum() == 2
    # the rule travels with the dump, and the per-process cache is kept apart by rule
    rebuilt = asdsim.scenario_from_dict(day.model_dump(mode="json"))
    assert rebuilt == day and rebuilt._snapshot.rows == day._snapshot.rows
    path = tmp_path / "both.csv"  # every date reads both ways
    path.write_text(UK_SNAPSHOT.replace("13/05/2014", "12/05/2014"))
    first = read_snapshot(path, dates="day_first", reuse=True)
    other = read_snapshot(path, dates="month_first", reuse=True)
    assert first.rows[0].referral_date == dt.date(2019, 4, 3) and first.dates == "day_first"
    assert other.rows[0].referral_date == dt.date(2019, 3, 4) and other.dates == "month_first"
    assert read_snapshot(path, dates="day_first", reuse=True) is first
    assert "dates: day_first" in asdsim.scenario_to_yaml(day)


def test_a_day_first_snapshot_read_as_iso_is_refused_by_line_and_column(tmp_path):
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(_snapshot_scenario(tmp_path, UK_SNAPSHOT))  # dates: iso, the default
    found = {(p.line, p.field) for p in info.value.problems}
    assert found == {(2, "referral_date"), (2, "date_of_birth"), (3, "date_of_birth")}
    assert all(p.file.endswith("today.csv") for p in info.value.problems)
    first = next(p for p in info.value.problems if p.field == "referral_date")
    assert "YYYY-MM-DD" in first.message and "initial_state.dates: day_first" in first.message
    shown = str(info.value)
    for cell in ("03/04", "2019", "13/05", "02/11", "9990001"):
        assert cell not in shown


def test_initial_state_dates_is_checked_and_left_out_of_the_dump_while_iso(tmp_path, make_scenario):
    (tmp_path / "today.csv").write_text(SNAPSHOT)

    def load(state):
        data = dict(BASE, initial_state={"kind": "csv", "csv": "today.csv", **state})
        return asdsim.load_scenario(write(tmp_path / "s.yaml", data))

    with pytest.raises(asdsim.ScenarioError) as info:
        load({"dates": "dmy"})
    assert [p.field for p in info.value.problems] == ["initial_state.dates"]
    assert "day_first" in info.value.problems[0].message
    with pytest.raises(asdsim.ScenarioError, match="only read with kind 'csv'"):
        make_scenario(initial_state={"kind": "empty", "dates": "day_first"})
    unsaid, said = load({}), load({"dates": "iso"})
    assert unsaid == said and unsaid.initial_state.dates == "iso"
    assert "dates" not in said.model_dump()["initial_state"]
    assert "dates" not in make_scenario().model_dump()["initial_state"]
    assert asdsim.scenario_hash(said) == asdsim.scenario_hash(unsaid)
    assert asdsim.scenario_hash(load({"dates": "day_first"})) != asdsim.scenario_hash(unsaid)

def _dob_snapshot(born: list[str]) -> str:
    rows = [f"{i},2019-0{1 + i % 9}-15,{b},awaiting_assessment,north" for i, b in enumerate(born)]
    return "id,referral_date,date_of_birth,stage,locality\n" + "\n".join(rows) + "\n"


def test_outputs_place_a_date_of_birth_only_within_a_month(tmp_path):
    import datetime as dt

    import numpy as np

    early = [f"{2008 + i % 8}-{1 + i % 12:02d}-16" for i in range(24)]
    late = [f"{2008 + i % 8}-{2 + i % 12:02d}-15" if i % 12 < 11 else f"{2009 + i % 8}-01-15"
            for i in range(24)]  # a month later, less a day: the same whole months at referral
    runs = []
    for folder, born in (("a", early), ("b", late)):
        (tmp_path / folder).mkdir()
        scenario = asdsim.load_scenario(_snapshot_scenario(tmp_path / folder, _dob_snapshot(born)))
        runs.append(asdsim.simulate(scenario, replications=1, seed=2).patients)
    assert runs[0].equals(runs[1])  # nothing in the outputs tells the two files apart
    backlog = runs[0][runs[0].from_backlog]
    months = backlog.age_at_referral_years.to_numpy() * 12 - 0.5
    np.testing.assert_allclose(months, np.round(months), atol=1e-9)  # whole months, centred
    spread = [dt.date.fromisoformat(b) - dt.date.fromisoformat(a) for a, b in zip(early, late, strict=True)]
    assert min(spread).days >= 27


def test_backlog_ids_do_not_follow_the_file_row_order(tmp_path):
    import numpy as np
    from scipy import stats

    ages = [f"{2 + (i + 0.5) / 12:.4f}" for i in range(40)]  # a distinct whole month each
    text = "referral_date,age_years,stage,locality\n" + "".join(
        f"2019-10-01,{a},awaiting_assessment,north\n" for a in ages)
    scenario = asdsim.load_scenario(_snapshot_scenario(tmp_path, text))
    p = asdsim.simulate(scenario, replications=1, seed=5).patients
    backlog = p[p.from_backlog].sort_values("patient_id")
    row = np.round(backlog.age_at_referral_years.to_numpy() * 12 - 0.5) - 24  # file row of each id
    assert sorted(row) == list(range(40))
    assert abs(stats.spearmanr(row, np.arange(40)).statistic) < 0.5
    other = asdsim.simulate(scenario, replications=1, seed=6).patients
    other = other[other.from_backlog].sort_values("patient_id")
    assert not np.array_equal(other.age_at_referral_years.to_numpy(),
                              backlog.age_at_referral_years.to_numpy())


def test_generated_backlog_has_the_stated_counts_and_waits(make_scenario):
    scenario = make_scenario(initial_state={"kind": "generated", "backlog": [
        {"stage": "awaiting_assessment", "count": 120, "weeks_waited_min": 10,
         "weeks_waited_max": 50},
        {"stage": "awaiting_triage", "count": 30, "weeks_waited_max": 3}]})
    p = asdsim.simulate(scenario, replications=1, seed=3).patients
    backlog = p[p.from_backlog]
    assert len(backlog) == 150
    waited = -backlog.referral_day / 7
    assert ((waited >= 0) & (waited <= 50)).all()
    assert (waited >= 10).sum() == 120


def test_round_trip_through_resolved_yaml(tmp_path, make_scenario):
    scenario = make_scenario()
    text = asdsim.scenario_to_yaml(scenario)
    again = asdsim.load_scenario(write(tmp_path / "r.yaml", text))
    assert again == scenario
    assert asdsim.scenario_hash(again) == asdsim.scenario_hash(scenario)


# ------------------------------------------------------------- hostile values, as YAML writes them

def _base_text() -> str:
    return yaml.safe_dump(BASE, sort_keys=False)


HOSTILE_VALUES = {
    "not a day of the month": ("start_date: '2020-01-06'", "start_date: 2024-02-30", "start_date",
                               "expected a date in the calendar"),
    "month 13": ("start_date: '2020-01-06'", "start_date: 2024-13-01", "start_date",
                 "expected a date in the calendar"),
    "horizon past year 9999": ("start_date: '2020-01-06'", "start_date: 9999-10-01", "start_date",
                               "to 2200-12-31 at most"),
    "infinite wte": ("wte: 1.0", "wte: .inf", "teams.mdt.staff.paediatrician.wte",
                     "expected a finite number"),
    "nan wte": ("wte: 1.0", "wte: .nan", "teams.mdt.staff.paediatrician.wte",
                "expected a finite number"),
    "infinite age": ("max_years: 16", "max_years: .inf", "demand.age_bands[0].max_years",
                     "expected a finite number"),
    "infinite gap": ("min_gap_days: 7", "min_gap_days: .inf", "teams.mdt.steps[1].min_gap_days",
                     "expected a finite number"),
    "1e300 referrals": ("referrals_per_week: 10", "referrals_per_week: 1.0e+300",
                        "demand.referrals_per_week", "at most 1,000,000,000"),
    "infinite referrals": ("referrals_per_week: 10", "referrals_per_week: .inf",
                           "demand.referrals_per_week", "expected a finite number"),
    "absurd demand": ("referrals_per_week: 10", "referrals_per_week: 100000000",
                      "demand.referrals_per_week", "expected a number <= 10,000"),
    "absurd growth": ("referrals_per_week: 10", "annual_growth: 10\n  referrals_per_week: 100",
                      "demand.referrals_per_week", "at most 10,000 a week are simulated"),
    "yes as a number": ("horizon_weeks: 104", "horizon_weeks: yes", "horizon_weeks",
                        "not true/false"),
    "on as a locality name": ("north: 0.5", "on: 0.5", "demand.localities",
                              "read by YAML as true/false"),
    "off as a team locality": ("  mdt:\n", "  mdt:\n    localities: [off]\n",
                               "teams.mdt.localities[0]", "expected text, not true/false"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_VALUES), ids=lambda c: c.replace(" ", "-"))
def test_hostile_values_get_a_clear_error_at_their_line(tmp_path, case):
    old, new, field, expected = HOSTILE_VALUES[case]
    text = _base_text()
    assert old in text
    text = text.replace(old, new, 1)
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    problem = next((p for p in info.value.problems if expected in p.message), None)
    assert problem is not None, [str(p) for p in info.value.problems]
    assert problem.field == field
    wanted = new.strip().splitlines()[-1].strip().split(":")[0].lstrip("- ")
    assert wanted in text.splitlines()[problem.line - 1], (problem, wanted)


def test_cross_field_errors_point_at_the_field_not_the_top_of_the_file(tmp_path):
    text = _base_text() + textwrap.dedent("""\
        capacity_changes:
          - {date: 2020-06-01, team: mdt, group: psychologist, wte: 2}
          - {date: 2020-06-01, team: nobody, wte: 2, group: psychologist}
        outsourcing:
          - team: mdt
            start_date: 2020-02-01
            end_date: 2040-01-01
            assessments_per_month: 2
    """)
    path = write(tmp_path / "s.yaml", text)
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(path)
    lines = text.splitlines()
    by_field = {p.field: p for p in info.value.problems}
    assert set(by_field) == {"capacity_changes[1].team", "outsourcing[0].end_date"}
    assert "nobody" in lines[by_field["capacity_changes[1].team"].line - 1]
    assert "end_date: 2040" in lines[by_field["outsourcing[0].end_date"].line - 1]


@pytest.mark.parametrize(("content", "message"), [
    ("a: &a [1, *a]\n", "recursive alias"),
    ("x: " + "[" * 3000 + "]" * 3000 + "\n", "nest more than 50 deep"),
    ("".join(f"{k}: &{k} [" + ", ".join([f"*{p}"] * 9 if p else ['"lol"'] * 9) + "]\n"
             for p, k in zip([None, *"abcdefgh"], "abcdefghi", strict=True)), "alias bomb"),
    ("name: a\n1: b\n", "read by YAML as not text"),
])
def test_yaml_limits_fail_with_a_line(tmp_path, content, message):
    # refused before expansion (the alias bomb's memory is checked below; no timing here: a
    # loaded machine makes a time limit flaky)
    path = write(tmp_path / "s.yaml", content)
    with pytest.raises(asdsim.ScenarioError, match=message) as info:
        asdsim.load_scenario(path)
    assert info.value.problems[0].line is not None


def test_alias_bomb_is_small_and_fails_without_using_memory(tmp_path):
    import tracemalloc

    levels = zip([None, *"abcdefgh"], "abcdefghi", strict=True)
    bomb = "".join(f"{k}: &{k} [" + ", ".join([f"*{p}"] * 9 if p else ['"lol"'] * 9) + "]\n"
                   for p, k in levels)
    assert len(bomb.encode()) < 500
    path = write(tmp_path / "bomb.yaml", bomb)
    tracemalloc.start()
    try:
        with pytest.raises(asdsim.ScenarioError, match="alias bomb"):
            asdsim.load_scenario(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


@pytest.mark.parametrize("target", ["/dev/zero", "folder", "fifo", "big.yaml"])
def test_extends_reads_only_small_regular_files(tmp_path, target):
    import os

    if target == "folder":
        (tmp_path / "folder").mkdir()
    elif target == "fifo":
        os.mkfifo(tmp_path / "fifo")
    elif target == "big.yaml":
        (tmp_path / "big.yaml").write_text("# padding\n" * 200_000)
    path = write(tmp_path / "s.yaml", f"extends: {target}\nname: x\n")
    with pytest.raises(asdsim.ScenarioError) as info:  # /dev/zero or a FIFO read would never end
        asdsim.load_scenario(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), 1, "extends")
    assert any(w in problem.message for w in ("regular", "folder", "larger than the limit of 1 MB"))


@pytest.mark.parametrize(("content", "field", "message"), [
    ("base: /dev/zero\nvary: {demand.annual_growth: [0.0]}\n", "base", "device, pipe or socket"),
    ("base: s.yaml\nvary: {demand.annual_growth: [0.0]}\nbase: s.yaml\n", "base", "key given twice"),
    ("base: s.yaml\nvary: {demand.annual_growth: &a [*a]}\n", "", "recursive alias"),
    ("base: s.yaml\nvary: {demand.annual_growth: " + "[" * 400 + "]" * 400 + "}\n", "",
     "nest more than 50 deep"),
    ("base: s.yaml\nvary: {yes: [0.0]}\n", "vary", "read by YAML as true/false"),
])
def test_grid_files_are_read_with_the_same_limits(tmp_path, content, field, message):
    from asdsim.experiments.grid import GridError, load_grid

    write(tmp_path / "s.yaml", BASE)
    path = write(tmp_path / "grid.yaml", content)
    with pytest.raises(GridError) as info:
        load_grid(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.field) == (str(path), field)
    assert message in problem.message and problem.line is not None
