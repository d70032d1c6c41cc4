"""Many areas in one run: the areas table's checks, totals taken by hand, and the same tables
whatever runs the areas."""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from scipy import stats

from asdsim.analysis.kpis import per_replication_kpis
from asdsim.cli.root import main
from asdsim.experiments.areas import (
    TALLY_COLUMNS,
    AreasError,
    end_label,
    load_areas,
    replication_tallies,
    run_areas,
    total_table,
)
from asdsim.experiments.runner import run_replication
from asdsim.reporting.areas_report import ranked_chart, ranking, summarise_areas

ROOT = Path(__file__).parent.parent
MINIMAL = ROOT / "scenarios" / "minimal.yaml"
ENGLAND = ROOT / "scenarios" / "england"


def _table(folder: Path, rows: list[list[object]], header: list[str] | None = None) -> Path:
    header = header or ["area", "scenario", "demand.referrals_per_week", "horizon_weeks"]
    path = folder / "areas.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def two_areas(tmp_path: Path) -> Path:
    """Two small areas of the minimal scenario: one busy, one quiet, over 30 weeks."""
    return _table(tmp_path, [["busy", str(MINIMAL), 4, 30], ["quiet", str(MINIMAL), 1.5, 30]])


# ---------------------------------------------------------------------------- totals, by hand


