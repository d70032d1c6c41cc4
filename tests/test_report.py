"""The HTML report: contents, escaping, self-containment, and a real browser render."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import asdsim
from asdsim.analysis.definitions import split
from asdsim.cli import main
from asdsim.reporting import formatting as fmt
from asdsim.reporting.charts import CHARTS
from asdsim.reporting.outputs import write_comparison
from asdsim.reporting.report import render_report
from asdsim.reporting.summary import COST_PER_YEAR, DERIVED, OUTSOURCING_PER_YEAR, years
from asdsim.reporting.summary import label as summary_label

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = asdsim.load_scenario(FIXTURES / "hostile.yaml")


class Page(HTMLParser):
    """The parts of a page the tests look at: tags with attributes, tables, and visible text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.row_kpis: dict[str, list[str | None]] = {}  # each table row's data-kpi
        self.figures: list[dict[str, str]] = []  # the summary's stated figures
        self.text: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._figure: dict[str, str] | None = None
        self._section: list[str] = []
        self.sections: dict[str, list[str]] = {}  # visible text by section id
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section" and attrs.get("id"):
            self._section = self.sections.setdefault(attrs["id"], [])
        if tag == "table":
            self._table = attrs.get("id", "")
            self.tables[self._table] = []
            self.row_kpis[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
            self.row_kpis[self._table].append(attrs.get("data-kpi"))
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "span" and "figure" in (attrs.get("class") or "").split():
            self._figure = {"kpi": attrs["data-kpi"], "scenario": attrs["data-scenario"], "text": ""}

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "span" and self._figure is not None:
            self.figures.append(self._figure)
            self._figure = None
        elif tag == "section":
            self._section = []

    def handle_data(self, data):
        self.text.append(data)
        self._section.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._figure is not None:
            self._figure["text"] += data

    def table(self, table_id: str) -> dict[str, dict[str, str]]:
        """A table with data-kpi rows as ``{kpi: {column header: cell}}``."""
        header, *rows = self.tables[table_id]
        kpis = self.row_kpis[table_id][1:]
        return {kpi: dict(zip(header, row, strict=True)) for kpi, row in zip(kpis, rows, strict=True)
                if kpi is not None}


def numbers(cell: str) -> list[float]:
    """The numbers in a formatted cell: '11.3% (5.0% to 17.5%)' -> [11.3, 5.0, 17.5]."""
    return [float(n.replace(",", "")) for n in re.findall(r"[-+]?\d[\d,]*\.?\d*", cell)]


FIGURE = re.compile(r"(?P<sign>[-+]?)£?(?P<digits>\d[\d,]*(?:\.(?P<decimals>\d+))?)"
                    r"(?P<scale>[km]?)(?P<pct>%?)")


def quantities(text: str) -> list[tuple[float, float]]:
    """Each number a person reads in ``text``, in the KPI's own unit, with the rounding it was
    shown to: '98% (95% to 100%)' -> [(0.98, 0.005), ...], '£1.2m' -> [(1.2e6, 5e4)]."""
    out = []
    for m in FIGURE.finditer(text):
        scale = {"": 1.0, "k": 1e3, "m": 1e6}[m["scale"]] / (100.0 if m["pct"] else 1.0)
        step = 10.0 ** -len(m["decimals"] or "")
        value = float(m["digits"].replace(",", "")) * (-1 if m["sign"] == "-" else 1)
        out.append((value * scale, step * scale / 2))
    return out


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    code = main(["compare", str(FIXTURES / "small.yaml"), str(FIXTURES / "hostile.yaml"),
                 "--replications", "2", "--seed", "5", "--out", str(out)])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def page(compared) -> Page:
    return Page((compared / "report.html").read_text(encoding="utf-8"))


def test_every_chart_is_embedded_as_the_png_written(compared, page):
    images = {attrs.get("id"): None for tag, attrs in page.tags if tag == "figure"}
    assert list(images) == [f"chart-{name}" for name in CHARTS]
    srcs = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert len(srcs) == len(CHARTS)
    for name, src in zip(CHARTS, srcs, strict=True):
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == (compared / "charts" / f"{name}.png").read_bytes()


def test_nothing_is_fetched_from_anywhere(compared, page):
    html = (compared / "report.html").read_text(encoding="utf-8")
    for tag, attrs in page.tags:
        for key in ("src", "href", "action", "data", "poster"):
            value = attrs.get(key)
            assert value is None or value.startswith("data:"), (tag, key, value)
        assert tag not in ("script", "link", "iframe", "object", "embed"), tag
    assert "@import" not in html and "url(" not in html
    assert not re.search(r"https?://", html)
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp and "default-src 'none'" in csp[0]


def test_scenario_text_is_shown_as_text(compared, page):
    html = (compared / "report.html").read_text(encoding="utf-8")
    assert HOSTILE.name.startswith("<script>")
    assert HOSTILE.name not in html  # never raw
    text = "".join(page.text)
    assert HOSTILE.name in text  # but shown, as text
    assert HOSTILE.description in text
    assert HOSTILE.assumptions[0] in text
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; &amp; co" in html
    assert not any(tag == "img" and "onerror" in attrs for tag, attrs in page.tags)


def test_descriptions_assumptions_and_provenance(compared, page):
    text = "".join(page.text)
    small = asdsim.load_scenario(FIXTURES / "small.yaml")
    assert small.description in text and small.assumptions[0] in text
    provenance = json.loads(re.search(r"Provenance\s*(\{.*\})", text, re.S).group(1))
    assert provenance["small"]["seed"] == 5 and provenance["small"]["replications"] == 2
    assert provenance[HOSTILE.name]["scenario_hash"] == asdsim.scenario_hash(HOSTILE)
    assert provenance["run"]["command"][:2] == ["asdsim", "compare"]


def expected_values(folder: Path, scenario: str, kpi: str) -> tuple[str, np.ndarray]:
    """A KPI's unit and (mean, ci_low, ci_high) from comparison.csv, per-year KPIs derived."""
    table = pd.read_csv(folder / "comparison.csv").set_index(["scenario", "kpi"])
    if kpi in DERIVED:
        source = DERIVED[kpi][0]
        row = table.loc[(scenario, source)]
        scenario_file = json.loads((folder / "provenance.json").read_text())["resolved_files"][scenario]
        per_year = 1 / years(asdsim.load_scenario(folder / scenario_file))
        return "GBP", per_year * row[["mean", "ci_low", "ci_high"]].to_numpy(float)
    row = table.loc[(scenario, kpi)]
    return row.unit, row[["mean", "ci_low", "ci_high"]].to_numpy(float)


def assert_shown(text: str, expected: np.ndarray, what: str) -> None:
    """``text`` shows ``expected`` (mean, low, high) to the rounding it states; an interval whose
    ends round alike is shown as the mean alone."""
    if np.isnan(expected[0]):
        assert text == "not reached", what
        return
    shown = quantities(text)
    assert len(shown) in (1, 3), (what, text)
    targets = expected if len(shown) == 3 else expected[:1]
    for (value, half_step), target in zip(shown, targets, strict=True):
        assert abs(value - target) <= half_step * 1.0001 + 1e-12, (what, text, target)
    if len(shown) == 1 and not np.isnan(expected[1]):  # the interval said nothing more
        for end in expected[1:]:
            assert abs(shown[0][0] - end) <= 2 * shown[0][1] * 1.0001, (what, text, end)


def test_kpi_table_matches_comparison_csv(compared, page):
    header, *rows = page.tables["kpi-table"]
    assert header == ["KPI", "name", "unit", "small", HOSTILE.name]
    assert len(rows) >= 10
    checked = 0
    for kpi, row in page.table("kpi-table").items():
        assert row["name"] == kpi and row["KPI"] == summary_label(kpi)
        for scenario in header[3:]:
            unit, expected = expected_values(compared, scenario, kpi)
            assert row["unit"] == fmt.unit_name(unit)
            assert_shown(row[scenario], expected, f"{kpi} {scenario}")
            checked += 1
    assert checked >= 20


def test_difference_table_matches_comparison_csv(compared, page):
    table = pd.read_csv(compared / "comparison.csv").set_index(["scenario", "kpi"])
    header, *rows = page.tables["difference-table"]
    assert header == ["scenario", "KPI", "name", "unit", "difference", "95% CI",
                      "difference taken"]
    assert {r[0] for r in rows} == {HOSTILE.name}  # the baseline is not differenced
    for scenario, _label, kpi, unit, diff, ci, taken in rows:
        row = table.loc[(scenario, kpi)]
        assert taken == row.difference == "paired"
        if pd.isna(row.diff_mean):
            assert diff == "not reached"
            continue
        assert unit == fmt.unit_name(row.unit, difference=True)
        scale = 100 if unit == "percentage points" else 1
        expected = scale * np.array([row.diff_mean, row.diff_ci_low, row.diff_ci_high])
        assert_shown(diff + (f" ({ci})" if ci != "–" else ""), expected, kpi)
        assert not re.search(r"[-+]0(?:\.0+)?(?![\d.,])", diff + " " + ci), (kpi, diff, ci)


def costed(name: str, extra_wte: float = 0.0, outsourcing: bool = False) -> asdsim.Scenario:
    """The small scenario with salaries (so it has a funded cost), more staff, or outsourcing."""
    data = asdsim.load_scenario(FIXTURES / "small.yaml").model_dump(mode="json")
    data["name"] = name
    for team in data["teams"].values():
        for staff in team["staff"].values():
            staff.update(annual_cost_per_wte_gbp=60_000, on_costs_share=0.25)
            staff["wte"] += extra_wte
    if outsourcing:
        data["outsourcing"] = [{"team": "school", "start_date": "2019-02-01",
                                "end_date": "2019-06-30", "assessments_per_month": 3,
                                "price_gbp": 1800}]
    return asdsim.scenario_from_dict(data)


@pytest.fixture(scope="module")
def costed_folder(tmp_path_factory) -> Path:
    """A comparison with funded costs and outsourcing, written as the CLI writes it."""
    comparison = asdsim.compare([costed("today"), costed("more staff", 0.3),
                                 costed("outsourced", outsourcing=True)], replications=3, seed=5)
    out = tmp_path_factory.mktemp("costed") / "out"
    write_comparison(comparison, out)
    return out


@pytest.fixture(scope="module")
def costed_page(costed_folder) -> Page:
    return Page((costed_folder / "report.html").read_text(encoding="utf-8"))


def check_summary_against_tables(page: Page, folder: Path) -> int:
    """Every figure the summary states equals the KPI table's cell for that KPI and design, and
    comparison.csv's value, to the rounding shown; returns how many were checked."""
    table = page.table("kpi-table")
    checked = 0
    for figure in page.figures:
        kpi, scenario, text = figure["kpi"], figure["scenario"], figure["text"]
        if kpi not in table:  # the incremental figures: checked against their own table
            continue
        _unit, expected = expected_values(folder, scenario, kpi)
        assert_shown(text, expected, f"summary {kpi} {scenario}")
        cell = table[kpi][scenario]
        assert_shown(cell, expected, f"table {kpi} {scenario}")
        # and the two agree with each other, whatever their rounding
        for (a, da), (b, db) in zip(quantities(text), quantities(cell), strict=False):
            assert abs(a - b) <= (da + db) * 1.0001, (kpi, scenario, text, cell)
        checked += 1
    return checked


def test_the_summary_comes_first_and_states_each_design(costed_page):
    ids = [a.get("id") for t, a in costed_page.tags if t in ("section", "h2", "table")]
    assert ids.index("summary") < ids.index("kpi-table")
    text = " ".join("".join(costed_page.sections["summary"]).split())
    for name in ("today", "more staff", "outsourced"):
        assert f"{name}. " in text
    assert "at least 90% of each quarter's referrals" in text
    assert "Open referrals on 14 Oct 2019 (the end of the run)" in text
    assert "Funded cost £" in text and "a year, averaged over" in text and "plus outsourcing" in text
    assert re.search(r"referred in 2019 Q\d \(\w{3}-\w{3} 2019\)", text)
    assert not re.search(r"\d\.\d{2,}|[-+]0\.0\b|GBP", text), text


def test_summary_figures_equal_the_kpi_table(costed_page, costed_folder):
    kinds = {split(f["kpi"])[0] for f in costed_page.figures}
    assert {"assessment_started_within_3_months", "open_referrals", COST_PER_YEAR,
            "funded_cost_per_year", OUTSOURCING_PER_YEAR} <= kinds
    assert check_summary_against_tables(costed_page, costed_folder) >= 12


def test_a_wrong_figure_would_be_caught(costed_page, costed_folder):
    """A control: the same check on a page whose first stated figure is off by one unit."""
    html = (costed_folder / "report.html").read_text(encoding="utf-8")
    first = costed_page.figures[0]
    wrong = re.sub(r"(\d+)%", lambda m: f"{int(m[1]) + 1}%", first["text"], count=1)
    assert wrong != first["text"]
    page = Page(html.replace(f">{first['text']}<", f">{wrong}<", 1))
    with pytest.raises(AssertionError):
        check_summary_against_tables(page, costed_folder)


def test_wte_table_and_csv(costed_page, costed_folder):
    wte = pd.read_csv(costed_folder / "wte.csv")
    assert list(wte.columns) == ["scenario", "team", "group", "wte", "ci_low", "ci_high",
                                 "autism_wte", "autism_ci_low", "autism_ci_high"]
    comparison = pd.read_csv(costed_folder / "comparison.csv")
    funded = comparison[comparison.kpi.str.startswith("funded_wte[")]
    by_team = wte[wte.team != "all teams"]
    assert len(by_team) == len(funded)
    for r in by_team.itertuples():
        kpi = f"funded_wte[{r.team}/{r.group}]"
        assert r.wte == pytest.approx(funded.set_index(["scenario", "kpi"]).loc[(r.scenario, kpi), "mean"])
    header, *rows = costed_page.tables["wte-table"]
    assert header == ["staff group"] + [f"{name}: {what}" for name in
                                        ("today", "more staff", "outsourced")
                                        for what in ("in post", "autism time (costed)")]
    shown = {row[0]: row[1:] for row in rows}
    assert list(shown) == ["paediatrician", "psychologist", "slt", "total"]
    totals = wte[wte.team == "all teams"].set_index(["scenario", "group"])
    assert totals.wte[("today", "total")] == pytest.approx(0.2 * 3 + 0.4 + 0.4 + 0.3)
    assert totals.wte[("more staff", "total")] == pytest.approx(totals.wte[("today", "total")]
                                                                + 6 * 0.3)
    for group, cells in shown.items():
        for i, scenario in enumerate(("today", "more staff", "outsourced")):
            assert float(cells[2 * i]) == pytest.approx(totals.wte[(scenario, group)], abs=0.005)
            assert float(cells[2 * i + 1]) == pytest.approx(totals.autism_wte[(scenario, group)],
                                                            abs=0.005)


def test_wte_table_autism_time_by_hand():
    # Two groups in one team: 2 WTE at 40% autism time and 0.15 WTE (three posts of 0.05, no
    # float noise allowed: 0.15 is 0.15) at all of it. Autism time: 0.8 and 0.15; total 2.95 in
    # post, 0.95 costed. Every figure is rounded to a ten-thousandth of a WTE.
    data = asdsim.load_scenario(FIXTURES / "small.yaml").model_dump(mode="json")
    team = next(iter(data["teams"]))
    groups = list(data["teams"][team]["staff"])[:2]
    for other in list(data["teams"]):
        for staff in data["teams"][other]["staff"].values():
            staff.update(wte=0.0, autism_share=1.0)
    data["teams"][team]["staff"][groups[0]].update(wte=2.0, autism_share=0.4)
    data["teams"][team]["staff"][groups[1]].update(wte=0.05 * 3, autism_share=1.0)
    data["capacity_changes"] = []
    scenario = asdsim.scenario_from_dict(data)
    runs = {"one": asdsim.simulate(scenario, replications=2, seed=1)}
    from asdsim.reporting.tables import wte_table

    table = wte_table(runs).set_index(["team", "group"])
    assert table.loc[(team, groups[0]), "wte"] == 2.0
    assert table.loc[(team, groups[0]), "autism_wte"] == 0.8
    assert table.loc[(team, groups[1]), "wte"] == 0.15
    assert table.loc[(team, groups[1]), "autism_wte"] == 0.15
    assert table.loc[("all teams", "total"), "wte"] == 2.15
    assert table.loc[("all teams", "total"), "autism_wte"] == 0.95


def test_incremental_cost_table_and_csv(costed_page, costed_folder):
    csv = pd.read_csv(costed_folder / "incremental_cost.csv")
    assert list(csv.scenario) == ["more staff", "outsourced"]
    assert set(csv.baseline) == {"today"}
    assert set(csv.difference) == {"paired"}
    header, *rows = costed_page.tables["incremental-table"]
    assert header[0] == "scenario" and "cost per extra child (95% CI)" in header
    assert header[1] == "window (referred and paid)"
    for row, r in zip(rows, csv.itertuples(), strict=True):
        assert row[0] == r.scenario
        first, last = dt.date.fromisoformat(r.window_from), dt.date.fromisoformat(r.window_to)
        assert row[1] == f"from {fmt.date(first)} to {fmt.date(last)}"
        assert_shown(row[2], np.array([r.extra_children, r.extra_children_ci_low,
                                       r.extra_children_ci_high]), "extra children")
        assert_shown(row[3], np.array([r.extra_cost_gbp] * 3), "extra cost")
        if np.isnan(r.cost_per_extra_child_gbp):
            assert row[4].startswith("no extra children")
        else:
            assert_shown(row[4], np.array([r.cost_per_extra_child_gbp, r.ci_low, r.ci_high]),
                         "cost per child")
        assert row[5] == "paired"
    # every number rounded to what it means: pounds to the penny, children to a hundredth
    for column in ("extra_cost_gbp", "cost_per_extra_child_gbp", "ci_low", "ci_high",
                   "extra_children", "extra_children_ci_low", "extra_children_ci_high"):
        values = csv[column].dropna().to_numpy()
        assert np.array_equal(values, np.round(values, 2)), column


def test_model_and_method_section(costed_page):
    text = " ".join("".join(costed_page.text).split())
    method = text[text.index("Model and method"):text.index("Provenance")]
    for words in ("STRESS-DES", "What is modelled, and what is not", "Not modelled",
                  "Data and assumptions", "Starting state, cohort and run length",
                  "Replications", "3 replications", "asdsim verify", "Validation",
                  "Not done: no design states published figures", "Limitations", "docs/model.md"):
        assert words in method, words
    half = re.search(r"headline share \(assessment started within 3 months\) is ±(\d+\.\d) "
                     "percentage points", method)
    assert half is not None


def test_a_single_run_report_has_no_forest_or_differences(tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(FIXTURES / "small.yaml"), "--replications", "2", "--out", str(out)]) == 0
    page = Page((out / "report.html").read_text(encoding="utf-8"))
    figures = [a["id"] for t, a in page.tags if t == "figure"]
    assert figures == [f"chart-{n}" for n in CHARTS if n != "forest"]
    assert "difference-table" not in page.tables and "kpi-table" in page.tables


