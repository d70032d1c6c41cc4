"""The NICE standard as a plan's target: one definition with the report, judged quarter by quarter,
and the plan's promise (its recommended scenario, run afresh, meets the standard from --by)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

import asdsim
from asdsim.analysis import standard
from asdsim.experiments import plan as planning
from asdsim.experiments.backends import make_backend
from asdsim.experiments.plan import PlanError, evaluate, make_levers, plan
from asdsim.experiments.targets import TargetError, parse_target, parse_targets
from asdsim.reporting.summary import summarise_design
from tests.conftest import BASE, deep_update

# ------------------------------------------------------------------------ the shared definition


def test_the_standard_is_met_from_a_quarter_when_every_judged_quarter_from_it_reaches_the_level():
    shares = {"2020Q3": 0.95, "2020Q4": 0.85, "2021Q1": 0.91, "2021Q2": 0.90, "2021Q3": math.nan}
    assert standard.worst_from(shares, "2021Q1") == 0.90
    assert standard.met_from(shares, "2021Q1") and standard.met_from(shares, "2021Q2")
    assert not standard.met_from(shares, "2020Q3")  # 2020Q4 is below, whatever came before
    assert not standard.met_from(shares, "2021Q3")  # nothing judged is not met
    assert standard.meets_from(shares) == "2021Q1"
    assert standard.meets_from(shares, level=0.95) is None
    assert standard.meets_from({"2020Q1": 0.9}) == "2020Q1"  # the level itself is met
    # a lower confidence bound that cannot be computed (one replication) is not met
    assert not standard.surely_met_from({"2021Q1": 0.92, "2021Q2": math.nan}, "2021Q1")
    assert standard.surely_met_from({"2021Q1": 0.92, "2021Q2": 0.95}, "2021Q1")


def test_quarters_judged_are_those_whose_every_referral_has_its_window_closed(make_scenario):
    """6 January 2020 plus 48 weeks is 7 December 2020 (day 336). 2020 Q2's last referral (30
    June; the quarter ends on 1 July, day 177) has its window (91.3 days) closed by day 268.3, so
    Q2 is judged; Q3 ends on 1 October (day 269), and 269 + 91.3 = 360.3 is after the horizon, so
    Q3 is not judged although its first referrals have a share. At 52 weeks (day 364) Q3 is
    judged and Q4 (ends day 361) is not; at 66 weeks (day 462) Q4 is."""
    scenario = make_scenario(horizon_weeks=48)
    assert standard.quarter_of(dt.date(2026, 10, 5)) == "2026Q4"
    assert standard.quarter_of(dt.date(2026, 1, 1)) == "2026Q1"
    assert standard.judged_quarters(scenario, "2020Q2") == ["2020Q2"]
    assert standard.judged_quarters(scenario, "2020Q3") == []
    assert standard.complete(scenario, "2020Q2") and not standard.complete(scenario, "2020Q3")
    table = asdsim.simulate(scenario, replications=1, seed=1).kpis.set_index("kpi")["mean"]
    with_share = [q for q in ("2020Q1", "2020Q2", "2020Q3", "2020Q4")
                  if not math.isnan(table[standard.quarter_kpi(q)])]
    assert with_share == ["2020Q1", "2020Q2", "2020Q3"]  # Q3's first referrals have a share
    assert standard.judged_quarters(scenario, "2020Q1") == ["2020Q1", "2020Q2"]
    assert standard.judged_quarters(make_scenario(horizon_weeks=52), "2020Q3") == ["2020Q3"]
    assert standard.judged_quarters(make_scenario(horizon_weeks=66), "2020Q4") == ["2020Q4"]


def _kpi_table(shares: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"kpi": f"assessment_started_within_3_months[{q}]", "mean": m,
                          "ci_low": lo, "ci_high": hi, "unit": "share", "n": 10}
                         for q, (m, lo, hi) in shares.items()])


def test_the_reports_verdict_is_the_shared_definition(make_scenario):
    """The report says "meets from Q" exactly where :func:`standard.meets_from` of the quarters'
    means does, and "with 95% confidence" where every interval from Q is above the level."""
    scenario = make_scenario()
    table = _kpi_table({"2020Q2": (0.95, 0.93, 0.97), "2020Q3": (0.88, 0.85, 0.91),
                        "2020Q4": (0.93, 0.89, 0.97), "2021Q1": (0.96, 0.95, 0.97)})
    design = summarise_design("A", table, scenario)
    assert design.meets_from == "2020Q4" == standard.meets_from(
        {"2020Q2": 0.95, "2020Q3": 0.88, "2020Q4": 0.93, "2021Q1": 0.96})
    assert not design.certain  # 2020Q4's interval reaches 89%
    assert summarise_design("A", table, scenario, level=0.85).meets_from == "2020Q2"


# ------------------------------------------------------------------------------- target strings


def test_the_standard_target_has_its_own_spelling_and_defaults():
    by = dt.date(2026, 10, 5)
    t = parse_target("nice_standard", by)
    assert (t.kpi, t.op, t.value, t.quarter) == ("nice_standard[2026Q4]", ">=", 0.9, "2026Q4")
    assert t.standard and not t.cohort and t.describe() == "nice_standard >= 0.9 from 2026Q4"
    assert "each quarter's referrals from 2026 Q4" in t.words()
    assert parse_target("standard", by).kpi == t.kpi
    other = parse_target("nice_standard >= 95% from 2027q1", by)
    assert (other.value, other.quarter) == (0.95, "2027Q1")  # a lower-case quarter is read
    assert t.met(0.9) and not t.met(0.8999) and not t.met(math.nan)
    assert parse_targets(["nice_standard", "waiting_over_52_weeks == 0"], by)[1].date == by


@pytest.mark.parametrize(("text", "why"), [
    ("nice_standard <= 0.9", "higher share meets"),
    ("nice_standard >= 1.2", "above 0 and at most 1"),
    ("nice_standard >= 0", "above 0 and at most 1"),
    ("nice_standard from 2026", "not a quarter like 2020Q4"),
    ("nice_standard from 2026Q5", "not a quarter"),
])
def test_bad_standard_targets_say_what_is_wrong(text, why):
    with pytest.raises(TargetError, match=why):
        parse_target(text, dt.date(2026, 10, 5))


def test_the_standard_needs_a_quarter_or_by():
    with pytest.raises(TargetError, match="give the first quarter"):
        parse_target("nice_standard")


def test_a_quarter_label_is_echoed_as_the_kpi_tables_write_it():
    t = parse_target("assessment_started_within_3_months[2026q4] >= 0.8")
    assert t.kpi == "assessment_started_within_3_months[2026Q4]"
    assert "2026q4" not in t.describe()


@pytest.mark.parametrize("text", ["backlog_cleared_weeks <= -1", "waiting_over_52_weeks <= -3 by 2020-06-01",
                                  "waiting_over_52_weeks < 0 by 2020-06-01",
                                  "assessment_started_wait_p90 < -0.5"])
def test_a_count_or_wait_below_zero_is_refused(text):
    with pytest.raises(TargetError, match="cannot be below 0"):
        parse_target(text)


# ---------------------------------------------------------------- the confidence rule, by hand


def _judge(rule: str, targets: list[str], quarters: dict[str, list[float]], pooled: list[float],
           confidence: float = 0.8) -> bool:
    """Whether a hand-made option, with these per-replication quarter shares and pooled share,
    is feasible for the targets under the rule (no simulation)."""
    by = dt.date(2020, 7, 1)
    ev = object.__new__(evaluate._Evaluator)
    ev.targets = parse_targets(targets, by)
    ev.rule, ev.confidence = rule, confidence
    ev.quarters = {t.kpi: sorted(quarters) for t in ev.targets if t.standard}
    rows = []
    for r in range(len(pooled)):
        row = {f"assessment_started_within_3_months[{q}]": v[r] for q, v in quarters.items()}
        row["assessment_started_within_3_months"] = pooled[r]
        rows.append(ev._with_standard(row))
    ev.kpis = tuple(rows[0])
    ev.cache = {((), r): row for r, row in enumerate(rows)}
    return ev.feasible_estimate(ev.estimate((), range(len(rows))))


def test_an_option_whose_pooled_share_passes_and_first_quarter_fails_is_infeasible():
    """Three quarters of equal size: 85%, 97%, 97% in every replication pool to 93%, so the
    pooled target is met; the standard is not, since the first quarter is below 90% in every
    replication (share rule) and in its interval (lower_ci rule)."""
    n = 10
    quarters = {"2020Q3": [0.85] * n, "2020Q4": [0.97] * n, "2021Q1": [0.97] * n}
    pooled = [(0.85 + 0.97 + 0.97) / 3] * n
    for rule in ("share", "lower_ci"):
        assert _judge(rule, ["assessment_started_within_3_months >= 0.9"], quarters, pooled)
        assert not _judge(rule, ["nice_standard"], quarters, pooled)
    better = {**quarters, "2020Q3": [0.92] * n}
    assert _judge("share", ["nice_standard"], better, pooled)


def test_the_share_rule_applies_to_every_quarter_at_once():
    """Each quarter is missed in 2 of 10 replications (each alone met in 80%), but in different
    ones: every quarter is met together in only 4 of 10 replications, so at 80% it fails."""
    n = 10
    quarters = {q: [0.95] * n for q in ("2020Q3", "2020Q4", "2021Q1")}
    for r, q in enumerate(["2020Q3", "2020Q3", "2020Q4", "2020Q4", "2021Q1", "2021Q1"]):
        quarters[q][r] = 0.89
    assert not _judge("share", ["nice_standard"], quarters, [0.95] * n)
    assert _judge("share", ["nice_standard"], quarters, [0.95] * n, confidence=0.4)


def test_the_share_rule_also_needs_the_reports_verdict_on_its_replications():
    """Eight of ten replications meet every quarter, but two collapse (10%), so the first
    quarter's mean is 74%: the report, on these replications, would not say "meets from 2020
    Q3", and the plan must not either."""
    n = 10
    quarters = {"2020Q3": [0.95] * 8 + [0.1] * 2, "2020Q4": [0.95] * n}
    assert not _judge("share", ["nice_standard"], quarters, [0.9] * n)
    mild = {"2020Q3": [0.95] * 8 + [0.85] * 2, "2020Q4": [0.95] * n}  # mean 93%
    assert _judge("share", ["nice_standard"], mild, [0.9] * n)


