"""Charts: each function returns a Figure whose marks match the results it was given."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from asdsim import compare
from asdsim.analysis.cohorts import MONTHS_3
from asdsim.analysis.paired import Comparison
from asdsim.reporting import charts

FIXTURES = Path(__file__).parent / "fixtures"
UNITS = re.compile(r"\((%|children|weeks|GBP[^)]*|percentage points)\)|\(.*units.*\)")


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
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
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
        assert len(charts.open_referrals(given).axes[0].get_lines()) == 2
    with pytest.raises(ValueError, match="unique"):
        charts.open_referrals([small, small])
    with pytest.raises(TypeError, match="expected Results"):
        charts.open_referrals(["not a run"])


def test_open_referrals_draws_the_median_and_a_90_percent_band(comparison):
    fig = charts.open_referrals(comparison)
    ax = fig.axes[0]
    for line, (name, res) in zip(ax.get_lines(), comparison.results.items(), strict=True):
        assert line.get_label() == name
        expected = res.weekly.groupby("week").open_referrals.median().to_numpy()
        np.testing.assert_allclose(line.get_ydata(), expected)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    # every band contains its median line
    for band, line in zip(bands, ax.get_lines(), strict=True):
        ys = band.get_paths()[0].vertices[:, 1]
        assert ys.min() <= line.get_ydata().min() and ys.max() >= line.get_ydata().max()


def test_quarterly_share_against_the_13_week_standard(comparison):
    fig = charts.first_appointment_13_weeks_by_quarter(comparison)
    ax = fig.axes[0]
    standard = [line for line in ax.get_lines() if "standard" in line.get_label()]
    assert len(standard) == 1 and set(standard[0].get_ydata()) == {100}
    small, more = (line.get_ydata() for line in ax.get_lines()[:2])
    assert ((0 <= small) & (small <= 100)).all() and (more > small).all()
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["2019 Q1", "2019 Q2"]
    target = charts.first_appointment_13_weeks_by_quarter(comparison, target=0.9).axes[0]
    assert any(set(line.get_ydata()) == {90} and "90%" in line.get_label()
               for line in target.get_lines())


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


def test_staff_utilisation_bars_equal_the_kpis(comparison):
    ax = charts.staff_utilisation(comparison).axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    expected = []
    for res in comparison.results.values():
        k = res.kpis[res.kpis.kpi.str.startswith("utilisation[")]
        expected += list(100 * k["mean"])
    assert sorted(b.get_width() for b in bars) == pytest.approx(sorted(expected))
    groups = [t.get_text() for t in ax.get_yticklabels()]
    assert "school/paediatrician" in groups and "preschool/slt" in groups


def test_forest_points_are_the_paired_differences(comparison):
    fig = charts.forest(comparison)
    table = comparison.table.set_index(["scenario", "kpi"])
    for ax, (kpi, _label, scale) in zip(fig.axes, charts.HEADLINE, strict=True):
        assert len(ax.containers) == 1, kpi  # one error bar: the one other scenario
        point = _point(ax.containers[0])
        row = table.loc[("more staff", kpi)]
        assert point[0] == pytest.approx(scale * row.diff_mean)
        segment = ax.containers[0].lines[2][0].get_segments()[0]  # the horizontal CI bar
        assert sorted(segment[:, 0]) == pytest.approx(sorted([scale * row.diff_ci_low,
                                                              scale * row.diff_ci_high]))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["more staff"]
    # runs and a baseline give the same plot as the Comparison
    again = charts.forest(comparison.results, baseline="small")
    kpi, _label, scale = charts.HEADLINE[0]
    assert _point(again.axes[0].containers[0])[0] == pytest.approx(
        scale * table.loc[("more staff", kpi)].diff_mean)


def test_forest_says_when_a_difference_is_not_available(comparison):
    table = comparison.table.copy()
    kpi = charts.HEADLINE[1][0]
    table.loc[table.kpi == kpi, "diff_mean"] = np.nan
    fig = charts.forest(Comparison(comparison.results, comparison.baseline, table))
    assert "not available" in [t.get_text() for t in fig.axes[1].texts]


def test_forest_needs_two_scenarios(comparison):
    with pytest.raises(ValueError, match="at least two"):
        charts.forest(comparison.results["small"])
    with pytest.raises(ValueError, match="baseline 'x'"):
        charts.forest(comparison.results, baseline="x")


def test_cost_points_match_the_kpis(comparison):
    ax = charts.cost_vs_standard(comparison).axes[0]
    points = {c.get_label(): _point(c) for c in ax.containers}
    for name, res in comparison.results.items():
        k = res.kpis.set_index("kpi")["mean"]
        assert points[name] == pytest.approx((100 * k["assessment_started_within_3_months"],
                                              k["cost_total"] / 1e3))


def test_colours_are_okabe_ito_and_styles_differ(comparison):
    ax = charts.open_referrals(comparison).axes[0]
    colours = [to_hex(line.get_color()).upper() for line in ax.get_lines()]
    assert colours == charts.OKABE_ITO[:2]
    styles = {line.get_linestyle() for line in ax.get_lines()}
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
    assert "forest" not in single and len(single) == 5
