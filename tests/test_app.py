"""The web app's page logic, driven by Streamlit's AppTest (no browser), and its engine.

Each page test starts a fresh session of ``asdsim/app/page.py``; simulations run in the shared
engine's worker processes, which the module's fixture stops at the end.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app extra is not installed (pip install asdsim[app])")

from streamlit.testing.v1 import AppTest

import asdsim
from asdsim.app import engine as app_engine
from asdsim.app import levers, settings, sources
from asdsim.reporting.summary import summarise_design

PAGE = Path(asdsim.__file__).parent / "app" / "page.py"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
WTE = "lever:wte:clinic:psychologist"


@pytest.fixture(autouse=True)
def fresh_engine(monkeypatch: pytest.MonkeyPatch):
    """A new shared engine of two workers per test, stopped at the end whatever happens."""
    monkeypatch.setenv(settings.WORKERS_ENV, "2")
    monkeypatch.delenv(settings.MAX_CHILDREN_ENV, raising=False)
    monkeypatch.delenv(settings.SCENARIOS_ENV, raising=False)
    app_engine.reset_engine()
    try:
        yield
    finally:
        app_engine.reset_engine()


def unescape(text: str) -> str:
    """Markdown as shown: the page escapes punctuation in what it writes."""
    return re.sub(r"\\(.)", r"\1", text)


def page() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def pick(at: AppTest, stem: str) -> AppTest:
    at.radio(key="source").set_value("Shipped scenarios").run()
    at.selectbox(key="scenario").set_value(stem).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> list[str]:
    return [unescape(m.value) for m in at.markdown]


def test_pick_change_wte_run_shows_the_summary_first():
    at = pick(page(), "minimal")
    assert at.number_input(key=WTE).value == pytest.approx(0.4)
    assert any("base: 0.4 WTE" in c.value for c in at.caption)
    at.number_input(key=WTE).set_value(0.8).run()
    assert any("clinic psychologist: 0.4 to 0.8 WTE" in t for t in texts(at))
    at.number_input(key="replications").set_value(3).run()
    at.button(key="run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    shown = texts(at)
    edited = next(t for t in shown if t.startswith("**minimal (edited)**"))
    assert any(t.startswith("**minimal**: ") for t in shown)
    # the figures are those of asdsim.simulate with the same inputs
    base = asdsim.load_scenario(SCENARIOS / "minimal.yaml")
    data = base.model_dump(mode="json")
    data["teams"]["clinic"]["staff"]["psychologist"]["wte"] = 0.8
    data["name"] = "minimal (edited)"
    expected = asdsim.simulate(asdsim.scenario_from_dict(data), replications=3,
                               seed=asdsim.DEFAULT_SEED)
    summary = summarise_design("minimal (edited)", expected.kpis, expected.scenario)
    assert summary.figures
    for figure in summary.figures:
        assert figure.text in edited
    # the answer comes before the comparison and the charts
    headers = [h.value for h in at.subheader]
    assert headers.index("In short") < headers.index("Charts")
    assert any(h.startswith("Compared with the base scenario") for h in headers)
    assert len(at.get("vega_lite_chart")) == 4


def test_repeated_run_is_answered_from_the_cache():
    at = pick(page(), "minimal")
    at.number_input(key="replications").set_value(2).run()
    at.button(key="run").click().run()
    assert not at.success  # computed the first time
    first = app_engine.get_engine().stats()
    started = time.perf_counter()
    at.button(key="run").click().run()
    assert time.perf_counter() - started < 30
    assert any("Answered from the cache" in s.value for s in at.success)
    after = app_engine.get_engine().stats()
    assert after["computed"] == first["computed"]
    assert after["hits"] == first["hits"] + 1
    # another session asking the same question is answered from the same cache
    other = pick(page(), "minimal")
    other.number_input(key="replications").set_value(2).run()
    other.button(key="run").click().run()
    assert any("Answered from the cache" in s.value for s in other.success)


BAD = b"""name: bad
start_date: 2024-01-01
horizon_weeks: -3
demand:
  referals_per_week: 3
  age_bands: [{min_years: 2, max_years: 16, weight: 1}]