def test_the_lower_ci_rule_needs_each_quarters_interval_above_the_level():
    """Every quarter's mean is 92%, but one quarter varies so much that its 95% interval
    reaches below 90% (sd 0.066, half-width 2.262 x 0.066 / sqrt(10) = 0.047): infeasible under
    lower_ci, though feasible under the share rule at 60% (6 of 10 replications meet it)."""
    n = 10
    steady = [0.92] * n
    noisy = [0.99, 0.85, 0.99, 0.85, 0.99, 0.85, 0.99, 0.85, 0.92, 0.92]
    assert np.mean(noisy) == pytest.approx(0.92)
    assert _judge("share", ["nice_standard"], {"2020Q3": steady, "2020Q4": noisy}, steady, 0.6)
    assert not _judge("lower_ci", ["nice_standard"], {"2020Q3": steady, "2020Q4": noisy}, steady)
    assert _judge("lower_ci", ["nice_standard"], {"2020Q3": steady, "2020Q4": steady}, steady)


# ------------------------------------------------------------------------------- rough edges


def test_a_bound_or_step_naming_no_lever_is_refused(make_scenario):
    """A bound on a lever not varied used to be ignored, so a plan could add more than allowed."""
    scenario = make_scenario()
    on = dt.date(2020, 3, 2)
    with pytest.raises(PlanError, match="--bounds psychologst: no lever of that name; the levers "
                                        "are mdt/paediatrician"):
        make_levers(scenario, "paediatrician", on, bounds={"psychologst": (0, 1)})
    with pytest.raises(PlanError, match="--step slt: no lever"):
        make_levers(scenario, "paediatrician", on, step={"slt": 0.2})
    ok = make_levers(scenario, "paediatrician", on, bounds={"mdt/paediatrician": (0, 1)})
    assert ok[0].high == 10


