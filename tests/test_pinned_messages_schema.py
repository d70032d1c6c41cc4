"""The scenario validators' problems, pinned whole: field path, exact message and, where it
matters, the file and line.

The messages of :mod:`asdsim.scenario.schema` (and the number and date checks of
:mod:`asdsim.scenario.base` that its fields use) are what a user reads to fix a scenario: which
file, which field, what was expected. They are the format's specification, so each is compared
with ``==`` here. Mutation testing found them checked only by substrings: a message wrapped in
"XX", upper-cased, with its ``", "`` list separator changed, or with part of its f-string
dropped went unnoticed. Each expected message is written out by hand from the validator's
f-string with the small input's values put in; each test asserts the complete list of problems
of its input, so an extra, missing or reordered problem fails too.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pydantic
import pytest

import asdsim
from asdsim.scenario.base import Date, NonNegative, Number, Whole
from asdsim.scenario.schema import number_at
from tests.test_pinned_messages import load_problems, write
from tests.test_pinned_scenario import BASE, build

Found = list[tuple[str, str]]

TEAM: dict[str, Any] = BASE["teams"]["t"]
"""The base scenario's one team: staff group ``p``, one outcome step ``assess``."""
HORIZON = "is outside the horizon 2020-01-06 to 2020-03-16"
"""The base scenario runs 10 weeks from Monday 6 January 2020: to 16 March 2020."""
BANDS = [{"min_years": 0, "max_years": 18, "weight": 1}]


def found(**over: Any) -> Found:
    """(field, message) of every problem of the base scenario with ``over`` replacing keys."""
    with pytest.raises(asdsim.ScenarioError) as info:
        build(**over)
    return [(p.field, p.message) for p in info.value.problems]


def team(**over: Any) -> dict[str, Any]:
    """The base team with some keys replaced."""
    out = copy.deepcopy(TEAM)
    out.update(copy.deepcopy(over))
    return out


def demand(**over: Any) -> dict[str, Any]:
    """The base demand with some keys replaced."""
    out = copy.deepcopy(BASE["demand"])
    out.update(copy.deepcopy(over))
    return out


def step(name: str, **over: Any) -> dict[str, Any]:
    """A step needing one hour of group ``p``."""
    return {"name": name, "hours": {"p": 1}, **over}


def pydantic_messages(tp: Any, value: Any) -> list[str]:
    """pydantic's own messages for ``value`` as a ``tp`` (before the loader rewords any)."""
    with pytest.raises(pydantic.ValidationError) as info:
        pydantic.TypeAdapter(tp).validate_python(value)
    return [e["msg"] for e in info.value.errors(include_url=False)]


# ----------------------------------------------------------------- numbers and dates (base.py)


def test_true_or_false_is_not_read_as_a_number():
    # YAML reads yes/no/on/off as true/false: horizon_weeks: yes must not be 1 week
    with pytest.raises(asdsim.ScenarioError) as info:
        build(horizon_weeks=True)
    assert [(p.file, p.line, p.field, p.message, p.value) for p in info.value.problems] == [
        ("<dict>", None, "horizon_weeks",
         "expected a number, not true/false (YAML reads yes, no, on and off as true/false)", "True")]
    message = "expected a number, not true/false (YAML reads yes, no, on and off as true/false)"
    assert pydantic_messages(Whole, False) == [message]
    assert pydantic_messages(NonNegative, True) == [message]


def test_an_infinite_or_undefined_number_is_refused():
    message = "expected a finite number (not .inf or .nan)"
    assert found(demand=demand(referrals_per_week=float("inf"))) == [
        ("demand.referrals_per_week", message)]
    # the message is the validator's own, not only the loader's rewording of its kind
    assert pydantic_messages(Number, float("nan")) == [message]
    assert pydantic_messages(NonNegative, float("-inf")) == [message]


def test_a_number_above_a_billion_in_size_is_refused():
    message = "expected a number of at most 1,000,000,000 in size"
    assert found(teams={"t": team(staff={"p": {"wte": 2e9}})}) == [("teams.t.staff.p.wte", message)]
    assert pydantic_messages(Number, -1.5e9) == [message]
    assert pydantic_messages(Whole, 10**10) == [message]
    assert pydantic.TypeAdapter(Number).validate_python(1e9) == 1e9  # a billion itself is allowed


