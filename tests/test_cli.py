"""The command line: every command, its outputs and its failure paths."""

from __future__ import annotations

import json
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
    assert len(list((out / "charts").glob("*.png"))) == 5
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
    args = ["run", str(scenario_file(tmp_path)), "--replications", "1", "--out", str(out)]
    assert main(args) == 1
    assert "--force" in capsys.readouterr().err
    assert (out / "keep.txt").exists()
    assert main([*args, "--force"]) == 0
    assert not (out / "keep.txt").exists() and (out / "report.html").exists()


def test_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    import asdsim.outputs

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(asdsim.outputs, "render_report", broken)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        main(["run", str(scenario_file(tmp_path)), "--replications", "1", "--out", str(out)])
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
    row = table[(table.scenario == "high") & (table.kpi == "exit[assessed]")].iloc[0]
    assert row.diff_mean > 0 and row.diff_ci_low <= row.diff_mean <= row.diff_ci_high
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
    for command in (["--help"], ["run", "--help"], ["compare", "--help"], ["validate", "--help"],
                    ["schema", "--help"], ["sweep", "--help"]):
        assert main(command) == 0
        assert "Example" in capsys.readouterr().out, command
    assert main(["--version"]) == 0
    assert asdsim.__version__ in capsys.readouterr().out