teams: {}
"""


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.radio(key="source").set_value("Upload a scenario file").run()
    at.file_uploader(key="upload_yaml").set_value((name, data, "application/x-yaml")).run()
    assert not at.exception, at.exception
    return at


def test_bad_upload_shows_every_problem_with_its_field():
    at = upload(page(), "mine.yaml", BAD)
    assert len(at.error) == 1
    message = unescape(at.error[0].value)
    assert "problems" in message
    assert "mine.yaml:3: horizon_weeks" in message
    assert "demand.referals_per_week: unknown key; did you mean 'referrals_per_week'?" in message
    assert "Traceback" not in message
    assert not at.button  # nothing to run


@pytest.mark.parametrize(("data", "expected"), [
    (b"a: &a [*a]\n", "recursive alias"),
    (b"x: " + b"[" * 60 + b"]" * 60 + b"\n", "nest more than 50 deep"),
    (b"name: x\nextends: ../../etc/base.yaml\n", "extends: a scenario uploaded here cannot extend"),
    (b"name: x\nname: y\n", "name: key given twice"),
    (b"# " + b"x" * 1_000_001, "larger than the limit of 1 MB"),
    (b"\xff\xfe\x00", "expected text in UTF-8"),
    (b"initial_state: {kind: csv, csv: /etc/passwd}\n", "initial_state.csv: name the snapshot"),
])
def test_uploads_are_read_with_the_cli_limits(tmp_path: Path, data: bytes, expected: str):
    folder = sources.SessionFolder()
    try:
        with pytest.raises(asdsim.ScenarioError) as caught:
            sources.load_upload(folder, "../up load.yaml", data)
        assert expected in str(caught.value)
        assert all(p.file == "up_load.yaml" for p in caught.value.problems)
    finally:
        folder.close()
    assert folder.closed and not folder.path.exists()


def test_an_uploaded_valid_scenario_runs_in_the_sessions_own_scope():
    at = upload(page(), "minimal.yaml", (SCENARIOS / "minimal.yaml").read_bytes())
    assert not at.error, [e.value for e in at.error]
    at.number_input(key="replications").set_value(2).run()
    at.button(key="run").click().run()
    assert any(t.startswith("**minimal**: ") for t in texts(at))
    keys = list(app_engine.get_engine()._cache)
    assert keys and all(k.scope is not None for k in keys)  # nobody else is answered from it


def test_invalid_lever_shows_the_field():
    at = pick(page(), "minimal")
    at.number_input(key="lever:out_n").set_value(4).run()
    at.date_input(key="lever:out_end").set_value(at.date_input(key="lever:out_start").value
                                                 .replace(year=2023)).run()
    assert not at.exception, at.exception
    message = unescape(at.error[0].value)
    assert "The levers give an invalid scenario" in message
    assert "outsourcing[0].end_date" in message


def test_a_run_over_the_size_cap_is_refused_with_a_clear_message(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(settings.MAX_CHILDREN_ENV, "1000")
    at = pick(page(), "minimal")
    at.number_input(key="replications").set_value(20).run()
    message = at.error[0].value
    assert "This run is too large: 20 replications × 52 weeks" in message
    assert "limit of 1,000" in message
    assert at.button(key="run").disabled
    at.number_input(key="replications").set_value(1).run()
    assert not at.error and not at.button(key="run").disabled


def test_queue_runs_at_most_n_at_once_and_shows_places():
    engine = app_engine.Engine(workers=1, max_running=1)
    try:
        base = asdsim.load_scenario(SCENARIOS / "minimal.yaml")
        jobs = [engine.submit(base, seed, 1) for seed in range(4)]
        assert [engine.status(j).position for j in jobs[1:]] == [1, 2, 3]
        engine.release(jobs[3])  # nobody waits for it: dropped from the queue
        assert engine.status(jobs[3]).state == "failed"
        deadline = time.monotonic() + 120
        while any(engine.status(j).state != "done" for j in jobs[:3]):
            assert time.monotonic() < deadline
            engine.wait(jobs[2], 0.5)
        assert engine.peak_running == 1
        same = engine.submit(base, 0, 1)
        assert same.cached and same.results is jobs[0].results
        expected = asdsim.simulate(base, replications=1, seed=0)
        assert expected.kpis.equals(jobs[0].results.kpis)
    finally:
        engine.shutdown()


def test_levers_know_their_units_and_base_values():
    base = asdsim.load_scenario(SCENARIOS / "nice_mdt.yaml")
    wte = {(w.team, w.group): w for w in levers.wte_levers(base)}
    assert wte[("school_age_mdt", "psychologist")].base == 1.65
    assert wte[("school_age_mdt", "psychologist")].label == "psychologist (WTE)"
    assert levers.build(base, levers.Edits()) is base
    edits = levers.Edits(wte={("school_age_mdt", "psychologist"): 2.0}, annual_growth=0.1)
    edited = levers.build(base, edits)
    assert edited.name == "NICE MDT (edited)"
    assert edited.teams["school_age_mdt"].staff["psychologist"].wte == 2.0
    assert edited.demand.annual_growth == 0.1
    again = asdsim.scenario_from_dict(edited.model_dump(mode="json"))
    assert asdsim.scenario_hash(again) == asdsim.scenario_hash(edited)
    assert app_engine.expected_children(base, 10) > 10 * 10 * base.horizon_weeks


def test_light_load_ten_sessions_on_localhost_all_finish(capsys: pytest.CaptureFixture[str],
                                                         record_property):
    """benchmarks/bench_app.py, light: ten sessions at once over Streamlit's WebSocket protocol
    against ``asdsim app`` on 127.0.0.1, each running minimal with 2 replications."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_app.py"
    spec = importlib.util.spec_from_file_location("bench_app", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    result = bench.load_test(sessions=10, scenario="minimal", replications=2, workers=2,
                             timeout=420.0)
    failed = [o for o in result["outcomes"] if not o.ok]
    assert not failed, [(o.index, o.error) for o in failed]
    assert len(result["outcomes"]) == 10
    assert result["peak_memory_mb"] < bench.MEMORY_BOUND_MB
    record_property("last_finish_seconds", round(result["last_finish_seconds"], 1))
    record_property("peak_memory_mb", round(result["peak_memory_mb"]))
    with capsys.disabled():  # a figure for the log, not a timed assertion
        sys.stdout.write(f"\n[app load] 10 sessions: the last finished after "
                         f"{result['last_finish_seconds']:.1f} s; peak memory "
                         f"{result['peak_memory_mb']:.0f} MB\n")


SNAPSHOT = b"""referral_date,age_years,stage,nhs_number
2023-10-02,6.5,awaiting_assessment,9990001
2023-11-15,4.2,awaiting_assessment,9990002
2023-12-01,9.0,awaiting_triage,9990003
"""


def test_a_snapshot_upload_starts_the_list_in_a_private_folder_removed_when_cleared():
    at = pick(page(), "minimal")
    at.file_uploader(key="upload_csv").set_value(("today's list.csv", SNAPSHOT, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    folder = at.session_state["folder"]
    assert folder.path.exists() and oct(folder.path.stat().st_mode & 0o777) == "0o700"
    at.number_input(key="replications").set_value(2).run()
    at.button(key="run").click().run()
    assert any(t.startswith("**minimal**: ") for t in texts(at))
    keys = list(app_engine.get_engine()._cache)
    assert keys and all(k.scope is not None for k in keys)
    at.file_uploader(key="upload_csv").set_value(None).run()
    assert not folder.path.exists()
    assert not app_engine.get_engine()._cache  # the session's runs from it are forgotten


def test_a_bad_snapshot_is_refused_by_line_and_column_without_echoing_a_cell():
    bad = SNAPSHOT + b"2023-12-05,7.0,Jane Smith,9990004\n"
    at = pick(page(), "minimal")
    at.file_uploader(key="upload_csv").set_value(("list.csv", bad, "text/csv")).run()
    assert not at.exception
    message = unescape(at.error[0].value)
    assert "list.csv:5: stage" in message
    assert "Jane" not in message and "9990004" not in message
    assert "/tmp" not in message and "asdsim-app-" not in message


def test_a_day_first_snapshot_is_read_as_the_page_is_told():
    day_first = b"""referral_date,age_years,stage
02/10/2023,6.5,awaiting_assessment
15/11/2023,4.2,awaiting_assessment
"""
    at = pick(page(), "minimal")
    at.file_uploader(key="upload_csv").set_value(("list.csv", day_first, "text/csv")).run()
    assert at.error and "list.csv:3: referral_date" in unescape(at.error[0].value)  # read as ISO
    at.radio(key="csv_dates").set_value("DD/MM/YYYY (UK)").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.number_input(key="replications").set_value(2).run()
    at.button(key="run").click().run()
    assert any(t.startswith("**minimal**: ") for t in texts(at))


def test_plan_page_finds_the_least_cost_staffing_on_the_shared_pool():
    at = pick(page(), "minimal")
    at.radio(key="mode").set_value(at.radio(key="mode").options[1]).run()
    assert not at.exception, at.exception
    at.text_area(key="plan:targets").set_value("assessment_started_within_3_months >= 0.5").run()
    at.multiselect(key="plan:vary").set_value(["clinic/psychologist"]).run()
    at.number_input(key="plan:most").set_value(1.0).run()
    at.number_input(key="plan:step").set_value(0.5).run()
    at.number_input(key="plan:replications").set_value(2).run()
    at.number_input(key="plan:evaluations").set_value(6).run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="plan_run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    said = " ".join(texts(at))
    assert "Fund " in said or "No extra staff" in said or "No option within the bounds" in said
    assert "fresh replications" in said
    assert any(d.label == "Recommended scenario (YAML)" for d in at.get("download_button"))
    at.button(key="plan_run").click().run()
    assert any("Answered from the cache" in s.value for s in at.success)


def test_plan_page_names_a_bad_target():
    at = pick(page(), "minimal")
    at.radio(key="mode").set_value(at.radio(key="mode").options[1]).run()
    at.text_area(key="plan:targets").set_value("no_such_kpi >= 0.5").run()
    assert not at.exception, at.exception
    assert "The plan cannot be run" in at.error[0].value
    assert not any(b.key == "plan_run" for b in at.button)


def test_interactive_charts_carry_the_static_charts_titles_and_colours():
    from asdsim.app import views
    from asdsim.reporting import charts

    base = asdsim.load_scenario(SCENARIOS / "minimal.yaml")
    data = base.model_dump(mode="json")
    data["name"] = "more"
    data["teams"]["clinic"]["staff"]["psychologist"]["wte"] = 0.8
    runs = {"minimal": asdsim.simulate(base, replications=2),
            "more": asdsim.simulate(asdsim.scenario_from_dict(data), replications=2)}
    pairs = [(views.open_referrals_chart(runs), charts.open_referrals(runs)),
             (views.thirteen_weeks_chart(runs), charts.first_appointment_13_weeks_by_quarter(runs)),
             (views.utilisation_chart(runs), charts.staff_utilisation(runs))]
    for interactive, static in pairs:
        spec = interactive.to_dict()  # a valid Vega-Lite spec
        title = spec["title"]  # the static title in short lines: a title and a subtitle
        lines = [title["text"]] if isinstance(title["text"], str) else list(title["text"])
        lines += list(title.get("subtitle", []))
        assert re.findall(r"\w+", " ".join(lines)) == re.findall(r"\w+", static.axes[0].get_title())
        scales = [layer["encoding"]["color"]["scale"] for layer in spec["layer"]
                  if "scale" in layer.get("encoding", {}).get("color", {})]
        assert scales and all(s["range"] == charts.OKABE_ITO[:2] for s in scales)
        assert all(s["domain"] == ["minimal", "more"] for s in scales)


def test_the_snapshot_folder_goes_with_the_session():
    import gc

    at = pick(page(), "minimal")
    at.file_uploader(key="upload_csv").set_value(("list.csv", SNAPSHOT, "text/csv")).run()
    folder = at.session_state["folder"].path
    assert (folder / "list.csv").exists()
    del at  # the session ends: Streamlit drops its state
    gc.collect()
    assert not folder.exists()
