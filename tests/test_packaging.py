"""The scenario library travels with the package, and a shipped scenario is named without a path.

The slow test builds a wheel, installs it (not editable) in a fresh virtual environment outside
the source tree (tests/installed.py) and runs the commands a user would, from another folder.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

import asdsim
from asdsim.cli import main
from asdsim.experiments.grid import load_grid
from asdsim.scenario.library import library_folder, resolve_scenario, shipped_grids, shipped_scenarios
from tests.installed import installed

REPO = Path(__file__).resolve().parents[1]


def test_every_package_under_asdsim_is_listed_for_the_wheel():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "asdsim").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert listed - found == {"asdsim.scenario_library"}


def test_the_shipped_names_are_the_library_files():
    assert library_folder() == REPO / "scenarios"
    assert list(shipped_scenarios()) == sorted(p.stem for p in (REPO / "scenarios").glob("*.yaml"))
    assert "nice_mdt" in shipped_scenarios()
    assert list(shipped_grids()) == ["example"]  # grids/base.yaml is a scenario, not a grid


def test_a_shipped_name_loads_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_name = asdsim.load_scenario("nice_mdt")
    assert by_name.name == "NICE MDT"
    assert asdsim.scenario_hash(by_name) == asdsim.scenario_hash(
        asdsim.load_scenario(REPO / "scenarios" / "nice_mdt.yaml"))
    assert asdsim.load_scenario("nice_mdt.yaml").name == "NICE MDT"


def test_a_file_path_wins_over_a_shipped_name(tmp_path, monkeypatch):
    text = (REPO / "scenarios" / "minimal.yaml").read_text()
    first = next(line for line in text.splitlines() if line.startswith("name:"))
    (tmp_path / "nice_mdt.yaml").write_text(text.replace(first, "name: my own nice_mdt", 1))
    monkeypatch.chdir(tmp_path)
    assert asdsim.load_scenario("nice_mdt.yaml").name == "my own nice_mdt"
    assert resolve_scenario("nice_mdt.yaml") == Path("nice_mdt.yaml")
    assert resolve_scenario("nice_mdt") == REPO / "scenarios" / "nice_mdt.yaml"


def test_a_name_that_is_neither_lists_the_shipped_names(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(asdsim.ScenarioError) as caught:
        asdsim.load_scenario("nice_mtd")
    (problem,) = caught.value.problems
    assert problem.file == "nice_mtd"
    assert "not the name of a shipped scenario" in problem.message
    for name in shipped_scenarios():
        assert name in problem.message
    for argv in (["validate", "nice_mtd"], ["run", "nice_mtd", "--jobs", "1"],
                 ["sensitivity", "nice_mtd", "--out", "s"], ["compare", "nice_mdt", "nice_mtd", "--out", "c"],
                 ["sweep", "exampel", "--out", "w"]):
        assert main(argv) == 1, argv
        assert ("shipped sweep grids are: example" if argv[0] == "sweep"
                else "shipped scenarios are: as_happened_2018_2020") in capsys.readouterr().err
    # a path with a folder is a path: reported as a missing file, as before
    with pytest.raises(asdsim.ScenarioError) as caught:
        asdsim.load_scenario("sub/nice_mdt")
    assert [str(p) for p in caught.value.problems] == ["sub/nice_mdt: file not found"]
    assert not any(tmp_path.iterdir())  # nothing was written


def test_validate_takes_shipped_names_and_sweep_a_shipped_grid(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "nice_mdt", "as_is_2018"]) == 0
    warm = "warm start adds {} children part-way through assessment ({})"
    assert capsys.readouterr().out.splitlines() == [
        "nice_mdt: ok (NICE MDT)",
        "nice_mdt: " + warm.format(15, "preschool_mdt 3, school_age_mdt 12"),
        "as_is_2018: ok (as is 2018)",
        "as_is_2018: " + warm.format(121, "preschool 12, school_age 109")]
    assert resolve_scenario("example", "grid") == REPO / "scenarios" / "grids" / "example.yaml"


def _in(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess:
    """Run a command of the fresh environment with a bare environment (no PYTHONPATH)."""
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})


@pytest.mark.slow
def test_after_a_non_editable_install_shipped_names_work_from_any_folder(tmp_path):
    env = installed()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert REPO not in elsewhere.parents and REPO not in env.root.parents
    done = _in([env.asdsim, "validate", "nice_mdt"], elsewhere)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [
        "nice_mdt: ok (NICE MDT)",
        "nice_mdt: warm start adds 15 children part-way through assessment "
        "(preschool_mdt 3, school_age_mdt 12)"]

    done = _in([env.asdsim, "run", "nice_mdt", "--replications", "2", "--jobs", "1"], elsewhere)
    assert done.returncode == 0, done.stderr
    results = elsewhere / "results" / "nice_mdt"
    assert (results / "kpis.csv").is_file() and (results / "report.html").is_file()
    assert "NICE MDT" in done.stdout

    script = ("import asdsim, asdsim.scenario.library as lib, asdsim.app.sources as src\n"
              "print(asdsim.__file__)\nprint(lib.library_folder())\n"
              "print(asdsim.load_scenario('as_is_2018').name)\n"
              "print(','.join(src.starting_points()['Shipped scenarios']))\n"
              "from asdsim.experiments.grid import load_grid\n"
              "print(len(load_grid(lib.resolve_scenario('example', 'grid')).points))\n")
    done = _in([env.python, "-c", script], elsewhere)
    assert done.returncode == 0, done.stderr
    module, folder, name, listed, points = done.stdout.splitlines()
    venv = str(env.root / "venv")
    assert module.startswith(venv) and folder.startswith(venv) and folder.endswith("scenario_library")
    assert name == "as is 2018"
    assert listed.split(",") == list(shipped_scenarios())
    # the shipped grid and the base file it names travel too
    assert int(points) == len(load_grid(REPO / "scenarios" / "grids" / "example.yaml").points) > 1

    done = _in([env.asdsim, "validate", "nice_mtd"], elsewhere)
    assert done.returncode == 1 and "the shipped scenarios are: as_happened_2018_2020" in done.stderr
