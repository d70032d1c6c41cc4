"""The fuzz tier (issue 23, item 8): generated hostile inputs for every entry point.

Hypothesis generates inputs from what the tool itself says it reads: scenario YAML from the JSON
Schema (``asdsim schema``) set into a valid scenario at any field and then mutated as text, each
CSV kind from its columns, each command's options, and app uploads through Streamlit's AppTest.
Every example checks the invariants every entry point keeps:

* the exit code is 0, 1 or 2 (130 only where the work itself was reached and interrupted on
  purpose), with a message and never a traceback, nor the command line's last-resort "unexpected
  error" (which would hide a reader that failed to say what is wrong);
* nothing is written outside the output path, and every input is byte-identical afterwards;
* no message repeats a cell of a CSV file (every generated cell carries a marker).

The tier is derandomised (the ``fuzz`` profile of tests/hypothesis_profiles.py: the same examples
on every run, so it never fails by chance) and bounded (a fixed number of examples per test), and
runs in CI with the rest of the suite. Run it alone with ``pytest -m fuzz``; docs/testing.md
gives its measured duration.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.hypothesis_profiles  # noqa: F401  (registers the profiles)
from asdsim.cli import main
from asdsim.scenario import scenario_json_schema
from asdsim.templates_area import create_area

pytestmark = pytest.mark.fuzz

FUZZ = settings.get_profile("fuzz")
ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "scenarios" / "minimal.yaml"
MARKER = "QZX"
"""Every generated CSV cell that is not a fixed word carries this; no message may show it."""


# ------------------------------------------------------------------------------ the invariants


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def _outside(root: Path, out: Path) -> dict[str, str]:
    return {k: v for k, v in _files(root).items()
            if not (root / k).resolve().is_relative_to(out.resolve())}


def _invoke(argv: list[str], root: Path, out: Path, capsys: Any,
            allowed: tuple[int, ...] = (0, 1, 2)) -> tuple[int, str]:
    """Run the command and check the invariants; returns the exit code and everything printed."""
    before = _outside(root, out)
    code = main(argv)
    printed = capsys.readouterr()
    said = printed.out + printed.err
    assert code in allowed, (argv, code, said)
    assert "Traceback" not in said, said
    assert "unexpected error" not in said, said  # the last-resort message: a bug to fix
    if code in (1, 2):
        assert said.strip(), argv  # a message says why (a failed check reports on stdout)
    assert _outside(root, out) == before, argv  # inputs untouched, nothing written beside them
    return code, said


@pytest.fixture(autouse=True)
def _no_simulation(monkeypatch):
    """Commands stop where the simulation would start (exit 130), in this process (no worker
    pool is started), so each example is quick: what is fuzzed is reading and checking, not the
    model."""
    from asdsim.experiments.backends import Backend

    def stop(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    for target in ("asdsim.simulate", "asdsim.experiments.compare.compare",
                   "asdsim.cli.sensitivity.sensitivity", "asdsim.experiments.plan.plan",
                   "asdsim.checks.regress.simulate", "asdsim.experiments.sweep.run_point",
                   "asdsim.experiments.runner.run_replication"):
        monkeypatch.setattr(target, stop)
    monkeypatch.setattr("asdsim.experiments.backends.make_backend", lambda *_a, **_k: Backend())


# ------------------------------------------------------------- scenario YAML, from the schema

SCHEMA = scenario_json_schema()
BASE = yaml.safe_load(MINIMAL.read_text())


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _leaves(data: Any, node: dict[str, Any], path: tuple[Any, ...] = ()) -> list[tuple]:
    """Every (path, schema) of a value in ``data``, with the schema the JSON Schema gives it."""
    node = _resolve(node)
    out = [(path, node)]
    options = node.get("anyOf") or node.get("oneOf") or []
    if isinstance(data, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        for key, value in data.items():
            sub = props.get(key) or (extra if isinstance(extra, dict) else None)
            if sub is None:
                sub = next((o for o in map(_resolve, options) if key in o.get("properties", {})), {})
                sub = _resolve(sub).get("properties", {}).get(key, {}) if sub else {}
            out += _leaves(value, sub, (*path, key))
    elif isinstance(data, list):
        items = node.get("items") or next((o.get("items") for o in map(_resolve, options)
                                           if o.get("items")), {})
        for i, value in enumerate(data):
            out += _leaves(value, items or {}, (*path, i))
    return out


LEAVES = _leaves(BASE, SCHEMA)

HOSTILE_TEXT = st.sampled_from([
    "", " ", "**x**", "<b>x</b>", "[a](http://x)", "$x$", "=cmd()", "-1", "x\x07y", "x\ty",
    "Crewé", "Crewe\u0301", "a" * 300, "../../etc/passwd", "\u202e", "null", "~", "yes", "010",
    "1_000", "0x1F", "1:30", ".inf", "2024-02-30", "9" * 40])
HOSTILE_NUMBER = st.one_of(
    st.sampled_from([0, -1, 1e300, -1e300, 1e-300, 10**30, 2**63, 0.5, 1.0, 3]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6))


def _value_for(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the kind the schema names, with hostile ones mixed in."""
    node = _resolve(node)
    kinds = {node.get("type")} | {_resolve(o).get("type") for o in node.get("anyOf", [])}
    choices: list[st.SearchStrategy[Any]] = [HOSTILE_TEXT, st.none(), st.booleans()]
    if kinds & {"number", "integer"}:
        choices.append(HOSTILE_NUMBER)
    if "string" in kinds:
        choices.append(st.text(max_size=20))
    if kinds & {"array"}:
        choices.append(st.lists(st.one_of(HOSTILE_NUMBER, HOSTILE_TEXT), max_size=3))
    if kinds & {"object"}:
        choices.append(st.dictionaries(HOSTILE_TEXT, st.one_of(HOSTILE_NUMBER, HOSTILE_TEXT),
                                       max_size=3))
    if "enum" in node:
        choices.append(st.sampled_from(node["enum"]))
    return st.one_of(*choices)