def test_a_number_is_not_read_as_a_date():
    with pytest.raises(asdsim.ScenarioError) as info:
        build(start_date=20200106)
    assert [(p.field, p.message, p.value) for p in info.value.problems] == [
        ("start_date", "expected a date as YYYY-MM-DD", "20200106")]
    assert pydantic_messages(Date, 20200106) == ["expected a date as YYYY-MM-DD"]
    assert pydantic_messages(Date, 2020.5) == ["expected a date as YYYY-MM-DD"]
    assert pydantic_messages(Date, True) == ["expected a date as YYYY-MM-DD"]


# ------------------------------------------------------------------------------ sums to one


def test_demand_shares_that_do_not_sum_to_one_list_each_share_and_the_total():
    # 0.5 + 0.25 = 0.75; both sources and localities are checked and both reported
    assert found(demand=demand(sources={"gp": 0.5, "school": 0.25},
                               localities={"north": 2.5e-1, "south": 0.5})) == [
        ("demand.sources", "demand.sources must sum to 1, but gp=0.5, school=0.25 sum to 0.75"),
        ("demand.localities",
         "demand.localities must sum to 1, but north=0.25, south=0.5 sum to 0.75"),
    ]


def test_triage_outcome_shares_must_sum_to_one():
    assert found(triage={"outcomes": {"accept": 0.5, "reject": 0.25}}) == [
        ("triage.outcomes", "triage outcomes must sum to 1, but accept=0.5, reject=0.25, "
         "more_information=0 sum to 0.75")]
    assert found(demand=demand(sources={"gp": 0.5, "school": 0.5}),
                 triage={"outcomes_by_source": {"school": {"accept": 0.5,
                                                           "more_information": 0.625}}}) == [
        ("triage.outcomes_by_source.school", "triage outcomes must sum to 1, but accept=0.5, "
         "reject=0, more_information=0.625 sum to 1.125")]


def test_team_outcome_shares_must_sum_to_one_and_allow_a_definite_outcome():
    assert found(teams={"t": team(outcomes={"autism": 0.5, "other_neurodevelopmental": 0.25,
                                            "none": 0.125})}) == [
        ("teams.t.outcomes", "outcomes must sum to 1, but autism=0.5, other_neurodevelopmental=0.25, "
         "none=0.125, uncertain=0 sum to 0.875")]
    # all uncertain: sums to 1, but no child could ever get a definite outcome
    assert found(teams={"t": team(outcomes={"autism": 0, "other_neurodevelopmental": 0, "none": 0,
                                            "uncertain": 1})}) == [
        ("teams.t.outcomes", "outcomes need some chance of a definite outcome")]


def test_a_backlog_groups_own_localities_must_sum_to_one():
    assert found(demand=demand(localities={"north": 0.5, "south": 0.5}),
                 initial_state={"kind": "generated", "backlog": [
                     {"stage": "awaiting_triage", "count": 1,
                      "localities": {"north": 0.5, "south": 0.25}}]}) == [
        ("initial_state.backlog[0]", "localities must sum to 1, but north=0.5, south=0.25 sum to 0.75")]


# ------------------------------------------------------------------------------- age bands


def test_an_age_band_must_end_above_its_start():
    assert found(demand=demand(age_bands=[{"min_years": 7.5, "max_years": 2.5, "weight": 1}])) == [
        ("demand.age_bands[0].max_years", "2.5 must be above min_years (7.5)")]


def test_age_bands_must_exist():
    assert found(demand=demand(age_bands=[])) == [
        ("demand.age_bands", "age_bands needs at least one band")]


def test_overlapping_age_bands_are_reported_at_the_later_starting_band():
    # listed out of order: [4.5, 18) is band 0 and starts inside [0, 5), band 1
    assert found(demand=demand(age_bands=[{"min_years": 4.5, "max_years": 18, "weight": 1},
                                          {"min_years": 0, "max_years": 5, "weight": 1}])) == [
        ("demand.age_bands[0]", "age_bands overlap: [0, 5) and [4.5, 18)")]


