"""Scenario sweeps: grid files, the resumable point store, backends that agree, and the CLI."""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import asdsim
from asdsim.cli.sweep import add_parser
from asdsim.cli.sweep import command as sweep_command
from asdsim.experiments import sweep
from asdsim.experiments.backends import Backend, BackendError, DaskBackend, ProcessBackend, make_backend
from asdsim.experiments.grid import GridError, load_grid
from asdsim.experiments.sweep import PointStore, SweepError, run_sweep
from asdsim.reporting.sweep_chart import summary_chart
from asdsim.scenario.paths import parse_field, short_names

HAS_DASK = importlib.util.find_spec("distributed") is not None
REPO = Path(__file__).resolve().parents[1]

# A tiny pathway: half a year, a few children a week; a point of two replications takes ~20 ms.
TINY: dict[str, Any] = {
    "name": "tiny",
    "start_date": "2021-01-04",
    "horizon_weeks": 26,
    "demand": {"referrals_per_week": 5, "age_bands": [{"min_years": 2, "max_years": 16, "weight": 1}]},
    "teams": {"mdt": {
        "staff": {"paediatrician": {"wte": 0.5, "autism_share": 0.5},
                  "psychologist": {"wte": 0.5, "autism_share": 0.5}},
        "steps": [
            {"name": "history", "hours": {"paediatrician": 2}, "first_appointment": True,
             "assessment_started": True, "dna_probability": 0.1},
            {"name": "mdt", "hours": {"paediatrician": 1, "psychologist": 1}, "joint": True,
             "contact": False, "outcome": True},
        ],
    }},
    "outsourcing": [{"team": "mdt", "start_date": "2021-02-01", "end_date": "2021-05-31",
                     "assessments_per_month": 0}],
}


def write_grid(folder: Path, vary: dict[str, Any] | str, base: dict[str, Any] | None = None,
               **extra: Any) -> Path:
    """A base scenario and a grid file over it; ``vary`` as YAML text or a mapping."""
    (folder / "base.yaml").write_text(yaml.safe_dump(base or TINY, sort_keys=False))
    head = {"base": "base.yaml", "replications": 2, "seed": 7, **extra}
    text = yaml.safe_dump(head, sort_keys=False)
    text += vary if isinstance(vary, str) else yaml.safe_dump({"vary": vary}, sort_keys=False)
    path = folder / "grid.yaml"
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[asdsim.Problem]:
    with pytest.raises(asdsim.ScenarioError) as info:
        load_grid(path)
    return info.value.problems


# ------------------------------------------------------------------------------------ grid files


def test_grid_expands_lists_and_ranges_first_field_slowest(tmp_path: Path) -> None:
    path = write_grid(tmp_path, {
        "teams.mdt.staff.psychologist.wte": [0.5, 1.0],
        "demand.annual_growth": {"from": 0.0, "to": 0.1, "step": 0.05},
        "outsourcing.0.assessments_per_month": {"from": 0, "to": 8, "step": 4},
    })
    grid = load_grid(path)
    assert grid.fields == ("teams.mdt.staff.psychologist.wte", "demand.annual_growth",
                           "outsourcing[0].assessments_per_month")
    assert grid.values == ((0.5, 1.0), (0.0, 0.05, 0.1), (0, 4, 8))
    assert len(grid.points) == 18
    assert [p.index for p in grid.points] == list(range(18))
    assert grid.points[0].params == {"teams.mdt.staff.psychologist.wte": 0.5, "demand.annual_growth": 0.0,
                                     "outsourcing[0].assessments_per_month": 0}
    assert grid.points[1].params["outsourcing[0].assessments_per_month"] == 4   # last field fastest
    assert grid.points[9].params["teams.mdt.staff.psychologist.wte"] == 1.0    # first field slowest
    assert len({p.scenario_hash for p in grid.points}) == 18
    scenario = grid.scenario(grid.points[17])
    assert scenario.teams["mdt"].staff["psychologist"].wte == 1.0
    assert scenario.demand.annual_growth == 0.1
    assert scenario.outsourcing[0].assessments_per_month == 8
    assert asdsim.scenario_hash(scenario) == grid.points[17].scenario_hash
    assert grid.base.teams["mdt"].staff["psychologist"].wte == 0.5              # the base is untouched