@st.composite
def scenario_text(draw: Callable[..., Any]) -> str:
    """A scenario: the valid minimal one with fields set from the schema, then mutated as text."""
    data = json.loads(json.dumps(BASE, default=str))
    for _ in range(draw(st.integers(0, 3))):
        path, node = draw(st.sampled_from(LEAVES))
        value = draw(_value_for(node))
        if not path:
            data = value
            break
        target = data
        for key in path:
            if not isinstance(target, dict | list) or (isinstance(target, list) and (
                    not isinstance(key, int) or key >= len(target))):
                target = None  # an earlier change replaced the container: skip this one
                break
            parent, target = target, target[key] if isinstance(target, list) else target.get(key)
        if target is not None or (isinstance(parent, dict) and path[-1] in parent):
            parent[path[-1]] = value
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False) if isinstance(data, dict) \
        else yaml.safe_dump(data)
    mutation = draw(st.sampled_from(["none", "insert", "delete", "duplicate", "truncate"]))
    at = draw(st.integers(0, max(len(text) - 1, 0)))
    if mutation == "insert":
        text = text[:at] + draw(st.sampled_from(["\x00", "\x07", "\ufeff", "\t", ":", "- ", "&a ",
                                                 "*a", "{", "]", "\"", "'", "\n  x: 1\n"])) + text[at:]
    elif mutation == "delete":
        text = text[:at] + text[at + draw(st.integers(1, 20)):]
    elif mutation == "duplicate":
        line = text[:at].rsplit("\n", 1)[-1]
        text = text[:at] + "\n" + line + text[at:]
    elif mutation == "truncate":
        text = text[:at]
    return text


@settings(FUZZ, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=scenario_text(), command=st.sampled_from(["validate", "run", "sensitivity"]))
def test_fuzz_scenario_yaml(tmp_path, capsys, text, command):
    folder = tmp_path / "in"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = folder / "s.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    argv = {"validate": ["validate", str(path)],
            "run": ["run", str(path), "--replications", "1", "--out", str(out)],
            "sensitivity": ["sensitivity", str(path), "--replications", "1", "--out", str(out)],
            }[command]
    _invoke(argv, tmp_path, out, capsys, allowed=(0, 1, 2, 130))


