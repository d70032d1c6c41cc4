"""The plain-English summary and the number formats it uses, on hand-made KPI tables."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

import asdsim
from asdsim.reporting import formatting as fmt
from asdsim.reporting.summary import (
    COST_PER_YEAR,
    OUTSOURCING_PER_YEAR,
    derived_kpis,
    summarise,
    summarise_design,
    years,
)
from asdsim.scenario.loading import scenario_from_dict

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = asdsim.load_scenario(FIXTURES / "small.yaml")  # starts 2019-01-07, 40 weeks
# the hand-made KPI tables below give shares up to 2020: a run long enough that every one of
# those quarters has the window of all its referrals closed (the standard judges only such)
LONG = scenario_from_dict({**SMALL.model_dump(mode="json"), "horizon_weeks": 160})


# ----------------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(("share", "decimals", "text"), [
    (0.873, None, "87%"), (0.8749, 1, "87.5%"), (1.0, None, "100%"), (0.0, None, "0%"),
    (0.998, None, "99.8%"),  # whole percent would say 100% of a share below 1
    (0.003, None, "0.3%"),   # and 0% of a share above 0
    (-1e-9, 1, "0.0%"),      # never -0.0%
    (math.nan, None, "not reached"),
])
def test_percent(share, decimals, text):
    assert fmt.percent(share, decimals) == text


@pytest.mark.parametrize(("amount", "short", "text"), [
    (52_340.4, False, "£52,340"), (52_340.4, True, "£52k"), (1_234_567, True, "£1.2m"),
    (999.6, True, "£1k"), (-0.3, False, "£0"), (-52_000, True, "-£52k"), (0, True, "£0"),
    (250_000_000, True, "£250m"),
])
def test_money(amount, short, text):
    assert fmt.money(amount, short) == text


def test_children_are_whole_and_differences_never_show_a_signed_zero():
    assert fmt.children(1480.3) == "1,480"
    assert fmt.difference(1480.3, "children") == "+1,480"
    assert fmt.difference(-1480.6, "children") == "-1,481"
    assert fmt.difference(-1e-6, "share") == "0"
    assert fmt.difference(0.0123, "share") == "+1.2"  # percentage points
    assert fmt.difference(-52_000, "GBP", short=True) == "-£52k"
    assert fmt.difference_interval(-1e-6, 2e-6, "share") == ""  # not "-0.0 to +0.0"
    assert fmt.difference_estimate(0.0, -1e-6, 1e-6, "share") == "0"
    assert fmt.difference_estimate(793.2, 766.1, 819.4, "children") == "+793 (+766 to +819)"


def test_estimates_drop_an_interval_that_says_nothing():
    assert fmt.estimate(0.87, 0.84, 0.9, "share", short=True) == "87% (84% to 90%)"
    assert fmt.estimate(5, 5, 5, "children") == "5"
    assert fmt.estimate(math.nan, math.nan, math.nan, "weeks") == "not reached"
    assert fmt.value(27.66, "weeks") == "27.7" and fmt.with_unit(1, "children") == "1 child"


def test_kpi_labels_come_from_the_registry_with_their_argument_in_words():
    assert fmt.kpi_label("assessment_started_within_3_months") == "Assessment started within 3 months"
    assert fmt.kpi_label("assessment_started_within_3_months[2019Q2]") == (
        "Assessment started within 3 months, referred in 2019 Q2")
    assert fmt.kpi_label("open_referrals[2023-09-25]") == "Open referrals on 25 Sep 2023"
    assert fmt.axis_label("open_referrals[2023-09-25]") == "Open referrals on 25 Sep 2023 (children)"
    assert fmt.kpi_label("funded_wte[mdt/psychologist]").endswith("mdt/psychologist")
    with pytest.raises(KeyError):
        fmt.kpi_label("no_such_kpi")


# -------------------------------------------------------------------------------------- summary


def kpi_table(quarters: dict[str, tuple[float, float, float]], **extra: tuple[float, float, float]
              ) -> pd.DataFrame:
    """A KPI table with the headline share per quarter and any other KPIs given."""
    rows = [(f"assessment_started_within_3_months[{q}]", *v, "share") for q, v in quarters.items()]
    units = {"open_referrals": "children", "funded_cost_per_year": "GBP",
             "cost_funded_total": "GBP", "cost_outsourced": "GBP"}
    for name, v in extra.items():
        kpi = name.replace("__", "[").replace("_D_", "-") + ("]" if "__" in name else "")
        rows.append((kpi, *v, units[kpi.split("[")[0]]))
    return pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high", "unit"])


COSTS = {"funded_cost_per_year": (200_000.0,) * 3,
         "cost_funded_total": (250_000.0, 240_000.0, 260_000.0),
         "cost_outsourced": (50_000.0, 40_000.0, 60_000.0)}


def test_meets_from_the_first_quarter_after_the_last_one_below_the_level():
    table = kpi_table({"2019Q1": (0.95, 0.9, 1.0), "2019Q2": (0.5, 0.4, 0.6),
                       "2019Q3": (0.93, 0.91, 0.95), "2019Q4": (0.97, 0.92, 1.0),
                       "2020Q1": (math.nan,) * 3}, **COSTS)
    d = summarise_design("A", table, LONG)
    assert d.meets and d.meets_from == "2019Q3" and d.certain and d.last_quarter == "2019Q4"
    assert d.quarter_share.kpi == "assessment_started_within_3_months[2019Q3]"
    assert d.sentences[0].startswith("Meets the 3-month standard (at least 90% of a quarter's "
                                     "referrals) from 2019 Q3: 93% (91% to 95%) of children "
                                     "referred in 2019 Q3 (Jul-Sep 2019)")
    assert "every later quarter to 2019 Q4" in d.sentences[0]


def test_a_mean_above_the_level_with_an_interval_below_it_is_not_certain():
    table = kpi_table({"2019Q1": (0.92, 0.85, 0.99)}, **COSTS)
    d = summarise_design("A", table, SMALL)
    assert d.meets and not d.certain and "may not" in d.sentences[0]
    strict = summarise_design("A", table, SMALL, level=0.95)
    assert not strict.meets and strict.meets_from is None
    assert strict.sentences[0].startswith("Does not meet the 3-month standard (at least 95% of a "
                                          "quarter's referrals) by 2019 Q1")
    with pytest.raises(ValueError):
        summarise_design("A", table, SMALL, level=90)


def test_the_may_not_sentence_counts_the_quarters_whose_interval_reaches_below():
    # meets from 2019 Q2 (Q1 is below); of Q2, Q3, Q4 the intervals of Q2 (89%) and Q4 (88%)
    # reach below 90%, Q3's (91%) does not: "2 of these 3 quarters (2019 Q2, 2019 Q4)"
    table = kpi_table({"2019Q1": (0.80, 0.75, 0.85), "2019Q2": (0.93, 0.89, 0.97),
                       "2019Q3": (0.95, 0.91, 0.99), "2019Q4": (0.92, 0.88, 0.96)}, **COSTS)
    d = summarise_design("A", table, LONG)
    assert d.meets_from == "2019Q2" and not d.certain
    assert ("the 95% intervals of 2 of these 3 quarters (2019 Q2, 2019 Q4) reach below 90%, so "
            "it may not.") in d.sentences[0]
    one = summarise_design("A", kpi_table({"2019Q1": (0.92, 0.85, 0.99)}, **COSTS), SMALL)
    assert "its 95% interval reaches below 90%, so it may not." in one.sentences[0]


def test_a_quarter_cut_by_the_horizon_is_not_judged():
    # SMALL runs 40 weeks from Monday 7 January 2019, so to 14 October 2019 (280 days). 2019 Q2's
    # last referral (30 June, day 175) has its 3-month window (91.3 days) closed on day 266.3, so
    # Q2 is judged; 2019 Q3's last (30 September, day 267) would close on day 358.3, after the
    # horizon, so Q3's share counts only its first weeks' referrals and is not judged
    table = kpi_table({"2019Q1": (0.95, 0.92, 0.98), "2019Q2": (0.93, 0.91, 0.95),
                       "2019Q3": (0.50, 0.30, 0.70)}, **COSTS)
    d = summarise_design("A", table, SMALL)
    assert d.meets and d.meets_from == "2019Q1" and d.last_quarter == "2019Q2"
    judged = summarise_design("A", table, LONG)  # the same shares, every quarter closed
    assert not judged.meets and judged.last_quarter == "2019Q3"


def test_a_last_quarter_below_the_level_means_it_does_not_meet_it():
    table = kpi_table({"2019Q1": (0.95, 0.9, 1.0), "2019Q2": (0.89, 0.85, 0.93)}, **COSTS)
    d = summarise_design("A", table, SMALL)
    assert not d.meets and d.quarter_share.kpi.endswith("[2019Q2]")
    assert "89% (85% to 93%) of children referred in 2019 Q2 (Apr-Jun 2019)" in d.sentences[0]


def test_no_closed_quarter_is_said_so():
    d = summarise_design("A", kpi_table({"2019Q1": (math.nan,) * 3}, **COSTS), SMALL)
    assert not d.meets and d.quarter_share is None and d.sentences[0].startswith("Not judged")


def test_open_referrals_at_the_last_date_and_the_annual_cost():
    table = kpi_table({"2019Q1": (0.5, 0.4, 0.6)}, open_referrals__2019_D_06_D_30=(10.0, 8.0, 12.0),
                      open_referrals__2019_D_10_D_14=(1480.3, 1400.2, 1560.7), **COSTS)
    d = summarise_design("A", table, SMALL)
    assert d.open_referrals.kpi == "open_referrals[2019-10-14]"
    assert d.sentences[1] == ("Open referrals on 14 Oct 2019 (the end of the run): "
                              "1,480 (1,400 to 1,561) children.")
    per_year = 1 / years(SMALL)
    assert d.annual_cost.kpi == COST_PER_YEAR
    assert d.annual_cost.mean == pytest.approx(250_000 * per_year)
    assert d.outsourcing_per_year.mean == pytest.approx(50_000 * per_year)
    assert d.sentences[2].startswith(f"Funded cost {fmt.money(250_000 * per_year, True)} "
                                     f"({fmt.money(240_000 * per_year, True)} to ")
    assert "averaged over the 0.8 years of the run, 7 Jan 2019 to 14 Oct 2019" in d.sentences[2]
    assert "posts £200k plus outsourcing" in d.sentences[2]
    derived = derived_kpis(table, SMALL).set_index("kpi")
    assert set(derived.index) == {COST_PER_YEAR, OUTSOURCING_PER_YEAR}


def test_no_cost_stated():
    zero = {k: (0.0, 0.0, 0.0) for k in COSTS}
    d = summarise_design("A", kpi_table({"2019Q1": (0.5, 0.4, 0.6)}, **zero), SMALL)
    assert "no annual cost per WTE" in d.sentences[-1]


def test_every_figure_is_named_and_formatted_for_people():
    table = kpi_table({"2019Q1": (0.953, 0.9, 1.0)}, open_referrals__2019_D_10_D_14=(3.0, 0, 6.2),
                      **COSTS)
    d = summarise_design("A", table, SMALL)
    for figure in d.figures:
        assert figure.text in d.text
    assert not re.search(r"\d\.\d{2,}|[+-]0\.0|\d{4,}(?!,)", d.text.replace("2019", ""))


def test_summary_of_a_real_comparison():
    comparison = asdsim.compare([FIXTURES / "small.yaml", FIXTURES / "more_staff.yaml"],
                                replications=2, seed=3)
    s = summarise(comparison)
    assert [d.scenario for d in s.designs] == list(comparison.results)
    assert s.baseline == comparison.baseline and len(s.incremental) == 1
    lines = s.lines()
    assert len(lines) == 3 and all(line.strip() for line in lines)
    assert "referred from 7 Jan 2019" in lines[-1]
    one = summarise(next(iter(comparison.results.values())))
    assert len(one.designs) == 1 and one.incremental == ()


def test_run_and_compare_print_the_summary(tmp_path, capsys):
    from asdsim.cli import main

    assert main(["run", str(FIXTURES / "small.yaml"), "--replications", "2", "--seed", "3",
                 "--out", str(tmp_path / "run")]) == 0
    printed = capsys.readouterr().out
    results = asdsim.simulate(FIXTURES / "small.yaml", replications=2, seed=3)
    for line in summarise(results).lines(width=100):
        assert line in printed
    assert "3-month standard" in printed and "Open referrals on" in printed
    assert main(["compare", str(FIXTURES / "small.yaml"), str(FIXTURES / "more_staff.yaml"),
                 "--replications", "2", "--seed", "3", "--out", str(tmp_path / "cmp")]) == 0
    printed = capsys.readouterr().out
    assert "small: " in printed and "more staff: " in printed
    assert "more staff against small:" in printed
    assert all(len(line) <= 100 for line in printed.splitlines() if "results in" not in line)
