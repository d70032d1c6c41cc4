"""The command line: every command, its outputs and its failure paths."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

import asdsim
from asdsim.cli import main
from tests.conftest import BASE, deep_update

SMALL = deep_update(BASE, {"horizon_weeks": 30})


def scenario_file(folder: Path, name: str = "small", file: str | None = None, **over) -> Path:
    path = folder / f"{file or name}.yaml"
    path.write_text(yaml.safe_dump(deep_update(SMALL, {"name": name, **over}), sort_keys=False))
    return path


def test_run_writes_the_results_folder(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(scenario_file(tmp_path)), "--replications", "2", "--out", str(out)])
    assert code == 0
    for name in ("kpis.csv", "patients.parquet", "weekly.csv", "report.html",
                 "scenario.resolved.yaml", "provenance.json"):
        assert (out / name).is_file(), name
    assert len(list((out / "charts").glob("*.png"))) == 6  # every chart but the forest plot
    kpis = pd.read_csv(out / "kpis.csv")
    assert {"kpi", "mean", "ci_low", "ci_high", "unit"} <= set(kpis.columns)
    assert json.loads((out / "provenance.json").read_text())["replications"] == 2
    assert asdsim.load_scenario(out / "scenario.resolved.yaml").name == "small"
    assert len(pd.read_parquet(out / "patients.parquet").replication.unique()) == 2
    assert "results in" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_run_csv_option(tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(scenario_file(tmp_path)), "--replications", "1", "--csv",
                 "--out", str(out)]) == 0
    assert (out / "patients.csv").is_file() and not (out / "patients.parquet").exists()


def test_run_refuses_a_non_empty_folder_unless_forced(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (out / "provenance.json").write_text("{}")  # an earlier results folder: --force may replace it
    (out / ".asdsim-written").write_text("keep.txt\nprovenance.json\n")  # ... as asdsim wrote both
    args = ["run", str(scenario_file(tmp_path)), "--replications", "1", "--out", str(out)]
    assert main(args) == 1
    assert "--force" in capsys.readouterr().err
    assert (out / "keep.txt").exists()
    assert main([*args, "--force"]) == 0
    assert not (out / "keep.txt").exists() and (out / "report.html").exists()


def test_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    import asdsim.reporting.outputs

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(asdsim.reporting.outputs, "render_report", broken)
    out = tmp_path / "out"
    # an unexpected error is a one-line message and exit 1, never a traceback
    assert main(["run", str(scenario_file(tmp_path)), "--replications", "1", "--out", str(out)]) == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["small.yaml"]


def test_invalid_scenario_prints_problems_and_exits_1(tmp_path, capsys):
    bad = scenario_file(tmp_path, demand={"referals_per_week": 3})
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "did you mean 'referrals_per_week'" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_validate(tmp_path, capsys):
    good = scenario_file(tmp_path, "good")
    bad = scenario_file(tmp_path, "bad", horizon_weeks=-1)
    assert main(["validate", str(good)]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["validate", str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert "bad.yaml: invalid" in captured.err and "horizon_weeks" in captured.err


def test_schema_prints_json(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "asdsim scenario"


def test_compare_writes_paired_differences(tmp_path):
    a = scenario_file(tmp_path, "low")
    b = scenario_file(tmp_path, "high", teams={"mdt": {"staff": {"paediatrician": {"wte": 3}}}})
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--replications", "3", "--out", str(out)]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert set(table.scenario) == {"low", "high"}
    base = table[table.scenario == "low"]
    assert (base.diff_mean.fillna(0) == 0).all()
    means = table.set_index(["scenario", "kpi"])["mean"]
    row = table[(table.scenario == "high") & (table.kpi == "exit[assessed]")].iloc[0]
    # the paired difference of a count reached in every replication is the difference of means,
    # and three times the paediatrician time assesses more children in every replication
    assert row.diff_mean == pytest.approx(means["high", "exit[assessed]"] - means["low", "exit[assessed]"])
    assert row.diff_ci_low > 0
    assert (out / "charts" / "forest.png").is_file()


def test_compare_baseline_by_file_and_duplicate_names(tmp_path, capsys):
    a = scenario_file(tmp_path, "a")
    b = scenario_file(tmp_path, "b")
    assert main(["compare", str(a), str(b), "--baseline", str(b), "--replications", "2",
                 "--out", str(tmp_path / "o")]) == 0
    assert json.loads((tmp_path / "o" / "provenance.json").read_text())["baseline"] == "b"
    assert main(["compare", str(a), str(a), "--replications", "2",
                 "--out", str(tmp_path / "o2")]) == 1
    assert "unique" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    assert main(["run", "x.yaml", "--no-such-option"]) == 2
    assert main([]) == 2
    assert main(["run", "x.yaml", "--replications", "0"]) == 2


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "Example" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert asdsim.__version__ in capsys.readouterr().out


# --- with the fixture scenarios in tests/fixtures ---------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


def leftovers(folder: Path) -> list[str]:
    """Temporary or backup folders left beside the output."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_run_writes_the_scenario_resolved_after_extends(tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(FIXTURES / "more_staff.yaml"), "--replications", "2", "--seed", "9",
                 "--out", str(out)]) == 0
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    assert "extends" not in resolved
    assert resolved["name"] == "more staff"
    assert resolved["teams"]["school"]["staff"]["paediatrician"]["wte"] == 1.2  # the override
    assert "preschool" in resolved["teams"]  # from the base file
    original = asdsim.load_scenario(FIXTURES / "more_staff.yaml")
    again = asdsim.load_scenario(out / "scenario.resolved.yaml")
    assert asdsim.scenario_hash(again) == asdsim.scenario_hash(original)
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["seed"] == 9 and provenance["command"][:2] == ["asdsim", "run"]
    assert provenance["scenario_hash"] == asdsim.scenario_hash(original)