def test_render_report_takes_png_bytes():
    res = asdsim.simulate(FIXTURES / "small.yaml", replications=1, seed=1)
    png = b"\x89PNG\r\n\x1a\nnot really"
    html = render_report({"small": res}, {"open_referrals": png})
    assert base64.b64encode(png).decode() in html and 'id="chart-open_referrals"' in html


HEIGHT = 12000  # tall enough to hold the whole report, charts included


def chromium_render(url: str, tmp: Path) -> tuple[np.ndarray, list[str]]:
    """Screenshot a page with headless Chromium; returns the pixels and the console's lines."""
    from matplotlib import image

    png = tmp / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp / 'profile'}",
             f"--screenshot={png}", f"--window-size=1280,{HEIGHT}"]
    run = subprocess.run(["chromium", *flags, url], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and png.is_file(), run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    return image.imread(png), console


needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None,
                                    reason="chromium is not installed (.ci/run installs it)")


@needs_chromium
def test_report_renders_in_a_real_browser(compared, tmp_path):
    pixels, console = chromium_render((compared / "report.html").resolve().as_uri(), tmp_path)
    assert pixels.shape[:2] == (HEIGHT, 1280)
    sample = pixels[::4, ::4, :3].reshape(-1, 3)
    assert len(np.unique(sample, axis=0)) > 100  # text, tables and charts, not a blank page
    assert (sample.min(axis=1) < 0.5).mean() > 0.01  # a fair share of dark ink
    # the Okabe-Ito blue of the first scenario's lines appears: the charts were drawn
    blue = np.array([0x00, 0x72, 0xB2]) / 255
    assert (np.abs(sample - blue).max(axis=1) < 0.05).any()
    assert console == [], console  # no script errors, no blocked requests


