"""The HTML report: contents, escaping, self-containment, and a real browser render."""

from __future__ import annotations

import base64
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
from asdsim.cli import main
from asdsim.reporting.charts import CHARTS
from asdsim.reporting.report import render_report

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = asdsim.load_scenario(FIXTURES / "hostile.yaml")


class Page(HTMLParser):
    """The parts of a page the tests look at: tags with attributes, tables, and visible text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.text: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table = dict(attrs).get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def numbers(cell: str) -> list[float]:
    """The numbers in a formatted cell: '11.3% (5.0% to 17.5%)' -> [11.3, 5.0, 17.5]."""
    return [float(n.replace(",", "")) for n in re.findall(r"[-+]?\d[\d,]*\.?\d*", cell)]


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


def test_kpi_table_matches_comparison_csv(compared, page):
    table = pd.read_csv(compared / "comparison.csv").set_index(["scenario", "kpi"])
    header, *rows = page.tables["kpi-table"]
    assert header == ["KPI", "unit", "small", HOSTILE.name]
    assert len(rows) >= 10
    checked = 0
    for kpi, unit, *cells in rows:
        for scenario, cell in zip(header[2:], cells, strict=True):
            row = table.loc[(scenario, kpi)]
            assert row.unit == unit
            if pd.isna(row["mean"]):
                assert cell == "not reached", (kpi, scenario)
                continue
            scale = 100 if unit == "share" else 1
            expected = [row["mean"], row.ci_low, row.ci_high]
            shown = numbers(cell)
            assert len(shown) == 3, cell
            # shown to 1 decimal (shares, weeks) or to the unit (children, GBP)
            tolerance = 0.051 if unit in ("share", "weeks", "hours") else 0.51
            np.testing.assert_allclose(shown, scale * np.array(expected), atol=tolerance,
                                       err_msg=f"{kpi} {scenario}: {cell}")
            checked += 1
    assert checked >= 20


def test_difference_table_matches_comparison_csv(compared, page):
    table = pd.read_csv(compared / "comparison.csv").set_index(["scenario", "kpi"])
    header, *rows = page.tables["difference-table"]
    assert header == ["scenario", "KPI", "unit", "difference", "95% CI"]
    assert {r[0] for r in rows} == {HOSTILE.name}  # the baseline is not differenced
    for scenario, kpi, unit, diff, ci in rows:
        row = table.loc[(scenario, kpi)]
        if pd.isna(row.diff_mean):
            assert diff == "not reached"
            continue
        scale = 100 if unit == "percentage points" else 1
        np.testing.assert_allclose(numbers(diff + " " + ci),
                                   scale * np.array([row.diff_mean, row.diff_ci_low, row.diff_ci_high]),
                                   atol=0.051, err_msg=kpi)


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


def chromium_render(url: str, tmp: Path) -> tuple[np.ndarray, list[str]]:
    """Screenshot a page with headless Chromium; returns the pixels and the console's lines."""
    from matplotlib import image

    png = tmp / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp / 'profile'}",
             f"--screenshot={png}", "--window-size=1280,2000"]
    run = subprocess.run(["chromium", *flags, url], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and png.is_file(), run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    return image.imread(png), console


needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None,
                                    reason="chromium is not installed (.ci/run installs it)")


@needs_chromium
def test_report_renders_in_a_real_browser(compared, tmp_path):
    pixels, console = chromium_render((compared / "report.html").resolve().as_uri(), tmp_path)
    assert pixels.shape[:2] == (2000, 1280)
    sample = pixels[::4, ::4, :3].reshape(-1, 3)
    assert len(np.unique(sample, axis=0)) > 100  # text, tables and charts, not a blank page
    assert (sample.min(axis=1) < 0.5).mean() > 0.01  # a fair share of dark ink
    # the Okabe-Ito blue of the first scenario's lines appears: the charts were drawn
    blue = np.array([0x00, 0x72, 0xB2]) / 255
    assert (np.abs(sample - blue).max(axis=1) < 0.05).any()
    assert console == [], console  # no script errors, no blocked requests


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