def test_count_range_spreads_values_evenly_and_overrides_apply(tmp_path: Path) -> None:
    path = write_grid(tmp_path, {"demand.referrals_per_week": {"from": 2, "to": 3, "count": 5}})
    grid = load_grid(path, replications=3, seed=11)
    assert grid.values == ((2.0, 2.25, 2.5, 2.75, 3.0),)
    assert (grid.spec.replications, grid.spec.seed) == (3, 11)


def test_field_paths_parse_and_shorten() -> None:
    assert parse_field("outsourcing[0].team") == ("outsourcing", 0, "team")
    assert parse_field("outsourcing.0.team") == ("outsourcing", 0, "team")
    with pytest.raises(ValueError, match="dotted field path"):
        parse_field("teams..mdt")
    assert short_names(["teams.mdt.staff.slt.wte", "outsourcing[0].price_gbp", "horizon_weeks"]) == {
        "teams.mdt.staff.slt.wte": "slt.wte", "outsourcing[0].price_gbp": "outsourcing[0].price_gbp",
        "horizon_weeks": "horizon_weeks"}
    assert short_names(["teams.a.staff.slt.wte", "teams.b.staff.slt.wte"]) == {
        "teams.a.staff.slt.wte": "teams.a.staff.slt.wte", "teams.b.staff.slt.wte": "teams.b.staff.slt.wte"}


@pytest.mark.parametrize(("vary", "field", "line", "message"), [
    ("vary:\n  teams.mdt.staff.psycholgist.wte: [1, 2]\n", "vary[teams.mdt.staff.psycholgist.wte]", 5,
     "did you mean 'psychologist'"),
    ("vary:\n  outsourcing[3].price_gbp: [1, 2]\n", "vary[outsourcing[3].price_gbp]", 5,
     "has 1 item, so no [3]"),
    ("vary:\n  demand.annual_growth.x: [1]\n", "vary[demand.annual_growth.x]", 5, "single value"),
    ("vary:\n  demand.annual_growth: 0.1\n", "vary[demand.annual_growth]", 5,
     "expected a list of values, or a range"),
    ("vary:\n  demand.annual_growth: []\n", "vary[demand.annual_growth]", 5, "at least 1 item"),
    ("vary:\n  demand.annual_growth: {from: 0, to: 1, step: 0.5, count: 3}\n",
     "vary[demand.annual_growth]", 5, "exactly one of step and count"),
    ("vary:\n  demand.annual_growth: {from: 1, to: 0, step: 0.5}\n", "vary[demand.annual_growth]", 5,
     "must be at least from"),
    ("vary:\n  demand.annual_growth: {from: 0, upto: 1, step: 0.5}\n", "vary[demand.annual_growth].upto",
     5, "unknown key; did you mean 'to'"),
    ("vary:\n  demand.annual_growth: [0.1, 0.2, 0.1]\n", "vary[demand.annual_growth]", 5,
     "repeated: 0.1"),
    ("vary: {}\n", "vary", 4, "at least 1 item"),
    ("vary:\n  demand: [1, 2]\n  demand.referrals_per_week: [1, 2]\n",
     "vary[demand.referrals_per_week]", 6, "overlaps demand: one field lies inside the other"),
    ("vary:\n  demand.referrals_per_week: [1, 2]\n  demand: [1, 2]\n", "vary[demand]", 6,
     "overlaps demand.referrals_per_week: one field lies inside the other"),
    ("vary:\n  teams.mdt.staff.paediatrician.wte: [1, -1, -2]\n", "teams.mdt.staff.paediatrician.wte", 5,
     "expected a number >= 0.0 (at 2 points, first paediatrician.wte=-1)"),
    ("vary:\n  teams.mdt.staff.paediatrician.wte: [1, many]\n", "teams.mdt.staff.paediatrician.wte", 5,
     "expected a number (at 1 point, first paediatrician.wte=many)"),
])
def test_grid_errors_name_the_file_line_field_and_expectation(tmp_path: Path, vary: str, field: str,
                                                              line: int, message: str) -> None:
    path = write_grid(tmp_path, vary)
    problems = problems_of(path)
    problem = next((p for p in problems if p.field == field), None)
    assert problem is not None, problems
    assert (problem.file, problem.line) == (str(path), line)
    assert message in problem.message


