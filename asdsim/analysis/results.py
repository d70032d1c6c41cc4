"""Results of a run: tidy tables built once from the replications' arrays.

``Results.patients`` has one row per child per replication, ``weekly`` one row per week per
replication, ``teams_weekly`` and ``staff_weekly`` the same split by team and by staff group,
and ``kpis`` one row per KPI with its 95% confidence interval across replications. Times are
days from the scenario start; key milestones also come as calendar dates.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from asdsim.analysis import cohorts
from asdsim.analysis.cohorts import count_within
from asdsim.analysis.kpis import kpi_table, per_replication_kpis
from asdsim.analysis.record import ReplicationRecord
from asdsim.analysis.uncertainty import kpi_summary, uncertainty_table
from asdsim.analysis.validation import validation_table
from asdsim.model.child import MILESTONES
from asdsim.scenario.schema import Scenario

DATED = ("referral_day", "first_appointment_day", "assessment_started_day", "diagnosis_day",
         "exit_day")
CATEGORICAL = ("source", "locality", "priority", "team", "outcome", "exit_reason")
PATIENT_COLUMNS = (
    "replication", "patient_id", "from_backlog", "age_at_referral_years", "source", "locality",
    "priority", "team", "outsourced", "referrals", "transfers", "dna_count", "staff_hours",
    *MILESTONES, "wait_first_appointment_days", "wait_assessment_started_days",
    "wait_diagnosis_days", "outcome", "exit_reason",
)


def _dates(start: dt.date, days: np.ndarray) -> pd.Series:
    whole = np.floor(days)
    out = pd.to_datetime(np.datetime64(start, "D") + whole.astype("timedelta64[D]"))
    return pd.Series(out).where(~np.isnan(days))


def _fmin(*arrays: np.ndarray) -> np.ndarray:
    out = arrays[0]
    for a in arrays[1:]:
        out = np.fmin(out, a)
    return out


def _weekly(rec: ReplicationRecord, weeks: int) -> dict[str, np.ndarray]:
    """Weekly flows, and stocks at the end of each week (see :mod:`asdsim.analysis.cohorts`)."""
    c = rec.columns
    ends = 7.0 * np.arange(1, weeks + 1)
    first, exit_day = c["first_referral_day"], c["exit_day"]
    held = _fmin(c["held_day"], c["review_day"])
    seen_or_gone = _fmin(c["started_day"], exit_day)
    counts = cohorts.open_counts(rec, ends)
    out = {
        "referrals_in": np.bincount(
            (np.concatenate([first[first >= 0], rec.rereferral_days]) // 7).astype(np.int64),
            minlength=weeks)[:weeks].astype(float),
        "open_referrals": counts.pop("open_referrals"),
        "awaiting_triage": count_within(first, _fmin(c["accepted_day"], exit_day), ends),
        "held_or_review": count_within(held, _fmin(c["list_join_day"], exit_day), ends),
        "waiting_for_assessment": count_within(c["list_join_day"], seen_or_gone, ends),
        "waiting_for_assessment_mean": cohorts.mean_within(
            c["list_join_day"], seen_or_gone, np.concatenate([[0.0], ends])),
        "in_assessment": count_within(c["started_day"], exit_day, ends),
    }
    out.update(counts)
    for name, day in (("first_appointments", "first_appointment_day"),
                      ("assessments_completed", "exit_day")):
        days = c[day]
        mask = ~np.isnan(days)
        if name == "assessments_completed":
            mask &= c["exit_reason"] == "assessed"
        out[name] = np.bincount((days[mask] // 7).astype(np.int64),
                                minlength=weeks)[:weeks].astype(float)
    return out


def _list_stays(rec: ReplicationRecord) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every stay on a team's list of each child transferred at least once, as (child, team,
    joined, left) arrays: each list it left by a transfer, and the list it joined since, if
    any, with ``left`` NaN (it leaves that one as the patient table says: started, or gone)."""
    now = rec.rejoined[:, 0].astype(np.int64)
    return (np.concatenate([rec.left_lists[:, 0].astype(np.int64), now]),
            np.concatenate([rec.left_list_teams, rec.columns["team"][now]]),
            np.concatenate([rec.left_lists[:, 1], rec.rejoined[:, 1]]),
            np.concatenate([rec.left_lists[:, 2], np.full(len(now), np.nan)]))


