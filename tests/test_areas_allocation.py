"""Money across areas: the split of a budget on areas whose answer is known, and the least-cost
plans of every area."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from asdsim.cli.root import main
from asdsim.experiments.allocation import allocate, plan_every_area
from asdsim.experiments.areas import load_areas
from asdsim.experiments.plan import make_levers, plan

MINIMAL = Path(__file__).parent.parent / "scenarios" / "minimal.yaml"
ENGLAND = Path(__file__).parent.parent / "scenarios" / "england"
HEADER = ["area", "scenario", "demand.referrals_per_week", "teams.clinic.staff.paediatrician.wte",
          "teams.clinic.staff.psychologist.wte"]
SHORT = [5, 0.4, 0.4]
"""Five referrals a week into 0.4 WTE each: the list grows, so more staff starts more children."""
AMPLE = [5, 3, 3]
"""The same demand into 3 WTE each: every child starts within 3 months already."""
VARY = "paediatrician,psychologist"


def _areas(folder: Path, rows: list[list[object]]) -> Path:
    path = folder / "areas.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([[name, str(MINIMAL), *values] for name, *values in rows])
    return path


def _step_costs(path: Path) -> dict[str, float]:
    scenario = load_areas(path).first
    import datetime as dt

    return {lv.name: lv.cost_per_step for lv in make_levers(scenario, VARY, dt.date(2024, 1, 1))}


def test_identical_areas_split_a_budget_equally(tmp_path):
    path = _areas(tmp_path, [["a", *SHORT], ["b", *SHORT]])
    budget = 4 * _step_costs(path)["clinic/paediatrician"]
    result = allocate(load_areas(path), budget, "2024-01-01", "paediatrician", replications=4, seed=3)
    assert len(result.steps) == 4 and result.left == pytest.approx(0)
    by_area = result.split.groupby("area")["cost_gbp"].sum()
    assert by_area["a"] == pytest.approx(by_area["b"])
    changes = result.split.pivot(index="lever", columns="area", values="change")
    assert (changes["a"] == changes["b"]).all()
    # the same step in each area in turn, a first (the earlier row): each area's second step
    # gains less than the other's first
    assert list(result.steps["area"]) == ["a", "b", "a", "b"]
    gains = result.steps["children_gained"].tolist()
    assert gains[0] == gains[1] > gains[2] == gains[3]


def test_an_area_already_meeting_the_standard_gets_nothing(tmp_path):
    path = _areas(tmp_path, [["ample", *AMPLE], ["short", *SHORT]])
    costs = _step_costs(path)
    result = allocate(load_areas(path), 3 * max(costs.values()), "2024-01-01", VARY,
                      replications=4, seed=3)
    spent = result.split.groupby("area")["cost_gbp"].sum()
    assert spent["ample"] == 0 and spent["short"] > 0
    assert set(result.steps["area"]) == {"short"}
    ample = result.marginal.set_index("area").loc["ample"]
    assert ample.isna()["gbp_per_child_start"]  # no step of it starts anyone more


def test_a_budget_too_small_for_any_step_is_reported(tmp_path):
    path = _areas(tmp_path, [["a", *SHORT], ["b", *SHORT]])
    cheapest = min(_step_costs(path).values())
    result = allocate(load_areas(path), cheapest / 2, "2024-01-01", VARY, replications=2, seed=3)
    assert result.steps.empty and result.spent == 0 and result.left == cheapest / 2
    assert f"less than the cheapest step (GBP {cheapest:,.0f} a year)" in result.reason
    assert result.summary().startswith("Nothing bought: the budget")
    from asdsim.experiments.allocation import AllocationError

    for bad in ({"from_date": "April"}, {"from_date": "2030-01-01"}, {"budget": -1.0},
                {"objective": "shortest"}):
        args = {"budget": 1000.0, "from_date": "2024-01-01", **bad}
        objective = args.pop("objective", "started_within_3_months")
        with pytest.raises(AllocationError):
            allocate(load_areas(path), args["budget"], args["from_date"], VARY, replications=1,
                     objective=objective)


def test_every_step_bought_gains_and_the_budget_is_never_exceeded(tmp_path):
    path = _areas(tmp_path, [["a", *SHORT], ["b", 4, 0.5, 0.3]])
    budget = 60_000.0
    result = allocate(load_areas(path), budget, "2024-01-01", VARY, replications=3, seed=2)
    assert (result.steps["children_gained"] > 0).all()
    assert result.spent == pytest.approx(result.steps["cost_gbp"].sum())
    assert result.spent <= budget + 1e-6 and result.left == pytest.approx(budget - result.spent)
    assert result.steps["spent_gbp"].iloc[-1] == pytest.approx(result.spent)


def test_the_waiting_objective_buys_fewer_long_waiters_where_none_starts_sooner(tmp_path):
    """A list so long that no step starts anyone within 3 months still shrinks the long waits."""
    path = _areas(tmp_path, [["long", 5, 0.4, 0.4]])
    header = [*HEADER, "initial_state.backlog[0].count", "initial_state.backlog[0].weeks_waited_max"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow(["long", str(MINIMAL), *SHORT, 400, 104])
    areas = load_areas(path)
    budget = 3 * _step_costs(path)["clinic/paediatrician"]
    started = allocate(areas, budget, "2024-01-01", "paediatrician", replications=2, seed=1)
    assert started.steps.empty and "no affordable step gains" in started.reason
    fewer = allocate(areas, budget, "2024-01-01", "paediatrician", replications=2, seed=1,
                     objective="waiting_over_52_weeks")
    assert len(fewer.steps) == 3 and (fewer.steps["children_gained"] > 0).all()
    assert "fewer waiting over 52 weeks" in fewer.summary()


def test_professions_that_only_help_together_are_bought_together():
    """In the illustrative England every profession is just enough for the others, so one more
    of any one alone shortens nothing: only the step moving all three together gains."""
    england = load_areas(ENGLAND)
    one = dataclasses.replace(england, areas=england.areas[7:8])  # Shropshire, Telford and Wrekin
    result = allocate(one, 200_000, "2024-07-01", "paediatrician,slt,psychologist", step=0.5,
                      replications=2, seed=1, objective="waiting_over_52_weeks")
    first = result.steps.iloc[0]
    assert first["lever"] == "mdt/paediatrician + mdt/slt + mdt/psychologist"
    for alone in ("paediatrician", "slt", "psychologist"):
        single = allocate(one, 200_000, "2024-07-01", alone, step=0.5, replications=2, seed=1,
                          objective="waiting_over_52_weeks")
        assert single.steps.empty, alone
    assert first["children_gained"] > 0 and first["ci_low"] > 0


def test_each_areas_least_cost_plan_is_plan_on_that_area(tmp_path):
    path = _areas(tmp_path, [["a", *SHORT], ["ample", *AMPLE]])
    areas = load_areas(path)
    options = {"vary": "paediatrician", "replications": 3, "seed": 4, "bounds": {"paediatrician": (0, 1)},
               "step": 0.2, "max_evaluations": 12}
    target = "assessment_started_within_3_months >= 0.5"
    table, plans = plan_every_area(areas, [target], "2024-02-01", **options)
    assert set(plans) == {"a", "ample"}
    alone = plan(areas.areas[0].scenario, [target], "2024-02-01", **options)
    row = table.set_index("area").loc["a"]
    assert row["added_cost_gbp"] == alone.added_cost and row["feasible"] == alone.feasible
    assert table.set_index("area").loc["ample", "added_cost_gbp"] == 0


def test_plan_areas_reads_a_yaml_table_as_its_csv(tmp_path, capsys):
    csv_table = _areas(tmp_path, [["a", *SHORT], ["b", *SHORT]])
    items = "".join(f"  - {{area: {name}, scenario: {MINIMAL}, "
                    + ", ".join(f"{key}: {value}" for key, value in zip(HEADER[2:], SHORT, strict=True))
                    + "}\n" for name in ("a", "b"))
    yaml_table = tmp_path / "areas.yaml"
    yaml_table.write_text("areas:\n" + items, encoding="utf-8")
    split = {}
    for table in (csv_table, yaml_table):
        out = tmp_path / table.suffix.strip(".")
        assert main(["plan", "--areas", str(table), "--budget", "30000", "--from", "2024-01-01",
                     "--vary", VARY, "--replications", "2",
                     "--target", "assessment_started_within_3_months >= 0.9",
                     "--out", str(out)]) == 0
        split[table.suffix] = (out / "split.csv").read_text()
    assert split[".yaml"] == split[".csv"]
    assert "a," in split[".csv"]


def test_plan_areas_on_the_command_line(tmp_path, capsys):
    path = _areas(tmp_path, [["a", *SHORT], ["b", *SHORT]])
    out = tmp_path / "split"
    code = main(["plan", "--areas", str(path), "--budget", "30000", "--from", "2024-01-01",
                 "--vary", VARY, "--replications", "2",
                 "--target", "assessment_started_within_3_months >= 0.9", "--out", str(out)])
    assert code == 0
    for name in ("steps.csv", "split.csv", "marginal.csv", "marginal.png", "provenance.json"):
        assert (out / name).is_file()
    assert "Of GBP 30,000 a year" in capsys.readouterr().out
    assert main(["plan", str(MINIMAL), "--areas", str(path), "--from", "2024-01-01", "--vary", VARY,
                 "--target", "assessment_started_within_3_months >= 0.9",
                 "--out", str(tmp_path / "x")]) == 2
    assert "either SCENARIO.yaml or --areas" in capsys.readouterr().err


def test_every_areas_plan_on_the_command_line_writes_each_and_the_total(tmp_path, capsys):
    import pandas as pd

    path = _areas(tmp_path, [["a", *SHORT], ["ample", *AMPLE]])
    out = tmp_path / "plans"
    code = main(["plan", "--areas", str(path), "--target", "assessment_started_within_3_months >= 0.5",
                 "--from", "2024-02-01", "--vary", "paediatrician", "--bounds", "paediatrician=0:1",
                 "--step", "0.2", "--replications", "2", "--max-evaluations", "10", "--out", str(out)])
    table = pd.read_csv(out / "plans.csv").set_index("area")
    assert list(table.index) == ["a", "ample", "All areas"]
    assert table.loc["All areas", "added_cost_gbp"] == pytest.approx(
        table.loc["a", "added_cost_gbp"] + table.loc["ample", "added_cost_gbp"])
    assert code == (0 if table.loc[["a", "ample"], "feasible"].all() else 1)
    assert "plans.csv" in capsys.readouterr().out


def test_the_marginal_chart_is_readable(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from asdsim.reporting.areas_report import marginal_chart

    path = _areas(tmp_path, [["a", *SHORT], ["b", 4, 0.5, 0.3], ["ample", *AMPLE]])
    result = allocate(load_areas(path), 40_000.0, "2024-01-01", VARY, replications=2, seed=2)
    fig = marginal_chart(result.marginal)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    ax, box = fig.axes[0], fig.bbox
    for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
        extent = text.get_window_extent(canvas.get_renderer())
        assert text.get_text() and extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1, text.get_text()
    assert "GBP" in ax.xaxis.label.get_text()
    drawn = [what for column, what in (("gbp_per_child_start", "before the budget is spent"),
                                       ("gbp_per_child_end", "after the split"))
             if result.marginal[column].notna().any()]  # a series with no value is left out
    assert drawn and [t.get_text() for t in ax.get_legend().get_texts()] == drawn


def test_plan_areas_usage_errors_exit_2(tmp_path, capsys):
    path = _areas(tmp_path, [["a", *SHORT]])
    common = ["plan", "--areas", str(path), "--from", "2024-01-01", "--vary", VARY,
              "--target", "assessment_started_within_3_months >= 0.9", "--out", str(tmp_path / "x")]
    for extra, says in ((["--budget", "-5"], "--budget"), (["--seed", "-1"], "--seed"),
                        (["--replications", "0"], "--replications")):
        assert main([*common, *extra]) == 2
        assert says in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