def test_every_demand_problem_is_listed_in_order():
    # twelve monthly factors needed; a gap between 4 and 5.5; all weights zero; sources 0.5
    assert found(demand=demand(monthly_factors=[1, 1],
                               age_bands=[{"min_years": 0, "max_years": 4, "weight": 0},
                                          {"min_years": 5.5, "max_years": 18, "weight": 0}],
                               sources={"gp": 0.5})) == [
        ("demand.monthly_factors",
         "monthly_factors needs 12 values (January to December), got 2"),
        ("demand.age_bands[1]", "age_bands leave a gap between 4 and 5.5 years"),
        ("demand.age_bands", "age_bands weights must not all be zero"),
        ("demand.sources", "demand.sources must sum to 1, but gp=0.5 sum to 0.5"),
    ]


# ------------------------------------------------------------------------------------ teams


def test_team_dates_ages_and_monthly_factors():
    assert found(teams={"t": team(opens_on="2020-02-03", closes_on="2020-02-03",
                                  min_age_years=7.5, max_age_years=2.5,
                                  monthly_capacity_factors=[1, 1, 1])}) == [
        ("teams.t.closes_on", "closes_on (2020-02-03) must be after opens_on (2020-02-03)"),
        ("teams.t.max_age_years", "max_age_years (2.5) must be above min_age_years (7.5)"),
        ("teams.t.monthly_capacity_factors", "monthly_capacity_factors needs 12 values, got 3"),
    ]


def test_a_team_needs_steps():
    # with no steps there is no outcome step to count either: one problem
    assert found(teams={"t": team(steps=[])}) == [("teams.t.steps", "steps needs at least one step")]


def test_caseload_mode_needs_a_caseload_section():
    assert found(teams={"t": team(capacity_mode="caseload")}) == [
        ("teams.t.capacity_mode", "capacity_mode 'caseload' needs a 'caseload' section")]


def test_a_step_needing_a_staff_group_the_team_lacks_names_the_groups_it_has():
    staff = {"q": {"wte": 1}, "p": {"wte": 1}}
    assert found(teams={"t": team(staff=staff, steps=[
        {"name": "assess", "hours": {"p": 1, "slt": 2}, "outcome": True}],
        outcomes={"autism": 0.5, "other_neurodevelopmental": 0.25, "none": 0.125,
                  "uncertain": 0.125},
        uncertain_steps=[{"name": "second opinion", "hours": {"ot": 1}}])}) == [
        ("teams.t.steps[0].hours.slt", "steps[0] ('assess') needs staff group 'slt', which this "
         "team does not have (it has: p, q)"),
        ("teams.t.uncertain_steps[0].hours.ot", "uncertain_steps[0] ('second opinion') needs staff "
         "group 'ot', which this team does not have (it has: p, q)"),
    ]


def test_in_clinic_hours_mode_every_step_needs_some_hours():
    assert found(teams={"t": team(steps=[step("letter", hours={"p": 0}),
                                         step("assess", outcome=True)])}) == [
        ("teams.t.steps[0].hours", "steps[0] ('letter') needs no staff hours; in clinic_hours mode "
         "every step must need some hours from a group")]
    # in caseload mode a step may need no hours
    build(teams={"t": team(capacity_mode="caseload", caseload={"clinicians": 1},
                           steps=[step("letter", hours={"p": 0}), step("assess", outcome=True)])})


def test_exactly_one_step_decides_the_outcome():
    message = "exactly one step must have 'outcome: true' (the MDT decision)"
    assert found(teams={"t": team(steps=[step("a")])}) == [("teams.t.steps", message)]
    assert found(teams={"t": team(steps=[step("a", outcome=True),
                                         step("b", outcome=True)])}) == [("teams.t.steps", message)]


def test_uncertain_outcomes_need_further_steps_without_an_outcome():
    uncertain = {"autism": 0.5, "other_neurodevelopmental": 0.25, "none": 0.125, "uncertain": 0.125}
    assert found(teams={"t": team(outcomes=uncertain)}) == [
        ("teams.t.outcomes.uncertain", "outcomes.uncertain > 0 needs uncertain_steps")]
    assert found(teams={"t": team(young_child={"under_years": 3, "uncertain_probability": 0.5})}) == [
        ("teams.t.young_child.uncertain_probability",
         "young_child.uncertain_probability > 0 needs uncertain_steps")]
    assert found(teams={"t": team(outcomes=uncertain, uncertain_steps=[
        step("more"), step("decide", outcome=True)])}) == [
        ("teams.t.uncertain_steps[1].outcome", "uncertain_steps must not contain an outcome step")]