@dataclass
class Results:
    """The outcome of :func:`asdsim.simulate`.

    Attributes
    ----------
    scenario
        The scenario that was run.
    provenance
        Seed, replications, version, scenario hash, wall time and software versions.
    records
        Raw per-replication arrays (the tables are built from these on first use).
    inputs
        With drawn inputs: one row per replication and uncertain input (``replication``,
        ``path``, ``value``); None when the inputs were fixed.
    fixed_kpis_by_replication
        With drawn inputs: every KPI of the same replications run with the inputs as written
        (as :attr:`kpis_by_replication`); None when the inputs were fixed.
    replication_scenarios
        With drawn inputs: the scenario each replication ran, by replication number, so its
        KPIs (funded WTE, costs) are computed with the values it drew; None when fixed.
    """

    scenario: Scenario
    provenance: dict[str, Any]
    records: list[ReplicationRecord] = field(repr=False)
    inputs: pd.DataFrame | None = field(default=None, repr=False)
    fixed_kpis_by_replication: pd.DataFrame | None = field(default=None, repr=False)
    replication_scenarios: dict[int, Scenario] | None = field(default=None, repr=False)

    @property
    def drawn(self) -> bool:
        """Whether the uncertain inputs were drawn per replication."""
        return self.inputs is not None

    @cached_property
    def uncertainty(self) -> pd.DataFrame | None:
        """With drawn inputs: each KPI with fixed inputs (run-to-run randomness alone) and with
        drawn inputs (both), and the share of the spread from what is not known (see
        :mod:`asdsim.analysis.uncertainty`); None when the inputs were fixed."""
        if self.fixed_kpis_by_replication is None:
            return None
        return uncertainty_table(self.fixed_kpis_by_replication, self.kpis_by_replication)

    @cached_property
    def patients(self) -> pd.DataFrame:
        """One row per child per replication, every milestone in days (NaN: not reached)."""
        records = self.records

        def column(name: str) -> np.ndarray:
            return np.concatenate([rec.columns[name] for rec in records])

        sizes = [len(rec.columns["referral_day"]) for rec in records]
        data: dict[str, Any] = {
            "replication": np.repeat([rec.replication for rec in records], sizes),
            "patient_id": np.concatenate([np.arange(n) for n in sizes]),
        }
        referral = column("referral_day")
        for col in PATIENT_COLUMNS[2:]:
            if col.startswith("wait_"):
                continue
            if col in CATEGORICAL:
                data[col] = pd.Categorical(column(col))
            else:
                data[col] = column(col)
        data["wait_first_appointment_days"] = data["first_appointment_day"] - referral
        data["wait_assessment_started_days"] = data["assessment_started_day"] - referral
        data["wait_diagnosis_days"] = data["diagnosis_day"] - referral
        frame = pd.DataFrame({col: data[col] for col in PATIENT_COLUMNS}, copy=False)
        for col in DATED:
            frame[col.removesuffix("_day") + "_date"] = _dates(self.scenario.start_date,
                                                               data[col]).to_numpy()
        return frame

    @cached_property
    def weekly(self) -> pd.DataFrame:
        """One row per week per replication: referrals, open referrals by stage, long waits,
        first appointments and assessments completed (stocks counted at the end of each week,
        just before the next week's first instant; ``waiting_for_assessment_mean`` is the
        average over the week, the figure Little's law speaks of)."""
        weeks = self.scenario.horizon_weeks
        starts = _dates(self.scenario.start_date, 7.0 * np.arange(weeks)).to_numpy()
        frames = []
        for rec in self.records:
            data = {"replication": np.full(weeks, rec.replication), "week": np.arange(weeks),
                    "week_start_date": starts}
            data.update(_weekly(rec, weeks))
            frames.append(pd.DataFrame(data))
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def teams_weekly(self) -> pd.DataFrame:
        """One row per team per week per replication: children waiting and in assessment,
        and caseload slots (caseload teams). A child transferred from one team's list to
        another's waits on each list for its own time there."""
        weeks = self.scenario.horizon_weeks
        ends = 7.0 * np.arange(1, weeks + 1)
        frames = []
        for rec in self.records:
            c = rec.columns
            seen_or_gone = _fmin(c["started_day"], c["exit_day"])
            child, stay_team, joined, left = _list_stays(rec)
            stay_end = np.where(np.isnan(left), seen_or_gone[child], left)
            for team in self.scenario.teams:
                mine = c["team"] == team
                stays = stay_team == team
                waiting = np.where(mine & (c["transfers"] == 0), c["list_join_day"], np.nan)
                slots, busy = rec.slots.get(team, (np.full(weeks, np.nan),) * 2)
                frames.append(pd.DataFrame({
                    "replication": rec.replication, "week": np.arange(weeks), "team": team,
                    "waiting_for_assessment": count_within(
                        np.concatenate([waiting, joined[stays]]),
                        np.concatenate([seen_or_gone, stay_end[stays]]), ends),
                    "in_assessment": count_within(
                        np.where(mine, c["started_day"], np.nan), c["exit_day"], ends),
                    "slots_available": slots, "slots_busy": busy,
                }))
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def list_stays(self) -> pd.DataFrame:
        """One row per stay on a team's waiting list of each child transferred from one team's
        list to another's: ``replication, patient_id, team, joined_day, left_day``, with
        ``left_day`` empty for the list the child is on now (it leaves that one by starting its
        assessment or leaving the pathway, as :attr:`patients` says). Children never
        transferred wait on one list, their ``team``'s, from their ``list_join_day``."""
        frames = []
        for rec in self.records:
            child, team, joined, left = _list_stays(rec)
            order = np.lexsort((joined, child))
            frames.append(pd.DataFrame({
                "replication": rec.replication, "patient_id": child[order],
                "team": team[order].astype(str), "joined_day": joined[order],
                "left_day": left[order]}))
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def staff_weekly(self) -> pd.DataFrame:
        """One row per staff group per week per replication: hours available and used."""
        weeks = self.scenario.horizon_weeks
        frames = [
            pd.DataFrame({"replication": rec.replication, "week": np.arange(weeks),
                          "team": team, "group": group, "hours_available": available,
                          "hours_used": used})
            for rec in self.records
            for (team, group), (available, used) in rec.staff.items()
        ]
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def kpis(self) -> pd.DataFrame:
        """One row per KPI: ``kpi``, ``mean``, ``ci_low``, ``ci_high`` (95%), ``unit``, ``n``."""
        if self.replication_scenarios is not None:
            return kpi_summary(self.kpis_by_replication)
        return kpi_table(self.records, self.scenario)

    @cached_property
    def kpis_by_replication(self) -> pd.DataFrame:
        """Every KPI for every replication (for paired comparisons); with drawn inputs, each
        replication's KPIs are computed with the scenario it ran."""
        if self.replication_scenarios is not None:
            own = self.replication_scenarios
            return pd.concat([per_replication_kpis([rec], own.get(rec.replication, self.scenario))
                              for rec in self.records], ignore_index=True)
        return per_replication_kpis(self.records, self.scenario)

    @cached_property
    def validation(self) -> pd.DataFrame:
        """The scenario's observed figures beside the simulated ones (empty when it has none)."""
        return validation_table(self.records, self.scenario)

    def kpi(self, name: str) -> float:
        """The mean of one KPI."""
        row = self.kpis.loc[self.kpis["kpi"] == name, "mean"]
        if row.empty:
            raise KeyError(f"no KPI {name!r}; see Results.kpis['kpi']")
        return float(row.iloc[0])

    def _repr_html_(self) -> str:
        head = (f"<p><b>{html.escape(self.scenario.name)}</b>: "
                f"{self.provenance['replications']} replications, seed "
                f"{self.provenance['seed']}</p>")
        table = self.kpis.to_html(index=False, float_format=lambda x: f"{x:,.3g}",
                                  na_rep="–", escape=True)
        return head + table

    def __repr__(self) -> str:
        return (f"Results(scenario={self.scenario.name!r}, "
                f"replications={self.provenance['replications']}, "
                f"seed={self.provenance['seed']})")
