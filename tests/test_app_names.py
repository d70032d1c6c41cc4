"""User-provided names are text everywhere in the app (issue 23, class 3).

A scenario whose name, team, staff group, source and locality hold Markdown, HTML and LaTeX
(``**x**``, ``<b>``, ``[a](http://x)``, ``$x$``) is picked from a scenarios folder and every page
is walked: the description, the levers, a run with its comparison, and the plan page. Every text
element that Streamlit renders as Markdown must carry those names escaped (never the raw
Markdown), and the names must be shown (read back unescaped).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app extra is not installed (pip install asdsim[app])")

from streamlit.testing.v1 import AppTest

import asdsim
from asdsim.app import engine as app_engine
from asdsim.app import settings

PAGE = Path(asdsim.__file__).parent / "app" / "page.py"
MINIMAL = Path(__file__).resolve().parents[1] / "scenarios" / "minimal.yaml"
HOSTILE = {"scenario": "S **bold** <b>tag</b> [a](http://x) $m$",
           "team": "T_*x*_<i>",
           "group": "G`code`[l](http://y)",
           "locality": "L <script>z</script> $q$"}
RAW = ["**bold**", "<b>", "[a](http://x)", "$m$", "*x*", "<i>", "`code`", "[l](http://y)",
       "<script>", "$q$"]
"""Pieces that, unescaped in Markdown, would be rendered instead of shown."""


def _hostile_scenario(folder: Path) -> Path:
    text = MINIMAL.read_text()
    text = text.replace("name: minimal ", f"name: {HOSTILE['scenario']!r} ", 1)
    text = text.replace("  clinic:\n", f"  {HOSTILE['team']!r}:\n", 1)
    text = text.replace("      paediatrician:\n", f"      {HOSTILE['group']!r}:\n", 1)
    text = text.replace("paediatrician:", f"{HOSTILE['group']!r}:")
    text = text.replace("{town: 1.0}", "{" + repr(HOSTILE["locality"]) + ": 1.0}")
    path = folder / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    asdsim.load_scenario(path)  # valid
    return path


@pytest.fixture
def at(tmp_path, monkeypatch):
    _hostile_scenario(tmp_path)
    monkeypatch.setenv(settings.WORKERS_ENV, "1")
    monkeypatch.setenv(settings.SCENARIOS_ENV, str(tmp_path))
    monkeypatch.delenv(settings.MAX_CHILDREN_ENV, raising=False)
    app_engine.reset_engine()
    page = AppTest.from_file(str(PAGE), default_timeout=180)
    page.run()
    try:
        yield page
    finally:
        app_engine.reset_engine()


MARKDOWN_KINDS = ("markdown", "caption", "subheader", "header", "title", "error", "warning",
                  "info", "success")


WIDGET_KINDS = ("number_input", "selectbox", "multiselect", "radio", "text_area", "text_input",
                "checkbox", "date_input", "slider", "button", "download_button")
"""Widgets whose label and help Streamlit renders as Markdown."""


def _rendered(page: AppTest) -> list[str]:
    shown = [str(element.value) for kind in MARKDOWN_KINDS for element in page.get(kind)]
    for kind in WIDGET_KINDS:
        for element in page.get(kind):
            shown += [str(getattr(element, attr, "") or "") for attr in ("label", "help")]
    return shown


def _check(page: AppTest) -> str:
    assert not page.exception, page.exception
    shown = _rendered(page)
    for raw in RAW:
        assert not any(raw in value for value in shown), (raw, [v for v in shown if raw in v])
    return " ".join(re.sub(r"\\(.)", r"\1", value) for value in shown)


def test_every_page_shows_user_names_as_text(at):
    source = next(o for o in at.radio(key="source").options if o.startswith("Scenarios in"))
    at.radio(key="source").set_value(source).run()
    at.selectbox(key="scenario").set_value("hostile").run()
    said = _check(at)
    assert HOSTILE["scenario"] in said
    assert HOSTILE["team"] in said or HOSTILE["group"] in said
    lever = next(n for n in at.number_input if str(n.key).startswith("lever:wte:"))
    lever.set_value(float(lever.value) + 0.5).run()  # an edited design: the comparison is shown
    _check(at)
    at.number_input(key="replications").set_value(2).run()
    at.button(key="run").click().run()
    said = _check(at)
    assert f"Compared with the base scenario, {HOSTILE['scenario']}" in said
    at.radio(key="mode").set_value(at.radio(key="mode").options[1]).run()
    _check(at)
    at.text_area(key="plan:targets").set_value("assessment_started_within_3_months >= 0.5").run()
    _check(at)


def test_the_report_and_charts_show_user_names_as_text(tmp_path):
    """The HTML report escapes the names, and a chart draws "$\\frac$" as text, not mathtext."""
    from asdsim.cli import main

    path = _hostile_scenario(tmp_path)
    path.write_text(path.read_text().replace("$m$", "$\\frac$"), encoding="utf-8")
    assert main(["run", str(path), "--replications", "1", "--out", str(tmp_path / "o")]) == 0
    report = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "<b>tag</b>" not in report and "&lt;b&gt;tag&lt;/b&gt;" in report
    assert "<script>z" not in report