def test_grid_file_level_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert problems_of(missing)[0].message == "grid file not found"

    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("base: base.yaml\nvary: [\n")
    assert "not valid YAML" in problems_of(bad_yaml)[0].message

    path = write_grid(tmp_path, {"demand.annual_growth": [0.0]}, replication=3)
    (problem,) = problems_of(path)
    assert (problem.field, problem.line) == ("replication", 4)
    assert "did you mean 'replications'" in problem.message

    (tmp_path / "grid.yaml").write_text("base: other.yaml\nvary: {demand.annual_growth: [0.0]}\n")
    (problem,) = problems_of(tmp_path / "grid.yaml")
    assert (problem.field, problem.line) == ("base", 1)
    assert "base scenario file not found" in problem.message

    with pytest.raises(GridError, match="replications"):
        load_grid(write_grid(tmp_path, {"demand.annual_growth": [0.0]}), replications=0)
    assert "in grid" in str(GridError([asdsim.Problem("g.yaml", 1, "vary", "x")]))


def test_invalid_base_scenario_names_the_base_file(tmp_path: Path) -> None:
    path = write_grid(tmp_path, {"demand.annual_growth": [0.0]}, base={**TINY, "horizon_weeks": -1})
    (problem,) = problems_of(path)
    assert problem.file.endswith("base.yaml")
    assert problem.field == "horizon_weeks"


# ------------------------------------------------------------------------------------- the store


def small_table() -> pd.DataFrame:
    return pd.DataFrame({"kpi": ["a", "b"], "mean": [0.5, float("nan")], "ci_low": [0.1, float("nan")],
                         "ci_high": [0.9, float("nan")], "unit": ["share", "weeks"], "n": [3, 0]})


def test_store_round_trips_and_rejects_damaged_files(tmp_path: Path) -> None:
    store = PointStore(tmp_path, version="1.0")
    key = store.key("0123456789abcdef", 7, 2)
    assert key == "0123456789abcdef-s7-r2"
    assert store.load(key) is None                                    # missing
    path = store.save(key, small_table())
    pd.testing.assert_frame_equal(store.load(key), small_table(), check_exact=True)
    assert [p.name for p in store.folder.iterdir()] == [path.name]   # no temporary file left

    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])                          # truncated
    assert store.load(key) is None
    # one byte changed anywhere: the file is rejected, or (a byte of statistics or padding) reads
    # back exactly the stored values; never a wrong result
    rejected = 0
    for position in range(0, len(good), 5):
        damaged = bytearray(good)
        damaged[position] ^= 0xFF
        path.write_bytes(bytes(damaged))
        loaded = store.load(key)
        if loaded is None:
            rejected += 1
        else:
            pd.testing.assert_frame_equal(loaded, small_table(), check_exact=True)
    assert rejected > len(good) // 10
    path.write_bytes(good)
    other = store.key("fedcba9876543210", 7, 2)
    store.path(other).write_bytes(good)                               # right content, wrong name
    assert store.load(other) is None
    assert store.load(key) is not None

    assert PointStore(tmp_path, version="0.0.0-other").load(key) is None   # another model's result
    assert PointStore(tmp_path, version=None).load(key) is not None

    (store.folder / ".tmp-half-written.parquet").write_bytes(b"PAR1")
    assert store.clean_temporary() == 1
    assert not list(store.folder.glob(".tmp-*"))


