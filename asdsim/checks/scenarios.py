"""Scenarios whose answers are known in closed form, built for the verification checks: an
M/M/c caseload team, a clinic-hours team with fixed hours per assessment (fluid), and a full
pathway for Little's law."""

from __future__ import annotations

from typing import Any

from asdsim.scenario import Scenario, scenario_from_dict


def mmc_scenario(arrivals_per_day: float, servers: int, mean_days: float, weeks: int,
                 urgent_share: float = 0.0) -> Scenario:
    """An M/M/c caseload team: Poisson referrals triaged at once, one exponential step a case.

    With ``urgent_share`` > 0, that share of children is urgent and the list is in priority
    order (urgent first, then first come first served), without preemption.
    """
    demand: dict[str, Any] = {"referrals_per_week": 7.0 * arrivals_per_day,
                              "age_bands": [{"min_years": 0, "max_years": 1, "weight": 1}]}
    team: dict[str, Any] = {
        "capacity_mode": "caseload",
        "caseload": {"clinicians": servers, "cases_per_clinician": 1},
        "staff": {"clinician": {"wte": servers}},
        "steps": [{"name": "case", "hours": {"clinician": 1}, "outcome": True,
                   "duration_days": {"dist": "exponential", "mean": mean_days}}],
    }
    if urgent_share > 0:
        demand["flags"] = {"urgent": {"probability": urgent_share, "priority": "urgent"}}
        team["waiting_list"] = {"discipline": "priority"}
    return scenario_from_dict({"name": f"mmc-{servers}", "start_date": "2020-01-06",
                               "horizon_weeks": weeks, "demand": demand, "teams": {"team": team}})


def fluid_scenario(referrals_per_week: float, hours_per_week: float, hours_per_assessment: float,
                   weeks: int, backlog: int = 0) -> Scenario:
    """One clinic-hours team, one fixed-hours step, no DNA or withdrawal: a fluid queue."""
    data: dict[str, Any] = {
        "name": "fluid", "start_date": "2020-01-06", "horizon_weeks": weeks,
        "demand": {"referrals_per_week": referrals_per_week,
                   "age_bands": [{"min_years": 5, "max_years": 6, "weight": 1}]},
        # the hours as whole-time posts of 40 hours (9 WTE for 360), exact in binary
        "teams": {"team": {"staff": {"clinician": {"wte": hours_per_week / 40.0, "hours_per_wte_week": 40}},
                           "steps": [{"name": "assessment", "outcome": True,
                                      "hours": {"clinician": hours_per_assessment}}]}},
    }
    if backlog:
        data["initial_state"] = {"kind": "generated", "backlog": [
            {"stage": "awaiting_assessment", "count": backlog, "weeks_waited_min": 0,
             "weeks_waited_max": 52}]}
    return scenario_from_dict(data)