def test_at_most_one_step_marks_the_first_appointment_and_the_start_of_assessment():
    # marked on steps 0, 2 and 3: reported at the second marked step, 2
    steps = [step("a", first_appointment=True, assessment_started=True), step("b"),
             step("c", first_appointment=True, assessment_started=True),
             step("d", first_appointment=True, outcome=True)]
    assert found(teams={"t": team(steps=steps)}) == [
        ("teams.t.steps[2].first_appointment", "at most one step may have 'first_appointment: true'"),
        ("teams.t.steps[2].assessment_started",
         "at most one step may have 'assessment_started: true'"),
    ]


def test_every_team_problem_is_listed_in_the_order_checked():
    assert found(teams={"t": team(
        min_age_years=5, max_age_years=5, capacity_mode="caseload",
        steps=[{"name": "x", "hours": {"slt": 1}}],
        outcomes={"autism": 0.5, "other_neurodevelopmental": 0.25, "none": 0.125, "uncertain": 0.125},
    )}) == [
        ("teams.t.max_age_years", "max_age_years (5) must be above min_age_years (5)"),
        ("teams.t.capacity_mode", "capacity_mode 'caseload' needs a 'caseload' section"),
        ("teams.t.steps[0].hours.slt",
         "steps[0] ('x') needs staff group 'slt', which this team does not have (it has: p)"),
        ("teams.t.steps", "exactly one step must have 'outcome: true' (the MDT decision)"),
        ("teams.t.outcomes.uncertain", "outcomes.uncertain > 0 needs uncertain_steps"),
    ]


def test_team_age_ranges_that_overlap_in_shared_localities_are_ambiguous():
    two = {"a": team(max_age_years=6.5), "b": team(min_age_years=5.5)}
    assert found(demand=demand(localities={"south": 0.5, "north": 0.5}), teams=two) == [
        ("teams.b.min_age_years", "age ranges overlap with teams.a in north, south, so routing would "
         "be ambiguous")]


def test_a_team_locality_must_be_one_of_demands_localities():
    assert found(demand=demand(localities={"south": 0.5, "north": 0.5}),
                 teams={"t": team(localities=["north", "east"])}) == [
        ("teams.t.localities[1]", "'east' is not a locality in demand.localities (north, south)")]


# ----------------------------------------------------------------------- the whole scenario


def test_the_horizon_must_lie_between_1900_and_2200():
    # refused at once: the empty teams are not reported as well
    assert found(start_date="1899-12-31", teams={}) == [
        ("start_date", "1899-12-31 with horizon_weeks 10: expected a horizon from 1900-01-01 to "
         "2200-12-31 at most")]
    # 2200-12-01 + 70 days is past the last date
    assert found(start_date="2200-12-01") == [
        ("start_date", "2200-12-01 with horizon_weeks 10: expected a horizon from 1900-01-01 to "
         "2200-12-31 at most")]


def test_teams_and_priority_classes_are_needed():
    assert found(teams={}, priority_classes=[]) == [
        ("teams", "at least one team is needed"),
        ("priority_classes", "at least one class is needed"),
    ]


def test_peak_referrals_above_the_limit_are_refused_with_the_peak_shown():
    # 10,000 a week with a January factor of 1.25: 12,500 at the peak
    assert found(demand=demand(referrals_per_week=10_000, monthly_factors=[1.25] + [1] * 11)) == [
        ("demand.referrals_per_week", "with growth, seasonality and step changes, referrals would "
         "reach about 12,500 a week; at most 10,000 a week are simulated")]


def test_a_flags_priority_must_be_a_priority_class():
    assert found(demand=demand(flags={"lac": {"probability": 0.1, "priority": "vip"}})) == [
        ("demand.flags.lac.priority", "'vip' is not one of priority_classes ['urgent', 'routine']")]


