"""``asdsim init``: a folder for a new area that runs at once and never loses a file."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import yaml

import asdsim
from asdsim.cli import main
from asdsim.templates_area import FILES, AreaExists, create_area, template_bytes


def header(name: str) -> list[str]:
    return next(csv.reader(io.StringIO(template_bytes(name).decode())))


def test_init_makes_a_folder_that_runs_straight_away(tmp_path, capsys):
    area = tmp_path / "area"
    assert main(["init", str(area)]) == 0
    assert sorted(p.name for p in area.iterdir()) == sorted(FILES)
    assert "asdsim run" in capsys.readouterr().out
    text = (area / "scenario.yaml").read_text()
    data = yaml.safe_load(text)
    assert "extends" not in data  # stands alone
    assert "# observed:" in text and "measure:" in text  # a commented block to fill in
    scenario = asdsim.load_scenario(area / "scenario.yaml")
    assert scenario.initial_state.kind == "csv"
    # every number is commented as assumed, except where the comment says what it is
    for line in text.splitlines():
        code = line.split("#")[0]
        if any(ch.isdigit() for ch in code) and ":" in code and not line.lstrip().startswith("#"):
            assert "#" in line, line
    out = tmp_path / "results"
    assert main(["run", str(area / "scenario.yaml"), "--replications", "1", "--out", str(out)]) == 0
    assert (out / "report.html").is_file()


def test_example_csvs_have_the_exact_columns():
    assert header("referrals.csv")[1:] == ["referral_date", "date_of_birth", "source", "locality",
                                           "triage_outcome"]
    assert header("waiting_list.csv")[1:] == ["referral_date", "date_of_birth", "stage", "priority",
                                              "locality"]
    assert header("activity.csv") == ["appointment_date", "team", "step", "attended",
                                      "duration_minutes"]
    referrals = pd.read_csv(io.BytesIO(template_bytes("referrals.csv")))
    assert len(referrals) > 1000 and referrals.referral_date.max() < "2025-04-07"


def test_a_non_empty_folder_is_refused_and_force_replaces_nothing(tmp_path, capsys):
    area = tmp_path / "area"
    area.mkdir()
    (area / "scenario.yaml").write_text("mine\n")
    (area / "notes.txt").write_text("keep\n")
    assert main(["init", str(area)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in area.iterdir()) == ["notes.txt", "scenario.yaml"]
    made = create_area(area, force=True)
    assert made.kept == ("scenario.yaml",)
    assert set(made.written) == set(FILES) - {"scenario.yaml"}
    assert (area / "scenario.yaml").read_text() == "mine\n"
    assert (area / "notes.txt").read_text() == "keep\n"
    again = create_area(area, force=True)  # nothing left to write, nothing replaced
    assert again.written == () and set(again.kept) == set(FILES)


def test_a_file_in_place_of_the_folder_is_refused(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(AreaExists, match="is a file"):
        create_area(path, force=True)
    assert path.read_text() == "x"


def test_init_has_help_with_an_example(capsys):
    assert main(["init", "--help"]) == 0
    assert "asdsim init" in capsys.readouterr().out


def test_the_commented_examples_validate_and_draw_when_uncommented(tmp_path, capsys):
    area = create_area(tmp_path / "area").folder
    text = (area / "scenario.yaml").read_text()
    assert "# uncertain:\n#   teams." in text and "asdsim run scenario.yaml --draw-inputs" in text
    as_shipped = asdsim.load_scenario(area / "scenario.yaml")
    # the list is read as calibrate reads every CSV by default: ISO or day first, no edit needed
    assert not as_shipped.uncertain and as_shipped.initial_state.dates == "day_first"
    uncommented = text.replace("# uncertain:\n#   ", "uncertain:\n  ")
    (area / "drawn.yaml").write_text(uncommented)
    scenario = asdsim.load_scenario(area / "drawn.yaml")
    (path,) = scenario.uncertain
    assert path in scenario.assumed and path in as_shipped.assumed
    assert scenario.initial_state.dates == "day_first"  # the example list's ISO dates still read
    assert len(scenario._snapshot.rows) == len(as_shipped._snapshot.rows)
    out = tmp_path / "drawn"
    assert main(["run", str(area / "drawn.yaml"), "--draw-inputs", "--replications", "1",
                 "--out", str(out)]) == 0
    assert (out / "inputs.csv").is_file() and path in (out / "inputs.csv").read_text()