def _tallies(rows: list[tuple[int, str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(TALLY_COLUMNS))


def test_counts_are_summed_within_each_replication_before_the_interval():
    a = _tallies([(0, "open_referrals[2024-12-31]", "children", 10, math.nan),
                  (1, "open_referrals[2024-12-31]", "children", 20, math.nan)])
    b = _tallies([(0, "open_referrals[2024-12-31]", "children", 5, math.nan),
                  (1, "open_referrals[2024-12-31]", "children", 1, math.nan)])
    row = total_table([a, b]).set_index("kpi").loc["open_referrals[2024-12-31]"]
    # replication totals 15 and 21: mean 18, half-width t(0.975, 1) x sd / sqrt(2)
    half = stats.t.ppf(0.975, 1) * np.std([15, 21], ddof=1) / math.sqrt(2)
    assert row["mean"] == 18
    assert row["ci_low"] == pytest.approx(max(18 - half, 0.0))
    assert row["ci_high"] == pytest.approx(18 + half)
    assert row["n"] == 2 and row["unit"] == "children"


def test_shares_are_pooled_over_children_not_averaged_over_areas():
    a = _tallies([(0, "assessment_started_within_3_months", "share", 3, 4),
                  (1, "assessment_started_within_3_months", "share", 1, 2)])
    b = _tallies([(0, "assessment_started_within_3_months", "share", 1, 6),
                  (1, "assessment_started_within_3_months", "share", 4, 8)])
    row = total_table([a, b]).set_index("kpi").loc["assessment_started_within_3_months"]
    # pooled: 4/10 and 5/10, mean 0.45; the mean of the areas' shares would be 0.479
    assert row["mean"] == pytest.approx(0.45)
    averaged = np.mean([(3 / 4 + 1 / 6) / 2, (1 / 2 + 4 / 8) / 2])
    assert abs(row["mean"] - averaged) > 0.02
    half = stats.t.ppf(0.975, 1) * np.std([0.4, 0.5], ddof=1) / math.sqrt(2)
    assert row["ci_high"] == pytest.approx(min(0.45 + half, 1.0))


def test_a_share_with_no_closed_window_in_a_replication_has_no_value_there():
    a = _tallies([(0, "s[2024Q4]", "share", 0, 0), (1, "s[2024Q4]", "share", 2, 4)])
    b = _tallies([(0, "s[2024Q4]", "share", 0, 0), (1, "s[2024Q4]", "share", 1, 4)])
    row = total_table([a, b]).set_index("kpi").loc["s[2024Q4]"]
    assert row["mean"] == pytest.approx(3 / 8) and row["n"] == 1


def test_a_kpi_missing_from_an_area_is_left_out_rather_than_under_counted():
    a = _tallies([(0, "referrals", "children", 5, math.nan), (0, "exit[x]", "children", 1, math.nan)])
    b = _tallies([(0, "referrals", "children", 7, math.nan)])
    table = total_table([a, b]).set_index("kpi")
    assert list(table.index) == ["referrals"] and table.loc["referrals", "mean"] == 12


def test_one_areas_pooled_shares_and_counts_equal_its_own_kpis(tmp_path):
    scenario = load_areas(_table(tmp_path, [["one", str(MINIMAL), 3, 40]])).areas[0].scenario
    records = [run_replication(scenario, 7, r) for r in range(2)]
    own = per_replication_kpis(records, scenario).set_index(["replication", "kpi"])["value"]
    for rec in records:
        for r, kpi, unit, num, den in replication_tallies(rec, scenario):
            if (r, kpi) not in own.index:
                continue
            expected = own.loc[(r, kpi)]
            if unit == "share" and den == 0:
                assert math.isnan(expected), kpi
            else:
                value = num / den if unit == "share" else num
                assert value == pytest.approx(expected, abs=1e-12), kpi


# ------------------------------------------------------------------------- running the areas


def test_the_total_of_a_count_is_the_sum_of_the_areas_and_the_pooled_share_lies_between(
        two_areas, tmp_path):
    areas = load_areas(two_areas)
    result = run_areas(areas, tmp_path / "store", replications=3, seed=5)
    busy, quiet = (result.kpis[n].set_index("kpi") for n in ("busy", "quiet"))
    total = result.total.set_index("kpi")
    end = end_label(areas.first)
    for kpi in ("referrals", f"open_referrals[{end}]", f"waiting_over_13_weeks[{end}]",
                "funded_cost_per_year"):
        assert total.loc[kpi, "mean"] == pytest.approx(busy.loc[kpi, "mean"] + quiet.loc[kpi, "mean"])
    share = "first_appointment_within_13_weeks"
    low, high = sorted([busy.loc[share, "mean"], quiet.loc[share, "mean"]])
    assert low - 1e-12 <= total.loc[share, "mean"] <= high + 1e-12


def _run(args: list[str]) -> int:
    return main(args)


def _tables(folder: Path) -> tuple[str, str]:
    return (folder / "areas.csv").read_text(), (folder / "total.csv").read_text()


def test_the_same_tables_with_one_worker_two_workers_and_dask(two_areas, tmp_path, capsys):
    assert _run(["areas", str(two_areas), "--out", str(tmp_path / "one"), "--jobs", "1",
                 "--replications", "2", "--seed", "3"]) == 0
    assert _run(["areas", str(two_areas), "--out", str(tmp_path / "two"), "--jobs", "2",
                 "--replications", "2", "--seed", "3"]) == 0
    assert _tables(tmp_path / "one") == _tables(tmp_path / "two")
    pytest.importorskip("dask.distributed")
    assert _run(["areas", str(two_areas), "--out", str(tmp_path / "dask"), "--dask", "local",
                 "--jobs", "2", "--replications", "2", "--seed", "3"]) == 0
    assert _tables(tmp_path / "one") == _tables(tmp_path / "dask")


def test_the_command_writes_everything_refuses_to_overwrite_and_reuses_finished_areas(
        two_areas, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(["areas", str(two_areas), "--out", str(out), "--jobs", "1", "--replications", "2"]) == 0
    for name in ("areas.csv", "total.csv", "ranking.csv", "ranked.png", "report.html",
                 "summary.txt", "provenance.json"):
        assert (out / name).is_file(), name
    # two areas: KPIs, tallies and observed points (none here, so no observed.csv)
    assert len(list((out / "points").glob("*.parquet"))) == 6
    assert not (out / "observed.csv").exists()
    text = capsys.readouterr().out
    assert "of 2 areas meet the 3-month standard" in text
    report = (out / "report.html").read_text()
    assert "children waiting over 13 weeks across all areas" in report
    before = _tables(out)
    assert _run(["areas", str(two_areas), "--out", str(out), "--jobs", "1", "--replications", "2"]) == 1
    assert "--force" in capsys.readouterr().err
    assert _run(["areas", str(two_areas), "--out", str(out), "--jobs", "1", "--replications", "2",
                 "--force"]) == 0
    assert "computed 0, reused 2" in capsys.readouterr().out
    assert _tables(out) == before
    assert not (tmp_path / ".out.areas").exists()


def test_usage_errors_exit_2(two_areas, tmp_path, capsys):
    for extra in (["--replications", "0"], ["--jobs", "0"], ["--seed", "-1"], ["--level", "1.5"]):
        assert _run(["areas", str(two_areas), "--out", str(tmp_path / "x"), *extra]) == 2
        assert not (tmp_path / "x").exists()


def test_the_summary_counts_areas_meeting_the_standard_as_the_single_area_verdict_does(
        two_areas, tmp_path):
    areas = load_areas(two_areas)
    result = run_areas(areas, tmp_path / "store", replications=2, seed=5)
    summary = summarise_areas(result.kpis, result.total, areas.first, end_label(areas.first), level=0.5)
    meeting = [n for n, d in summary.verdicts.items() if d.meets]
    assert summary.sentences[0].startswith(f"{len(meeting)} of 2 areas meet")
    ranked = ranking(result.kpis, summary)
    assert list(ranked["rank"]) == [1, 2]
    assert ranked["mean"].iloc[0] >= ranked["mean"].iloc[1]


def test_the_ranked_chart_is_readable(two_areas, tmp_path):
    areas = load_areas(two_areas)
    result = run_areas(areas, tmp_path / "store", replications=2, seed=5)
    summary = summarise_areas(result.kpis, result.total, areas.first, end_label(areas.first))
    fig = ranked_chart(ranking(result.kpis, summary))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = fig.bbox
    ax = fig.axes[0]
    renderer = canvas.get_renderer()
    for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
        assert text.get_text()
        extent = text.get_window_extent(renderer)
        assert extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1 and extent.y1 <= box.y1 + 1
    assert "(%)" in ax.xaxis.label.get_text()
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) >= 2


# --------------------------------------------------------------------- the table's messages


def _problems(path: Path) -> list[str]:
    with pytest.raises(AreasError) as caught:
        load_areas(path)
    return [str(p) for p in caught.value.problems]


def test_a_bad_value_is_named_by_file_line_and_column(tmp_path):
    path = _table(tmp_path, [["a", str(MINIMAL), 3, 30], ["b", str(MINIMAL), -2, 30]])
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:3: demand.referrals_per_week: got -2: expected a number >=")


def test_an_unknown_field_names_its_column_and_what_the_scenario_has(tmp_path):
    path = _table(tmp_path, [["a", str(MINIMAL), 3, 30]],
                  ["area", "scenario", "demand.referals_per_week", "horizon_weeks"])
    (problem,) = _problems(path)
    assert f"{path}:2: demand.referals_per_week: not a field of" in problem
    assert "did you mean 'referrals_per_week'" in problem


def test_missing_columns_duplicate_areas_and_missing_files_are_each_reported(tmp_path):
    path = _table(tmp_path, [["a", str(MINIMAL)]], ["area", "scenari"])
    assert _problems(path) == [f"{path}:1: scenario: this column is required"]
    path = _table(tmp_path, [["a", str(MINIMAL), 3, 30], ["a", str(MINIMAL), 3, 30],
                             ["", "nowhere.yaml", 3, 30], ["c", "nowhere.yaml", 3, 30]])
    problems = _problems(path)
    assert f"{path}:3: area: each area must appear once; 'a' is also on line 2" in problems
    assert f"{path}:4: area: this column is required in every row" in problems
    assert any(p.startswith(f"{path}:5: scenario: got 'nowhere.yaml': scenario file not found")
               for p in problems)


def test_areas_must_share_their_dates(tmp_path):
    path = _table(tmp_path, [["a", str(MINIMAL), 3, 30], ["b", str(MINIMAL), 3, 40]])
    problems = _problems(path)
    assert problems and all(p.startswith(f"{path}:3: scenario: its ") for p in problems)
    assert any("end date" in p for p in problems)


def test_a_ragged_row_and_an_empty_table_are_reported(tmp_path):
    path = _table(tmp_path, [["a", str(MINIMAL), 3]])
    assert _problems(path) == [f"{path}:2: expected 4 cells as the header has, got 3"]
    path.write_text("area,scenario\n", encoding="utf-8")
    assert _problems(path) == [f"{path}:2: the table has no areas: expected one row an area"]


def test_the_command_prints_every_problem_and_exits_1(tmp_path, capsys):
    path = _table(tmp_path, [["a", str(MINIMAL), "many", 30]])
    assert _run(["areas", str(path), "--out", str(tmp_path / "out")]) == 1
    assert f"{path}:2: demand.referrals_per_week" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------- the England


def test_england_has_42_areas_whose_starting_lists_sum_to_the_published_count():
    england = load_areas(ENGLAND)
    assert len(england.areas) == 42
    listed = sum(group.count for a in england.areas for group in a.scenario.initial_state.backlog)
    # NHS England Autism Statistics: 117,494 open referrals aged 0-17 at the end of June 2024
    assert abs(listed - 117_494) / 117_494 < 0.10
    assert england.first.start_date.isoformat() == "2024-07-01"
    referrals = sum(a.scenario.demand.referrals_per_week for a in england.areas)
    assert referrals == pytest.approx(1400, rel=0.01)  # the stated assumption


def test_a_snapshot_named_in_the_table_is_read_relative_to_the_table(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "today.csv").write_text(
        "child_id,referral_date,date_of_birth,stage,priority,locality\n"
        "A1,2023-09-26,2016-01-26,awaiting_assessment,,town\n"
        "A2,2023-10-05,2015-08-29,awaiting_assessment,,town\n"
        "A3,2023-11-05,2014-08-29,awaiting_assessment,,town\n", encoding="utf-8")
    columns = ["area", "scenario", "initial_state.kind", "initial_state.csv", "initial_state.backlog"]
    path = _table(tmp_path, [["listed", str(MINIMAL), "csv", "lists/today.csv", "[]"],
                             ["generated", str(MINIMAL), "", "", ""]], columns)
    listed, generated = load_areas(path).areas
    assert listed.scenario.initial_state.kind == "csv"
    assert generated.scenario.initial_state.kind == "generated"
    rec = run_replication(listed.scenario, 1, 0)
    # the three children of the table's file, and the 5 minimal.yaml's warm start puts part-way
    # through assessment (2.45 children a week sent to its team x 2 weeks to the outcome)
    assert int(rec.columns["from_backlog"].sum()) == 3 + 5
    assert int((rec.columns["from_backlog"] & (rec.columns["started_day"] <= 0)).sum()) >= 5
    path = _table(tmp_path, [["listed", str(MINIMAL), "csv", "lists/missing.csv", "[]"]], columns)
    assert any("missing.csv" in p for p in _problems(path))


def test_the_summary_states_the_totals_figures(two_areas, tmp_path, capsys):
    from asdsim.reporting import formatting as fmt

    out = tmp_path / "out"
    assert _run(["areas", str(two_areas), "--out", str(out), "--jobs", "1", "--replications", "3"]) == 0
    total = pd.read_csv(out / "total.csv").set_index("kpi")
    end = end_label(load_areas(two_areas).first)
    row = total.loc[f"waiting_over_13_weeks[{end}]"]
    stated = fmt.estimate(row["mean"], row["ci_low"], row["ci_high"], "children")
    summary = (out / "summary.txt").read_text()
    assert f"{stated} children waiting over 13 weeks across all areas" in summary
    report = (out / "report.html").read_text()
    assert f"<p>{stated} children waiting over 13 weeks across all areas" in report
    quarter = next(k for k in total.index if k.startswith("assessment_started_within_3_months[2024Q"))
    assert f'data-kpi="{quarter}"' not in report  # the report's table leaves out the quarters
    assert f'data-kpi="waiting_over_13_weeks[{end}]"' in report


def test_an_interrupted_run_resumes_from_its_store(two_areas, tmp_path, capsys):
    from asdsim.experiments.areas import store_path

    out = tmp_path / "out"
    areas = load_areas(two_areas)
    one = dataclasses.replace(areas, areas=areas.areas[:1])
    run_areas(one, store_path(out), replications=2, seed=9)  # as far as a run got before Ctrl-C
    assert _run(["areas", str(two_areas), "--out", str(out), "--jobs", "1", "--replications", "2",
                 "--seed", "9"]) == 0
    assert "computed 1, reused 1" in capsys.readouterr().out


def test_the_progress_bar_names_each_area_on_a_terminal(two_areas, tmp_path):
    import io

    from rich.console import Console

    from asdsim.cli.areas import command
    from asdsim.cli.root import build_parser

    screen = io.StringIO()
    args = build_parser().parse_args(["areas", str(two_areas), "--out", str(tmp_path / "o"),
                                      "--jobs", "1", "--replications", "1"])
    assert command(args, terminal=Console(file=screen, force_terminal=True, width=160)) == 0
    shown = screen.getvalue()
    assert "2/2" in shown and "quiet" in shown


def test_a_failure_while_writing_keeps_the_finished_areas_and_writes_nothing(two_areas, tmp_path,
                                                                             monkeypatch):
    from asdsim.experiments.areas import store_path, write_areas
    from asdsim.reporting import areas_report

    out = tmp_path / "out"
    result = run_areas(load_areas(two_areas), store_path(out), replications=1, seed=2)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(areas_report, "render_areas_report", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_areas(result, out)
    assert not out.exists()
    assert len(list((store_path(out) / "points").glob("*.parquet"))) == 6  # KPIs, tallies, observed


def test_a_failing_area_is_named_and_exits_1_with_nothing_written(two_areas, tmp_path, capsys,
                                                                  monkeypatch):
    from asdsim.experiments.areas import run as area_run

    real = area_run.run_area

    def fails_for_quiet(task):
        if task.scenario.name == "quiet":
            raise ValueError("no capacity")
        return real(task)

    monkeypatch.setattr(area_run, "run_area", fails_for_quiet)
    out = tmp_path / "out"
    assert _run(["areas", str(two_areas), "--out", str(out), "--jobs", "1", "--replications", "1"]) == 1
    assert "area quiet (line 3) failed: ValueError: no capacity" in capsys.readouterr().err
    assert not out.exists()


def test_an_areas_observed_series_is_a_cell_of_its_row(tmp_path):
    series = ("[{date: 2024-06-30, measure: open_referrals, value: 40, use: validation, "
              'source: "the area\'s own count"}]')
    path = _table(tmp_path, [["seen", str(MINIMAL), series], ["unseen", str(MINIMAL), ""]],
                  ["area", "scenario", "observed"])
    seen, unseen = load_areas(path).areas
    (point,) = seen.scenario.observed
    assert (str(point.date), point.measure, point.value) == ("2024-06-30", "open_referrals", 40)
    assert unseen.scenario.observed == ()
    path = _table(tmp_path, [["seen", str(MINIMAL), series.replace("open_referrals", "queue")]],
                  ["area", "scenario", "observed"])
    assert all(p.startswith(f"{path}:2: observed") for p in _problems(path))


def test_a_shipped_areas_table_is_named_without_a_path(tmp_path, capsys, monkeypatch):
    from asdsim.scenario.library import library_folder, resolve_scenario, shipped_areas

    assert shipped_areas() == {"england": library_folder() / "england"}
    assert resolve_scenario("england", "areas") == library_folder() / "england"
    monkeypatch.chdir(tmp_path)  # a path always wins: a folder of that name here is the one read
    (tmp_path / "england").mkdir()
    assert resolve_scenario("england", "areas") == Path("england")
    assert _run(["areas", "nowhere", "--out", str(tmp_path / "o")]) == 1
    said = capsys.readouterr().err
    assert "not the name of a shipped areas table" in said and "england" in said
    assert not (tmp_path / "o").exists()


def test_each_areas_observed_points_are_set_beside_its_simulation(tmp_path, capsys):
    """observed.csv holds every area's published points beside the simulated values: the same
    figures, to the last digit, as `asdsim run` of that area's own scenario gives (common random
    numbers: same seed, same replications); an area without points adds no row."""
    series = ("[{date: 2024-05-31, measure: open_referrals, value: 40, use: validation, "
              'source: "count A"}, {date: 2024-05-31, measure: awaiting_assessment, value: 100000,'
              ' use: validation, source: "count B"}]')
    path = _table(tmp_path, [["seen", str(MINIMAL), series, 30], ["unseen", str(MINIMAL), "", 30]],
                  ["area", "scenario", "observed", "horizon_weeks"])
    out = tmp_path / "out"
    assert _run(["areas", str(path), "--out", str(out), "--replications", "3", "--seed", "5",
                 "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "observed.csv")
    assert list(table["area"]) == ["seen", "seen"]
    assert list(table["source"]) == ["count A", "count B"]
    assert "period_start" not in table.columns  # a column no point uses is left out
    # the area on its own, through asdsim run
    from asdsim.scenario import scenario_to_yaml

    seen = load_areas(path).areas[0]
    own_file = tmp_path / "seen.yaml"
    own_file.write_text(scenario_to_yaml(seen.scenario), encoding="utf-8")
    assert _run(["run", str(own_file), "--replications", "3", "--seed", "5", "--jobs", "1",
                 "--out", str(tmp_path / "own")]) == 0
    own = pd.read_csv(tmp_path / "own" / "validation.csv")
    for column in ("observed", "simulated_mean", "simulated_low", "simulated_high", "inside"):
        assert table[column].tolist() == own[column].tolist(), column
    assert table["observed"].tolist() == [40, 100000]
    assert not table["inside"].iloc[1]  # 100,000 waiting is far outside any replication
    inside = int(table["inside"].sum())
    assert f"observed: {inside} of 2 published figures of 1 area inside" in printed
    assert "observed.csv" in printed



def test_a_table_named_from_its_own_folder_takes_the_folders_name(two_areas, monkeypatch):
    monkeypatch.chdir(two_areas.parent)  # "areas.csv" given bare: its folder is "."
    assert load_areas(Path("areas.csv")).name == two_areas.parent.name


@pytest.mark.parametrize("command", [["areas"], ["plan", "--areas"]])
def test_a_cluster_that_cannot_be_had_is_a_usage_error_before_any_work(two_areas, tmp_path,
                                                                        capsys, command):
    pytest.importorskip("dask.distributed")
    argv = [*command, str(two_areas), "--out", str(tmp_path / "o"), "--dask", "not-an-address"]
    if command[0] == "plan":
        argv += ["--from", "2024-03-04", "--vary", "psychologist", "--team", "clinic"]
    assert _run(argv) == 2
    said = capsys.readouterr().err
    assert f"asdsim {command[0]}: cannot reach the Dask scheduler at not-an-address" in said
    assert not (tmp_path / "o").exists()
