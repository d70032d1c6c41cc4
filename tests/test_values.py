"""One way to read a number, a date and a name (issue 23, class 5).

The same hostile spellings go through every entry point that reads a number (a CSV cell, a YAML
value quoted or not, a command-line option) and are refused the same way, with the place and
without repeating the text; names that are one name once normalised are a clash.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.hypothesis_profiles  # noqa: F401  (loads the profile)
from asdsim.cli import main
from asdsim.scenario.values import (
    ValueProblem,
    name_clashes,
    name_key,
    parse_iso_date,
    parse_number,
    parse_whole,
)

FIXTURES = Path(__file__).parent / "fixtures"

# spellings Python (float/int), pydantic or YAML 1.1 would read as numbers, and asdsim refuses
PYTHON_ONLY = ["2_5", "١٢", "²", "inf", "-Infinity", "nan", "0x1F", "1e400", "1e-400", "٣.٥",
               "１２"]


@pytest.mark.parametrize("text", PYTHON_ONLY)
def test_the_parser_refuses_python_only_spellings(text):
    with pytest.raises(ValueProblem) as caught:
        parse_number(text)
    assert text in ("inf", "nan") or text not in str(caught.value)  # (the reason says "not inf")
    with pytest.raises(ValueProblem):
        parse_whole(text)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_the_parser_reads_every_float_python_writes(x):
    assert parse_number(repr(x)) == x


@given(st.integers(min_value=-10**20, max_value=10**20))
def test_the_parser_reads_every_whole_number(n):
    assert parse_whole(str(n)) == n and parse_number(str(n)) == float(n)


def test_bounds_are_named_not_the_value():
    with pytest.raises(ValueProblem, match=r"from 0 to 1$"):
        parse_number("1.5", 0, 1)
    with pytest.raises(ValueProblem, match="at least 1"):
        parse_whole("0", 1)
    assert parse_iso_date(" 2024-02-29 ").isoformat() == "2024-02-29"
    for text in ("2023-02-29", "20240229", "2024-W09-4", "２０２４-02-29"):
        with pytest.raises(ValueProblem):
            parse_iso_date(text)


def _yaml(tmp_path: Path, value: str) -> Path:
    text = (FIXTURES / "small.yaml").read_text().replace("referrals_per_week: 6",
                                                         f"referrals_per_week: {value}")
    assert value in text
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "s.yaml"


@pytest.mark.parametrize(("text", "quoted"), [(t, q) for t in PYTHON_ONLY for q in (False, True)]
                         + [(t, False) for t in ("010", "1:30", "0o17", "1.0e-400", "1.0e+400")])
def test_a_yaml_value_is_read_by_the_same_rule(tmp_path, capsys, text, quoted):
    path = _yaml(tmp_path, f"'{text}'" if quoted else text)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert any(line.startswith(f"{path}:11:") for line in err.splitlines()), err


@pytest.mark.parametrize("text", [*PYTHON_ONLY, "-1"])
@pytest.mark.parametrize("option", ["--seed", "--replications", "--jobs"])
def test_a_command_option_is_read_by_the_same_rule(tmp_path, capsys, option, text):
    out = tmp_path / "o"
    assert main(["run", str(FIXTURES / "small.yaml"), option, text, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("argv", [
    ["sensitivity", "S", "--change", "nan"], ["sensitivity", "S", "--change", "100"],
    ["sweep", "G", "--seed", "2_5"], ["regress", "D", "--jobs", "²"],
    ["plan", "S", "--target", "t", "--from", "2025-W01-1"],
    ["plan", "S", "--target", "t", "--from", "2025-01-01", "--confidence", "inf"],
    ["plan", "S", "--target", "t", "--from", "2025-01-01", "--bounds", "slt=0:2_5"],
    ["plan", "S", "--target", "t", "--from", "2025-01-01", "--step", "-0.1"],
    ["calibrate", "--referrals", "R", "--base", "B", "--out", "O", "--step-change", "20240101"],
    ["app", "--port", "0x50"], ["verify", "--seed", "-1"],
])
def test_every_command_reads_its_options_by_the_same_rule(argv, capsys):
    assert main(argv + (["--out", "O"] if argv[0] in ("sensitivity", "sweep", "plan") else [])) == 2
    err = capsys.readouterr().err
    assert argv[-2] in err and "Traceback" not in err


def _csv_age(tmp_path: Path, age: str) -> Path:
    (tmp_path / "today.csv").write_text(
        "referral_date,age_years,stage,locality\n2018-12-03,6,awaiting_assessment,north\n"
        f"2018-12-04,{age},awaiting_assessment,north\n", encoding="utf-8")
    text = (FIXTURES / "small.yaml").read_text()
    start = text.index("initial_state:")
    end = text.find("\n", text.index("\n", start) + 1)
    lines = text[start:].split("\n")
    block = 1
    while block < len(lines) and lines[block].startswith(" "):
        block += 1
    text = text[:start] + "initial_state: {kind: csv, csv: today.csv}\n" + "\n".join(lines[block:])
    del end
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "s.yaml"


@pytest.mark.parametrize("text", PYTHON_ONLY)
def test_a_csv_cell_is_read_by_the_same_rule(tmp_path, capsys, text):
    path = _csv_age(tmp_path, text)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "today.csv:3: age_years: " in err, err
    assert text in ("inf", "nan") or text not in err


def test_a_plain_csv_age_is_read(tmp_path, capsys):
    assert main(["validate", str(_csv_age(tmp_path, "7.5"))]) == 0, capsys.readouterr().err


def test_names_are_compared_after_one_normalisation():
    composed, decomposed = "Crew\u00e9", unicodedata.normalize("NFD", "Crew\u00e9")
    assert composed != decomposed and name_key(composed) == name_key(decomposed)
    assert name_key(" North-East ") == name_key("north_east") == name_key("NORTH  EAST")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_clashes(["Crewe", "crewe", "Nantwich", composed, decomposed]) == [
        ("Crewe", "crewe"), (composed, decomposed)]


@pytest.mark.parametrize(("old", "new", "field"), [
    ("{north: 0.5, south: 0.5}", "{north: 0.5, North: 0.5}", "demand.localities"),
    ("{north: 0.5, south: 0.5}", "{north: 0.5, 'north ': 0.5}", "demand.localities"),
    ("slt:", "SLT:", None),
])
def test_two_spellings_of_one_name_are_a_clash(tmp_path, capsys, old, new, field):
    text = (FIXTURES / "small.yaml").read_text()
    if field == "demand.localities":
        text = text.replace(old, new).replace("[south]", "[North]" if "North" in new else "['north ']")
    else:  # a second staff group that differs only in case, in the first team that has slt
        at = text.index("      slt:")
        line = text[at:text.index("\n", at) + 1]
        text = text[:at] + line + line.replace("slt:", "SLT:") + text[at + len(line):]
        field = "staff"
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    assert main(["validate", str(tmp_path / "s.yaml")]) == 1
    err = capsys.readouterr().err
    assert "are the same name" in err and field in err, err


def test_the_calibrate_reader_matches_names_by_the_same_key(tmp_path):
    from asdsim.experiments.calibrate import normal_name

    assert normal_name("NORTH") == normal_name("north") == name_key("North")
    assert math.isclose(parse_number(" 5.5 "), 5.5)


@pytest.mark.parametrize(("extra", "said"), [
    (["--target", "backlog_cleared_weeks <= -5"], "cannot be below 0"),
    (["--target", "assessment_started_within_3_months >= 1.5"], "from 0 to 1"),
    (["--target", "backlog_cleared_weeks <= 12", "--bounds", "nobody=0:1"],
     "--bounds nobody: no lever of that name"),
    (["--target", "backlog_cleared_weeks <= 12", "--step", "nobody=0.5"],
     "--step nobody: no lever of that name"),
])
def test_plan_targets_are_in_a_possible_range(tmp_path, capsys, monkeypatch,
                                                                      extra, said):
    monkeypatch.setattr("asdsim.experiments.runner.run_replication",
                        lambda *a: pytest.fail("simulated"))
    assert main(["plan", str(FIXTURES / "small.yaml"), "--from", "2019-03-04", "--vary",
                 "school/slt", *extra, "--out", str(tmp_path / "o")]) == 1
    assert said in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("vary", ["demand.referrals_per_week=1e400,2",
                                  "demand.referrals_per_week=١,2", "demand.referrals_per_week=±2_0%"])
def test_sensitivity_changes_are_read_by_the_same_rule(tmp_path, capsys, vary):
    assert main(["sensitivity", str(FIXTURES / "small.yaml"), "--vary", vary, "--out",
                 str(tmp_path / "o")]) == 1
    assert "--vary" in capsys.readouterr().err and not (tmp_path / "o").exists()