def test_every_dated_entry_must_lie_within_the_horizon():
    # 5 January is the day before the start, 17 March the day after the end
    assert found(
        demand=demand(step_changes=[{"date": "2020-03-17", "factor": 1.5}]),
        observed=[{"date": "2020-01-05", "measure": "open_referrals", "value": 3, "source": "x"}],
        capacity_changes=[{"date": "2020-03-17", "team": "t", "group": "p", "wte": 2}],
        outsourcing=[{"team": "t", "start_date": "2020-01-05", "end_date": "2020-03-17",
                      "assessments_per_month": 1}],
        reporting={"snapshot_dates": ["2020-02-03", "2020-03-17"], "cohort_from_date": "2020-01-05"},
    ) == [
        ("demand.step_changes[0].date", f"2020-03-17 {HORIZON}"),
        ("observed[0].date", f"2020-01-05 {HORIZON}"),
        ("capacity_changes[0].date", f"2020-03-17 {HORIZON}"),
        ("outsourcing[0].start_date", f"2020-01-05 {HORIZON}"),
        ("outsourcing[0].end_date", f"2020-03-17 {HORIZON}"),
        ("reporting.snapshot_dates[1]", f"2020-03-17 {HORIZON}"),
        ("reporting.cohort_from_date", f"2020-01-05 {HORIZON}"),
    ]


def test_names_of_localities_and_sources_must_be_those_of_demand():
    assert found(
        demand=demand(sources={"school": 0.5, "gp": 0.5}, localities={"south": 0.5, "north": 0.5}),
        observed=[{"date": "2020-02-03", "measure": "open_referrals", "value": 3, "source": "x",
                   "locality": "east"}],
        triage={"outcomes_by_source": {"nhs": {"accept": 1}}},
        routing={"uncovered_by_locality": {"east": "hold"}, "rereferred_when_eligible": {"west": 0.5}},
    ) == [
        ("observed[0].locality", "'east' is not a locality in demand.localities"),
        ("triage.outcomes_by_source.nhs", "not a source in demand.sources (gp, school)"),
        ("routing.uncovered_by_locality.east", "not a locality in demand.localities"),
        ("routing.rereferred_when_eligible.west", "not a locality in demand.localities"),
    ]


# ------------------------------------------------------------------------- capacity changes


def test_a_capacity_change_gives_exactly_one_new_value():
    message = "give exactly one of 'wte' (with 'group') or 'clinicians'"
    assert found(capacity_changes=[{"date": "2020-02-03", "team": "t", "group": "p"}]) == [
        ("capacity_changes[0]", message)]
    assert found(capacity_changes=[{"date": "2020-02-03", "team": "t", "group": "p", "wte": 1,
                                    "clinicians": 1}]) == [("capacity_changes[0]", message)]
    assert found(capacity_changes=[{"date": "2020-02-03", "team": "t", "wte": 1}]) == [
        ("capacity_changes[0].wte", "a change of 'wte' needs the staff 'group'")]


def test_a_capacity_change_names_an_existing_team_group_and_caseload():
    assert found(capacity_changes=[
        {"date": "2020-02-03", "team": "x", "group": "p", "wte": 1},
        {"date": "2020-02-03", "team": "t", "group": "slt", "wte": 1},
        {"date": "2020-02-03", "team": "t", "clinicians": 2},
    ]) == [
        ("capacity_changes[0].team", "no team 'x'"),
        ("capacity_changes[1].group", "team 't' has no group 'slt'"),
        ("capacity_changes[2].clinicians", "team 't' has no caseload"),
    ]


# ------------------------------------------------------------------------------ outsourcing


def test_an_outsourced_block_ends_after_it_starts_and_names_a_team():
    block = {"team": "t", "start_date": "2020-02-03", "end_date": "2020-02-02",
             "assessments_per_month": 1}
    assert found(outsourcing=[block]) == [
        ("outsourcing[0].end_date", "2020-02-02 is before start_date 2020-02-03")]
    block.update(end_date="2020-02-03", first_appointment_after_days=30, turnaround_days=29.5)
    assert found(outsourcing=[block]) == [
        ("outsourcing[0].turnaround_days",
         "turnaround_days must be at least first_appointment_after_days")]
    block.update(turnaround_days=30, team="x")
    assert found(outsourcing=[block]) == [("outsourcing[0].team", "no team 'x'")]


# ---------------------------------------------------------------------------- initial state


