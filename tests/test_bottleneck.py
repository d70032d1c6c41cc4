"""Where children pile up (asdsim.analysis.bottleneck) and stated capacity against stated demand
(asdsim.analysis.utilisation): hand-made tables and hand-worked scenarios, then real runs."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import pandas as pd
import pytest

import asdsim
from asdsim.analysis.bottleneck import (
    bottleneck_sentence,
    default_from_day,
    describe_bottleneck,
    find_bottleneck,
    growing_stages,
    stage_flows,
)
from asdsim.analysis.utilisation import over_capacity, stated_utilisation, team_hours, triage_load
from asdsim.cli import main
from asdsim.reporting.outputs import write_run
from asdsim.reporting.summary import summarise

REPO = Path(__file__).resolve().parents[1]
NAN = math.nan
HORIZON = 70.0  # ten weeks

COLUMNS = ["replication", "team", "first_referral_day", "accepted_day", "list_join_day",
           "assessment_started_day", "diagnosis_day", "exit_day", "exit_reason"]
# one replication, six children, worked by hand below
CHILDREN = [
    # in triage at the start, accepted on day 2, then through every stage within the run
    (0, "A", -10, 2, 2, 20, 40, 50, "assessed"),
    (0, None, 5, NAN, NAN, NAN, NAN, NAN, "waiting"),  # still in triage at the end
    (0, None, 10, NAN, NAN, NAN, NAN, 12, "rejected"),  # turned down at triage
    (0, None, 20, NAN, NAN, NAN, NAN, NAN, "waiting"),  # still in triage at the end
    (0, "A", -30, -20, -20, NAN, NAN, 30, "withdrawn"),  # on A's list at the start, withdrew
    (0, "A", 30, 31, 31, NAN, NAN, NAN, "waiting"),  # on A's list at the end
]


def table(rows=CHILDREN) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def by_stage(flows):
    return {(f.stage, f.team): f for f in flows}


def test_each_stage_counted_by_hand():
    flows = by_stage(stage_flows(table(), HORIZON, from_day=0))  # the whole run
    triage = flows[("triage", None)]
    # at the start: child 1 (referred day -10, accepted day 2); at the end: children 2 and 4;
    # entered in the run: 2, 3, 4, 6; triaged: 1 (accepted), 3 (rejected), 6 (accepted)
    assert (triage.at_start, triage.at_end) == (1, 2)
    assert triage.arrivals_per_week == pytest.approx(4 / 10)
    assert triage.served_per_week == pytest.approx(3 / 10)
    assert triage.other_exits_per_week == 0
    assert triage.growth_per_week == pytest.approx(1 / 10)
    waiting = flows[("waiting list", "A")]
    # child 5 at the start (withdrew on day 30: not served); child 6 at the end; 1 and 6 joined
    assert (waiting.at_start, waiting.at_end) == (1, 1)
    assert waiting.arrivals_per_week == pytest.approx(2 / 10)
    assert waiting.served_per_week == pytest.approx(1 / 10)
    assert waiting.other_exits_per_week == pytest.approx(1 / 10)
    assert waiting.growth_per_week == 0
    for stage in ("mid-assessment", "post-diagnosis"):  # child 1 passes through both
        f = flows[(stage, "A")]
        assert (f.at_start, f.at_end, f.arrivals_per_week, f.served_per_week) == (0, 0, 0.1, 0.1)


def test_a_child_transferred_between_lists_stays_on_each_for_its_own_time():
    # Two children, whole run (days 0-70). Child 0 joins J's list on day 5, is transferred on
    # day 25 to S's list (joins it the same day) and starts there on day 40. Child 1 joins J's
    # list on day 10, is transferred on day 30 and held: on no list from then to the end.
    patients = pd.DataFrame([
        (0, 0, "S", 1, 0, 0, 5, 40, NAN, NAN, "in_assessment"),
        (0, 1, "J", 1, 0, 0, 10, NAN, NAN, NAN, "waiting"),
    ], columns=["replication", "patient_id", "team", "transfers", *COLUMNS[2:]])
    stays = pd.DataFrame([(0, 0, "J", 5.0, 25.0), (0, 0, "S", 25.0, NAN), (0, 1, "J", 10.0, 30.0)],
                         columns=["replication", "patient_id", "team", "joined_day", "left_day"])
    flows = by_stage(stage_flows(patients, HORIZON, from_day=0, stays=stays))
    j, s = flows[("waiting list", "J")], flows[("waiting list", "S")]
    # J: both children arrive (days 5 and 10) and both leave by a transfer, not served; empty
    # at the end. S: child 0 arrives on day 25 and is served on day 40.
    assert (j.at_start, j.at_end, j.arrivals_per_week, j.served_per_week,
            j.other_exits_per_week) == (0, 0, pytest.approx(0.2), 0, pytest.approx(0.2))
    assert (s.at_start, s.at_end, s.arrivals_per_week, s.served_per_week,
            s.other_exits_per_week) == (0, 0, pytest.approx(0.1), pytest.approx(0.1), 0)
    # without the stays each child counts on its last team's list from its first joining
    plain = by_stage(stage_flows(patients, HORIZON, from_day=0))
    assert plain[("waiting list", "J")].at_end == 1
    assert plain[("waiting list", "S")].arrivals_per_week == pytest.approx(0.1)
    with pytest.raises(ValueError, match="no column patient_id"):
        stage_flows(patients.drop(columns="patient_id"), HORIZON, stays=stays)


def test_the_bottleneck_is_the_stage_that_grows_most():
    assert find_bottleneck(table(), HORIZON, from_day=0) is None  # one more child is chance
    assert "do not pile up" in bottleneck_sentence(None)
    # six more children join A's list on day 40 and wait: A's list now grows most (1 -> 7)
    more = [(0, "A", 35, 40, 40, NAN, NAN, NAN, "waiting")] * 6
    found = find_bottleneck(table(CHILDREN + more), HORIZON, from_day=0)
    assert (found.stage, found.team, found.at_start, found.at_end) == ("waiting list", "A", 1, 7)
    assert found.arrivals_per_week == pytest.approx(8 / 10)
    assert bottleneck_sentence(found) == (
        "Children pile up in the A waiting list: 1 at the start, 7 at the end (0.6 more a week); "
        "0.8 children a week arrive there and 0.1 a week start assessment.")
    # triage gains 7 (2 -> 9): more than A's list, so triage is named
    stuck = [(0, None, 50, NAN, NAN, NAN, NAN, NAN, "waiting")] * 7
    assert find_bottleneck(table(CHILDREN + more + stuck), HORIZON, from_day=0).stage == "triage"


def test_a_queue_that_gains_little_of_what_passes_through_is_not_growing():
    # 150 children pass through A's list within the run, 6 stay: 6 of 158 arrivals is under 5%
    passing = [(0, "A", 1, 2, 2, 9, 10, 11, "assessed")] * 150
    more = [(0, "A", 35, 40, 40, NAN, NAN, NAN, "waiting")] * 6
    flows = by_stage(stage_flows(table(CHILDREN + passing + more), HORIZON, from_day=0))
    waiting = flows[("waiting list", "A")]
    assert waiting.growth == 6 and waiting.arrivals_per_week * waiting.weeks == 158
    assert not waiting.growing
    assert find_bottleneck(table(CHILDREN + passing + more), HORIZON, from_day=0) is None


def test_the_default_window_is_the_second_half_in_whole_weeks():
    assert default_from_day(70.0) == 35.0 and default_from_day(77.0) == 35.0
    flows = by_stage(stage_flows(table(), HORIZON))  # from day 35
    triage = flows[("triage", None)]
    # in triage on day 35: children 2 and 4; nobody enters or leaves triage after it
    assert (triage.from_day, triage.weeks, triage.at_start, triage.at_end) == (35.0, 5.0, 2, 2)
    assert triage.arrivals_per_week == 0
    with pytest.raises(ValueError, match="within the run"):
        stage_flows(table(), HORIZON, from_day=70)


def test_figures_are_means_over_replications():
    second = [(1, *row[1:]) for row in CHILDREN] + [(1, None, 60, NAN, NAN, NAN, NAN, NAN, "waiting")]
    triage = by_stage(stage_flows(table(CHILDREN + second), HORIZON, 0))[("triage", None)]
    assert triage.at_end == pytest.approx((2 + 3) / 2)
    assert triage.arrivals_per_week == pytest.approx((4 + 5) / 2 / 10)


def test_a_missing_column_is_named():
    with pytest.raises(ValueError, match="no column diagnosis_day"):
        stage_flows(table().drop(columns="diagnosis_day"), HORIZON)


@pytest.fixture(scope="module")
def minimal_run():
    scenario = asdsim.load_scenario(REPO / "scenarios" / "minimal.yaml")
    return asdsim.simulate(scenario, replications=2, seed=3)


def test_on_a_run_each_queue_balances_and_matches_the_weekly_tables(minimal_run):
    res = minimal_run
    weeks = res.scenario.horizon_weeks
    flows = by_stage(stage_flows(res.patients, 7.0 * weeks))
    half = weeks // 2  # the window starts at the end of week half - 1
    for f in flows.values():  # start + in - out = end, every stage
        out = (f.served_per_week + f.other_exits_per_week) * f.weeks
        assert f.weeks == weeks - half
        assert f.at_start + f.arrivals_per_week * f.weeks - out == pytest.approx(f.at_end)
    # the same counts as the weekly tables, at the window's start and end
    weekly = res.weekly.groupby("week").mean(numeric_only=True)
    team = res.teams_weekly[res.teams_weekly.team == "clinic"].groupby("week").mean(numeric_only=True)
    for f, table_, column in ((flows[("triage", None)], weekly, "awaiting_triage"),
                              (flows[("waiting list", "clinic")], team, "waiting_for_assessment")):
        assert f.at_start == pytest.approx(table_.loc[half - 1, column])
        assert f.at_end == pytest.approx(table_.loc[weeks - 1, column])
        assert f.at_end > 0


def test_the_shipped_as_is_2018_summary_names_its_bottleneck():
    scenario = asdsim.load_scenario("as_is_2018")
    res = asdsim.simulate(scenario, replications=2, seed=asdsim.DEFAULT_SEED)  # as asdsim run
    design = summarise(res).designs[0]
    found = design.bottleneck
    # both teams' stated hours are below their demand (test_validate_warns...), so both lists
    # grow, more arriving than start assessment; the one that gains most is named, the other too
    growing = growing_stages(res.patients, 7.0 * scenario.horizon_weeks)
    assert {(f.stage, f.team) for f in growing} == {("waiting list", "school_age"),
                                                    ("waiting list", "preschool")}
    assert found == growing[0] and found.growth > growing[1].growth
    assert all(f.arrivals_per_week > f.served_per_week for f in growing)
    assert bottleneck_sentence(found, growing[1:]) in design.text
    assert f"Children pile up in {found.where}: " in design.text
    assert f"Also growing: {growing[1].where} (" in design.text


# ------------------------------------------------------------ stated capacity against demand


def minimal(**triage) -> asdsim.Scenario:
    data = asdsim.load_scenario(REPO / "scenarios" / "minimal.yaml").model_dump(mode="json")
    data["triage"].update(triage)
    return asdsim.scenario_from_dict(data)


def test_triage_load_by_hand():
    # minimal: 3 referrals a week; 10% rejected, a fifth of them referred again; 10% asked for
    # more information, 80% of whom answer and are triaged again
    s = minimal()
    assert triage_load(s) == pytest.approx(3 / (1 - 0.1 * 0.2) / (1 - 0.1 * 0.8))
    (start, end) = [u for u in stated_utilisation(s) if u.group is None]
    assert start.utilisation == pytest.approx(3 / 0.98 / 0.92 / 5)
    assert end.date == s.end_date
    data = s.model_dump(mode="json")
    data["demand"]["annual_growth"] = 0.1
    data["demand"]["step_changes"] = [{"date": "2024-07-01", "factor": 1.5}]
    grown = asdsim.scenario_from_dict(data)
    assert triage_load(grown) == pytest.approx(triage_load(s))  # the step is later
    assert triage_load(grown, 364) == pytest.approx(
        triage_load(s) * 1.1 ** (364 / 365.25) * 1.5)


def test_triage_shares_by_source_by_hand():
    s = minimal(outcomes_by_source={"school": {"accept": 0.5, "reject": 0.5}})
    reject = 0.6 * 0.1 + 0.4 * 0.5  # gp 60% at the default outcomes, school 40%
    more = 0.6 * 0.1
    assert triage_load(s) == pytest.approx(3 / (1 - reject * 0.2) / (1 - more * 0.8))


def test_team_hours_by_hand():
    s = minimal()
    hours = team_hours(s, "clinic")
    children = 3 / (1 - 0.1 * 0.2) * 0.8  # accepted a week, every age and locality covered
    flags = 1 + 0.2 * 0.25  # a fifth have co-occurring conditions, 25% more hours
    paediatrician = (2 / (1 - 0.09) + 1) * children * flags  # history rebooked after DNAs
    available = 0.4 * 37.5 * (52 - 7) / 52 * (11.8 / 12)  # WTE, weeks lost, August at 80%
    assert hours["paediatrician"] == pytest.approx((paediatrician, available))
    assert hours["psychologist"][0] == pytest.approx(2 * children * flags)


def test_over_capacity_names_the_field_and_figures():
    assert over_capacity(minimal()) == []
    (over,) = over_capacity(minimal(capacity_per_week=3))
    assert over.field == "triage.capacity_per_week"
    assert over.utilisation == pytest.approx(3 / 0.98 / 0.92 / 3)
    assert over.message.startswith("triage.capacity_per_week gives 3.0 triage decisions a week, "
                                   "but the scenario's demand needs about 3.3 a week on 2024-01-01 "
                                   "(utilisation 111%): children will pile up in triage")


def test_validate_warns_and_still_passes(tmp_path, capsys):
    assert main(["validate", "as_is_2018", "nice_mdt"]) == 0
    captured = capsys.readouterr()
    assert "nice_mdt: warning" not in captured.err
    warned = [line for line in captured.err.splitlines() if line.startswith("as_is_2018: warning: ")]
    assert any("teams.school_age.staff.psychologist.wte" in w and "utilisation 115%" in w
               for w in warned), warned


def test_calibrate_warns_when_the_template_triage_capacity_is_left(tmp_path, capsys):
    """Three times the example referrals (about 40 a week) beside the template's 15 a week."""
    folder = tmp_path / "area"
    assert main(["init", str(folder)]) == 0
    lines = (folder / "referrals.csv").read_text().splitlines()
    (folder / "referrals.csv").write_text("\n".join([lines[0], *[row for row in lines[1:]
                                                              for _ in range(3)]]) + "\n")
    capsys.readouterr()
    assert main(["calibrate", "--referrals", str(folder / "referrals.csv"), "--base",
                 str(folder / "scenario.yaml"), "--out", str(folder / "calibrated.yaml")]) == 0
    printed = capsys.readouterr().out
    calibrated = asdsim.load_scenario(folder / "calibrated.yaml")
    assert calibrated.triage.capacity_per_week == 15  # left as the template has it
    t = calibrated.triage
    o = t.outcomes
    assert not t.outcomes_by_source
    load = (calibrated.demand.referrals_per_week / (1 - o.reject * t.rereferral_probability)
            / (1 - o.more_information * t.information_return_probability))
    assert load > 30
    warning = next(line for line in printed.splitlines() if line.startswith("Warning: triage."))
    assert f"about {load:.1f} a week on {calibrated.start_date}" in warning
    assert f"(utilisation {100 * load / 15:.0f}%)" in warning
    assert "WARNING: triage.capacity_per_week gives 15.0" in (folder / "calibrated.yaml").read_text()
    # and validate says the same before any run
    assert main(["validate", str(folder / "calibrated.yaml")]) == 0
    assert f"(utilisation {100 * load / 15:.0f}%)" in capsys.readouterr().err


