"""One output rule for every command that writes (issue 23, class 1).

Every command that writes (run, compare, sensitivity, plan, sweep, calibrate, regress, backtest,
areas, plan --areas, national; a test keeps the list complete) refuses an
output path that is, holds, or sits inside any file it reads: the scenario, every file of its
``extends:`` chain as YAML parses it (a flow mapping with a quoted key here, which no line-based
reading would find), its CSV snapshot, the grid and the data files, seen through symbolic links.
It exits 1 naming the output and the input, before any work, and every file is byte-identical
afterwards. The rule itself is :func:`asdsim.files.guard_output`; here it is tested through every
command, for every relation, so a command that forgets it fails.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from asdsim.cli import main
from asdsim.files import OutputRefused, guard_output, record_written, unwritten_files
from asdsim.scenario import scenario_files
from asdsim.templates_area import create_area

FIXTURES = Path(__file__).parent / "fixtures"


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (not following links) by its SHA-256."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture
def layout(tmp_path):
    """base/ (an area: scenario.yaml reading waiting_list.csv, and the data CSVs), child/ (a
    scenario extending the base through a flow mapping, and a grid on it) and link -> base."""
    create_area(tmp_path / "base")
    child = tmp_path / "child"
    child.mkdir()
    (child / "child.yaml").write_text('{"extends": "../base/scenario.yaml", "name": "child"}\n')
    (child / "grid.yaml").write_text("base: child.yaml\nreplications: 1\n"
                                     "vary:\n  demand.annual_growth: [0.0, 0.05]\n")
    (child / "areas.csv").write_text("area,scenario\nNorth,child.yaml\n")
    (tmp_path / "base" / "observed.csv").write_text(
        "date,measure,value\n2025-09-30,awaiting_assessment,100\n")
    (tmp_path / "link").symlink_to(tmp_path / "base", target_is_directory=True)
    return tmp_path


def test_the_scenario_layer_lists_every_file_a_scenario_reads(layout):
    files = {p.resolve() for p in scenario_files(layout / "child" / "child.yaml")}
    assert files == {(layout / "child" / "child.yaml").resolve(),
                     (layout / "base" / "scenario.yaml").resolve(),
                     (layout / "base" / "waiting_list.csv").resolve()}


# the output path of each relation, relative to the layout
RELATIONS = {
    "holds the extended base": "base",
    "is a link to a folder holding it": "link",
    "is the snapshot": "base/waiting_list.csv",
    "holds everything": ".",
    "is inside the scenario file": "child/child.yaml/sub",
}


def _argv(command: str, root: Path, out: str) -> list[str]:
    child = str(root / "child" / "child.yaml")
    base = root / "base"
    return {
        "run": ["run", child, "--replications", "1", "--out", out],
        "run --force": ["run", child, "--replications", "1", "--force", "--out", out],
        "compare": ["compare", child, str(base / "scenario.yaml"), "--replications", "1",
                    "--out", out],
        "sensitivity": ["sensitivity", child, "--replications", "1", "--out", out],
        "plan": ["plan", child, "--target", "assessment_started_within_3_months >= 0.5",
                 "--from", "2025-06-02", "--vary", "psychologist", "--team", "school_age_mdt",
                 "--out", out],
        "sweep": ["sweep", str(root / "child" / "grid.yaml"), "--out", out],
        "calibrate": ["calibrate", "--referrals", str(base / "referrals.csv"), "--base", child,
                      "--out", out, "--force"],
        "calibrate --report": ["calibrate", "--referrals", str(base / "referrals.csv"), "--base",
                               child, "--out", str(root / "new.yaml"), "--report", out],
        "regress --junit": ["regress", str(root / "child" / "child.yaml"), "--junit", out],
        "backtest": ["backtest", child, "--observed", str(base / "observed.csv"), "--cut",
                     "2025-06-30", "--out", out],
        "areas": ["areas", str(root / "child" / "areas.csv"), "--out", out],
        "plan --areas": ["plan", "--areas", str(root / "child" / "areas.csv"), "--from", "2025-06-02",
                         "--vary", "psychologist", "--team", "school_age_mdt",
                         "--out", out],
        # the national statistics' reader is given the snapshot and the scenario as its files, so
        # every relation to them is one to its own inputs
        "national": ["national", str(base / "waiting_list.csv"), child, "--organisation", "X",
                     "--out", out],
    }[command]


COMMANDS = ["run", "run --force", "compare", "sensitivity", "plan", "sweep", "calibrate",
            "calibrate --report", "regress --junit", "backtest", "areas", "plan --areas",
            "national"]


def _no_simulation(monkeypatch) -> None:
    """Fail the test if any replication is simulated (the output must be refused first).

    Every module of the packages that simulate is imported first, so none binds the stand-in at
    import and keeps it after the test; then each module's binding of ``run_replication`` (the
    runner's, and any module's ``from ... import run_replication``) is replaced for the test."""
    import importlib
    import pkgutil

    import asdsim.checks
    import asdsim.experiments
    from asdsim.experiments import runner

    def refuse(*args):
        pytest.fail("simulated before the output was checked")

    real = runner.run_replication
    modules = [importlib.import_module(info.name)
               for package in (asdsim.experiments, asdsim.checks)
               for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    for module in modules:
        if getattr(module, "run_replication", None) is real:
            monkeypatch.setattr(module, "run_replication", refuse)


@pytest.mark.parametrize("relation", sorted(RELATIONS))
@pytest.mark.parametrize("command", COMMANDS)
def test_no_command_writes_over_into_or_around_its_inputs(layout, command, relation, capsys,
                                                          monkeypatch):
    _no_simulation(monkeypatch)
    if command.startswith("regress") and relation != "is the snapshot":
        pytest.skip("--junit names a file: only equality with an input applies")
    before = _tree(layout)
    out = str(layout / RELATIONS[relation])
    code = main(_argv(command, layout, out))
    printed = capsys.readouterr()
    assert code == 1, printed
    assert "Traceback" not in printed.err + printed.out
    message = printed.err.strip().splitlines()[-1]
    assert "the input" in message and os.path.basename(out.rstrip("/.")) in message, message
    assert _tree(layout) == before  # nothing written, nothing replaced


def test_the_guard_sees_hard_links_and_folders(tmp_path):
    source = tmp_path / "data.csv"
    source.write_text("x\n")
    os.link(source, tmp_path / "hard.csv")
    with pytest.raises(OutputRefused, match="is the input"):
        guard_output(tmp_path / "hard.csv", [source])
    with pytest.raises(OutputRefused, match="holds the input"):
        guard_output(tmp_path, [source])
    with pytest.raises(OutputRefused, match="is inside the input"):
        guard_output(tmp_path / "in" / "x", [tmp_path / "in"])
    guard_output(tmp_path / "beside", [source])  # a sibling is fine
    with pytest.raises(OutputRefused, match="NUL"):
        guard_output("a\x00b", [source])


def test_the_list_of_files_written_names_what_may_be_replaced(tmp_path):
    (tmp_path / "kpis.csv").write_text("a\n")
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "a.png").write_text("png")
    assert unwritten_files(tmp_path) is None  # no list: nothing may be replaced
    record_written(tmp_path)
    assert unwritten_files(tmp_path) == []
    (tmp_path / "charts" / "notes.txt").write_text("mine")
    (tmp_path / "link").symlink_to(tmp_path / "kpis.csv")
    assert unwritten_files(tmp_path) == [tmp_path / "charts" / "notes.txt", tmp_path / "link"]


def _grid(folder: Path) -> Path:
    shutil.copy(FIXTURES / "small.yaml", folder / "small.yaml")
    (folder / "grid.yaml").write_text("base: small.yaml\nreplications: 1\nseed: 3\n"
                                      "vary:\n  demand.annual_growth: [0.0, 0.05, 0.1]\n")
    return folder / "grid.yaml"


def test_an_interrupted_sweep_resumes_and_keeps_files_put_there_by_hand(tmp_path, monkeypatch,
                                                                        capsys):
    import asdsim.experiments.sweep as sweep

    grid = _grid(tmp_path)
    out = tmp_path / "out"
    real = sweep.run_point
    calls = []

    def interrupted(task):
        calls.append(task.key)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(sweep, "run_point", interrupted)
    assert main(["sweep", str(grid), "--out", str(out), "--no-chart", "--jobs", "1"]) == 130
    assert "run the same command again to resume" in capsys.readouterr().err
    (out / "notes.txt").write_text("my notes")
    (out / "points" / "README").write_text("mine too")
    monkeypatch.setattr(sweep, "run_point", real)
    assert main(["sweep", str(grid), "--out", str(out), "--no-chart"]) == 0
    assert "reused 1" in capsys.readouterr().out
    assert (out / "notes.txt").read_text() == "my notes"
    assert (out / "points" / "README").read_text() == "mine too"
    assert main(["sweep", str(grid), "--out", str(out), "--no-chart"]) == 0  # and again
    assert (out / "notes.txt").read_text() == "my notes"


def test_a_sweep_never_writes_into_a_folder_it_did_not_make(tmp_path, capsys):
    grid = _grid(tmp_path)
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "sweep.csv").write_text("my own table")
    assert main(["sweep", str(grid), "--out", str(out), "--no-chart"]) == 1
    assert "a sweep did not write" in capsys.readouterr().err
    assert (out / "sweep.csv").read_text() == "my own table"
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv"]


def test_calibrate_force_replaces_only_a_calibrated_scenario(layout, capsys):
    mine = layout / "mine.yaml"
    mine.write_text("name: hand written\n")
    argv = ["calibrate", "--referrals", str(layout / "base" / "referrals.csv"), "--base",
            str(layout / "base" / "scenario.yaml"), "--out", str(mine), "--force"]
    assert main(argv) == 1
    assert "not written by asdsim calibrate" in capsys.readouterr().err
    assert mine.read_text() == "name: hand written\n"


def test_every_command_that_writes_is_in_the_guard_test():
    """A new command with an output (``--out``, ``--junit``, ``--report``) must join
    COMMANDS above: the rule is tested through every command, so a command that forgets it fails."""
    import argparse

    from asdsim.cli.root import SUBCOMMANDS, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    writing = set()
    for name, _help in SUBCOMMANDS:
        options = {o for a in sub.choices[name]._actions for o in a.option_strings}
        if options & {"--out", "--junit", "--report"}:
            writing.add(name)
    covered = {command.split()[0] for command in COMMANDS}
    assert writing - covered == set(), f"commands that write but are not tested: {writing - covered}"