def test_a_backlog_group_waits_in_order_and_has_steps_done_only_in_assessment():
    def state(**group: Any) -> dict[str, Any]:
        return {"kind": "generated", "backlog": [{"stage": "awaiting_triage", "count": 1, **group}]}

    assert found(initial_state=state(weeks_waited_min=3, weeks_waited_max=2.5)) == [
        ("initial_state.backlog[0].weeks_waited_max",
         "weeks_waited_max must be at least weeks_waited_min")]
    assert found(initial_state=state(steps_done=1)) == [
        ("initial_state.backlog[0].steps_done", "steps_done goes only with stage in_assessment")]


def test_a_backlog_group_names_an_existing_team_and_localities():
    assert found(initial_state={"kind": "generated", "backlog": [
        {"stage": "awaiting_assessment", "count": 1, "team": "x"},
        {"stage": "awaiting_triage", "count": 1, "localities": {"all": 0.5, "east": 0.5}}]}) == [
        ("initial_state.backlog[0].team", "no team 'x'"),
        ("initial_state.backlog[1].localities.east", "not a locality in demand.localities"),
    ]


def test_initial_state_keys_must_match_its_kind():
    group = {"stage": "awaiting_triage", "count": 1}
    assert found(initial_state={"dates": "day_first"}) == [
        ("initial_state.dates", "'dates' is only read with kind 'csv', not 'empty'")]
    assert found(initial_state={"kind": "generated"}) == [
        ("initial_state.kind", "kind 'generated' needs 'backlog' groups")]
    assert found(initial_state={"kind": "csv"}) == [
        ("initial_state.kind", "kind 'csv' needs the path 'csv'")]
    assert found(initial_state={"kind": "generated", "backlog": [group], "csv": "list.csv"}) == [
        ("initial_state.csv", "'csv' is only read with kind 'csv', not 'generated'")]
    assert found(initial_state={"backlog": [group]}) == [
        ("initial_state.backlog", "'backlog' is only read with kind 'generated', not 'empty'")]


# -------------------------------------------------------------------------- observed figures


def test_over_weeks_goes_with_exactly_the_over_weeks_measures():
    point = {"date": "2020-02-03", "value": 3, "source": "x"}
    assert found(observed=[{**point, "measure": "waiting_over_weeks"}]) == [
        ("observed[0].over_weeks", "give over_weeks with waiting_over_weeks")]
    assert found(observed=[{**point, "measure": "awaiting_assessment_over_weeks"}]) == [
        ("observed[0].over_weeks", "give over_weeks with awaiting_assessment_over_weeks")]
    assert found(observed=[{**point, "measure": "open_referrals", "over_weeks": 18}]) == [
        ("observed[0].over_weeks", "over_weeks goes only with the ..._over_weeks measures")]


# ----------------------------------------------------------------------------------- assumed


def test_number_at_says_why_a_path_names_no_number():
    s = build()
    cases = {
        "demand.referrals per week": "not a dotted field path like teams.mdt.staff.psychologist.wte",
        "demand.age_bands[3].weight": "demand.age_bands has 1 items, so no [3]",
        "triage.capacity_per_week.x": "triage.capacity_per_week is not set, so it has no field 'x'",
        "zzz": "the scenario has no field 'zzz'",
        "horizon_week": "the scenario has no field 'horizon_week'; did you mean 'horizon_weeks'?",
        "teams.t.staff.p.wtx": "teams.t.staff.p has no field 'wtx'; did you mean 'wte'?",
        "teams.x.staff": "teams has no field 'x'",
        "demand[0]": "demand has no field 0",
        "demand.monthly_factors": "is a list of 12, not a single number; name one number in it",
        "teams.t": "is a mapping, not a single number; name one number in it",
        "demand": "is a mapping, not a single number; name one number in it",
        "name": "is not a number, not a single number; name one number in it",
        "teams.t.steps[0].joint": "is not a number, not a single number; name one number in it",
    }
    assert {text: number_at(s, text) for text in cases} == {
        text: (None, why) for text, why in cases.items()}
    assert number_at(s, "teams.t.staff.p.wte") == (1.0, None)
    assert number_at(s, "demand.monthly_factors.7") == (1.0, None)


