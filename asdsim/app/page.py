"""The app's page (a Streamlit script): start from a scenario, move the levers, run, read.

Run it with ``asdsim app``. The page draws and asks; the work is done elsewhere: scenarios are
read by :mod:`asdsim.app.sources` (with the CLI's limits), edits are validated by
:mod:`asdsim.app.levers`, and simulations run in the server's shared pool of worker processes
(:mod:`asdsim.app.engine`), never in the page's own thread.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Any

import streamlit as st

from asdsim.app import levers, planning, settings, sources, views
from asdsim.app.engine import QueueFull, get_engine
from asdsim.app.running import follow, md, run, size_message
from asdsim.errors import AsdsimError, ScenarioError, os_error_message
from asdsim.experiments.runner import DEFAULT_SEED
from asdsim.reporting import formatting as fmt
from asdsim.scenario.loading import scenario_hash, scenario_to_yaml
from asdsim.scenario.schema import Scenario
from asdsim.spreadsheet import csv_bytes

# (Comments, not docstrings, below: Streamlit's "magic" would show a bare string on the page.)
UPLOAD = "Upload a scenario file"
# how an uploaded snapshot's dates are read (its initial_state.dates)
DATE_ORDERS = {"YYYY-MM-DD": "iso", "DD/MM/YYYY (UK)": "day_first", "MM/DD/YYYY": "month_first"}
LEVER = "lever:"  # prefix of the levers' widget keys: reset when the base scenario changes
PLAN = "plan:"  # prefix of the plan page's widget keys, likewise
TRY, PLAN_MODE = "Try a change", "Find the least-cost staffing that meets targets (plan)"
PLAN_SIZE_FACTOR = 10  # a plan may simulate ten times a run's size cap
def _session_id() -> str:
    if "sid" not in st.session_state:
        st.session_state.sid = uuid.uuid4().hex
    return str(st.session_state.sid)


def _folder() -> sources.SessionFolder:
    """The session's private folder for uploads (made on first upload)."""
    folder = st.session_state.get("folder")
    if folder is None or folder.closed:
        folder = st.session_state.folder = sources.SessionFolder()
    return folder


def _drop_uploads() -> None:
    folder = st.session_state.pop("folder", None)
    if folder is not None:
        folder.close()
    get_engine().forget_scope(_session_id())


def show_problems(error: ScenarioError, what: str) -> None:
    """Every problem in the page, each with its file, line and field; never a traceback."""
    count = len(error.problems)
    lines = [f"**{md(what)}: {count} problem{'s' if count != 1 else ''}**"]
    lines += [f"- {md(str(p))}" for p in error.problems]
    st.error("\n".join(lines))


# ---------------------------------------------------------------------------- starting point


