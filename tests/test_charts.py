"""Charts: each function returns a Figure whose marks match the results it was given."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from asdsim import compare
from asdsim.analysis.cohorts import MONTHS_3
from asdsim.analysis.paired import Comparison, paired_table
from asdsim.reporting import charts, summary

FIXTURES = Path(__file__).parent / "fixtures"
UNITS = re.compile(r"\((%|children|weeks|GBP[^)]*|£[^)]*|percentage points)\)|\(.*units.*\)")


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare([FIXTURES / "small.yaml", FIXTURES / "more_staff.yaml"], replications=2, seed=3)


def _title(fig: Figure) -> str:
    return fig.get_suptitle() or fig.axes[0].get_title()


def _point(container) -> tuple[float, float]:
    """The (x, y) of an error bar's marker."""
    line = container.lines[0]
    return float(line.get_xdata()[0]), float(line.get_ydata()[0])


def _data_lines(ax) -> list:
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")
            and len(line.get_xdata()) > 2]


@pytest.mark.parametrize("name", [c for c in charts.CHARTS if c != "forest"])
def test_every_chart_is_a_figure_with_units_in_its_title(comparison, name):
    fig = getattr(charts, name)(comparison)
    assert isinstance(fig, Figure)
    assert UNITS.search(_title(fig)), _title(fig)
    labels = [t.get_text().split(":")[0] for t in fig.axes[0].get_legend().get_texts()]
    assert {"small", "more staff"} <= set(labels)


def test_forest_title_and_panels_carry_units(comparison):
    fig = charts.forest(comparison)
    assert UNITS.search(_title(fig))
    for ax in fig.axes:
        assert UNITS.search(ax.get_title()), ax.get_title()


def test_charts_accept_a_run_a_dict_a_list_or_a_comparison(comparison):
    small = comparison.results["small"]
    runs = list(comparison.results.values())
    assert len(_data_lines(charts.open_referrals(small).axes[0])) == 1
    for given in (comparison, comparison.results, runs):
        assert len(_data_lines(charts.open_referrals(given).axes[0])) == 2
    with pytest.raises(ValueError, match="unique"):
        charts.open_referrals([small, small])
    with pytest.raises(TypeError, match="expected Results"):
        charts.open_referrals(["not a run"])


def test_open_referrals_draws_the_mean_and_the_tables_95_percent_interval(comparison):
    fig = charts.open_referrals(comparison)
    ax = fig.axes[0]
    lines = _data_lines(ax)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(lines) == len(bands) == 2
    assert "95% confidence interval" in _title(fig)
    for line, band, (name, res) in zip(lines, bands, comparison.results.items(), strict=True):
        assert line.get_label() == name
        expected = res.weekly.groupby("week").open_referrals.mean().to_numpy()
        np.testing.assert_allclose(line.get_ydata(), expected)
        # the last week's end is the horizon: its mean and band are the KPI table's figures
        kpi = res.kpis[res.kpis.kpi.str.startswith("open_referrals[")].iloc[-1]
        assert line.get_ydata()[-1] == pytest.approx(kpi["mean"])
        ys = band.get_paths()[0].vertices[:, 1]
        assert ys.max() == pytest.approx(max(kpi.ci_high, res.weekly.groupby("week")
                                             .open_referrals.mean().max()), rel=0.5)
        last = _band_at(band, line.get_xdata()[-1])
        assert last == pytest.approx((max(kpi.ci_low, 0), kpi.ci_high))


def _band_at(band, x) -> tuple[float, float]:
    """The band's low and high at the x of a point on its edge."""
    from matplotlib.dates import date2num

    vertices = band.get_paths()[0].vertices
    at = np.isclose(vertices[:, 0], date2num(x))
    return float(vertices[at, 1].min()), float(vertices[at, 1].max())


def _series(ax) -> dict:
    """Each labelled error-bar series' (x, y) data, by label."""
    return {c.get_label(): (np.asarray(c.lines[0].get_xdata()), np.asarray(c.lines[0].get_ydata()))
            for c in ax.containers if not c.get_label().startswith("_")}


def test_quarterly_share_against_the_13_week_standard(comparison):
    fig = charts.first_appointment_13_weeks_by_quarter(comparison)
    ax = fig.axes[0]
    standard = [line for line in ax.get_lines() if "standard" in line.get_label()]
    assert len(standard) == 1 and set(standard[0].get_ydata()) == {100}
    series = _series(ax)
    small, more = series["small"][1], series["more staff"][1]
    assert ((0 <= small) & (small <= 100)).all() and (more > small).all()
    for name, res in comparison.results.items():
        k = res.kpis.set_index("kpi")["mean"]
        assert series[name][1][0] == pytest.approx(100 * k["first_appointment_within_13_weeks[2019Q1]"])
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["2019 Q1", "2019 Q2"]
    target = charts.first_appointment_13_weeks_by_quarter(comparison, target=0.9).axes[0]
    assert any(set(line.get_ydata()) == {90} and "90%" in line.get_label()
               for line in target.get_lines())