def test_each_assumed_path_must_name_one_number_once():
    assert found(assumed=["horizon_weeks", "teams.t.staff.p.wtx", "horizon_weeks",
                          "demand.age_bands[1].weight", "demand.monthly_factors"]) == [
        ("assumed[1]", "'teams.t.staff.p.wtx': teams.t.staff.p has no field 'wtx'; did you mean 'wte'?"),
        ("assumed[2]", "'horizon_weeks' is listed twice"),
        ("assumed[3]", "'demand.age_bands[1].weight': demand.age_bands has 1 items, so no [1]"),
        ("assumed[4]", "'demand.monthly_factors': is a list of 12, not a single number; name one "
         "number in it"),
    ]


# --------------------------------------------------------------------------------- uncertain


def test_uncertain_paths_must_name_a_number_listed_under_assumed_once():
    wte = "teams.t.staff.p.wte"
    assert found(
        assumed=[wte, "demand.monthly_factors[7]", "horizon_weeks"],
        uncertain={"zzz": [1, 2], "horizon_weeks": [9, 11], "demand.monthly_factors[7]": [0.5, 1.5],
                   "demand.monthly_factors.7": [0.5, 1.5], "demand.referrals_per_week": [4, 6],
                   wte: [0.5, 1.5]},
    ) == [
        ("uncertain.zzz", "'zzz': the scenario has no field 'zzz'"),
        ("uncertain.horizon_weeks",
         "the horizon must be the same in every replication; it cannot be uncertain"),
        ("uncertain.demand.monthly_factors.7",
         "'demand.monthly_factors.7' names the same number as 'demand.monthly_factors[7]'"),
        ("uncertain.demand.referrals_per_week", "'demand.referrals_per_week' is not listed under "
         "assumed:; an uncertain input is an assumption, so add it there"),
    ]


def test_an_uncertain_value_must_be_a_range_or_a_distribution():
    wte = "teams.t.staff.p.wte"
    with pytest.raises(asdsim.ScenarioError) as info:
        build(assumed=[wte], uncertain={wte: "1 to 2"})
    assert [(p.field, p.message, p.value) for p in info.value.problems] == [
        (f"uncertain.{wte}", "expected a range [low, high] or a distribution such as {dist: "
         "uniform, low: 1.6, high: 2.4}", "'1 to 2'")]


def test_an_uncertain_range_whose_ends_the_scenario_refuses_names_the_end_field_and_reason():
    lowest = "teams.t.staff.p.hours_per_wte_week"
    whole = "teams.t.dna.discharge_after"
    autism = "teams.t.outcomes.autism"
    band = "demand.age_bands[0].min_years"
    assert found(
        assumed=[lowest, whole, autism, band],
        uncertain={lowest: [0, 200], whole: [1, 200], autism: [0.6, 0.7], band: [0, 12.5]},
    ) == [
        # both ends are refused (0 and above 168): the lowest is checked first, and only it
        # is reported
        (f"uncertain.{lowest}", "the lowest value a draw can give, 0, is refused "
         "(teams.t.staff.p.hours_per_wte_week: Input should be greater than 0); narrow the "
         "range or choose another distribution"),
        # a whole-number field is given the draw rounded; the value is shown to 6 figures
        (f"uncertain.{whole}", "the highest value a draw can give, 200, is refused "
         "(teams.t.dna.discharge_after: Input should be less than or equal to 100); narrow the "
         "range or choose another distribution"),
        # a model check's reason is shown without pydantic's "Value error, "
        (f"uncertain.{autism}", "the lowest value a draw can give, 0.6, is refused (teams.t.outcomes: "
         "outcomes must sum to 1, but autism=0.6, other_neurodevelopmental=0.19, none=0.11, "
         "uncertain=0 sum to 0.9); narrow the range or choose another distribution"),
        (f"uncertain.{band}", "the highest value a draw can give, 12.5, is refused "
         "(demand.age_bands[0]: max_years: 10 must be above min_years (12.5)); narrow the range or "
         "choose another distribution"),
    ]


# --------------------------------------------------------------------- files, lines, extends


SCENARIO = """\
name: lines
start_date: 2020-01-06
horizon_weeks: 10
demand:
  referrals_per_week: 5
  age_bands:
    - {min_years: 2, max_years: 10, weight: 1}
teams:
  t:
    staff:
      p: {wte: 1}
    steps:
      - name: assess
        hours:
          p: 1
          slt: 2
        outcome: true
"""


