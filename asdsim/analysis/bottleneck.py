"""Where children pile up: the stage of the pathway whose queue grows most over a run.

Each child passes through stages, each an interval between two milestones of the patient table
(``Results.patients``), ended early by the child's exit:

* ``triage``: from the first referral (``first_referral_day``) to acceptance
  (``accepted_day``), as the weekly table's ``awaiting_triage`` counts it;
* a team's ``waiting list``: from joining it (``list_join_day``) to the assessment starting
  (``assessment_started_day``);
* ``mid-assessment`` in a team: from the assessment starting to the outcome (``diagnosis_day``);
* ``post-diagnosis`` in a team: from the outcome to the end of the last step (``exit_day``), for
  designs with steps after the outcome (feedback).

For each stage, per replication: the children in it at the start and at the end of the run (an
interval ``[enter, leave)`` open at that time), those entering during the run, those served
(moving on by the stage's own milestone; for triage, accepted or rejected) and those leaving any
other way (withdrawn, aged out, discharged). The queue's growth is end minus start over the
run's weeks; arrivals and service are a week over the run; each is the mean over replications.
The bottleneck is the stage whose queue grows most, if it grows at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_GROWTH = 5.0
"""Fewest more children in a stage at the end than at the start (mean over replications) for
its queue to count as growing: fewer is within run-to-run noise of a steady queue."""

COLUMNS = ("replication", "team", "first_referral_day", "accepted_day", "list_join_day",
           "assessment_started_day", "diagnosis_day", "exit_day", "exit_reason")
"""The patient table's columns read."""


@dataclass(frozen=True)
class StageFlow:
    """One stage's queue over a run (means over replications)."""

    stage: str
    """``triage``, ``waiting list``, ``mid-assessment`` or ``post-diagnosis``."""
    team: str | None
    """The team (None for triage)."""
    at_start: float
    """Children in the stage at the start of the run."""
    at_end: float
    """Children in the stage at the end of the run."""
    arrivals_per_week: float
    """Children entering the stage a week."""
    served_per_week: float
    """Children moving on from the stage by its own milestone a week."""
    other_exits_per_week: float
    """Children leaving the stage any other way a week (withdrawn, aged out, ...)."""
    weeks: float
    """The run's length in weeks."""

    @property
    def growth_per_week(self) -> float:
        """The queue's growth a week: end minus start over the run's weeks."""
        return (self.at_end - self.at_start) / self.weeks

    @property
    def where(self) -> str:
        """The stage in words: ``triage``, ``the school_age_mdt waiting list``, ..."""
        if self.stage == "triage":
            return "triage"
        if self.stage == "waiting list":
            return f"the {self.team} waiting list"
        if self.stage == "mid-assessment":
            return f"mid-assessment in {self.team} (started, outcome not yet given)"
        return f"waiting for a post-diagnosis step in {self.team}"


def _stages(patients: pd.DataFrame) -> list[tuple[str, str | None, pd.Series, str, pd.Series]]:
    """(stage, team, rows, entering column, leaving column) of every stage."""
    nan = pd.Series(np.nan, index=patients.index)
    served_triage = patients["accepted_day"].where(
        patients["accepted_day"].notna(),
        patients["exit_day"].where(patients["exit_reason"] == "rejected"))
    out: list[tuple[str, str | None, pd.Series, str, pd.Series]] = [
        ("triage", None, patients["first_referral_day"].notna(), "first_referral_day", served_triage)]
    teams = sorted(t for t in patients["team"].dropna().unique())
    for team in teams:
        mine = patients["team"] == team
        after = patients["exit_day"].where(patients["exit_reason"] == "assessed", nan)
        out += [("waiting list", team, mine, "list_join_day", patients["assessment_started_day"]),
                ("mid-assessment", team, mine, "assessment_started_day", patients["diagnosis_day"]),
                ("post-diagnosis", team, mine, "diagnosis_day", after)]
    return out


def stage_flows(patients: pd.DataFrame, horizon_days: float) -> list[StageFlow]:
    """Every stage's queue at the start and end of a run, and its flows a week.

    Parameters
    ----------
    patients
        The patient table (``Results.patients``; the columns in :data:`COLUMNS`), one row per
        child per replication, days from the start (NaN: not reached).
    horizon_days
        The run's length in days.

    Returns
    -------
    list of StageFlow
        Triage, then each team's waiting list, mid-assessment and post-diagnosis stages.
    """
    missing = [c for c in COLUMNS if c not in patients.columns]
    if missing:
        raise ValueError(f"the patient table has no column {', '.join(missing)}")
    reps = max(patients["replication"].nunique(), 1)
    weeks = horizon_days / 7.0
    exit_day = patients["exit_day"].to_numpy(dtype=float)
    flows = []
    for stage, team, rows, enter_column, served_column in _stages(patients):
        enter = np.where(rows, patients[enter_column].to_numpy(dtype=float), np.nan)
        served = served_column.to_numpy(dtype=float)
        leave = np.fmin(served, exit_day)  # NaN only when neither happened
        leave = np.where(leave < enter, enter, leave)  # a milestone before entering: no stay
        began = ~np.isnan(enter)
        left = ~np.isnan(leave)
        at_start = began & (enter < 0) & (~left | (leave >= 0))
        at_end = began & (enter < horizon_days) & (~left | (leave >= horizon_days))
        entered = began & (enter >= 0) & (enter < horizon_days)
        gone = began & left & (leave >= 0) & (leave < horizon_days)
        by_service = gone & (served == leave)
        flows.append(StageFlow(
            stage, team, at_start.sum() / reps, at_end.sum() / reps,
            entered.sum() / reps / weeks, by_service.sum() / reps / weeks,
            (gone & ~by_service).sum() / reps / weeks, weeks))
    return flows


def find_bottleneck(patients: pd.DataFrame, horizon_days: float,
                    min_growth: float = MIN_GROWTH) -> StageFlow | None:
    """The stage whose queue grows most over the run, or None when none grows by ``min_growth``
    children or more (see :func:`stage_flows`)."""
    flows = stage_flows(patients, horizon_days)
    worst = max(flows, key=lambda f: f.at_end - f.at_start, default=None)
    if worst is None or worst.at_end - worst.at_start < min_growth:
        return None
    return worst


def _whole(x: float) -> str:
    return f"{round(x):,}"


def _rate(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{round(x):,}"


def bottleneck_sentence(flow: StageFlow | None) -> str:
    """The bottleneck in one sentence, or that no queue grew."""
    if flow is None:
        return (f"Children do not pile up: no stage's queue grew by {MIN_GROWTH:g} or more "
                "children over the run.")
    served = {"triage": "are triaged (accepted or turned down)",
              "waiting list": "start assessment",
              "mid-assessment": "get their outcome",
              "post-diagnosis": "finish their last step"}[flow.stage]
    return (f"Children pile up in {flow.where}: {_whole(flow.at_start)} at the start, "
            f"{_whole(flow.at_end)} at the end of the run ({_rate(flow.growth_per_week)} more a "
            f"week); {_rate(flow.arrivals_per_week)} children a week arrive there and "
            f"{_rate(flow.served_per_week)} a week {served}.")


__all__ = ["COLUMNS", "MIN_GROWTH", "StageFlow", "bottleneck_sentence", "find_bottleneck",
           "stage_flows"]
