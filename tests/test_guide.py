"""docs/your-area.md is the test: its command block, run in order as a user would, with CSVs in the
two shapes users have (ISO dates; a UK export with day-first dates, a byte-order mark, Windows
line ends, identifier columns and names in capitals), editing only what the guide says to edit.

Small replications keep it quick: each simulating command gets ``--replications 2 --jobs 1``
(and ``plan`` a short search), appended to the guide's own arguments.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import asdsim
from asdsim.cli import main
from asdsim.cli.root import build_parser
from asdsim.model.backlog import generate_backlog
from asdsim.scenario.warm import warm_start_children

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "your-area.md"
QUICK = {"run": ["--replications", "2", "--jobs", "1"],
         "plan": ["--replications", "2", "--confirm-replications", "2", "--max-evaluations", "6",
                  "--jobs", "1"],
         "sensitivity": ["--replications", "2", "--jobs", "1"]}
TRIAGED_A_WEEK = "30"  # "our" triage capacity, set as step 4 of the guide says


def guide_block() -> list[str]:
    """The lines of the guide's first bash block, continuation lines joined."""
    text = GUIDE.read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "docs/your-area.md has no bash block"
    return [line.strip() for line in block.group(1).replace("\\\n", " ").splitlines() if line.strip()]


def test_the_guide_runs_every_step_in_order():
    commands = [shlex.split(line)[1] for line in guide_block() if line.startswith("asdsim ")]
    assert commands == ["init", "calibrate", "validate", "run", "plan", "sensitivity"]
    steps = [line for line in guide_block() if line.startswith("#")]
    assert any("put your referrals.csv, waiting_list.csv and activity.csv" in s for s in steps)
    assert any("warns that a capacity is below demand" in s for s in steps)


def uk_export(path: Path) -> None:
    """Rewrite an example CSV as a UK patient system exports it from Excel: two identifier
    columns first (made-up values), DD/MM/YYYY dates, names in capitals, a UTF-8 byte-order mark
    and Windows line ends."""
    rows = list(csv.reader(path.open(encoding="utf-8")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["NHS Number", "Patient Name", *rows[0]])
    for i, row in enumerate(rows[1:]):
        cells = []
        for cell in row:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell):
                cell = dt.date.fromisoformat(cell).strftime("%d/%m/%Y")
            elif cell.casefold() in {"eastern", "southern", "school", "gp", "accept"}:
                cell = cell.upper()
            cells.append(cell)
        writer.writerow([f"999 {i // 1000:03d} {i % 1000:04d}", f"Test Person {i}", *cells])
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))


def iso_export(path: Path) -> None:
    """The example CSV with its localities written as people write them ("Eastern")."""
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r",(eastern|southern)(\r?\n|$)", lambda m: f",{m.group(1).title()}{m.group(2)}",
                           text, flags=re.M), encoding="utf-8")


@pytest.mark.parametrize("shape", [iso_export, uk_export], ids=["iso", "uk_export"])
def test_following_the_guide(shape, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    area = tmp_path / "myarea"
    warned = False
    for line in guide_block():
        if line.startswith("# step 2:"):  # the user's own files, in place of the examples
            for name in ("referrals.csv", "waiting_list.csv", "activity.csv"):
                shape(area / name)
            continue
        if line.startswith("# step 4:"):
            if warned:  # set our own triage capacity where calibrate said the template's is short
                path = area / "calibrated.yaml"
                text = path.read_text(encoding="utf-8")
                text, n = re.subn(r"(?m)^(  capacity_per_week: )15\b", rf"\g<1>{TRIAGED_A_WEEK}", text)
                assert n == 1
                path.write_text(text, encoding="utf-8")
            continue
        if line.startswith("#"):
            continue
        argv = shlex.split(line)
        assert argv[0] == "asdsim"
        command = argv[1]
        code = main(argv[1:] + QUICK.get(command, []))
        printed = capsys.readouterr()
        assert code in ((0, 1) if command == "plan" else (0,)), (line, printed.out, printed.err)
        if command == "calibrate":
            # the example referrals (about 14 a week, growing) need more triage than the
            # template's assumed 15 a week: calibrate says so, with the figures
            warned = "Warning: triage.capacity_per_week gives 15.0" in printed.out
            assert warned and "(utilisation 1" in printed.out, printed.out
        if command == "validate":  # after step 4, nothing is short any more
            assert "warning" not in printed.err, printed.err
        if command == "run":  # triage now keeps up: the school-age team's list is what grows
            said = " ".join(printed.out.split())  # the summary is wrapped for a terminal
            assert "Children pile up in the school_age_mdt waiting list: " in said, said

    # what each step left behind
    assert (area / "calibrated_fit" / "report.html").is_file()
    kpis = pd.read_csv(area / "results" / "kpis.csv")
    assert kpis.set_index("kpi").loc["assessment_started_within_3_months", "n"] == 2
    assert (area / "plan" / "plan.csv").is_file() and (area / "plan" / "recommended.yaml").is_file()
    ranking = pd.read_csv(area / "sensitivity" / "ranking.csv")
    assert len(ranking) >= 5 and ranking["rank"].tolist() == sorted(ranking["rank"])

    # the whole list was read, each child in its own locality, whatever the case it was written in
    calibrated = asdsim.load_scenario(area / "calibrated.yaml")
    assert calibrated.initial_state.dates == "day_first"
    listed = [r for r in csv.DictReader((area / "waiting_list.csv").open(encoding="utf-8-sig"))]
    assert len(calibrated._snapshot.rows) == len(listed)
    backlog = generate_backlog(calibrated, np.random.default_rng(0))
    names = list(calibrated.demand.localities)
    written = sorted(r["locality"].strip().casefold() for r in listed)
    assert sorted(names[i] for i in backlog.locality[:len(listed)]) == written
    # after the list, the template's warm start: children part-way through assessment
    assert calibrated.initial_state.warm
    assert len(backlog) == len(listed) + warm_start_children(calibrated)
    assert (backlog.steps_done[len(listed):] >= 1).all()
    assert {"eastern", "southern"} == set(written)
    ran = yaml.safe_load((area / "results" / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    assert ran["triage"]["capacity_per_week"] == (float(TRIAGED_A_WEEK) if warned else 15)


def test_the_base_scenario_and_calibrate_agree_on_dates_without_an_edit(tmp_path):
    """The template as init writes it reads a day-first list, as calibrate does by default."""
    area = tmp_path / "myarea"
    assert main(["init", str(area)]) == 0
    rows = len((area / "waiting_list.csv").read_text().splitlines()) - 1
    uk_export(area / "waiting_list.csv")
    assert len(asdsim.load_scenario(area / "scenario.yaml")._snapshot.rows) == rows


def test_the_readme_lists_every_notebook_and_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        assert f"`{notebook.name}`" in readme, notebook.name
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    table = [line for line in readme.splitlines() if line.startswith("| `asdsim ")]
    for command in sub.choices:
        assert any(line.startswith(f"| `asdsim {command}") for line in table), command