AREA_FIELDS = ["demand.referrals_per_week", "initial_state.backlog[0].count", "horizon_weeks",
               "teams.mdt.staff.psychologist.wte", "observed", "description", "nonsense.field",
               "teams[0]", ""]


@st.composite
def areas_yaml_text(draw: Callable[..., Any]) -> str:
    """An areas table as YAML: two valid areas of the small scenario, with hostile values set at
    any key (the area, the scenario or a field), then mutated as text."""
    areas: Any = [{"area": "North", "scenario": "small.yaml"},
                  {"area": "South", "scenario": "small.yaml", "demand.referrals_per_week": 3}]
    hostile = st.one_of(HOSTILE_TEXT, HOSTILE_NUMBER, st.none(), st.booleans(),
                        st.lists(HOSTILE_NUMBER, max_size=2))
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, 2))
        if i == 2:
            areas.append(draw(hostile))
            continue
        if isinstance(areas[i], dict):
            key = draw(st.sampled_from(["area", "scenario", *AREA_FIELDS]))
            areas[i][key] = draw(hostile)
    data = {"areas": areas} if draw(st.booleans()) else areas
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    at = draw(st.integers(0, max(len(text) - 1, 0)))
    mutation = draw(st.sampled_from(["none", "insert", "truncate"]))
    if mutation == "insert":
        text = text[:at] + draw(st.sampled_from(["\x00", "\t", ":", "- ", "{", "]", "*a",
                                                 "\n- x\n"])) + text[at:]
    elif mutation == "truncate":
        text = text[:at]
    return text


@settings(FUZZ, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=areas_yaml_text())
def test_fuzz_areas_yaml(tmp_path, capsys, text):
    folder = tmp_path / "in"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "small.yaml", folder / "small.yaml")
    (folder / "areas.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    _invoke(["areas", str(folder / "areas.yaml"), "--out", str(out)], tmp_path, out, capsys,
            allowed=(0, 1, 2, 130))


# ------------------------------------------------------------ CSV files, from their columns

COLUMNS = {
    "referrals": ["referral_id", "referral_date", "date_of_birth", "age_years", "source",
                  "locality", "triage_outcome"],
    "waiting_list": ["child_id", "referral_date", "date_of_birth", "age_years", "stage",
                     "priority", "locality", "steps_done"],
    "activity": ["appointment_date", "team", "step", "attended", "duration_minutes"],
}
"""The columns each CSV kind reads (docs/your-area.md, docs/privacy.md), and an id column."""


@st.composite
def cell(draw: Callable[..., Any]) -> str:
    """A cell: a marked value in a form some rule reads, or a hostile one."""
    n = draw(st.integers(0, 999))
    return draw(st.sampled_from([
        f"2023-0{1 + n % 9}-1{n % 10}", f"1{n % 10}/0{1 + n % 9}/2023", f"20{n:02d}-01-01",
        f"{n % 17}.5", f"{MARKER}{n}", f"={MARKER}{n}", f"{MARKER}{n}\x00", f"\"{MARKER}{n},\"",
        f"{n}_{n}", f"{MARKER}{n}\n", "", "yes", "no", "accept", "awaiting_assessment",
        "school_age_mdt", f"{n}e400", f"١{n}", "inf", f"{MARKER}{n};{n}", f" {MARKER}{n} "]))


@st.composite
def csv_text(draw: Callable[..., Any], kind: str) -> bytes:
    columns = draw(st.lists(st.sampled_from(COLUMNS[kind]), min_size=1, max_size=8, unique=True))
    if draw(st.booleans()):
        columns = COLUMNS[kind]
    rows = draw(st.lists(st.lists(cell(), min_size=len(columns), max_size=len(columns) + 1),
                         max_size=12))
    text = "\n".join([",".join(columns), *(",".join(r) for r in rows)]) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    return text.encode(encoding, errors="replace")