def chromium_dom(url: str, tmp: Path) -> str:
    """The page's DOM as headless Chromium built it (its text is what a reader sees)."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp / 'profile'}", "--dump-dom"]
    run = subprocess.run(["chromium", *flags, url], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "<html" in run.stdout, run.stderr[-2000:]
    return run.stdout


@needs_chromium
def test_summary_read_in_a_browser_equals_the_kpi_table(costed_folder, tmp_path):
    dom = Page(chromium_dom((costed_folder / "report.html").resolve().as_uri(), tmp_path))
    text = " ".join("".join(dom.sections["summary"]).split())
    assert text.startswith("Summary Judged against the 3-month standard")
    assert len(dom.figures) >= 12 and all(f["text"] in text for f in dom.figures)
    assert check_summary_against_tables(dom, costed_folder) >= 12


@needs_chromium
def test_the_browser_check_catches_errors(tmp_path):
    """A control for the test above: a page with a script error and a network request."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src '
                   "'none'; script-src 'unsafe-inline'\"><p>x</p><img src=\"http://example.invalid/a.png\">"
                   "<script>notDefined()</script>")
    _pixels, console = chromium_render(bad.as_uri(), tmp_path)
    assert any("Uncaught" in line for line in console)
    assert any("Content Security Policy" in line for line in console)


