"""asdsim plan: target strings, the least-cost search, and its answers against Erlang C."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from asdsim.analysis.definitions import REGISTRY
from asdsim.experiments.targets import TargetError, parse_target, parse_targets

# --------------------------------------------------------------------------------- target strings


def test_share_target_reads_percent_and_number_alike():
    a = parse_target("assessment_started_within_3_months >= 0.9")
    b = parse_target("assessment_started_within_3_months>=90%")
    assert (a.kpi, a.op, a.value) == (b.kpi, b.op, b.value) == (
        "assessment_started_within_3_months", ">=", 0.9)
    assert a.sense == "higher" and a.cohort
    assert a.met(0.9) and a.met(0.95) and not a.met(0.89) and not a.met(math.nan)
    assert a.margin(0.99) == pytest.approx(0.1) and a.margin(math.nan) == -math.inf


def test_count_at_a_date_takes_its_date_from_by_the_bracket_or_the_plan():
    t = parse_target("waiting_over_52_weeks == 0 by 2026-03-31")
    assert t.kpi == "waiting_over_52_weeks[2026-03-31]" and t.op == "<=" and t.value == 0
    assert t.date == dt.date(2026, 3, 31) and not t.cohort
    assert parse_target("waiting_over_52_weeks[2026-03-31] <= 0").kpi == t.kpi
    assert parse_target("open_referrals <= 100", by_date=dt.date(2025, 4, 1)).kpi == \
        "open_referrals[2025-04-01]"
    with pytest.raises(TargetError, match="count at a date"):
        parse_target("open_referrals <= 100")
    with pytest.raises(TargetError, match="two different dates"):
        parse_target("waiting_over_52_weeks[2026-03-31] == 0 by 2026-04-30")


def test_backlog_and_period_targets():
    t = parse_target("backlog_cleared_weeks <= 52")
    assert (t.kpi, t.sense, t.value) == ("backlog_cleared_weeks", "lower", 52.0)
    assert t.met(52) and not t.met(52.5) and not t.met(math.nan)
    q = parse_target("assessment_started_within_3_months[2025Q2] >= 0.8")
    assert q.kpi == "assessment_started_within_3_months[2025Q2]" and not q.cohort
    with pytest.raises(TargetError, match="year or quarter"):
        parse_target("assessment_started_within_3_months[April] >= 0.8")


def test_unknown_kpi_names_it_and_lists_the_valid_ones():
    with pytest.raises(TargetError) as caught:
        parse_target("assesment_started_within_3_months >= 0.9")
    message = str(caught.value)
    assert "'assesment_started_within_3_months'" in message
    assert all(name in message for name in REGISTRY)


@pytest.mark.parametrize(("text", "why"), [
    ("assessment_started_within_3_months <= 0.9", "must be 'assessment_started_within_3_months >="),
    ("backlog_cleared_weeks >= 52", "must be 'backlog_cleared_weeks <="),
    ("assessment_started_within_3_months >= 1.5", "from 0 to 1"),
    ("backlog_cleared_weeks <= 50%", "only a share"),
    ("waiting_over_52_weeks == 3 by 2026-03-31", "only allowed at the best value"),
    ("funded_cost_per_year <= 100000", "budget"),
    ("referrals >= 10", "no better direction"),
    ("assessment_started_within_3_months >= 0.9 by 2025-04-01", "counts at a date"),
    ("assessment_started_within_3_months is high", "not of the form"),
    ("waiting_over_52_weeks == 0 by 31/03/2026", "not a date"),
])
def test_bad_targets_say_what_is_wrong(text, why):
    with pytest.raises(TargetError, match=why.replace("[", r"\[").replace("(", r"\(")):
        parse_target(text)


def test_several_targets_all_read_and_none_repeated():
    targets = parse_targets(["assessment_started_within_3_months >= 0.9",
                             "waiting_over_52_weeks == 0 by 2026-03-31"])
    assert [t.kpi for t in targets] == ["assessment_started_within_3_months",
                                        "waiting_over_52_weeks[2026-03-31]"]
    with pytest.raises(TargetError, match="same KPI"):
        parse_targets(["backlog_cleared_weeks <= 52", "backlog_cleared_weeks <= 40"])
    with pytest.raises(TargetError, match="at least one"):
        parse_targets([])