@pytest.fixture(scope="module")
def area(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("area") / "area"
    create_area(folder)
    return folder


@settings(FUZZ, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(sorted(COLUMNS)))
def test_fuzz_csv_files(tmp_path, capsys, area, data, kind):
    folder = tmp_path / "case"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(area, folder)
    (folder / f"{kind}.csv").write_bytes(data.draw(csv_text(kind)))
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    argv = ["calibrate", "--referrals", str(folder / "referrals.csv"), "--base",
            str(folder / "scenario.yaml"), "--out", str(out / "c.yaml")]
    if kind == "activity":
        argv += ["--activity", str(folder / "activity.csv")]
    if kind == "waiting_list":
        argv += ["--waiting-list", str(folder / "waiting_list.csv")]
    _, said = _invoke(argv, tmp_path, out, capsys)
    assert MARKER not in said, said
    if kind == "waiting_list":
        _, said = _invoke(["validate", str(folder / "scenario.yaml")], tmp_path, out, capsys)
        assert MARKER not in said, said


# --------------------------------------------------------------------- every command's options

NUMBERS = st.sampled_from(["0", "1", "-1", "2", "1_0", "١", "²", "inf", "nan", "0x10", "1e400",
                           "1e-400", "3.5", "99999999999999999999999999", "", " 4 ", "+2"])
DATES = st.sampled_from(["2024-01-01", "2024-02-30", "20240101", "2024-W01-1", "01/02/2024", "",
                         "２０２４-01-01", "1900-01-01", "9999-12-31"])


FUZZED_COMMANDS = ["run", "compare", "sweep", "plan", "sensitivity", "calibrate", "regress",
                   "verify", "app", "init", "validate", "schema", "backtest", "areas", "national"]


def test_the_fuzz_tier_reaches_every_command():
    """A new command must join the tier: its options are hostile input too."""
    from asdsim.cli.root import SUBCOMMANDS

    assert sorted(FUZZED_COMMANDS) == sorted(name for name, _help in SUBCOMMANDS)


@st.composite
def command_line(draw: Callable[..., Any], root: Path) -> list[str]:
    scenario = str(root / "small.yaml")
    command = draw(st.sampled_from(FUZZED_COMMANDS))
    out = str(root / "out")
    options: dict[str, list[str]] = {
        "run": [scenario, "--out", out], "compare": [scenario, scenario, "--out", out],
        "sweep": [str(root / "grid.yaml"), "--out", out],
        "plan": [scenario, "--target", draw(st.sampled_from([
            "backlog_cleared_weeks <= 12", "assessment_started_within_3_months >= 1.5",
            "nonsense", "waiting_over_52_weeks == 0 by 2019-06-03"])),
            "--from", draw(DATES), "--vary", draw(st.sampled_from(["slt", "nobody", ""])),
            "--out", out],
        "sensitivity": [scenario, "--out", out], "validate": [scenario], "schema": [],
        "calibrate": ["--referrals", str(root / "referrals.csv"), "--base", scenario, "--out",
                      str(root / "out" / "c.yaml")],
        "regress": [str(root / "regression")], "verify": ["--list"], "app": ["--port"],
        "init": [out],
        "backtest": [scenario, "--observed", str(root / "observed.csv"), "--cut", draw(DATES),
                     "--out", out],
        "areas": [str(root / draw(st.sampled_from(["areas.csv", "areas.yaml"]))), "--out", out],
        "national": [str(root / "national.csv"), "--organisation",
                     draw(st.sampled_from(["RXA", "Cheshire", "", "nobody"])), "--out",
                     str(root / "out" / "observed.csv")],
    }
    argv = [command, *options[command]]
    numeric = {"run": ["--seed", "--replications", "--jobs"], "compare": ["--seed", "--jobs"],
               "sweep": ["--seed", "--replications", "--jobs"],
               "plan": ["--seed", "--replications", "--confidence", "--budget", "--step",
                        "--max-evaluations", "--outsourcing-months"],
               "sensitivity": ["--seed", "--replications", "--change", "--jobs"],
               "regress": ["--jobs", "--seed"], "verify": ["--seed", "--jobs"],
               "calibrate": [], "app": [], "init": [], "validate": [], "schema": [],
               "backtest": ["--seed", "--replications", "--jobs", "--draws"],
               "areas": ["--seed", "--replications", "--jobs", "--level"],
               "national": []}[command]
    if command == "app":
        argv.append(draw(NUMBERS))
    for option in draw(st.lists(st.sampled_from(numeric), unique=True, max_size=3)) if numeric \
            else []:
        argv += [option, draw(NUMBERS)]
    if command == "calibrate" and draw(st.booleans()):
        argv += ["--step-change", draw(DATES)]
    if command == "plan" and draw(st.booleans()):
        argv += ["--bounds", draw(st.sampled_from(["slt=0:1", "slt=1:0", "slt=0:1_0", "x=0:1",
                                                   "slt=-1:inf"]))]
    return argv


@pytest.fixture(scope="module")
def workplace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("options")
    shutil.copy(ROOT / "tests" / "fixtures" / "small.yaml", root / "small.yaml")
    (root / "grid.yaml").write_text("base: small.yaml\nreplications: 1\n"
                                    "vary:\n  demand.annual_growth: [0.0, 0.1]\n")
    area = root / "area"
    create_area(area)
    shutil.copy(area / "referrals.csv", root / "referrals.csv")
    (root / "regression").mkdir()
    shutil.copy(root / "small.yaml", root / "regression" / "small.yaml")
    (root / "observed.csv").write_text("date,measure,value\n2019-06-30,awaiting_assessment,40\n"
                                       "2019-09-30,awaiting_assessment,45\n")
    (root / "areas.csv").write_text("area,scenario\nNorth,small.yaml\nSouth,small.yaml\n")
    (root / "areas.yaml").write_text("areas:\n  - {area: North, scenario: small.yaml}\n"
                                     "  - {area: South, scenario: small.yaml}\n")
    (root / "national.csv").write_text(
        "REPORTING_PERIOD_START,REPORTING_PERIOD_END,BREAKDOWN,PRIMARY_LEVEL,"
        "PRIMARY_LEVEL_DESCRIPTION,MEASURE_ID,MEASURE_VALUE\n"
        "01/01/2024,31/01/2024,Provider,RXA,Cheshire Trust,ASD12a,40\n"
        "01/01/2024,31/01/2024,Provider,RXA,Cheshire Trust,ASD16b,*\n")
    return root


@settings(FUZZ, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_command_options(capsys, monkeypatch, workplace, data):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    # no server: Streamlit looks absent, and only Streamlit (this is importlib's own function, so
    # a stand-in for every name would hide the report templates' package from jinja2 too)
    monkeypatch.setattr("asdsim.cli.app.importlib.util.find_spec",
                        lambda name, *rest: None if name == "streamlit"
                        else real_find_spec(name, *rest))
    argv = data.draw(command_line(workplace))
    out = workplace / "out"
    shutil.rmtree(out, ignore_errors=True)
    try:
        _invoke(argv, workplace, out, capsys, allowed=(0, 1, 2, 130))
    finally:
        shutil.rmtree(out, ignore_errors=True)


# ------------------------------------------------------------------------------- app uploads


@pytest.fixture(scope="module")
def app_page():
    pytest.importorskip("streamlit", reason="the app extra is not installed")
    from streamlit.testing.v1 import AppTest

    import asdsim

    page = AppTest.from_file(str(Path(asdsim.__file__).parent / "app" / "page.py"),
                             default_timeout=120)
    page.run()
    page.radio(key="source").set_value("Upload a scenario file").run()
    return page


@settings(FUZZ, max_examples=max(FUZZ.max_examples // 3, 5),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=scenario_text(), name=st.sampled_from(["s.yaml", "../x.yaml", "a b.yaml", "**b**.yaml",
                                                    "<i>.yaml", ".yaml", "x" * 300 + ".yaml"]))
def test_fuzz_app_uploads(app_page, text, name):
    app_page.file_uploader(key="upload_yaml").set_value(
        (name, text.encode("utf-8", errors="replace"), "application/x-yaml")).run()
    assert not app_page.exception, app_page.exception