def full_pathway_scenario(weeks: int) -> Scenario:
    """A stable pathway with most of the model switched on, for Little's law.

    Triage with limited capacity, rejections and re-referrals, requests for more information;
    a pre-school team in one locality (with review of the under-2s, uncertain outcomes for the
    very young and transfer at 4) and out-of-area referral of under-4s in the other; a
    school-age team with priority order, DNAs and withdrawals; seasonal demand and an August
    capacity dip. Capacity exceeds demand, so the pathway settles to a steady state.
    """
    step = {"dna_probability": 0.08}
    return scenario_from_dict({
        "name": "full pathway", "start_date": "2020-01-06", "horizon_weeks": weeks,
        "demand": {
            "referrals_per_week": 14,
            "monthly_factors": [1.1, 1.1, 1.1, 1, 1, 1, 0.8, 0.7, 1, 1.1, 1.1, 0.9],
            "age_bands": [{"min_years": 1, "max_years": 4, "weight": 1},
                          {"min_years": 4, "max_years": 16, "weight": 3}],
            "sources": {"gp": 0.5, "school": 0.5},
            "localities": {"north": 0.5, "south": 0.5},
            "flags": {"looked_after": {"probability": 0.1, "priority": "urgent"},
                      "complex": {"probability": 0.2, "hours_factor": 1.3}},
        },
        "triage": {"capacity_per_week": 16,
                   "outcomes": {"accept": 0.8, "reject": 0.1, "more_information": 0.1},
                   "rereferral_probability": 0.3, "rereferral_delay_days": 60,
                   "information_return_probability": 0.8,
                   "information_wait_days": {"dist": "uniform", "low": 7, "high": 35}},
        "routing": {"uncovered_by_locality": {"south": "out_of_area"}},
        "teams": {
            "preschool": {
                "min_age_years": 0, "max_age_years": 4, "localities": ["north"],
                "on_age_boundary": "transfer",
                "review": {"under_years": 2, "duration_days": {"dist": "uniform", "low": 30,
                                                               "high": 90}},
                "staff": {"paediatrician": {"wte": 0.3}, "slt": {"wte": 0.3}},
                "steps": [{"name": "history", "hours": {"paediatrician": 2}, **step},
                          {"name": "observation", "hours": {"paediatrician": 1, "slt": 2},
                           "joint": True, "min_gap_days": 7, "outcome": True, **step}],
                "uncertain_steps": [{"name": "second look", "hours": {"slt": 2},
                                     "min_gap_days": 28}],
                "young_child": {"under_years": 3, "uncertain_probability": 0.3},
            },
            "school": {
                "min_age_years": 4, "max_age_years": 18,
                "waiting_list": {"discipline": "priority", "withdrawal_per_year": 0.1},
                "staff": {"paediatrician": {"wte": 1.2, "weeks_lost_per_year": 6},
                          "psychologist": {"wte": 1.2, "weeks_lost_per_year": 6}},
                "monthly_capacity_factors": [1, 1, 1, 1, 1, 1, 1, 0.7, 1, 1, 1, 1],
                "steps": [{"name": "history", "hours": {"paediatrician": 2}, **step},
                          {"name": "observation", "hours": {"psychologist": 2}, "min_gap_days": 7,
                           **step},
                          {"name": "mdt", "hours": {"paediatrician": 1, "psychologist": 1},
                           "joint": True, "contact": False, "outcome": True, "min_gap_days": 7}],
                "outcomes": {"autism": 0.6, "other_neurodevelopmental": 0.15, "none": 0.1,
                             "uncertain": 0.15},
                "uncertain_steps": [{"name": "second opinion", "hours": {"psychologist": 2},
                                     "min_gap_days": 14}],
            },
        },
    })


def backlog_scenario(weeks: int = 78, backlog: int = 150) -> Scenario:
    """A clinic-hours team (paediatrician and psychologist, costed) with a starting list that
    today's staffing does not clear in time for the 3-month standard from mid-2020, while a few
    tenths of a WTE more paediatrician does: a plan for the standard has something to buy."""
    step = {"name": "history", "hours": {"paediatrician": 2}}
    return scenario_from_dict({
        "name": "backlog", "start_date": "2020-01-06", "horizon_weeks": weeks,
        "demand": {"referrals_per_week": 10,
                   "age_bands": [{"min_years": 2, "max_years": 16, "weight": 1}],
                   "localities": {"north": 0.5, "south": 0.5}},
        "teams": {"mdt": {
            "staff": {"paediatrician": {"wte": 1.0, "autism_share": 1.0,
                                        "annual_cost_per_wte_gbp": 100000},
                      "psychologist": {"wte": 1.0, "autism_share": 1.0,
                                       "annual_cost_per_wte_gbp": 60000}},
            "steps": [step,
                      {"name": "observation", "hours": {"paediatrician": 1, "psychologist": 1},
                       "joint": True, "min_gap_days": 7},
                      {"name": "mdt", "hours": {"paediatrician": 1, "psychologist": 1},
                       "joint": True, "contact": False, "outcome": True, "min_gap_days": 7}]}},
        "initial_state": {"kind": "generated", "backlog": [
            {"stage": "awaiting_assessment", "count": backlog, "weeks_waited_min": 0,
             "weeks_waited_max": 20}]},
    })
