"""Results are never lost: --force, concurrent runs, SIGTERM, stale temporary folders, spreadsheet
formulas, run sizes and jobs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asdsim.cli import main
from asdsim.reporting.outputs import OutputExists, atomic_folder
from asdsim.spreadsheet import spreadsheet_frame

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "scenarios" / "minimal.yaml"


def _copy_minimal(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "plan.yaml"
    shutil.copy(MINIMAL, target)
    return target


def test_force_never_deletes_the_scenario_it_reads(tmp_path, capsys):
    plan = _copy_minimal(tmp_path / "myscen")
    code = main(["run", str(plan), "--out", str(tmp_path / "myscen"), "--force",
                 "--replications", "1"])
    assert code == 1
    assert plan.read_text() == MINIMAL.read_text()
    assert "holds the input" in capsys.readouterr().err


def test_force_replaces_only_a_results_folder(tmp_path, capsys):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.docx").write_text("a week of work")
    assert main(["run", str(MINIMAL), "--out", str(notes), "--force", "--replications", "1"]) == 1
    assert (notes / "thesis.docx").read_text() == "a week of work"
    assert "did not write" in capsys.readouterr().err
    out = tmp_path / "results"
    assert main(["run", str(MINIMAL), "--out", str(out), "--replications", "1"]) == 0
    (out / "kpis.csv").write_text("stale")  # a file asdsim wrote: replaced
    assert main(["run", str(MINIMAL), "--out", str(out), "--force", "--replications", "1"]) == 0
    assert (out / "kpis.csv").read_text() != "stale" and (out / "provenance.json").is_file()
    (out / "charts" / "mine.txt").write_text("x")  # a file asdsim did not write: never deleted
    capsys.readouterr()
    assert main(["run", str(MINIMAL), "--out", str(out), "--force", "--replications", "1"]) == 1
    assert (out / "charts" / "mine.txt").read_text() == "x"
    assert "mine.txt, which asdsim did not write" in capsys.readouterr().err


def test_a_run_finishing_second_does_not_replace_the_first(tmp_path):
    out = tmp_path / "o"
    with pytest.raises(OutputExists, match="another run"), atomic_folder(out) as tmp:
        (tmp / "provenance.json").write_text("{}")
        out.mkdir()  # another run finished meanwhile
        (out / "provenance.json").write_text('{"first": true}')
    assert (out / "provenance.json").read_text() == '{"first": true}'
    assert not list(tmp_path.glob(".o.*"))  # no temporary folder left behind


def test_stale_temporary_folders_of_dead_runs_are_removed(tmp_path):
    out = tmp_path / "o"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".o.{dead.pid}.abc.tmp"
    stale.mkdir()
    (stale / "patients.parquet").write_text("children")
    mine = tmp_path / f".o.{os.getpid()}.abc.tmp"  # a live process's: kept
    mine.mkdir()
    with atomic_folder(out) as tmp:
        (tmp / "provenance.json").write_text("{}")
    assert not stale.exists() and mine.exists()


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    out = tmp_path / "o"
    # the child says when its imports are done; main() sets the handler right after parsing
    code = "import sys; from asdsim.cli import main; print('ready', flush=True); sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code,
         "run", str(ROOT / "scenarios" / "nice_mdt.yaml"), "--replications", "400", "--jobs", "1",
         "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(3.0)  # parsed and simulating (400 replications take minutes)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert not out.exists() and not list(tmp_path.glob(".o.*"))


def test_names_that_a_spreadsheet_would_run_are_neutralised():
    import pandas as pd

    frame = pd.DataFrame({"locality": pd.Categorical(["=HYPERLINK(\"x\")", "south"]),
                          "team": ["+cmd", "-x"], "scenario": ["@sum", "plain"],
                          "value": [-1.5, 2.0]})
    safe = spreadsheet_frame(frame)
    assert list(safe.locality) == ["'=HYPERLINK(\"x\")", "south"]
    assert list(safe.team) == ["'+cmd", "'-x"] and list(safe.scenario) == ["'@sum", "plain"]
    assert list(safe.value) == ["-1.5", "2.0"]  # numbers stay numbers (no apostrophe)


def test_patients_csv_has_no_formulas(tmp_path):
    text = MINIMAL.read_text().replace("{town: 1.0}", "{'=town': 1.0}")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text)
    assert "'=town'" in text
    assert main(["run", str(scenario), "--out", str(tmp_path / "o"), "--csv",
                 "--replications", "1"]) == 0
    patients = (tmp_path / "o" / "patients.csv").read_text()
    assert ",'=town," in patients and ",=town," not in patients


def test_absurd_run_sizes_are_refused_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("asdsim.experiments.runner.run_replication",
                        lambda *a: pytest.fail("simulated"))
    assert main(["run", str(MINIMAL), "--out", str(tmp_path / "o"),
                 "--replications", "1000000000"]) == 1
    assert "GiB of memory" in capsys.readouterr().err
    assert main(["run", str(MINIMAL), "--out", str(tmp_path / "o"), "--seed", "-1"]) == 2
    assert not (tmp_path / "o").exists()


def test_jobs_above_the_cpu_count_are_lowered(tmp_path, capsys):
    assert main(["run", str(MINIMAL), "--out", str(tmp_path / "o"), "--replications", "2",
                 "--jobs", "64"]) == 0
    assert f"lowered to {os.cpu_count()}" in capsys.readouterr().err


def test_an_unwritable_out_is_found_before_simulating(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("asdsim.experiments.runner.run_replication",
                        lambda *a: pytest.fail("simulated"))
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["run", str(MINIMAL), "--out", str(blocker / "o"), "--replications", "1"]) == 1
    assert "cannot write" in capsys.readouterr().err
