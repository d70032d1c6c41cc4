"""Charts a person can read, checked from each figure's own properties after drawing.

For every chart the report, the sensitivity and sweep commands, validation and calibration draw:
each title and axis label lies inside the figure once drawn (nothing cut), every axis that shows
data has a label in words (never the ``low, high`` a plotting library makes up), an axes with
several labelled series has a legend, and a quarter-of-referral chart puts each quarter's tick
where its points are. The app's interactive charts are checked from their Vega-Lite specs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import date2num
from matplotlib.figure import Figure

import asdsim
from asdsim.reporting import charts

FIXTURES = Path(__file__).parent / "fixtures"
SCENARIOS = Path(__file__).parent.parent / "scenarios"
SLACK_PX = 1.0


def _texts(fig: Figure) -> list:
    """Every title, axis label and free text of a figure that says something."""
    found = list(fig.texts)
    if fig._suptitle is not None:
        found.append(fig._suptitle)
    for ax in fig.axes:
        found += [ax.title, ax._left_title, ax._right_title,
                  ax.xaxis.label, ax.yaxis.label]
        legend = ax.get_legend()
        if legend is not None:
            found += list(legend.get_texts())
    return [t for t in found if t.get_visible() and t.get_text().strip()]


def _shows_data(ax) -> bool:
    return bool(ax.lines or ax.collections or ax.patches or ax.images or ax.containers)


def _has_label(ax, axis: str) -> bool:
    """The axis, or an axis it shares, has a label (shared panels label one axis)."""
    shared = ax.get_shared_x_axes() if axis == "x" else ax.get_shared_y_axes()
    return any(getattr(sibling, f"get_{axis}label")().strip()
               for sibling in shared.get_siblings(ax))


def readability_problems(fig: Figure) -> list[str]:
    """What a reader would trip on in a figure, drawn with Agg (empty: nothing)."""
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    problems = []
    for text in _texts(fig):
        box = text.get_window_extent(renderer)
        if (box.x0 < -SLACK_PX or box.y0 < -SLACK_PX or box.x1 > width + SLACK_PX
                or box.y1 > height + SLACK_PX):
            problems.append(f"cut by the figure's edge: {text.get_text()!r}")
    titled = bool(fig._suptitle and fig._suptitle.get_text().strip())
    for i, ax in enumerate(fig.axes):
        colorbar = getattr(ax, "_colorbar", None)
        if colorbar is not None:  # a colour scale says what its colours mean on its long axis
            long = ax.get_ylabel() if colorbar.orientation == "vertical" else ax.get_xlabel()
            if not long.strip():
                problems.append(f"axes {i}: a colour scale without a label")
            continue
        if not ax.get_visible() or not _shows_data(ax) or not ax.axison:
            continue
        if not (titled or ax.get_title().strip()):
            problems.append(f"axes {i} has no title and the figure none")
        for axis in ("x", "y"):
            label = getattr(ax, f"get_{axis}label")()
            if not _has_label(ax, axis):
                problems.append(f"axes {i}: no {axis} axis label")
            if label.lower().startswith("low,"):
                problems.append(f"axes {i}: {axis} label made up from field names: {label!r}")
        _handles, labels = ax.get_legend_handles_labels()
        if len([lab for lab in labels if not lab.startswith("_")]) > 1 and (
                ax.get_legend() is None and not fig.legends):
            problems.append(f"axes {i}: {len(labels)} labelled series and no legend")
    return problems


def quarter_ticks_match_points(ax) -> None:
    """Each tick of a quarter chart sits at the centre of its quarter's points."""
    ticks = np.asarray(ax.get_xticks())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(ticks) and all(" Q" in lab for lab in labels), labels
    xs = [np.asarray(date2num(c.lines[0].get_xdata()), dtype=float) for c in ax.containers
          if not c.get_label().startswith("_")]
    for tick, label in zip(ticks, labels, strict=True):
        year, quarter = label.split(" Q")
        middle = date2num(charts.quarter_middle(pd.Period(f"{year}Q{quarter}", freq="Q")))
        assert tick == pytest.approx(middle), label
        at = [x[np.abs(x - middle) < 20] for x in xs]  # each design's point in that quarter
        centre = np.mean([a[0] for a in at if len(a)])
        assert centre == pytest.approx(tick, abs=1e-6), label


@pytest.fixture(scope="module")
def comparison():
    return asdsim.compare([FIXTURES / "small.yaml", FIXTURES / "more_staff.yaml"],
                          replications=2, seed=3)