def choose_base() -> tuple[Scenario, str | None] | None:
    """The starting point picked, with the session's scope when it holds an upload."""
    st.header("1. Starting point")
    points = sources.starting_points()
    options = [*points, UPLOAD]
    source = st.radio("Start from", options, key="source", horizontal=True)
    csv = st.session_state.get("upload_csv")
    if source == UPLOAD:
        upload = st.file_uploader(
            f"Scenario file (YAML, at most {settings.MAX_YAML_BYTES // 1_000_000} MB)",
            type=["yaml", "yml"], key="upload_yaml", max_upload_size=1,
            help="Checked exactly as 'asdsim validate' checks a file. It may not name other "
                 "files: no 'extends:'; a CSV snapshot is uploaded below.")
    else:
        files = points[source]
        if not files:
            st.warning("This folder has no scenario files (*.yaml).")
            return None
        stems = list(files)
        default = stems.index("nice_mdt") if "nice_mdt" in stems else 0
        stem = st.selectbox("Scenario", stems, index=default, key="scenario")
    with st.expander("Starting list: today's waiting list as a CSV snapshot (optional)"):
        st.caption("Columns read: referral_date, age_years or date_of_birth, stage, and optionally "
                   "priority and locality; no other column is read. The file stays in a private "
                   "folder of this session, removed when the session ends, and is never shown to "
                   "another session or logged. See docs/privacy.md.")
        csv = st.file_uploader(
            f"Snapshot (CSV, at most {settings.MAX_CSV_BYTES // 1_000_000} MB)", type=["csv"],
            key="upload_csv", max_upload_size=settings.MAX_CSV_BYTES // 1_000_000)
        order = st.radio("Dates in the file", list(DATE_ORDERS), key="csv_dates",
                         horizontal=True,
                         help="How the snapshot writes its dates (a scenario file uploaded with "
                              "it says so itself, as initial_state.dates)")
    if source == UPLOAD and upload is None:
        st.info("Choose a scenario file to start from.")
        return None
    if csv is None and "folder" in st.session_state and source != UPLOAD:
        _drop_uploads()
    token = (source, upload.file_id if source == UPLOAD else stem,
             csv.file_id if csv is not None else None, order)
    loaded = st.session_state.get("loaded")
    if loaded is not None and loaded[0] == token:
        return loaded[1], loaded[2]
    try:
        if source == UPLOAD:
            snapshot = (csv.name, csv.getvalue()) if csv is not None else None
            base = sources.load_upload(_folder(), upload.name, upload.getvalue(), snapshot)
        else:
            base = sources.load_file(files[stem])
            if csv is not None:
                folder = _folder()
                path = sources.save_snapshot(folder, csv.name, csv.getvalue())
                base = sources.with_snapshot(base.model_dump(mode="json"), path, folder,
                                             sources.safe_name(csv.name, ".csv"),
                                             dates=DATE_ORDERS[order])
    except ScenarioError as error:
        show_problems(error, "The starting point cannot be used")
        return None
    except OSError as error:  # as the command line says it: the file, what, how to fix it
        st.error(md(f"The starting point cannot be used: {os_error_message(error)}"))
        return None
    scope = _session_id() if source == UPLOAD or csv is not None else None
    st.session_state.loaded = (token, base, scope)
    return base, scope


def describe(base: Scenario) -> None:
    """The base scenario's name, description and horizon."""
    st.markdown(f"**{md(base.name)}**: {md(base.description)}" if base.description
                else f"**{md(base.name)}**")
    st.caption(f"{fmt.date(base.start_date)} to {fmt.date(base.end_date)} "
               f"({base.horizon_weeks} weeks), {len(base.teams)} team"
               f"{'s' if len(base.teams) != 1 else ''}; about "
               f"{base.demand.referrals_per_week:g} referrals a week at the start.")


# ------------------------------------------------------------------------------------ levers


def _reset_levers(base: Scenario) -> None:
    """Put every lever back to the base's value when the base changes."""
    ident = scenario_hash(base)
    if st.session_state.get("base_id") != ident:
        for key in [k for k in st.session_state if str(k).startswith((LEVER, PLAN))]:
            del st.session_state[key]
        st.session_state.base_id = ident
        st.session_state.pop("answer", None)
        st.session_state.pop("plan_answer", None)


def _date(label: str, value: dt.date, key: str, base: Scenario) -> dt.date:
    low = base.start_date - dt.timedelta(days=3660)
    high = base.end_date + dt.timedelta(days=3660)
    chosen = st.date_input(label, value=value, min_value=low, max_value=high, key=key,
                           format="YYYY-MM-DD")
    return chosen if isinstance(chosen, dt.date) else value


def choose_levers(base: Scenario) -> levers.Edits:
    """The levers, each with its unit and the base's value."""
    st.header("2. Levers")
    _reset_levers(base)
    wte: dict[tuple[str, str], float] = {}
    st.subheader("Staff in post (WTE, whole-time equivalents)")
    by_team: dict[str, list[levers.WteLever]] = {}
    for lever in levers.wte_levers(base):
        by_team.setdefault(lever.team, []).append(lever)
    for team, items in by_team.items():
        st.markdown(f"**{md(team)}**")
        cols = st.columns(max(len(items), 3))
        for col, lever in zip(cols, items, strict=False):
            with col:
                wte[(lever.team, lever.group)] = float(st.number_input(
                    md(lever.label), min_value=0.0, max_value=10_000.0, value=lever.base, step=0.05,
                    format="%.2f", key=LEVER + lever.key,  # labels and help render Markdown
                    help=f"{md(team)}: whole-time equivalents of {md(lever.group)} in post"))
                st.caption(f"base: {lever.base:g} WTE")

    st.subheader("Demand")
    growth = st.number_input("Demand growth (% a year)", min_value=-99.0, max_value=1000.0,
                             value=100 * base.demand.annual_growth, step=1.0, format="%.1f",
                             key=LEVER + "growth",
                             help="Compound growth of referrals a year, from the start date")
    st.caption(f"base: {fmt.percent(base.demand.annual_growth, 1)} a year, from "
               f"{base.demand.referrals_per_week:g} referrals a week")

    st.subheader("Outsourced assessments")
    block = levers.default_outsourcing(base)
    base_block = levers.base_outsourcing(base)
    teams = list(base.teams)
    c1, c2, c3, c4, c5 = st.columns(5)
    with c1:
        per_month = int(st.number_input("Assessments a month", min_value=0, max_value=100_000,
                                        value=block.per_month, step=1, key=LEVER + "out_n"))
    with c2:
        out_team = st.selectbox("Team", teams, index=teams.index(block.team)
                                if block.team in teams else 0, key=LEVER + "out_team")
    with c3:
        out_start = _date("From", block.start_date, LEVER + "out_start", base)
    with c4:
        out_end = _date("To", block.end_date, LEVER + "out_end", base)
    with c5:
        price = float(st.number_input("Price (GBP an assessment)", min_value=0.0,
                                      max_value=1_000_000.0, value=block.price_gbp, step=100.0,
                                      format="%.0f", key=LEVER + "out_price"))
    st.caption("base: none" if base_block is None else
               f"base: {base_block.per_month} a month for {base_block.team}, "
               f"{base_block.start_date} to {base_block.end_date}, "
               f"{fmt.value(base_block.price_gbp, 'GBP')} each")

    st.subheader("A dated change")
    dated = None
    if st.checkbox("Change one staff group's WTE from a date", key=LEVER + "dc_on"):
        d1, d2, d3, d4 = st.columns(4)
        with d1:
            when = _date("From", base.start_date + dt.timedelta(days=365), LEVER + "dc_date", base)
        with d2:
            team = str(st.selectbox("Team", teams, key=LEVER + "dc_team"))
        groups = list(base.teams[team].staff)
        with d3:
            group = str(st.selectbox("Staff group", groups, key=LEVER + "dc_group"))
        staff = base.teams[team].staff.get(group) or base.teams[team].staff[groups[0]]
        with d4:
            new = float(st.number_input("WTE from that date", min_value=0.0, max_value=10_000.0,
                                        value=float(staff.wte), step=0.05, format="%.2f",
                                        key=LEVER + "dc_wte"))
        st.caption(f"base: {staff.wte:g} WTE of {md(group)} in {md(team)}"
                   + (f"; the base has {len(base.capacity_changes)} dated changes of its own"
                      if base.capacity_changes else ""))
        dated = levers.DatedChange(when, team, group, new)
    elif base.capacity_changes:
        st.caption(f"base: {len(base.capacity_changes)} dated changes, kept")
    else:
        st.caption("base: none")

    name = st.text_input("Name of the edited design", value=f"{base.name} (edited)",
                         key=LEVER + "name", max_chars=80)
    return levers.Edits(name=name, wte=wte, annual_growth=growth / 100.0,
                        outsourcing=levers.Outsourcing(out_team, out_start, out_end, per_month,
                                                       price),
                        dated_change=dated)


# ------------------------------------------------------------------------------------- answer


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "scenario"


def show_answer(answer: dict[str, Any]) -> None:
    """The answer first (the summary), then the comparison, the charts and the downloads."""
    results = answer["results"]
    baseline = answer["baseline"]
    if "summary" not in answer:
        answer["summary"], answer["table"] = views.summary_of(results, baseline)
    summary, table = answer["summary"], answer["table"]
    st.header("3. Answer")
    if answer["cached"]:
        st.success(f"Answered from the cache in {answer['seconds']:.2f} s: the same scenario, "
                   "seed and replications were run before.")
    else:
        st.caption(f"Simulated {answer['replications']} replications of each design, seed "
                   f"{answer['seed']}, in {answer['seconds']:.1f} s.")
    with st.container(key="summary"):
        st.subheader("In short")
        st.caption(f"Judged against the standard: {md(summary.standard)}.")
        for design in summary.designs:
            st.markdown(f"**{md(design.scenario)}**: {md(design.text)}")
        for inc in summary.incremental:
            st.markdown(md(inc.text))
    if table is not None and baseline is not None:
        st.subheader(f"Compared with the base scenario, {md(baseline)}")
        st.caption("Paired differences: both designs meet the same children with the same luck "
                   "(common random numbers), so the difference's 95% interval is narrower than "
                   "the two intervals apart.")
        st.dataframe(views.comparison_rows(table, baseline), hide_index=True,
                     width="stretch")
    with st.expander("Every headline KPI, with 95% confidence intervals"):
        st.dataframe(views.kpi_frame(results, summary), hide_index=True, width="stretch")
    st.subheader("Charts")
    st.altair_chart(views.standard_chart(results, summary.level), width="stretch")
    st.altair_chart(views.open_referrals_chart(results), width="stretch")
    st.altair_chart(views.thirteen_weeks_chart(results), width="stretch")
    st.altair_chart(views.utilisation_chart(results), width="stretch")

    st.subheader("Downloads")
    edited: Scenario = answer["edited"]
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        st.download_button("Scenario (YAML)", scenario_to_yaml(edited),
                           file_name=f"{_slug(edited.name)}.yaml", mime="application/x-yaml",
                           key="dl_yaml", on_click="ignore",
                           help="Runs with 'asdsim run FILE.yaml'")
    with c2:
        st.download_button("KPIs (CSV)", views.kpis_csv(results), file_name="kpis.csv",
                           mime="text/csv", key="dl_kpis", on_click="ignore")
    with c3:
        if table is not None:
            st.download_button("Comparison (CSV)", views.comparison_csv(table),
                               file_name="comparison.csv", mime="text/csv", key="dl_comparison",
                               on_click="ignore")
    with c4:
        st.download_button("Report (HTML)", lambda: views.report_html(results, table, baseline),
                           file_name="report.html", mime="text/html", key="dl_report",
                           on_click="ignore", help="The report 'asdsim compare' writes")


# --------------------------------------------------------------------------------------- plan


def plan_page(base: Scenario, scope: str | None) -> None:
    """``asdsim plan`` in the page: targets, levers, run on the shared pool, the plan in words."""
    _reset_levers(base)
    st.header("2. Plan: the least-cost staffing that meets targets")
    st.caption("Searches extra WTE of the chosen staff groups, from a date, for the cheapest "
               "option that meets every target in enough replications (common random numbers; "
               "the choice is confirmed on fresh replications). See 'asdsim plan --help'.")
    text = st.text_area("Targets, one a line (all must hold)",
                        value=planning.STANDARD_TEXT, key=PLAN + "targets",
                        help="nice_standard (at least 90% of each quarter's referrals from the "
                             "quarter the money starts), or KPI >= VALUE [by DATE], as 'asdsim "
                             "plan --target' reads them; KPI names are in docs/kpis.md")
    c1, c2 = st.columns(2)
    with c1:
        start = _date("New money from", planning.default_from(base), PLAN + "from", base)
    groups = [f"{team}/{group}" for team, t in base.teams.items()
              if t.capacity_mode == "clinic_hours" for group in t.staff]
    biggest = max(base.teams, key=lambda t: sum(g.wte for g in base.teams[t].staff.values()))
    with c2:
        vary = st.multiselect("Staff groups to add WTE to (team/group)", groups,
                              default=[g for g in groups if g.startswith(biggest + "/")],
                              key=PLAN + "vary")
    c3, c4, c5, c6, c7 = st.columns(5)
    with c3:
        most = float(st.number_input("Most WTE added to each group", min_value=0.1,
                                     max_value=50.0, value=3.0, step=0.5, key=PLAN + "most"))
    with c4:
        step = float(st.number_input("WTE step", min_value=0.05, max_value=5.0, value=0.1,
                                     step=0.05, format="%.2f", key=PLAN + "step"))
    with c5:
        confidence = float(st.number_input("Confidence (share of replications)", min_value=0.5,
                                           max_value=0.99, value=0.8, step=0.05,
                                           key=PLAN + "confidence"))
    with c6:
        replications = int(st.number_input("Replications an option", min_value=1, max_value=30,
                                           value=5, step=1, key=PLAN + "replications"))
    with c7:
        evaluations = int(st.number_input("Most options evaluated", min_value=2, max_value=200,
                                          value=40, step=5, key=PLAN + "evaluations"))
    request = planning.PlanRequest(planning.targets_from_text(text), start, tuple(vary), most,
                                   step, confidence, replications, evaluations, DEFAULT_SEED)
    try:
        planning.check(base, request)
    except AsdsimError as error:
        st.error(f"The plan cannot be run: {md(str(error))}")
        return
    children = planning.plan_children(base, request)
    limit = PLAN_SIZE_FACTOR * settings.max_children()
    too_large = children > limit
    if too_large:
        st.error(f"This plan is too large: up to {evaluations} options × {replications} "
                 f"replications (and the confirmation) come to about {children:,} children "
                 f"simulated, over this server's limit of {limit:,} for a plan. Evaluate fewer "
                 "options or use fewer replications.")
    if st.button("Plan", type="primary", key="plan_run", disabled=too_large):
        engine = get_engine()
        started = time.monotonic()
        try:
            job = planning.submit(engine, base, request, scope)
        except QueueFull as exc:
            st.warning(f"The server is busy: {md(str(exc))}")
            return
        if follow({"plan": job}, "Evaluating options"):
            st.session_state.plan_answer = {"plan": job.results, "request": request,
                                            "cached": job.cached,
                                            "seconds": time.monotonic() - started}
    answer = st.session_state.get("plan_answer")
    if answer is None:
        return
    if answer["request"] != request:
        st.info("The plan's settings have changed since this answer: press Plan to answer the "
                "new question.")
    result = answer["plan"]
    st.header("3. The plan")
    if answer["cached"]:
        st.success(f"Answered from the cache in {answer['seconds']:.2f} s.")
    with st.container(key="plan_summary"):
        for line in result.summary().splitlines():
            st.markdown(md(line))
    st.caption(f"{result.evaluations} options evaluated, {result.replications_run} replications "
               f"run, in {result.wall_seconds:.0f} s.")
    st.subheader("Options evaluated")
    st.dataframe(result.options, hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    with c1:
        st.download_button("Recommended scenario (YAML)", result.to_yaml(),
                           file_name="recommended.yaml", mime="application/x-yaml",
                           key="dl_plan_yaml", on_click="ignore",
                           help="Runs with 'asdsim run recommended.yaml'")
    with c2:
        st.download_button("Options (CSV)", csv_bytes(result.options),
                           file_name="options.csv", mime="text/csv", key="dl_plan_options",
                           on_click="ignore")


# --------------------------------------------------------------------------------------- page


def main() -> None:
    """Draw the page."""
    st.set_page_config(page_title="asdsim: autism assessment waits", layout="wide")
    st.title("Autism assessment pathway: what would change the waits?")
    st.caption("Simulates children's autism diagnostic pathways and judges them against NICE's "
               "3-month standard (QS51) and NHS England's 13-week measure. Pick a starting "
               "point, move the levers, run: the answer comes first.")
    get_engine().warm()  # the shared workers start while the user picks
    chosen = choose_base()
    if chosen is None:
        return
    base, scope = chosen
    describe(base)
    if st.radio("What to do", [TRY, PLAN_MODE], key="mode", horizontal=True) == PLAN_MODE:
        plan_page(base, scope)
        return
    edits = choose_levers(base)
    try:
        edited = levers.build(base, edits)
    except ScenarioError as error:
        show_problems(error, "The levers give an invalid scenario")
        return
    changed = levers.changes(base, edits)
    if changed:
        st.markdown("**Changed from the base:** " + md("; ".join(changed)))
    else:
        st.caption("No lever has moved: a run shows the base scenario alone.")

    st.header("Run")
    c1, c2 = st.columns(2)
    with c1:
        replications = int(st.number_input(
            "Replications", min_value=1, max_value=settings.MAX_REPLICATIONS, value=10, step=1,
            key="replications", help="Independent runs; more give narrower 95% intervals"))
    with c2:
        seed = int(st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=DEFAULT_SEED,
                                   step=1, key="seed",
                                   help="The same seed gives the same answer"))
    designs = {base.name: base} if edited is base else {base.name: base, edited.name: edited}
    too_large = next((m for m in (size_message(s, replications) for s in designs.values()) if m),
                     None)
    if too_large:
        st.error(too_large)
    clicked = st.button("Run", type="primary", key="run", disabled=too_large is not None)
    if clicked and too_large is None:
        answer = run(designs, seed, replications, scope)
        if answer is not None:
            st.session_state.answer = answer
    answer = st.session_state.get("answer")
    if answer is not None:
        if answer["question"] != (scenario_hash(edited), seed, replications):
            st.info("The levers or run settings have changed since this answer: press Run to "
                    "answer the new question.")
        show_answer(answer)


if __name__ == "__main__":  # Streamlit runs the page as __main__; a worker imports it as __mp_main__
    main()