def test_the_standard_needs_a_judged_quarter(make_scenario):
    scenario = make_scenario(horizon_weeks=48)
    with pytest.raises(PlanError, match="no quarter from 2020 Q4 has its 3-month window closed"):
        plan(scenario, None, "2020-03-02", by_date="2020-10-01", vary="paediatrician")


COSTED = {"teams": {"mdt": {"staff": {
    "paediatrician": {"wte": 1.0, "autism_share": 1.0, "annual_cost_per_wte_gbp": 100000},
    "psychologist": {"wte": 1.0, "autism_share": 1.0, "annual_cost_per_wte_gbp": 60000}}}}}


def small_area() -> asdsim.Scenario:
    """A small clinic-hours team with a starting list of 150: today's staffing does not meet the
    standard from 2020 Q3, a few tenths of a WTE more paediatrician does."""
    return asdsim.scenario_from_dict(deep_update(BASE, {
        "name": "small area", "horizon_weeks": 78, **COSTED,
        "initial_state": {"kind": "generated", "backlog": [
            {"stage": "awaiting_assessment", "count": 150, "weeks_waited_min": 0,
             "weeks_waited_max": 20}]}}))


def test_a_plan_cut_short_states_no_nan_lower_bound():
    with make_backend(2) as backend:
        result = plan(small_area(), None, "2020-03-02", by_date="2020-07-01", vary="paediatrician",
                      replications=3, confirm_replications=3, max_evaluations=2, seed=3,
                      backend=backend)
    assert not result.optimal and math.isnan(result.cost_lower_bound)
    summary = result.summary()
    assert "nan" not in summary.lower()
    assert "Not proved cheapest: cheaper options may also meet the targets" in summary