def report_charts(comparison) -> dict[str, Callable[[], Figure]]:
    one = comparison.results["small"]
    made = {f"{name} (two designs)": (lambda name=name: getattr(charts, name)(comparison))
            for name in charts.CHARTS}
    made.update({f"{name} (one design)": (lambda name=name: getattr(charts, name)(one))
                 for name in charts.CHARTS if name != "forest"})
    return made


def test_every_report_chart_reads_with_five_designs_and_long_names():
    # the shipped designs, the longest names among them: legends and labels still fit
    names = ["as_is_2018", "nice_mdt", "recovery", "nice_mdt_at_as_is_hours",
             "as_is_2018_at_nice_hours"]
    many = asdsim.compare([SCENARIOS / f"{n}.yaml" for n in names], replications=2)
    found = {name: readability_problems(getattr(charts, name)(many)) for name in charts.CHARTS}
    assert {name: problems for name, problems in found.items() if problems} == {}
    for name in ("standard_by_quarter", "first_appointment_13_weeks_by_quarter"):
        ax = getattr(charts, name)(many).axes[0]  # 19 quarters: a tick a year, each at Q1
        assert {t.get_text()[-2:] for t in ax.get_xticklabels()} == {"Q1"}
        quarter_ticks_match_points(ax)


@pytest.mark.parametrize("two", [True, False])
def test_every_report_chart_reads(comparison, two):
    found = {name: readability_problems(draw()) for name, draw in report_charts(comparison).items()
             if ("two designs" in name) == two}
    assert {name: problems for name, problems in found.items() if problems} == {}


@pytest.mark.parametrize("name", ["standard_by_quarter", "first_appointment_13_weeks_by_quarter"])
def test_quarter_ticks_line_up_with_their_points(comparison, name):
    for given in (comparison, comparison.results["small"]):
        quarter_ticks_match_points(getattr(charts, name)(given).axes[0])


def test_the_checker_catches_a_cut_title_a_missing_label_and_legend():
    """A control: a figure with each fault is caught."""
    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="one")
    ax.plot([0, 1], [1, 0], label="two")
    ax.set_title("a title far too long to fit in a figure three inches wide, so it is cut")
    ax.set_ylabel("low, high")
    found = readability_problems(fig)
    assert any(p.startswith("cut by the figure's edge") for p in found)
    assert "axes 0: no x axis label" in found
    assert any("made up from field names" in p for p in found)
    assert any("no legend" in p for p in found)


def test_the_tornado_reads():
    from asdsim.reporting.tornado import tornado

    inputs = ["teams.school_age_mdt.staff.paediatrician.wte",
              "triage.outcomes.more_information", "demand.referrals_per_week"]
    runs = pd.DataFrame({"input": np.repeat(inputs, 2), "side": ["low", "high"] * 3,
                         "diff_mean": [-0.1, 0.0, -0.03, 0.04, 0.2, -0.3],
                         "diff_ci_low": [-0.12, 0.0, -0.05, 0.02, 0.1, -0.4],
                         "diff_ci_high": [-0.08, 0.0, -0.01, 0.06, 0.3, -0.2]})
    ranking = pd.DataFrame({"input": inputs, "low_value": [0.8, 0.08, 8],
                            "high_value": [1.2, 0.12, 12]})
    for warnings in ((), ("the baseline KPI is 100% in every replication, so a change that "
                          "would push it further cannot show and a small change the other way "
                          "may not either",)):
        fig = tornado(runs, ranking, "assessment_started_within_3_months", "share", 0.85, 5,
                      warnings)
        assert readability_problems(fig) == []
        assert not fig.axes[0].get_xlabel().lower().startswith("low")


def test_the_sweep_charts_read():
    from asdsim.reporting.sweep_chart import summary_figure

    def rows(fields, values):
        return pd.DataFrame([{"point": i, **dict(zip(fields, v, strict=True)),
                              "kpi": "assessment_started_within_3_months", "mean": m,
                              "ci_low": m - 0.03, "ci_high": m + 0.03, "unit": "share", "n": 3}
                             for i, (v, m) in enumerate(zip(values, [0.5, 0.8, 0.92, 0.97],
                                                            strict=True))])

    one = ["teams.school_age_mdt.staff.psychologist.wte"]
    two = [*one, "teams.school_age_mdt.staff.paediatrician.wte"]
    three = [*two, "triage.capacity_per_week"]
    four = [*three, "demand.referrals_per_week"]
    for fields, values in ((one, [(1,), (2,), (3,), (4,)]),
                           (two, [(1, 1), (2, 1), (1, 2), (2, 2)]),
                           (three, [(1, 1, 10), (2, 1, 10), (1, 2, 20), (2, 2, 20)]),
                           (four, [(1, 1, 10, 5), (2, 1, 10, 6), (1, 2, 20, 5),
                                   (2, 2, 20, 6)])):
        fig = summary_figure(rows(fields, values), fields, "assessment_started_within_3_months",
                             title="Sweep of the school-age team's staffing")
        assert readability_problems(fig) == [], fields


