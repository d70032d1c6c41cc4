"""The HTML report: contents, escaping, self-containment, and a real browser render."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest

from asdsim.cli import main
from asdsim.report import fmt
from tests.test_cli import scenario_file

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    a = scenario_file(folder, "as is")
    b = scenario_file(folder, HOSTILE, file="hostile", description=f"desc {HOSTILE}",
                      assumptions=[f"assumed {HOSTILE}"],
                      teams={"mdt": {"staff": {"paediatrician": {"wte": 3}}}})
    out = folder / "out"
    assert main(["compare", str(a), str(b), "--replications", "2", "--out", str(out)]) == 0
    return out


def test_report_embeds_every_chart_and_no_network(compared):
    html = (compared / "report.html").read_text()
    charts = sorted(p.stem for p in (compared / "charts").glob("*.png"))
    assert len(charts) == 6
    for name in charts:
        assert re.search(rf'id="chart-{name}"><img[^>]+src="data:image/png;base64,', html), name
    assert not re.search(r'(src|href)="https?://', html)
    assert "<link" not in html and "@import" not in html


def test_scenario_text_is_escaped(compared):
    html = (compared / "report.html").read_text()
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "assumed &lt;script&gt;" in html


def test_kpi_table_matches_comparison_csv(compared):
    html = (compared / "report.html").read_text()
    table = pd.read_csv(compared / "comparison.csv")
    for kpi, unit in (("exit[assessed]", "children"), ("cost_total", "GBP"),
                      ("assessment_started_within_3_months", "share")):
        means = [fmt(table[(table.scenario == s) & (table.kpi == kpi)]["mean"].iloc[0], unit)
                 for s in ("as is", HOSTILE)]
        row = re.search(rf"<td>{re.escape(kpi)}</td><td>{unit}</td>\s*<td>([^<]*)</td>\s*"
                        r"<td>([^<]*)</td>", html)
        assert row, kpi
        assert row.group(1).startswith(means[0]) and row.group(2).startswith(means[1]), kpi


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_report_renders_in_a_real_browser(compared, tmp_path):
    from matplotlib import image

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    url = (compared / "report.html").resolve().as_uri()
    png = tmp_path / "shot.png"
    subprocess.run(["chromium", *flags, f"--screenshot={png}", "--window-size=1280,2400", url],
                   check=True, capture_output=True, timeout=120)
    pixels = image.imread(png)
    assert pixels.shape[0] >= 2000
    assert len({tuple(p) for p in pixels[::7, ::7].reshape(-1, pixels.shape[-1])}) > 50
    dom = subprocess.run(["chromium", *flags, "--enable-logging=stderr", "--v=0", "--dump-dom",
                          url], check=True, capture_output=True, text=True, timeout=120)
    assert 'id="kpi-table"' in dom.stdout and "chart-open_referrals" in dom.stdout
    assert "Uncaught" not in dom.stderr