# ------------------------------------------------------------------------- the plan's promise

FRESH_SEED = 98765
"""A seed the plan never used: the recommended scenario is judged on new futures."""


def _verdict_within_sampling_error(kpis: pd.DataFrame, scenario: asdsim.Scenario, by_quarter: str
                                   ) -> tuple[bool, str | None]:
    """The report's verdict on a run, and whether it keeps the plan's promise: met from the --by
    quarter or earlier, or else every quarter from --by that the report finds below 90% has a
    95% interval reaching 90% (a shortfall within the run's sampling error)."""
    design = summarise_design("plan", kpis, scenario)
    if design.meets_from is not None and pd.Period(design.meets_from, "Q") <= pd.Period(by_quarter, "Q"):
        return True, design.meets_from
    table = kpis.set_index("kpi")
    short = [q for q in standard.judged_quarters(scenario, by_quarter)
             if table.loc[standard.quarter_kpi(q), "mean"] < standard.LEVEL]
    return all(table.loc[standard.quarter_kpi(q), "ci_high"] >= standard.LEVEL for q in short), \
        design.meets_from


@pytest.mark.slow
def test_the_recommended_scenario_run_afresh_meets_the_standard_from_by(tmp_path):
    """The plan (default target, small settings) is written; its recommended.yaml is loaded and
    run as ``asdsim run`` runs it, on 20 replications of a seed the plan never saw; the report's
    verdict ("meets the standard from QUARTER") must be 2020 Q3 (the --by quarter) or earlier,
    up to sampling error (see :func:`_verdict_within_sampling_error`)."""
    scenario = small_area()
    with make_backend(2) as backend:
        today = asdsim.simulate(scenario, replications=6, seed=FRESH_SEED, jobs=2)
        assert summarise_design("today", today.kpis, scenario).meets_from != "2020Q3"
        result = plan(scenario, None, "2020-03-02", by_date="2020-07-01",
                      vary="paediatrician,psychologist", replications=6, seed=3, backend=backend)
    assert result.feasible and result.added_cost > 0
    assert [t.describe() for t in result.targets] == ["nice_standard >= 0.9 from 2020Q3"]
    planning.write_plan(result, tmp_path / "plan")
    table = pd.read_csv(tmp_path / "plan" / "plan.csv")
    # the run ends on 5 July 2021, so 2021 Q2 (its last referrals' windows close in September)
    # is cut by the horizon and not judged
    for q in ("2020Q3", "2020Q4", "2021Q1"):
        assert {f"assessment_started_within_3_months[{q}]",
                f"assessment_started_within_3_months[{q}] ci_low"} <= set(table.columns)
    recommended = asdsim.load_scenario(tmp_path / "plan" / "recommended.yaml")
    fresh = asdsim.simulate(recommended, replications=20, seed=FRESH_SEED, jobs=2)
    kept, verdict = _verdict_within_sampling_error(fresh.kpis, recommended, "2020Q3")
    assert kept, verdict


# ---------------------------------------------------------------------------------- the command


@pytest.fixture
def cli():
    from asdsim.cli import root

    return root.main