def test_a_problem_in_the_base_scenario_says_so(tmp_path, capsys):
    folder = tmp_path / "area"
    assert main(["init", str(folder)]) == 0
    text = (folder / "scenario.yaml").read_text()
    (folder / "scenario.yaml").write_text(text.replace("  dates: day_first", "  dates: iso"))
    lines = (folder / "waiting_list.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[1] = "26/09/2023"
    (folder / "waiting_list.csv").write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    capsys.readouterr()
    assert main(["calibrate", "--referrals", str(folder / "referrals.csv"), "--base",
                 str(folder / "scenario.yaml"), "--out", str(folder / "calibrated.yaml")]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    base = folder / "scenario.yaml"
    assert f"while reading the base scenario {base}: expected a date as YYYY-MM-DD" in line
    assert line.split(":")[0].endswith("waiting_list.csv")
    assert not (folder / "calibrated.yaml").exists()


def test_no_warning_for_the_shipped_designs_that_keep_up():
    for name in ("nice_mdt", "minimal", "recovery"):
        assert over_capacity(asdsim.load_scenario(name)) == [], name
    # triage on arrival (no capacity stated) has nothing to compare
    assert [u for u in stated_utilisation(minimal(capacity_per_week=None)) if u.group is None] == []


def test_the_report_says_where_children_pile_up(minimal_run, tmp_path):
    folder = write_run(minimal_run, tmp_path / "out")
    text = html.unescape(re.sub(r"<[^>]+>", "", (folder / "report.html").read_text(encoding="utf-8")))
    _, sentence = describe_bottleneck(minimal_run.patients, 7.0 * minimal_run.scenario.horizon_weeks)
    assert sentence in " ".join(text.split())