def test_the_standard_by_quarter_draws_the_summarys_shares_and_the_level(comparison):
    # each point is a quarter's 3-month share in the KPI table, with its 95% interval as the
    # error bar, and the level (90% by default, or as given) is drawn and named
    fig = charts.standard_by_quarter(comparison)
    ax = fig.axes[0]
    level = [line for line in ax.get_lines() if "3-month standard" in line.get_label()]
    assert len(level) == 1 and set(level[0].get_ydata()) == {90}
    assert level[0].get_label() == "3-month standard: 90% of a quarter's referrals"
    for container in (c for c in ax.containers if not c.get_label().startswith("_")):
        res = comparison.results[container.get_label()]
        k = res.kpis.set_index("kpi")
        quarters = sorted((q for q in k.index if q.startswith(
            "assessment_started_within_3_months[") and "Q" in q
            and not np.isnan(k.loc[q, "mean"])), key=lambda q: pd.Period(q[-7:-1], freq="Q"))
        np.testing.assert_allclose(container.lines[0].get_ydata(),
                                   [100 * k.loc[q, "mean"] for q in quarters])
        segments = container.lines[2][0].get_segments()
        np.testing.assert_allclose([seg[0][1] for seg in segments],
                                   [100 * k.loc[q, "ci_low"] for q in quarters])
        np.testing.assert_allclose([seg[1][1] for seg in segments],
                                   [100 * k.loc[q, "ci_high"] for q in quarters])
    stricter = charts.standard_by_quarter(comparison, level=0.95).axes[0]
    assert any(set(line.get_ydata()) == {95} for line in stricter.get_lines())


def test_designs_that_coincide_stay_visible(comparison):
    """Two identical designs: their markers fall in different places and the lines differ in
    width, so the one drawn first still shows."""
    res = comparison.results["small"]
    twins = {"a": res, "b": res}
    quarterly = _series(charts.first_appointment_13_weeks_by_quarter(twins).axes[0])
    np.testing.assert_allclose(quarterly["a"][1], quarterly["b"][1])
    assert not set(quarterly["a"][0]) & set(quarterly["b"][0])  # side by side, not on top
    for fig in (charts.open_referrals(twins), charts.wait_ecdf(twins)):
        a, b = (line for line in fig.axes[0].get_lines() if line.get_label() in ("a", "b"))
        np.testing.assert_allclose(a.get_ydata(), b.get_ydata())
        assert a.get_linewidth() > b.get_linewidth() and a.get_zorder() < b.get_zorder()
        marks_a, marks_b = (set(np.asarray(line.get_xdata())[_marked(line)]) for line in (a, b))
        assert marks_a and marks_b and not marks_a & marks_b


def _marked(line) -> np.ndarray:
    """Indices of a line's points that carry a marker."""
    every = line.get_markevery()
    n = len(line.get_xdata())
    if every is None:
        return np.arange(n)
    start, step = every
    return np.arange(start, n, step)


def test_wait_distribution_is_a_rising_share_with_the_3_month_line(comparison):
    ax = charts.wait_ecdf(comparison).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["3 months"].get_xdata(), MONTHS_3 / 7)
    for name in ("small", "more staff"):
        x, y = lines[name].get_xdata(), lines[name].get_ydata()
        assert (np.diff(x) >= 0).all() and (np.diff(y) >= 0).all()
        assert 0 <= y.min() and y.max() <= 100
    # the share started by 3 months agrees with the KPI's direction
    at_3_months = {n: np.interp(MONTHS_3 / 7, lines[n].get_xdata(), lines[n].get_ydata())
                   for n in ("small", "more staff")}
    assert at_3_months["more staff"] > at_3_months["small"] + 30


def test_wait_distribution_marks_where_follow_up_ends(comparison):
    ax = charts.wait_ecdf(comparison).axes[0]
    ends = [line for line in ax.get_lines() if line.get_label().startswith("follow-up ends")]
    small = comparison.results["small"].scenario
    weeks = small.horizon_weeks  # the cohort starts on day 0
    assert len(ends) == 1 and ends[0].get_xdata()[0] == pytest.approx(weeks, abs=0.05)
    assert f"{weeks:g} weeks" in ends[0].get_label()
    for line in ax.get_lines():
        if line.get_label() in comparison.results:
            assert max(line.get_xdata()) <= weeks + 1e-9  # no wait beyond follow-up
    assert ax.get_xlim()[1] >= weeks


