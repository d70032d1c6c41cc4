"""Where children pile up: the stage of the pathway whose queue grows most over a run.

Each child passes through stages, each an interval between two milestones of the patient table
(``Results.patients``), ended early by the child's exit:

* ``triage``: from the first referral (``first_referral_day``) to acceptance
  (``accepted_day``), as the weekly table's ``awaiting_triage`` counts it;
* a team's ``waiting list``: from joining it (``list_join_day``) to the assessment starting
  (``assessment_started_day``); a child transferred from one team's list to another's stays on
  each for its own time, from ``Results.list_stays`` (without that table, the patient table's
  one team a child, its last, counts the whole wait from the first joining);
* ``mid-assessment`` in a team: from the assessment starting to the outcome (``diagnosis_day``);
* ``post-diagnosis`` in a team: from the outcome to the end of the last step (``exit_day``), for
  designs with steps after the outcome (feedback).

Each stage is measured over a window, by default the second half of the run (whole weeks), so
that stages that start empty (a run starts from today's waiting list, with nobody part-way
through an assessment) have filled before they are judged. Per replication: the children in the
stage at the window's start and end (an interval ``[enter, leave)`` open at that time), those
entering it during the window, those served (moving on by the stage's own milestone; for
triage, accepted or rejected) and those leaving any other way (withdrawn, aged out,
discharged); each figure is the mean over replications, and the rates are a week.

The bottleneck is the stage whose queue grows most over the window, provided it grows by at
least :data:`MIN_GROWTH` children and by at least :data:`MIN_IMBALANCE` of the children who
arrived there (more arrive than leave): a queue in steady state moves up and down by chance,
a growing one gains a steady share of its arrivals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_GROWTH = 5.0
"""Fewest more children in a stage at the window's end than at its start (mean over
replications) for its queue to count as growing."""
MIN_IMBALANCE = 0.05
"""Least growth of a queue, as a share of the children arriving at it in the window, for it to
count as growing: a steady queue's change is a far smaller share of a long window's arrivals."""

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
    """Children in the stage at the start of the window."""
    at_end: float
    """Children in the stage at the end of the run (the window's end)."""
    arrivals_per_week: float
    """Children entering the stage a week."""
    served_per_week: float
    """Children moving on from the stage by its own milestone a week."""
    other_exits_per_week: float
    """Children leaving the stage any other way a week (withdrawn, aged out, ...)."""
    weeks: float
    """The window's length in weeks."""
    from_day: float
    """The window's first day, from the start of the run."""

    @property
    def growth(self) -> float:
        """More children in the stage at the window's end than at its start."""
        return self.at_end - self.at_start

    @property
    def growth_per_week(self) -> float:
        """The queue's growth a week over the window."""
        return self.growth / self.weeks

    @property
    def growing(self) -> bool:
        """Whether the queue grows beyond chance (:data:`MIN_GROWTH`, :data:`MIN_IMBALANCE`)."""
        return self.growth >= max(MIN_GROWTH, MIN_IMBALANCE * self.arrivals_per_week * self.weeks)

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
    """(stage, team, rows, entering column, leaving column) of every stage (a waiting list's rows
    are every child whose last team it is)."""
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


def default_from_day(horizon_days: float) -> float:
    """The start of the default window: the run's half-way point, in whole weeks."""
    return 7.0 * ((horizon_days // 7.0) // 2)


def _intervals(patients: pd.DataFrame, stage: str, team: str | None, rows: pd.Series,
               enter_column: str, served_column: pd.Series,
               stays: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entered, served, left any way) days of every stay in a stage; a waiting list's from
    ``stays`` for a child transferred between lists (see :func:`stage_flows`)."""
    exit_day = patients["exit_day"].to_numpy(dtype=float)
    served = served_column.to_numpy(dtype=float)
    if stays is None or stage != "waiting list":
        return (np.where(rows, patients[enter_column].to_numpy(dtype=float), np.nan), served,
                exit_day)
    once = rows.to_numpy() & (patients["transfers"].to_numpy() == 0)
    mine = stays[stays["team"] == team]
    at = pd.MultiIndex.from_frame(patients[["replication", "patient_id"]]).get_indexer(
        pd.MultiIndex.from_frame(mine[["replication", "patient_id"]]))
    moved_on = mine["left_day"].notna().to_numpy()  # left by a transfer: not served there
    return (np.concatenate([np.where(once, patients[enter_column].to_numpy(dtype=float), np.nan),
                            mine["joined_day"].to_numpy(dtype=float)]),
            np.concatenate([served, np.where(moved_on, np.nan, served[at])]),
            np.concatenate([exit_day, np.where(moved_on, mine["left_day"].to_numpy(dtype=float),
                                               exit_day[at])]))


def stage_flows(patients: pd.DataFrame, horizon_days: float, from_day: float | None = None,
                stays: pd.DataFrame | None = None) -> list[StageFlow]:
    """Every stage's queue at the start and end of a window of a run, and its flows a week.

    Parameters
    ----------
    patients
        The patient table (``Results.patients``; the columns in :data:`COLUMNS`), one row per
        child per replication, days from the start (NaN: not reached).
    horizon_days
        The run's length in days: the window ends there.
    from_day
        The window's first day (default :func:`default_from_day`, the half-way point).
    stays
        ``Results.list_stays``: each list stay of a child transferred between teams' lists, so
        each list counts such a child for its own time (leaving it by the transfer); without it,
        the child counts on its last team's list from its first joining.

    Returns
    -------
    list of StageFlow
        Triage, then each team's waiting list, mid-assessment and post-diagnosis stages.
    """
    needed = COLUMNS if stays is None else (*COLUMNS, "patient_id", "transfers")
    missing = [c for c in needed if c not in patients.columns]
    if missing:
        raise ValueError(f"the patient table has no column {', '.join(missing)}")
    reps = max(patients["replication"].nunique(), 1)
    start = default_from_day(horizon_days) if from_day is None else float(from_day)
    if not 0 <= start < horizon_days:
        raise ValueError(f"the window must start within the run (0 to {horizon_days:g} days), "
                         f"not on day {start:g}")
    weeks = (horizon_days - start) / 7.0
    flows = []
    for stage, team, rows, enter_column, served_column in _stages(patients):
        enter, served, exit_day = _intervals(patients, stage, team, rows, enter_column,
                                             served_column, stays)
        leave = np.fmin(served, exit_day)  # NaN only when neither happened
        leave = np.where(leave < enter, enter, leave)  # a milestone before entering: no stay
        began = ~np.isnan(enter)
        left = ~np.isnan(leave)
        at_start = began & (enter < start) & (~left | (leave >= start))
        at_end = began & (enter < horizon_days) & (~left | (leave >= horizon_days))
        entered = began & (enter >= start) & (enter < horizon_days)
        gone = began & left & (leave >= start) & (leave < horizon_days)
        by_service = gone & (served == leave)
        flows.append(StageFlow(
            stage, team, at_start.sum() / reps, at_end.sum() / reps,
            entered.sum() / reps / weeks, by_service.sum() / reps / weeks,
            (gone & ~by_service).sum() / reps / weeks, weeks, start))
    return flows


def growing_stages(patients: pd.DataFrame, horizon_days: float, from_day: float | None = None,
                   stays: pd.DataFrame | None = None) -> list[StageFlow]:
    """The stages whose queues grow beyond chance over the window (:attr:`StageFlow.growing`),
    the one that grows most first (``stays``: see :func:`stage_flows`)."""
    growing = [f for f in stage_flows(patients, horizon_days, from_day, stays) if f.growing]
    return sorted(growing, key=lambda f: -f.growth)


def find_bottleneck(patients: pd.DataFrame, horizon_days: float, from_day: float | None = None,
                    stays: pd.DataFrame | None = None) -> StageFlow | None:
    """The stage whose queue grows most over the window (by default the second half of the
    run), or None when no queue grows beyond chance (``stays``: see :func:`stage_flows`)."""
    growing = growing_stages(patients, horizon_days, from_day, stays)
    return growing[0] if growing else None


def describe_bottleneck(patients: pd.DataFrame, horizon_days: float,
                        from_day: float | None = None,
                        stays: pd.DataFrame | None = None) -> tuple[StageFlow | None, str]:
    """The bottleneck (or None) and the sentence naming it and any other growing queue
    (``stays``: see :func:`stage_flows`)."""
    growing = growing_stages(patients, horizon_days, from_day, stays)
    if not growing:
        return None, bottleneck_sentence(None)
    return growing[0], bottleneck_sentence(growing[0], growing[1:])


def _whole(x: float) -> str:
    return f"{round(x):,}"


def _rate(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{round(x):,}"


def bottleneck_sentence(flow: StageFlow | None, also: Sequence[StageFlow] = ()) -> str:
    """The bottleneck in one sentence (and the other growing queues, ``also``, in a second), or
    that no queue grew."""
    if flow is None:
        return ("Children do not pile up: no stage's queue grew over the second half of the run "
                "by more than chance.")
    served = {"triage": "are triaged (accepted or turned down)",
              "waiting list": "start assessment",
              "mid-assessment": "get their outcome",
              "post-diagnosis": "finish their last step"}[flow.stage]
    when = "half-way through the run" if flow.from_day > 0 else "at the start"
    return (f"Children pile up in {flow.where}: {_whole(flow.at_start)} {when}, "
            f"{_whole(flow.at_end)} at the end ({_rate(flow.growth_per_week)} more a week); "
            f"{_rate(flow.arrivals_per_week)} children a week arrive there and "
            f"{_rate(flow.served_per_week)} a week {served}."
            + ("" if not also else " Also growing: " + "; ".join(
                f"{f.where} ({_rate(f.growth_per_week)} more a week)" for f in also) + "."))


__all__ = ["COLUMNS", "MIN_GROWTH", "MIN_IMBALANCE", "StageFlow", "bottleneck_sentence",
           "default_from_day", "describe_bottleneck", "find_bottleneck", "growing_stages",
           "stage_flows"]