def test_the_command_plans_for_the_standard_without_a_target(cli, tmp_path, capsys):
    source = tmp_path / "area.yaml"
    source.write_text(asdsim.scenario_to_yaml(small_area()))
    out = tmp_path / "plan"
    code = cli(["plan", str(source), "--from", "2020-03-02", "--by", "2020-07-01", "--vary",
                "paediatrician", "--bounds", "paediatrician=0:1", "--replications", "4",
                "--confirm-replications", "4", "--jobs", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "NICE standard from 2020 Q3 (at least 90% of each quarter's referrals" in printed
    assert "Share of each quarter's referrals whose assessment started within 3 months" in printed
    for q in ("2020 Q3", "2020 Q4", "2021 Q1"):
        assert f"  {q}: " in printed
    assert "  2021 Q2: " not in printed  # cut by the horizon (5 July 2021): not judged
    assert "nice_standard >= 0.9 from 2020Q3" in (out / "recommended.yaml").read_text()


@pytest.mark.parametrize(("option", "why"), [
    (["--seed", "-1"], "argument --seed: expected a number from 0"),
    (["--step", "0"], "a step must be a number above 0"),
    (["--step", "paediatrician=-0.1"], "a step must be a number above 0"),
    (["--bounds", "paediatrician=1:0"], "the low bound must be at most the high one"),
    (["--replications", "0"], "argument --replications: expected a number of at least 1"),
    (["--budget", "-5"], "argument --budget: expected a number of at least 0"),
    (["--outsourcing-months", "0"], "argument --outsourcing-months: expected a number of at least 1"),
    (["--lead-time-weeks", "-1"], "argument --lead-time-weeks: expected a number from 0 to 520"),
    (["--ramp-weeks", "600"], "argument --ramp-weeks: expected a number from 0 to 520"),
    (["--triage-cost", "-3"], "argument --triage-cost: expected a number of at least 0"),
])
def test_plan_options_are_checked_as_run_checks_its_own(cli, tmp_path, capsys, option, why):
    source = tmp_path / "area.yaml"
    source.write_text(asdsim.scenario_to_yaml(small_area()))
    code = cli(["plan", str(source), "--from", "2020-03-02", "--vary", "paediatrician", *option,
                "--out", str(tmp_path / "p")])
    assert code == 2
    assert why in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_too_many_jobs_are_lowered_to_the_cpus_with_a_note(cli, tmp_path, capsys, monkeypatch):
    from asdsim.cli import options

    monkeypatch.setattr(options, "cpu_count", lambda: 1)
    source = tmp_path / "area.yaml"
    source.write_text(asdsim.scenario_to_yaml(small_area()))
    code = cli(["plan", str(source), "--from", "2020-03-02", "--by", "2020-07-01", "--vary",
                "paediatrician", "--bounds", "paediatrician=0:0.5", "--replications", "2",
                "--confirm-replications", "2", "--jobs", "64", "--out", str(tmp_path / "p")])
    captured = capsys.readouterr()
    assert code in (0, 1)
    assert "note: --jobs 64 lowered to 1, the number of CPUs" in captured.err
    assert "on this process" in captured.out or "1 worker" in captured.out


def test_a_bound_on_a_lever_not_varied_is_refused_by_the_command(cli, tmp_path, capsys):
    source = tmp_path / "area.yaml"
    source.write_text(asdsim.scenario_to_yaml(small_area()))
    code = cli(["plan", str(source), "--from", "2020-03-02", "--vary", "paediatrician", "--bounds",
                "psychologist=0:0.5", "--out", str(tmp_path / "p")])
    assert code == 1
    assert "--bounds psychologist: no lever of that name" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_assess_shows_the_standard_quarter_by_quarter():
    """The standard's row is each replication's worst quarter, so its mean is at most every
    quarter's mean, and it is met in no more replications than any one quarter is."""
    with make_backend(2) as backend:
        table = planning.assess(small_area(), ["nice_standard"], replications=4, seed=5,
                                backend=backend, by_date="2020-07-01")
    assert list(table["target"]) == [
        "nice_standard >= 0.9 from 2020Q3", *(f"nice_standard >= 0.9 from 2020Q3: {q}" for q in
                                              ("2020Q3", "2020Q4", "2021Q1")), "all"]
    whole, quarters = table.iloc[0], table.iloc[1:-1]
    assert whole["mean"] <= quarters["mean"].min() + 1e-12
    assert whole["met_share"] <= quarters["met_share"].min()
    assert table.iloc[-1]["met_share"] == whole["met_share"]


# ------------------------------------------------------------------------------- drawn inputs


def test_a_plan_over_drawn_inputs_names_the_assumption_that_most_threatens_it(tmp_path):
    """The small area with two uncertain inputs: the psychologist's WTE (0.4 to 1.2, uniform; the
    plan varies only the paediatrician) and the referral rate (9 to 11 a week). The plan judges
    options over drawn inputs (the same draws for every option), then sets each input at its 5%
    and 95% points in turn. At 0.44 WTE the psychologist's hours (2 a child, about 8 children a
    week: 16 hours against 0.44 x 37.5 = 16.5) leave nothing to spare, so no paediatrician time
    can keep the standard: that input, at its low end, is named, and the plan said to hold only
    if it is not that low. The referral rate's ends (9.1, 10.9) move it less."""
    data = small_area().model_dump(mode="json")
    data["assumed"] = ["teams.mdt.staff.psychologist.wte", "demand.referrals_per_week"]
    data["uncertain"] = {"teams.mdt.staff.psychologist.wte": [0.4, 1.2],
                         "demand.referrals_per_week": [9, 11]}
    scenario = asdsim.scenario_from_dict(data)
    with make_backend(2) as backend:
        result = plan(scenario, None, "2020-03-02", by_date="2020-07-01", vary="paediatrician",
                      bounds={"paediatrician": (0, 1)}, replications=5, confirm_replications=10,
                      seed=3, backend=backend, draw_inputs=True)
    threats = result.threats
    assert len(threats) == 5 and threats.iloc[-1]["input"] == "as written"
    worst = threats.iloc[0]
    assert (worst["input"], worst["quantile"]) == ("teams.mdt.staff.psychologist.wte", 0.05)
    assert worst["value"] == pytest.approx(0.44)
    assert worst["p_meet"] < threats.iloc[-1]["p_meet"]
    rate = threats[threats["input"] == "demand.referrals_per_week"]
    assert sorted(rate["value"]) == pytest.approx([9.1, 10.9])
    assert (rate["p_meet"] >= worst["p_meet"]).all()
    assert ("holds only if an assumption is right: with teams.mdt.staff.psychologist.wte at 0.44 "
            "(its 5% point)") in result.summary()
    planning.write_plan(result, tmp_path / "plan")
    assert len(pd.read_csv(tmp_path / "plan" / "threats.csv")) == 5
    with pytest.raises(PlanError, match="no uncertain: inputs"):
        plan(small_area(), None, "2020-03-02", vary="paediatrician", draw_inputs=True)


def test_drawn_inputs_need_uncertain_inputs_and_triage_needs_a_price(cli, tmp_path, capsys):
    source = tmp_path / "area.yaml"
    source.write_text(asdsim.scenario_to_yaml(small_area()))
    common = ["plan", str(source), "--from", "2020-03-02", "--vary", "paediatrician"]
    assert cli([*common, "--draw-inputs", "--out", str(tmp_path / "p")]) == 1
    assert "gives no uncertain: inputs to draw" in capsys.readouterr().err
    assert cli([*common, "--vary", "triage", "--out", str(tmp_path / "q")]) == 1
    assert "triages each referral on arrival" in capsys.readouterr().err
    assert not (tmp_path / "p").exists() and not (tmp_path / "q").exists()


def test_the_plan_chart_labels_the_standard_in_words_and_wraps_a_long_title():
    from asdsim.reporting.plan_chart import plan_chart

    column = "nice_standard[2020Q4]"
    options = pd.DataFrame({
        "phase": ["search", "search", "confirm"], "feasible": [False, True, True],
        "frontier": [True, True, False], "recommended": [False, False, True],
        "added_cost_gbp": [0.0, 20000.0, 20000.0], column: [0.7, 0.93, 0.92],
        f"{column} ci_low": [0.6, 0.91, 0.9], f"{column} ci_high": [0.8, 0.95, 0.94]})
    label = "Lowest share of a quarter's referrals from 2020 Q4 starting assessment within 3 months"
    title = "A commissioner's area with a rather long scenario name: extra cost and targets"
    figure = plan_chart(options, [(column, 0.9, "higher", label, "share")], title=title)
    (ax,) = [a for a in figure.axes if a.get_visible()]
    assert ax.get_ylabel().replace("\n", " ") == label + " (%)"
    assert ax.get_xlabel() == "extra cost (GBP thousand a year)"
    assert "\n" in figure._suptitle.get_text()  # wrapped to the panel's width
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {
        "cost frontier", "target ≥ 90%", "recommended (fresh replications)", "meets the targets"}