def test_staff_utilisation_compares_staff_groups_with_their_wte(comparison):
    ax = charts.staff_utilisation(comparison).axes[0]
    groups = [t.get_text() for t in ax.get_yticklabels()]
    assert groups == ["paediatrician", "psychologist", "slt"]  # like with like: no team names
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    assert len(bars) == len(groups) * len(comparison.results)  # no empty rows
    for name, res in comparison.results.items():
        s = res.staff_weekly.groupby(["group", "replication"])[["hours_used", "hours_available"]].sum()
        expected = (s.hours_used / s.hours_available).groupby("group").mean()
        mine = sorted(b.get_width() for b in bars if b.get_label() == name or
                      any(b in c for c in ax.containers if c.get_label() == name))
        assert mine == pytest.approx(sorted(100 * expected[groups]))
    texts = [t.get_text() for t in ax.texts]
    wte = {name: res.kpis[res.kpis.kpi.str.startswith("funded_wte[")] for name, res in
           comparison.results.items()}
    small_paed = wte["small"][wte["small"].kpi.str.endswith("/paediatrician]")]["mean"].sum()
    assert f"{small_paed:.2f} WTE" in texts
    assert len(texts) == len(bars)
    # the plot is filled: bars take most of the height, and the axis stops near 100%
    assert ax.get_xlim()[1] <= 120
    heights = sum(b.get_height() for b in bars)
    assert heights / abs(ax.get_ylim()[0] - ax.get_ylim()[1]) > 0.5


def _panels(fig) -> dict:
    return {ax.kpi: ax for ax in fig.axes if hasattr(ax, "kpi")}


def test_forest_points_are_the_paired_differences(comparison):
    fig = charts.forest(comparison)
    table = comparison.table.set_index(["scenario", "kpi"])
    panels = _panels(fig)
    assert "assessment_started_within_3_months" in panels and summary.COST_PER_YEAR in panels
    per_year = 1 / summary.years(comparison.results["small"].scenario)
    for kpi, ax in panels.items():
        scale = next(s for k, s, _u in charts.FOREST if kpi.startswith(k))
        source, factor = (("cost_funded_total", per_year) if kpi == summary.COST_PER_YEAR
                          else (kpi, 1.0))
        assert len(ax.containers) == 1, kpi  # one error bar: the one other scenario
        point = _point(ax.containers[0])
        row = table.loc[("more staff", source)]
        assert point[0] == pytest.approx(scale * factor * row.diff_mean)
        segment = ax.containers[0].lines[2][0].get_segments()[0]  # the horizontal CI bar
        assert sorted(segment[:, 0]) == pytest.approx(sorted([scale * factor * row.diff_ci_low,
                                                              scale * factor * row.diff_ci_high]))
        assert UNITS.search(ax.get_title()), ax.get_title()
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["more staff"]
    # runs and a baseline give the same plot as the Comparison
    again = _panels(charts.forest(comparison.results, baseline="small"))
    kpi = "assessment_started_within_3_months"
    assert _point(again[kpi].containers[0])[0] == pytest.approx(
        100 * table.loc[("more staff", kpi)].diff_mean)


def test_forest_leaves_out_what_is_not_available_and_says_so(comparison):
    """A KPI with no difference for any design has no panel (no empty axis); the note says so."""
    table = comparison.table.copy()
    kpi = "assessment_started_wait_restricted_mean"
    table.loc[table.kpi == kpi, "diff_mean"] = np.nan
    fig = charts.forest(Comparison(comparison.results, comparison.baseline, table))
    assert kpi not in _panels(fig) and len(_panels(fig)) == len(charts.FOREST) - 1
    for ax in _panels(fig).values():
        assert ax.containers  # every panel drawn has a point
    notes = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "Mean wait to assessment started within follow-up: not available for any design" in notes


def test_forest_leaves_out_one_design_without_a_value(comparison):
    res = comparison.results
    runs = {"small": res["small"], "more staff": res["more staff"], "again": res["more staff"]}
    table = paired_table(runs, "small")
    kpi = "exit[no_pathway]"
    table.loc[(table.kpi == kpi) & (table.scenario == "again"), "diff_mean"] = np.nan
    fig = charts.forest(Comparison(runs, "small", table))
    assert len(_panels(fig)[kpi].containers) == 1
    assert "no pathway: not available for again" in " ".join(t.get_text() for t in fig.texts
                                                             ).replace("\n", " ")


def test_forest_needs_two_scenarios(comparison):
    with pytest.raises(ValueError, match="at least two"):
        charts.forest(comparison.results["small"])
    with pytest.raises(ValueError, match="baseline 'x'"):
        charts.forest(comparison.results, baseline="x")