def test_run_default_folder_is_results_and_the_file_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(FIXTURES / "small.yaml"), "--replications", "1"]) == 0
    assert (tmp_path / "results" / "small" / "report.html").is_file()


def test_existing_folder_is_refused_before_simulating(tmp_path, monkeypatch, capsys):
    def never(*_args, **_kwargs):
        raise AssertionError("simulated although the output folder was refused")

    monkeypatch.setattr(asdsim, "simulate", never)
    monkeypatch.setattr("asdsim.experiments.compare.simulate", never)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert main(["run", str(FIXTURES / "small.yaml"), "--out", str(out)]) == 1
    assert main(["compare", str(FIXTURES / "small.yaml"), str(FIXTURES / "more_staff.yaml"),
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("not empty") == 2 and "--force" in err and "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def test_an_empty_existing_folder_is_used(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert main(["run", str(FIXTURES / "small.yaml"), "--replications", "1", "--out", str(out)]) == 0
    assert (out / "kpis.csv").is_file() and leftovers(tmp_path) == []


def test_force_keeps_the_old_folder_when_writing_fails(tmp_path, monkeypatch):
    import asdsim.reporting.outputs

    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("previous results")
    (out / "provenance.json").write_text("{}")
    (out / ".asdsim-written").write_text("old.txt\nprovenance.json\n")

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(asdsim.reporting.outputs, "render_report", broken)
    assert main(["run", str(FIXTURES / "small.yaml"), "--replications", "1", "--force",
                 "--out", str(out)]) == 1
    assert sorted(p.name for p in out.iterdir()) == [".asdsim-written", "old.txt", "provenance.json"]
    assert leftovers(tmp_path) == []


def test_ctrl_c_while_writing_leaves_nothing(tmp_path, monkeypatch, capsys):
    import asdsim.reporting.outputs

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(asdsim.reporting.outputs, "save_charts", interrupted)
    out = tmp_path / "out"
    assert main(["compare", str(FIXTURES / "small.yaml"), str(FIXTURES / "more_staff.yaml"),
                 "--replications", "1", "--out", str(out)]) == 130
    assert "nothing was written" in capsys.readouterr().err
    assert not out.exists() and leftovers(tmp_path) == []


def test_an_unwritable_folder_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = main(["run", str(FIXTURES / "small.yaml"), "--replications", "1",
                 "--out", str(blocker / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "a-file" in err and "Traceback" not in err


def test_compare_failure_paths(tmp_path, capsys):
    small, invalid = str(FIXTURES / "small.yaml"), str(FIXTURES / "invalid.yaml")
    out = str(tmp_path / "cmp")
    assert main(["compare", small, invalid, "--out", out]) == 1
    err = capsys.readouterr().err
    assert "invalid.yaml:4: horizon_weeks" in err and "invalid.yaml:6: demand.referals_per_week" in err
    assert main(["compare", small, "--out", out]) == 2
    assert "at least two" in capsys.readouterr().err
    assert main(["compare", small, str(FIXTURES / "more_staff.yaml"), "--baseline", "nope",
                 "--replications", "1", "--out", out]) == 1
    assert "baseline 'nope'" in capsys.readouterr().err
    assert main(["compare", small, small, "--out"]) == 2  # --out without a value
    assert main(["compare", small, small, "--colour", "--out", out]) == 2
    assert "unrecognized arguments: --colour" in capsys.readouterr().err
    assert main(["compare", small, small]) == 2  # --out is required
    assert not Path(out).exists() and leftovers(tmp_path) == []


def test_validate_prints_each_problem_on_its_own_line(capsys):
    code = main(["validate", str(FIXTURES / "small.yaml"), str(FIXTURES / "invalid.yaml"),
                 str(FIXTURES / "missing.yaml")])
    captured = capsys.readouterr()
    assert code == 1
    assert "small.yaml: ok (small)" in captured.out
    lines = captured.err.splitlines()
    assert any(re.search(r"invalid\.yaml:4: horizon_weeks: got -4: expected", x) for x in lines)
    assert any(re.search(r"invalid\.yaml:6: .*did you mean 'referrals_per_week'", x) for x in lines)
    assert any("missing.yaml" in x and "not found" in x for x in lines)
    assert "Traceback" not in captured.err


def test_schema_validates_a_fixture(capsys):
    import jsonschema

    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    data = yaml.safe_load((FIXTURES / "small.yaml").read_text())
    data["start_date"] = str(data["start_date"])  # YAML reads a date; JSON has strings
    jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "horizon_weeks": "long"}, schema)


def test_no_progress_bar_when_output_is_not_a_terminal(tmp_path, capsys):
    assert main(["run", str(FIXTURES / "small.yaml"), "--replications", "2",
                 "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert "simulating" not in captured.out + captured.err
    assert "\x1b[" not in captured.out + captured.err  # no terminal control codes
    assert captured.out.splitlines()[0].startswith("small: 2 replications")


def test_progress_bar_on_a_terminal(monkeypatch):
    import io

    from rich.console import Console

    from asdsim.cli import console

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    with console.progress_bar("simulating [x]", terminal) as update:
        assert callable(update)
        update(1, 2)
        update(2, 2, "slot_utilisation[camhs]")
        terminal.file.flush()
    shown = screen.getvalue()
    assert "simulating [x]" in shown and "slot_utilisation[camhs]" in shown  # as written, not markup
    assert "2/2" in shown
    monkeypatch.setattr(console.sys.stdout, "isatty", lambda: False, raising=False)
    with console.progress_bar("simulating") as update:
        assert update is None


def test_every_subcommand_has_help_with_an_example(capsys):
    for command in ("run", "compare", "validate", "schema", "sweep", "verify", "regress"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "Example" in out and f"asdsim {command}" in out, command
        assert "``" not in out and "[bold" not in out and "[/" not in out, command  # no raw markup
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_the_readme_command_table_lists_every_option():
    import argparse

    from asdsim.cli import build_parser

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    rows = {line.split("`")[1].split()[1]: line for line in readme.splitlines()
            if line.startswith("| `asdsim ")}
    (commands,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(rows) == set(commands.choices)
    for name, parser in commands.choices.items():
        usage = rows[name].split("`")[1]
        for action in parser._actions:
            options = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
            assert not action.option_strings or action.option_strings == ["-h", "--help"] or any(
                o in usage.replace("[", " ").replace("]", " ").split() for o in options), (name, options)
