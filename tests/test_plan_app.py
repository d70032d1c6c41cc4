"""The web app's plan page keeps the plan's promise: its recommended scenario, downloaded and run
afresh, meets the NICE standard from the quarter the page planned for (Streamlit's AppTest)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

pytest.importorskip("streamlit", reason="the app extra is not installed (pip install asdsim[app])")

import asdsim
from asdsim.analysis import standard
from asdsim.app import planning
from asdsim.experiments.targets import parse_targets
from asdsim.reporting.summary import summarise_design
from tests.test_app import fresh_engine, page, pick, texts  # noqa: F401 (fresh_engine: a fixture)

FRESH_SEED = 4242
"""A seed the page's plan never used."""


def test_no_target_means_the_nice_standard_from_the_quarter_money_starts():
    scenario = asdsim.load_scenario("scenarios/minimal.yaml")
    request = planning.PlanRequest((), dt.date(2024, 4, 1), ("clinic/psychologist",))
    planning.check(scenario, request)  # no target is no longer an error
    assert request.kwargs()["targets"] is None
    targets = parse_targets([planning.STANDARD_TEXT], request.from_date)
    assert targets[0].describe() == "nice_standard >= 0.9 from 2024Q2"


@pytest.mark.slow
def test_the_plan_pages_recommendation_run_afresh_meets_the_standard_from_its_quarter(tmp_path):
    """nice_mdt, new money from 1 October 2020 for the school-age team: the page plans for the
    NICE standard from 2020 Q4 (small settings: 4 replications an option, steps of 0.5 WTE, a
    share rule at 50%). The recommended scenario it offers for download is run on 20
    replications of a seed the plan never used, as ``asdsim run`` runs it: the report must find
    the standard met from 2020 Q4 or earlier, up to sampling error (no quarter from 2020 Q4
    whose 95% interval lies wholly below 90%)."""
    at = pick(page(), "nice_mdt")
    at.radio(key="mode").set_value(at.radio(key="mode").options[1]).run()
    at.text_area(key="plan:targets").set_value(planning.STANDARD_TEXT).run()
    at.date_input(key="plan:from").set_value(dt.date(2020, 10, 1)).run()
    at.multiselect(key="plan:vary").set_value(
        ["school_age_mdt/paediatrician", "school_age_mdt/psychologist"]).run()
    at.number_input(key="plan:most").set_value(2.0).run()
    at.number_input(key="plan:step").set_value(0.5).run()
    at.number_input(key="plan:confidence").set_value(0.5).run()
    at.number_input(key="plan:replications").set_value(4).run()
    at.number_input(key="plan:evaluations").set_value(14).run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="plan_run").click().run()
    assert not at.exception, at.exception
    said = " ".join(texts(at))
    assert "Fund " in said and "NICE standard from 2020 Q4" in said, said
    assert "2020 Q4: " in said  # the recommendation's share, quarter by quarter
    result = at.session_state["plan_answer"]["plan"]
    assert result.feasible
    (tmp_path / "recommended.yaml").write_text(result.to_yaml(), encoding="utf-8")
    recommended = asdsim.load_scenario(tmp_path / "recommended.yaml")  # what the download holds
    fresh = asdsim.simulate(recommended, replications=20, seed=FRESH_SEED, jobs=2)
    verdict = summarise_design("plan", fresh.kpis, recommended).meets_from
    table = fresh.kpis.set_index("kpi")
    clearly_short = [q for q in standard.judged_quarters(recommended, "2020Q4")
                     if table.loc[standard.quarter_kpi(q), "ci_high"] < standard.LEVEL]
    on_time = verdict is not None and pd.Period(verdict, "Q") <= pd.Period("2020Q4", "Q")
    assert on_time or not clearly_short, (verdict, clearly_short)