def test_cost_points_are_annual_funded_cost_against_the_share_with_the_standard_drawn(comparison):
    ax = charts.cost_vs_standard(comparison).axes[0]
    points = {c.get_label().split(":")[0]: _point(c) for c in ax.containers}
    for name, res in comparison.results.items():
        k = res.kpis.set_index("kpi")["mean"]
        per_year = k["cost_funded_total"] / summary.years(res.scenario)
        assert points[name] == pytest.approx((100 * k["assessment_started_within_3_months"],
                                              per_year / 1e3))
    standard = [line for line in ax.get_lines() if set(line.get_xdata()) == {90}]
    assert len(standard) == 1
    assert any(t.get_text() == "3-month standard: 90%" for t in ax.texts)
    assert "funded cost" in ax.get_ylabel() and "a year" in ax.get_ylabel()
    assert "referred from 7 Jan 2019" in ax.get_xlabel()
    other = charts.cost_vs_standard(comparison, level=0.95).axes[0]
    assert any(t.get_text() == "3-month standard: 95%" for t in other.texts)


def test_colours_are_okabe_ito_and_styles_differ(comparison):
    ax = charts.open_referrals(comparison).axes[0]
    colours = [to_hex(line.get_color()).upper() for line in _data_lines(ax)]
    assert colours == charts.OKABE_ITO[:2]
    styles = {line.get_linestyle() for line in _data_lines(ax)}
    assert len(styles) == 2  # still distinguishable in greyscale print


def test_save_charts_writes_pngs_and_leaves_no_figure_open(comparison, tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    paths = charts.save_charts(comparison.results, tmp_path / "c", comparison)
    assert list(paths) == list(charts.CHARTS)
    for path in paths.values():
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 600
        pixels = image[::5, ::5].reshape(-1, image.shape[-1])
        assert len(np.unique(pixels, axis=0)) > 20  # not blank
    assert plt.get_fignums() == before
    single = charts.save_charts(comparison.results["small"], tmp_path / "one")
    assert "forest" not in single and len(single) == len(charts.CHARTS) - 1


# ------------------------------------------------------------------------- the sweep's chart


def _sweep_rows(fields: list[str], values: list[tuple], intervals: list[tuple[float, float, float]]
                ) -> pd.DataFrame:
    return pd.DataFrame([{"point": i, **dict(zip(fields, v, strict=True)),
                          "kpi": "assessment_started_within_3_months", "mean": m, "ci_low": lo,
                          "ci_high": hi, "unit": "share", "n": 3}
                         for i, (v, (m, lo, hi)) in enumerate(zip(values, intervals, strict=True))])


def test_sweep_heatmap_shows_whether_each_interval_clears_the_target():
    from asdsim.reporting.sweep_chart import CLEARS, STRADDLES, summary_figure

    fields = ["teams.mdt.staff.a.wte", "teams.mdt.staff.b.wte"]
    values = [(1, 1), (2, 1), (1, 2), (2, 2)]
    intervals = [(0.95, 0.92, 0.98),   # clears 90%
                 (0.91, 0.85, 0.97),   # straddles
                 (0.50, 0.40, 0.60),   # below
                 (0.90, 0.90, 0.90)]   # exactly at the target: clears
    fig = summary_figure(_sweep_rows(fields, values, intervals), fields,
                         "assessment_started_within_3_months")
    ax = fig.axes[0]
    marks = {(round(p.get_x() + 0.46), round(p.get_y() + 0.46)): p.verdict for p in ax.patches
             if hasattr(p, "verdict")}
    assert marks == {(0, 0): CLEARS, (1, 0): STRADDLES, (1, 1): CLEARS}
    solid = [p for p in ax.patches if getattr(p, "verdict", "") == CLEARS]
    assert all(p.get_linestyle() == "-" and p.get_linewidth() == 2 for p in solid)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["95% CI at or above 90%", "95% CI straddles 90%", "95% CI below 90%"]
    stricter = summary_figure(_sweep_rows(fields, values, intervals), fields,
                              "assessment_started_within_3_months", target=0.96).axes[0]
    assert [p.verdict for p in stricter.patches if hasattr(p, "verdict")] == [STRADDLES, STRADDLES]


def test_sweep_line_marks_points_whose_interval_clears_the_target():
    from asdsim.reporting.sweep_chart import summary_figure

    fields = ["teams.mdt.staff.a.wte"]
    fig = summary_figure(_sweep_rows(fields, [(1,), (2,), (3,)],
                                     [(0.5, 0.4, 0.6), (0.92, 0.88, 0.96), (0.97, 0.95, 0.99)]),
                         fields, "assessment_started_within_3_months")
    ax = fig.axes[0]
    filled = next(line for line in ax.get_lines() if line.get_label() == "_clears")
    hollow = next(line for line in ax.get_lines() if line.get_label() == "_not_clear")
    assert list(filled.get_xdata()) == [3] and list(hollow.get_xdata()) == [1, 2]
    target = next(line for line in ax.get_lines() if line.get_label() == "_target")
    assert set(target.get_ydata()) == {90}
    assert "target 90%" in [t.get_text() for t in ax.get_legend().get_texts()]