def test_published_figures_are_set_beside_the_simulation(costed_page):
    scenario = Path(__file__).parent.parent / "scenarios" / "as_happened_2018_2020.yaml"
    res = asdsim.simulate(scenario, replications=2, seed=1)
    expected = res.validation
    assert not expected.empty
    page = Page(render_report({res.scenario.name: res}, {}))
    header, *rows = page.tables["validation-table"]
    assert header[:6] == ["scenario", "date", "measure", "use", "published",
                          "simulated (95% of replications)"]
    assert len(rows) == len(expected)
    for row, r in zip(rows, expected.itertuples(), strict=True):
        assert numbers(row[4]) == [pytest.approx(r.observed, abs=0.5)]
        assert numbers(row[5]) == pytest.approx([r.simulated_mean, r.simulated_low, r.simulated_high],
                                                abs=0.5)
        assert row[3] == ("calibration" if r.use == "calibration" else "held out")
        assert row[6] == ("yes" if r.inside else "no")
    text = " ".join("".join(page.text).split())
    held = expected[expected.use == "validation"]
    assert (f"{len(held)} held out); {int(held.inside.sum())} of the {len(held)} held out fall "
            "inside") in text
    # a design with no published figures says validation was not done
    costed_text = " ".join("".join(costed_page.text).split())
    assert "validation-table" not in costed_page.tables
    assert "Not done: no design states published figures" in costed_text