def test_the_validation_chart_reads():
    from asdsim.reporting.validation_chart import validation_chart
    from tests.test_validation import _frozen_list

    scenario = _frozen_list([
        {"date": "2020-01-06", "measure": "open_referrals", "value": 15, "source": "s",
         "use": "calibration"},
        {"date": "2020-03-16", "measure": "waiting_over_weeks", "over_weeks": 12, "value": 11,
         "source": "s"}])
    fig = validation_chart(asdsim.simulate(scenario, replications=2, seed=1))
    assert readability_problems(fig) == []


def test_the_calibration_charts_read(tmp_path):
    from asdsim.experiments.calibrate import calibrate
    from asdsim.reporting import calibration_report as cr
    from asdsim.templates_area import create_area

    area = create_area(tmp_path / "area")
    folder = Path(area.scenario).parent
    fit = calibrate(folder / "referrals.csv", area.scenario,
                    waiting_list=folder / "waiting_list.csv", activity=folder / "activity.csv",
                    dayfirst=False)
    figures = {"referrals": cr.referrals_figure(fit.referral_fit.weekly, fit.parameters),
               "mixes": cr.mixes_figure(fit.mixes),
               "activity": cr.activity_figure(fit.activity),
               "waiting list": cr.waiting_list_figure(fit.waiting_list)}
    found = {name: readability_problems(fig) for name, fig in figures.items()}
    assert {name: problems for name, problems in found.items() if problems} == {}


# -------------------------------------------------------------------------- the app's charts


def _title_lines(spec: dict) -> list[str]:
    title = spec.get("title")
    if isinstance(title, dict):
        lines = [title.get("text", "")]
        lines += [title["subtitle"]] if isinstance(title.get("subtitle"), str) else \
            list(title.get("subtitle", []))
    else:
        lines = [title or ""]
    return [line for item in lines for line in ([item] if isinstance(item, str) else item)]


APP_TITLE_CHARACTERS = 64
"""The longest title line that fits an app chart at its narrowest (about 480 pixels at 13px)."""


def test_every_app_chart_reads(comparison):
    from asdsim.app import views

    runs = comparison.results
    made = {"standard": views.standard_chart(runs, 0.9),
            "open referrals": views.open_referrals_chart(runs),
            "13 weeks": views.thirteen_weeks_chart(runs),
            "utilisation": views.utilisation_chart(runs)}
    for name, chart in made.items():
        spec = chart.to_dict()
        lines = _title_lines(spec)
        assert lines and lines[0].strip(), name
        assert all(len(line) <= APP_TITLE_CHARACTERS for line in lines), (name, lines)
        layers = spec.get("layer", [spec])
        for axis in ("x", "y"):
            titles = [layer["encoding"][axis].get("title") for layer in layers
                      if axis in layer.get("encoding", {})
                      and "field" in layer["encoding"][axis]]
            # the axis takes the first title given, so the first layer must name it in words
            assert titles and titles[0], (name, axis, titles)
            assert not str(titles[0]).lower().startswith("low"), (name, axis, titles)
        colours = [layer["encoding"]["color"] for layer in layers
                   if "color" in layer.get("encoding", {})]
        assert colours and all(c.get("legend", {}) is not None for c in colours), name
    for name in ("standard", "13 weeks"):
        spec = made[name].to_dict()
        for layer in spec["layer"]:
            x = layer.get("encoding", {}).get("x")
            if x and "field" in x:  # one tick per quarter, at its points: an ordinal axis
                assert x["type"] == "ordinal" and x["field"] == "quarter", (name, x)
            shape = layer.get("encoding", {}).get("shape")
            if shape:  # the same designs in the same order as the colours: one legend, not two
                colour = layer["encoding"]["color"]
                assert shape["scale"]["domain"] == colour["scale"]["domain"] == list(runs)
