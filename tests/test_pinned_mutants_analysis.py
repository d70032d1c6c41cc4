"""Pinned analysis behaviour that mutation testing found unpinned (see
docs/mutation-survivors.md). Hand-worked small runs in the style of tests/test_pinned_model.py
(day 0 is Monday 6 January 2020); the comment above each test names the mutant it kills."""

from __future__ import annotations

import pandas as pd
import pytest

from asdsim.analysis.definitions import REGISTRY
from asdsim.analysis.uncertainty import kpi_summary, uncertainty_table
from tests.test_pinned_model import CASELOAD, backlog, generated, run, scenario, team


def test_a_visit_on_the_horizon_day_is_not_counted_in_the_dna_share():
    # Kills record's `if day < horizon` -> `day <= horizon` for the visits behind dna_share.
    # Caseload, one child on day 0, horizon 2 weeks (day 14). History (outcome) on day 0, 14
    # days long; feedback, always missed, right after it, on day 14: the horizon, outside the
    # run. dna_share counts the history visit (attended: 0.0) and no feedback visit at all.
    steps = [{"name": "history", "hours": {"p": 1}, "outcome": True, "duration_days": 14},
             {"name": "feedback", "hours": {"p": 1}, "dna_probability": 1.0}]
    s = scenario(teams={"t": team(steps=steps, **CASELOAD)}, horizon_weeks=2,
                 initial_state=generated(backlog(1)))
    results = run(s)
    assert results.kpi("dna_share[t/history]") == 0.0
    assert "dna_share[t/feedback]" not in set(results.kpis.kpi)



def test_every_kpi_has_its_own_label_and_the_basis_shows_in_it():
    # Kills the registry's labels set to None (restricted mean, mean of those seen) and the
    # '(listed)' basis of a share's label misspelt. The KPI registry is built at import, so
    # these mutants are checked in a fresh process (scripts/mutation.sh --direct).
    labels = [d.label for d in REGISTRY.values()]
    assert all(isinstance(label, str) and label for label in labels)
    assert len(set(labels)) == len(labels)
    assert REGISTRY["first_appointment_wait_restricted_mean"].label == (
        "Mean wait to first appointment within follow-up")
    assert REGISTRY["diagnosis_wait_mean_seen"].label == "Mean wait to diagnosis, children seen"
    assert REGISTRY["first_appointment_within_13_weeks_listed"].label == (
        "First appointment within 13 weeks (listed)")


# ------------------------------------------------ survivors of the analysis sample at e8713a1

T_975_1 = 12.706204736174705
"""Student's t, 97.5th percentile, 1 degree of freedom (two replications): tan(0.475 pi)."""


def per_replication(values: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """Per-replication KPIs (replications listed last first, to show they are put in order)."""
    rows = [(r, kpi, unit, v[r]) for (kpi, unit), v in values.items() for r in reversed(range(len(v)))]
    return pd.DataFrame(rows, columns=["replication", "kpi", "unit", "value"])


def test_the_uncertainty_table_states_each_kpi_with_fixed_and_drawn_inputs_by_hand():
    # Kills uncertainty_table's `groupby(..., sort=False)` -> True (rows in name order, not the
    # KPIs' order), the fixed summary's unit -> None (a share's interval not capped at 1), the
    # `unit` and `fixed_sd` keys renamed, and `f[3]` / `d[3]` -> `f[4]` / `d[4]` (n for sd).
    # Two replications, so the half-width is t(0.975, 1) x sd / sqrt(2).
    # waiting_over_13_weeks (children): fixed 10, 14: mean 12, sd sqrt(8), half 2 t; low 12 - 2t
    #   is below 0, so 0; drawn 8, 16: mean 12, sd sqrt(32), half 4 t; share from what is not
    #   known 1 - 8/32 = 0.75.
    # assessment_started_within_3_months (share): fixed 0.4, 0.6: mean 0.5, sd sqrt(0.02),
    #   half 0.1 t = 1.27: [0, 1] once cut to the range of a share; drawn 0.49, 0.51: sd
    #   sqrt(0.0002), half 0.01 t; the drawn spread is smaller, so the share is 0 (not negative).
    fixed = per_replication({("waiting_over_13_weeks", "children"): [10.0, 14.0],
                             ("assessment_started_within_3_months", "share"): [0.4, 0.6]})
    drawn = per_replication({("waiting_over_13_weeks", "children"): [8.0, 16.0],
                             ("assessment_started_within_3_months", "share"): [0.49, 0.51]})
    table = uncertainty_table(fixed, drawn)
    assert list(table.columns) == ["kpi", "unit", "fixed_mean", "fixed_ci_low", "fixed_ci_high",
                                   "fixed_sd", "drawn_mean", "drawn_ci_low", "drawn_ci_high",
                                   "drawn_sd", "unknown_share", "n"]
    t = T_975_1
    expected = [
        ["waiting_over_13_weeks", "children", 12.0, 0.0, 12.0 + 2 * t, 8 ** 0.5,
         12.0, 0.0, 12.0 + 4 * t, 32 ** 0.5, 0.75, 2],
        ["assessment_started_within_3_months", "share", 0.5, 0.0, 1.0, 0.02 ** 0.5,
         0.5, 0.5 - 0.01 * t, 0.5 + 0.01 * t, 0.0002 ** 0.5, 0.0, 2],
    ]
    for got, want in zip(table.itertuples(index=False), expected, strict=True):
        assert list(got[:2]) == want[:2] and got[-1] == want[-1]
        assert list(got[2:-1]) == pytest.approx(want[2:-1])


def test_a_kpi_summary_of_no_replications_still_has_its_columns():
    # Kills kpi_summary's `columns=[...]` -> None (an empty summary with no columns at all).
    empty = pd.DataFrame(columns=["replication", "kpi", "unit", "value"])
    assert list(kpi_summary(empty).columns) == ["kpi", "mean", "ci_low", "ci_high", "unit", "n"]


def test_the_notebook_view_escapes_names_and_shows_a_dash_for_what_is_not_known():
    # Kills Results._repr_html_'s `escape=True` -> False (a team named with markup would be
    # rendered as markup) and `na_rep="–"` -> "XX–XX". One replication: no interval (NaN).
    s = scenario(teams={"<i>t</i>": team()}, initial_state=generated(backlog(1)))
    shown = run(s)._repr_html_()
    assert "funded_wte[&lt;i&gt;t&lt;/i&gt;/p]" in shown and "<i>t</i>" not in shown
    assert "<td>–</td>" in shown and "XX" not in shown