def test_a_team_problem_is_reported_at_the_line_of_the_offending_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "s.yaml", SCENARIO)
    assert load_problems(tmp_path / "s.yaml") == [
        ("s.yaml", 16, "teams.t.steps[0].hours.slt",
         "steps[0] ('assess') needs staff group 'slt', which this team does not have (it has: p)")]


def test_a_problem_at_a_field_not_written_is_reported_at_the_nearest_enclosing_line(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = SCENARIO.replace("          slt: 2\n", "") + (
        "capacity_changes:\n"
        "  - {date: 2020-02-03, team: t, group: p}\n"       # line 18: neither wte nor clinicians
        "  - date: 2020-03-17\n"                           # line 19: after the horizon
        "    team: x\n"                                    # line 20
        "    clinicians: 1\n"
        "outsourcing:\n"
        "  - team: t\n"
        "    start_date: 2020-02-03\n"
        "    end_date: 2020-02-10\n"
        "    assessments_per_month: 1\n"
        "    first_appointment_after_days: 30\n"           # line 27
        "    turnaround_days: 29\n")                       # line 28
    write(tmp_path / "s.yaml", text)
    assert load_problems(tmp_path / "s.yaml") == [
        ("s.yaml", 18, "capacity_changes[0]", "give exactly one of 'wte' (with 'group') or 'clinicians'"),
        ("s.yaml", 28, "outsourcing[0].turnaround_days",
         "turnaround_days must be at least first_appointment_after_days"),
    ]
    # with the block and the first change fixed, the scenario's own checks are reached
    text = text.replace("{date: 2020-02-03, team: t, group: p}", "{date: 2020-02-03, team: t, "
                        "group: p, wte: 2}").replace("turnaround_days: 29", "turnaround_days: 30")
    write(tmp_path / "s.yaml", text)
    assert load_problems(tmp_path / "s.yaml") == [
        ("s.yaml", 19, "capacity_changes[1].date", f"2020-03-17 {HORIZON}"),
        ("s.yaml", 20, "capacity_changes[1].team", "no team 'x'"),
    ]


def test_a_problem_inherited_through_extends_is_reported_at_the_base_files_line(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "base.yaml", SCENARIO.replace("          slt: 2\n", "") + (
        "reporting:\n"
        "  snapshot_dates: [2020-02-03, 2020-04-06]\n"     # line 18
        "  cohort_from_date: 2019-12-30\n"))               # line 19
    write(tmp_path / "s.yaml", "extends: base.yaml\n"
                               "name: child\n"
                               "demand:\n"
                               "  sources: {gp: 0.5, school: 0.25}\n"  # line 4
                               "reporting:\n"
                               "  cohort_from_date: 2020-01-13\n")
    # the child's sources are its own line; the base's cohort date is replaced by the child's
    assert load_problems(tmp_path / "s.yaml") == [
        ("s.yaml", 4, "demand.sources", "demand.sources must sum to 1, but gp=0.5, school=0.25 sum "
         "to 0.75")]
    write(tmp_path / "s.yaml", "extends: base.yaml\nname: child\n")
    assert load_problems(tmp_path / "s.yaml") == [
        ("base.yaml", 18, "reporting.snapshot_dates[1]", f"2020-04-06 {HORIZON}"),
        ("base.yaml", 19, "reporting.cohort_from_date", f"2019-12-30 {HORIZON}"),
    ]


def test_the_whole_error_text_names_file_line_field_and_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "s.yaml", SCENARIO.replace("horizon_weeks: 10", "horizon_weeks: yes").replace(
        "          slt: 2\n", ""))
    with pytest.raises(asdsim.ScenarioError) as info:
        asdsim.load_scenario(tmp_path / "s.yaml")
    assert str(info.value) == (
        "1 problem in scenario:\n  s.yaml:3: horizon_weeks: got True: expected a number, not "
        "true/false (YAML reads yes, no, on and off as true/false)")


def test_a_date_outside_the_horizon_is_shown_with_both_ends():
    # a 3-week horizon from Monday 2 March 2020 ends on 23 March
    assert found(start_date="2020-03-02", horizon_weeks=3,
                 reporting={"snapshot_dates": [dt.date(2020, 3, 24)]}) == [
        ("reporting.snapshot_dates[0]", "2020-03-24 is outside the horizon 2020-03-02 to 2020-03-23")]