def test_store_rejects_a_file_whose_rows_do_not_match_its_checksum(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    store = PointStore(tmp_path)
    key = store.key("0123456789abcdef", 1, 1)
    path = store.save(key, small_table())
    table = pq.read_table(path)
    pq.write_table(table.slice(0, 1), path)                           # metadata kept, a row lost
    assert store.load(key) is None


# ------------------------------------------------------------------------------------- sweeping


@pytest.fixture(scope="module")
def two_field_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("grid")
    return write_grid(folder, {"teams.mdt.staff.paediatrician.wte": [0.4, 0.8, 1.2],
                               "outsourcing[0].assessments_per_month": [0, 4]})


def test_a_point_equals_simulating_its_scenario(two_field_grid: Path, tmp_path: Path) -> None:
    grid = load_grid(two_field_grid)
    result = run_sweep(grid, tmp_path, chart=False)
    point = grid.points[4]
    expected = asdsim.simulate(grid.scenario(point), replications=2, seed=7).kpis
    got = result.table[result.table["point"] == 4][list(sweep.KPI_COLUMNS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    assert set(result.table.columns) >= {"point", *grid.fields, "kpi", "mean", "ci_low", "ci_high", "unit",
                                         "scenario_hash"}
    assert result.table["point"].nunique() == 6
    # common random numbers: more paediatrician time never lowers the share started within 3 months here
    head = result.table[result.table["kpi"] == sweep.HEADLINE_KPI]
    by_wte = head.groupby("teams.mdt.staff.paediatrician.wte")["mean"].mean()
    assert by_wte.is_monotonic_increasing and by_wte.iloc[-1] > by_wte.iloc[0]


def test_dates_and_text_values_become_plain_columns(tmp_path: Path) -> None:
    vary = "vary:\n  outsourcing[0].end_date: [2021-04-30, 2021-05-31]\n" \
           "  teams.mdt.waiting_list.discipline: [fifo, longest_wait]\n"
    path = write_grid(tmp_path, vary, replications=1)
    grid = load_grid(path)
    assert grid.scenario(grid.points[3]).outsourcing[0].end_date.isoformat() == "2021-05-31"
    table = run_sweep(grid, tmp_path / "out").table
    assert table["outsourcing[0].end_date"].drop_duplicates().tolist() == ["2021-04-30", "2021-05-31"]
    assert table["teams.mdt.waiting_list.discipline"].drop_duplicates().tolist() == ["fifo", "longest_wait"]
    assert (tmp_path / "out" / "summary.png").exists()


def test_progress_per_point_and_repeat_reuses_everything(two_field_grid: Path, tmp_path: Path) -> None:
    grid = load_grid(two_field_grid)
    events: list[sweep.PointDone] = []
    first = run_sweep(grid, tmp_path, progress=events.append, chart=False)
    assert [e.done for e in events] == list(range(1, 7))
    assert sorted(e.point.index for e in events) == list(range(6))
    assert not any(e.reused for e in events) and first.computed == 6
    events.clear()
    again = run_sweep(grid, tmp_path, progress=events.append, chart=False)
    assert (again.computed, again.reused) == (0, 6) and all(e.reused for e in events)
    pd.testing.assert_frame_equal(again.table, first.table, check_exact=True)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="asdsim")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_jobs_1_jobs_2_and_dask_local_give_identical_tables(two_field_grid: Path, tmp_path: Path) -> None:
    runs = [["--jobs", "1"], ["--jobs", "2"]]
    if HAS_DASK:
        runs.append(["--dask", "local", "--jobs", "2"])
    tables, files = [], []
    for i, options in enumerate(runs):
        out = tmp_path / f"run{i}"
        args = parse(["sweep", str(two_field_grid), "--out", str(out), "--no-chart", *options])
        assert args.func(args) == 0
        tables.append(pd.read_parquet(out / "sweep.parquet"))
        files.append((out / "sweep.parquet").read_bytes())
    for table, data in zip(tables[1:], files[1:], strict=True):
        pd.testing.assert_frame_equal(table, tables[0], check_exact=True)
        assert data == files[0]
    if not HAS_DASK:
        pytest.skip("dask.distributed is not installed: only --jobs 1 and 2 compared "
                    "(pip install asdsim[dask])")


def test_backends_yield_every_item_once_whatever_the_order() -> None:
    items = list(range(12))
    with ProcessBackend(2) as backend:
        got = dict(backend.map_unordered(abs, (-i for i in items)))
    assert got == {-i: i for i in items}
    assert dict(Backend().map_unordered(abs, [-1, -2])) == {-1: 1, -2: 2}
    assert isinstance(make_backend(1), Backend) and not isinstance(make_backend(1), ProcessBackend)
    with pytest.raises(ValueError, match="at least 1"):
        make_backend(0)


def test_a_failing_point_stops_the_sweep_naming_it(two_field_grid: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    grid = load_grid(two_field_grid)
    real = sweep.run_point
    bad = grid.points[3]

    def flaky(task: sweep.PointTask) -> sweep.PointResult:
        if task.key.startswith(bad.scenario_hash):
            raise RuntimeError("model exploded")
        return real(task)

    monkeypatch.setattr(sweep, "run_point", flaky)
    with pytest.raises(SweepError, match=r"point 3 \(paediatrician.wte=0.8, .*\) failed: RuntimeError"):
        run_sweep(grid, tmp_path, chart=False)
    assert len(PointStore(tmp_path).stored()) == 3   # the points before it are kept
    assert not (tmp_path / "sweep.parquet").exists()


RESUME_SCRIPT = textwrap.dedent("""
    import sys, time
    from asdsim.experiments.sweep import load_grid, run_sweep

    def progress(event):
        if event.done == int(sys.argv[3]):   # stored: say so, then wait to be killed
            print("stored", flush=True)
            time.sleep(600)

    run_sweep(load_grid(sys.argv[1]), sys.argv[2], progress=progress, chart=False)
""")


def test_a_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    wte = [0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8]
    path = write_grid(tmp_path, {"teams.mdt.staff.paediatrician.wte": wte})
    grid = load_grid(path)
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # the sweep reports its third stored point and waits there: killed at a known point, however
    # fast or slow the machine
    process = subprocess.Popen([sys.executable, "-c", RESUME_SCRIPT, str(path), str(out), "3"], env=env,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "stored"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert len(PointStore(out).stored()) == 3
    assert not (out / "sweep.parquet").exists()

    resumed = run_sweep(grid, out, chart=False)
    assert (resumed.reused, resumed.computed) == (3, len(grid.points) - 3)
    assert not list((out / "points").glob(".tmp-*"))
    whole = run_sweep(grid, tmp_path / "whole", chart=False)
    pd.testing.assert_frame_equal(resumed.table, whole.table, check_exact=True)


def test_corrupted_point_files_are_recomputed_never_read(two_field_grid: Path, tmp_path: Path) -> None:
    grid = load_grid(two_field_grid)
    first = run_sweep(grid, tmp_path, chart=False)
    files = PointStore(tmp_path).stored()
    data = files[0].read_bytes()
    files[0].write_bytes(data[:-40])                                 # truncated: no footer
    files[1].write_bytes(b"not a parquet file at all")
    (tmp_path / "points" / ".tmp-leftover.parquet").write_bytes(data[:100])
    again = run_sweep(grid, tmp_path, chart=False)
    assert (again.computed, again.recomputed, again.reused) == (2, 2, 4)
    assert again.provenance["recomputed_not_intact"] == 2
    pd.testing.assert_frame_equal(again.table, first.table, check_exact=True)
    assert files[0].read_bytes() == data
    assert not list((tmp_path / "points").glob(".tmp-*"))


# ------------------------------------------------------------------------------------ the CLI


def test_cli_writes_table_chart_and_provenance(two_field_grid: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    args = parse(["sweep", str(two_field_grid), "--out", str(out), "--jobs", "1", "--replications", "3"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "6 points x 3 replications, seed 7" in printed
    assert "computed 6, reused 0" in printed
    assert f"{sweep.HEADLINE_KPI}: highest" in printed
    table = pd.read_parquet(out / "sweep.parquet")
    assert (table["n"][table["kpi"] == "referrals"] == 3).all()
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    provenance = yaml.safe_load((out / "sweep.json").read_text())
    assert provenance["points"] == 6 and provenance["replications"] == 3 and provenance["seed"] == 7
    assert asdsim.scenario_hash(asdsim.load_scenario(out / "base_scenario.yaml")) == \
        provenance["base_scenario_hash"]


def test_cli_progress_bar_on_a_terminal(two_field_grid: Path, tmp_path: Path) -> None:
    import io

    from rich.console import Console

    screen = io.StringIO()
    args = parse(["sweep", str(two_field_grid), "--out", str(tmp_path), "--no-chart", "--jobs", "1"])
    assert sweep_command(args, terminal=Console(file=screen, force_terminal=True, width=160)) == 0
    shown = screen.getvalue()
    assert "6/6" in shown and "point 5: paediatrician.wte=1" in shown


def test_cli_exit_codes(two_field_grid: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    bad = write_grid(tmp_path, {"teams.mdt.staff.nurse.wte": [1]})
    args = parse(["sweep", str(bad), "--out", str(tmp_path / "o")])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "vary[teams.mdt.staff.nurse.wte]" in err

    with pytest.raises(SystemExit) as usage:  # --jobs is read as strictly as a scenario's numbers
        parse(["sweep", str(two_field_grid), "--out", str(tmp_path / "o"), "--jobs", "0"])
    assert usage.value.code == 2
    a_file = tmp_path / "file"
    a_file.write_text("x")
    args = parse(["sweep", str(two_field_grid), "--out", str(a_file)])
    assert args.func(args) == 2
    assert "not a folder" in capsys.readouterr().err

    monkeypatch.setitem(sys.modules, "dask.distributed", None)      # as if Dask were not installed
    args = parse(["sweep", str(two_field_grid), "--out", str(tmp_path / "o"), "--dask", "local"])
    assert args.func(args) == 2
    assert "pip install asdsim[dask]" in capsys.readouterr().err
    with pytest.raises(BackendError, match=r"asdsim\[dask\]"):
        DaskBackend("local")
    with pytest.raises(SystemExit) as usage:
        parse(["sweep", str(two_field_grid)])                        # --out is required
    assert usage.value.code == 2


# ---------------------------------------------------------------------------------- the chart


@pytest.mark.parametrize("fields", [1, 2, 3, 4])
def test_summary_chart_for_any_number_of_fields(tmp_path: Path, fields: int) -> None:
    import itertools

    names = [f"teams.mdt.staff.g{i}.wte" for i in range(fields)]
    rows = []
    for n, combo in enumerate(itertools.product(*[[0.5, 1.0, 1.5]] * fields)):
        mean = sum(combo) / (2 * fields)
        rows.append({"point": n, **dict(zip(names, combo, strict=True)), "kpi": sweep.HEADLINE_KPI,
                     "mean": mean, "ci_low": mean - 0.05, "ci_high": mean + 0.05, "unit": "share", "n": 3})
    path = summary_chart(pd.DataFrame(rows), names, tmp_path / "chart.png", sweep.HEADLINE_KPI, "t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".tmp-*"))
    with pytest.raises(ValueError, match="no rows of KPI 'cost_total'"):
        summary_chart(pd.DataFrame(rows), names, tmp_path / "chart.png", "cost_total")


def test_example_grid_loads() -> None:
    grid = load_grid(REPO / "scenarios" / "grids" / "example.yaml")
    assert len(grid.points) == 27
    assert grid.base.name == "sweep example base"
