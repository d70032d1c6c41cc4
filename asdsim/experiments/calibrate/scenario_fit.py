"""``calibrate``: a base scenario's demand, mixes, triage, steps and list fitted to an
area's data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asdsim.analysis.utilisation import over_capacity
from asdsim.errors import ScenarioError
from asdsim.experiments.calibrate.activity_fit import _fit_activity
from asdsim.experiments.calibrate.fits import GROWTH_DAYS, MONTHS, ReferralFit, fit_referrals, wilson
from asdsim.experiments.calibrate.readers import (
    _DATE_FORMS,
    DATE_SWITCH,
    Referrals,
    _check_gaps,
    read_activity,
    read_referrals,
)
from asdsim.experiments.calibrate.result import Calibration
from asdsim.experiments.calibrate.yamltext import Path_, _get, _pct, _set, dotted_path, rounded_shares
from asdsim.scenario.dates import date_rule
from asdsim.scenario.loading import load_scenario, scenario_files, scenario_from_dict
from asdsim.scenario.schema import Scenario
from asdsim.scenario.snapshot import (
    Snapshot,
    read_snapshot,
)
from asdsim.scenario.snapshot_rows import STAGES
from asdsim.scenario.yamlfile import display_path

WAIT_BANDS = (0, 4, 13, 26, 52, 104)
"""Lower ends, in weeks, of the bands of time waited in the waiting-list summary."""


def _mix_rows(kind: str, counts: dict[str, int], base: dict[str, float]) -> list[dict[str, Any]]:
    total = sum(counts.values())
    rows = []
    for name, count in counts.items():
        low, high = wilson(count, total)
        rows.append({"kind": kind, "category": name, "count": count,
                     "share": count / total if total else math.nan, "ci_low": low, "ci_high": high,
                     "base_share": base.get(name, math.nan)})
    return rows


def _share_comment(row: dict[str, Any], total: int, what: str) -> str:
    return (f"fitted: {row['count']} of {total} {what} ({_pct(row['share'])}, 95% CI "
            f"{_pct(row['ci_low'])} to {_pct(row['ci_high'])}, Wilson)")


def _load_base(base: str | Path) -> Scenario:
    """The base scenario; each problem in loading it (its own file, the files it extends, its
    waiting list) says it arose while reading the base, so a bad list is not taken for the
    ``--waiting-list`` being fitted."""
    try:
        return load_scenario(base)
    except ScenarioError as exc:
        context = f"while reading the base scenario {display_path(Path(base))}: "
        raise ScenarioError([dataclasses.replace(p, message=context + p.message)
                             for p in exc.problems]) from None


def calibrate(referrals: str | Path, base: str | Path | Scenario, *,
              waiting_list: str | Path | None = None, activity: str | Path | None = None,
              step_changes: Sequence[dt.date] = (), dayfirst: bool = True,
              seed: int = 0) -> Calibration:
    """Fit a scenario's demand, mixes, triage and steps to an area's data.

    Parameters
    ----------
    referrals
        The referrals file (see the module docstring for its columns and date forms).
    base
        The scenario to start from (a file or a loaded scenario): everything not fitted is
        copied from it, and its ``start_date`` is the date the fitted rate is extrapolated to
        (the date of today's list; every referral must be before it).
    waiting_list
        Today's list in the snapshot format; it becomes the starting state.
    activity
        Booked appointments, for DNA probabilities and step hours.
    step_changes
        Dates of lasting changes in the referral rate to fit (a new referral route).
    dayfirst
        Read dates like 03/04/2024 as 3 April (the UK form); False reads them as 4 March.
    seed
        Seed of the coefficient draws behind some intervals.

    Returns
    -------
    Calibration
        The calibrated scenario and the tables of every fit. With ``waiting_list``, its
        ``initial_state.dates`` is ``day_first`` (``month_first`` without ``dayfirst``).

    Raises
    ------
    ScenarioError
        When a file cannot be read or has bad rows (each by line and column, never a cell), or
        the calibrated scenario is invalid.
    AsdsimError
        When the data cannot be fitted (too few days, a step change outside the data).
    """
    scenario = base if isinstance(base, Scenario) else _load_base(base)
    base_file = f"scenario {scenario.name!r}" if isinstance(base, Scenario) else str(Path(base))
    inputs = {"referrals": Path(referrals).name}
    draft = _Draft(scenario, full=scenario.model_dump(mode="json"),
                   data=scenario.model_dump(mode="json", exclude_defaults=True))  # what the file would say
    read = read_referrals(referrals, scenario, dayfirst)
    start = scenario.start_date
    _check_gaps(read)
    fit = fit_referrals(read.day, start, step_changes, seed,
                        assumed_growth=scenario.demand.annual_growth)
    span = f"{fit.referrals} referrals {fit.first_day} to {fit.last_day}"
    _fit_rate(draft, fit, span)
    _fit_seasons(draft, fit)
    _fit_step_changes(draft, fit, step_changes)
    _note_referrals(draft, fit, read)
    if read.age_months is not None:
        _fit_age_bands(draft, read)
    for kind, column, key in (("source", read.source, "sources"), ("locality", read.locality, "localities")):
        _fit_shares(draft, read, kind, column, key)
    if read.age_months is None:
        draft.notes.append(f"{read.shown} has no age_years or date_of_birth column: demand.age_bands "
                           "are kept from the base.")
    if read.triage is not None:
        _fit_triage(draft, read)

    activity_table = None
    if activity is not None:
        inputs["activity"] = Path(activity).name
        activity_table = _fit_activity(read_activity(activity, scenario), scenario, draft.data,
                                       draft.params, draft.comments, draft.notes)
    list_table = _starting_list(draft, waiting_list, dayfirst, inputs)
    calibrated = _finish(draft, inputs, span)
    table = pd.DataFrame(draft.params, columns=["parameter", "value", "estimate", "ci_low", "ci_high",
                                                "base_value", "fit"])
    mix_table = pd.DataFrame(draft.mixes, columns=["kind", "category", "count", "share", "ci_low",
                                                   "ci_high", "base_share"])
    return Calibration(base_file=base_file, inputs=inputs, scenario=calibrated, data=draft.data,
                       referral_fit=fit, parameters=table, mixes=mix_table, activity=activity_table,
                       waiting_list=list_table, notes=draft.notes, comments=draft.comments,
                       above=draft.above,
                       files=[Path(f) for f in (referrals, waiting_list, activity) if f is not None]
                       + ([] if isinstance(base, Scenario) else scenario_files(base)))


@dataclass
class _Draft:
    """The calibrated scenario's plain data as the fits set it, with what each number came from."""

    scenario: Scenario
    """The base scenario."""
    full: dict[str, Any]
    """The base as plain data, defaults included (the base value of every parameter)."""
    data: dict[str, Any]
    """The calibrated scenario as the file will say it (defaults left out)."""
    comments: dict[Path_, str] = field(default_factory=dict)
    above: dict[Path_, list[str]] = field(default_factory=dict)
    params: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mixes: list[dict[str, Any]] = field(default_factory=list)

    def fitted(self, keys: Path_, value: float, estimate: float, low: float, high: float, fit: str,
               comment: str | None = None) -> None:
        """Set a number from the data, recording its fit (and its YAML comment)."""
        self.params.append({"parameter": dotted_path(keys), "value": value, "estimate": estimate,
                            "ci_low": low, "ci_high": high, "base_value": _get(self.full, keys),
                            "fit": fit})
        _set(self.data, keys, value)
        if comment is not None:
            self.comments[keys] = comment


def _how(fit: ReferralFit) -> str:
    return "quasi-Poisson GLM" if fit.overdispersed else "Poisson GLM"


def _fit_rate(d: _Draft, fit: ReferralFit, span: str) -> None:
    """The weekly rate at the start and, with a long enough history, the annual growth."""
    p = fit.parameters.set_index("parameter")
    how = _how(fit)
    r = p.loc["referrals_per_week"]
    d.fitted(("demand", "referrals_per_week"), round(float(r.value), 2), float(r.value), r.ci_low,
             r.ci_high, how, f"fitted: {how} of weekly counts ({span}), rate before seasonality "
             f"at start_date by the trend; 95% CI {r.ci_low:.2f} to {r.ci_high:.2f}")
    if fit.growth_fitted:
        g = p.loc["annual_growth"]
        d.fitted(("demand", "annual_growth"), round(float(g.value), 4), float(g.value), g.ci_low,
                 g.ci_high, how, f"fitted: log-linear trend of the {how}, exp(b)-1; 95% CI "
                 f"{_pct(g.ci_low)} to {_pct(g.ci_high)} a year")
    else:
        d.notes.append(f"The referrals cover {(fit.last_day - fit.first_day).days + 1} days, less "
                       f"than {GROWTH_DAYS}: too few to tell growth from chance, so "
                       "demand.annual_growth is not fitted and the base's "
                       f"({_pct(d.scenario.demand.annual_growth)} a year) is kept (assumed); the rate "
                       "is fitted with that growth.")


def _fit_seasons(d: _Draft, fit: ReferralFit) -> None:
    """The twelve monthly factors, with a year of history."""
    p = fit.parameters.set_index("parameter")
    how = _how(fit)
    if fit.seasonal:
        values = [round(float(p.loc[f"monthly_factors[{m}]", "value"]), 3) for m in range(12)]
        for m in range(12):
            row = p.loc[f"monthly_factors[{m}]"]
            d.params.append({"parameter": f"demand.monthly_factors[{m}]", "value": values[m],
                             "estimate": float(row.value), "ci_low": row.ci_low, "ci_high": row.ci_high,
                             "base_value": d.scenario.demand.monthly_factors[m], "fit": how})
        _set(d.data, ("demand", "monthly_factors"), values)
        d.comments[("demand", "monthly_factors")] = f"fitted: month-of-year effects of the {how}, mean 1"
        d.above[("demand", "monthly_factors")] = ["95% CIs of the monthly factors: " + ", ".join(
            f"{MONTHS[m]} {p.loc[f'monthly_factors[{m}]', 'ci_low']:.2f}-"
            f"{p.loc[f'monthly_factors[{m}]', 'ci_high']:.2f}" for m in range(6)),
            "  " + ", ".join(f"{MONTHS[m]} {p.loc[f'monthly_factors[{m}]', 'ci_low']:.2f}-"
                             f"{p.loc[f'monthly_factors[{m}]', 'ci_high']:.2f}" for m in range(6, 12))]
    else:
        d.notes.append(f"The referrals cover {(fit.last_day - fit.first_day).days + 1} days, less than "
                       "a year: no monthly factors were fitted, and the base's are kept (assumed).")


def _fit_step_changes(d: _Draft, fit: ReferralFit, step_changes: Sequence[dt.date]) -> None:
    """Each dated step change's factor (already in the rate at the start)."""
    p = fit.parameters.set_index("parameter")
    how = _how(fit)
    for change in sorted(set(step_changes)):
        row = p.loc[f"step_change[{change}]"]
        d.params.append({"parameter": f"step_change[{change}]", "value": float(row.value),
                         "estimate": float(row.value), "ci_low": row.ci_low, "ci_high": row.ci_high,
                         "base_value": math.nan, "fit": how})
    if step_changes:
        d.data["demand"].setdefault("step_changes", [])
        d.above.setdefault(("demand", "step_changes"), []).append(
            "fitted step changes before start_date are in referrals_per_week: " + "; ".join(
                f"from {c} x{p.loc[f'step_change[{c}]', 'value']:.2f} (95% CI "
                f"{p.loc[f'step_change[{c}]', 'ci_low']:.2f} to {p.loc[f'step_change[{c}]', 'ci_high']:.2f})"
                for c in sorted(set(step_changes))))


def _note_referrals(d: _Draft, fit: ReferralFit, read: Referrals) -> None:
    """What a reader of the referral fit should know: dispersion, warnings, weekdays, repeats."""
    notes = d.notes
    if fit.overdispersed:
        notes.append(f"Referrals are more variable than Poisson: Pearson chi-squared / df = "
                     f"{fit.dispersion:.2f} (p = {fit.dispersion_p:.3g}). The intervals are widened "
                     "by that ratio (quasi-Poisson); the simulated referrals stay Poisson, so the "
                     "simulation's spread understates the real one.")
    else:
        notes.append(f"Referrals are consistent with Poisson variation: Pearson chi-squared / df = "
                     f"{fit.dispersion:.2f} (p = {fit.dispersion_p:.3g}).")
    if fit.warnings:
        notes.append(f"The referral model's fit warned ({', '.join(fit.warnings)}): its intervals "
                     "may not hold; check the weekly chart in the fit report against the data.")
    if fit.weekday_weighted:
        notes.append("Referrals are uneven across the days of the week; parts of weeks are weighted "
                     "by the day-of-week mix.")
    if read.repeated:
        notes.append(f"{read.repeated} rows of {read.shown} repeat an earlier row in every column: "
                     "if the extract lists a referral twice, the rate is too high.")


def _fit_age_bands(d: _Draft, read: Referrals) -> None:
    """Shares of the base's age bands, the outer ends widened to the ages seen."""
    scenario, n = d.scenario, len(read.day)
    bands = [dict(b) for b in d.data["demand"]["age_bands"]]
    bands.sort(key=lambda b: b["min_years"])
    ages = (read.age_months + 0.5) / 12.0
    limit = scenario.routing.age_out_years
    bands[0]["min_years"] = float(min(bands[0]["min_years"], math.floor(ages.min())))
    bands[-1]["max_years"] = float(max(bands[-1]["max_years"], min(math.ceil(ages.max() + 1e-9), limit)))
    lows = np.array([b["min_years"] for b in bands])
    index = np.clip(np.searchsorted(lows, ages, side="right") - 1, 0, len(bands) - 1)
    counts = np.bincount(index, minlength=len(bands))
    names = [f"{b['min_years']:g}-{b['max_years']:g}" for b in bands]
    base_w = {nm: b.weight / sum(x.weight for x in scenario.demand.age_bands)
              for nm, b in zip(names, sorted(scenario.demand.age_bands, key=lambda b: b.min_years),
                               strict=True)}
    rows = _mix_rows("age_band", dict(zip(names, counts.tolist(), strict=True)), base_w)
    d.mixes += rows
    shares = rounded_shares({nm: row["share"] for nm, row in zip(names, rows, strict=True)})
    d.data["demand"]["age_bands"] = bands
    for i, (nm, row) in enumerate(zip(names, rows, strict=True)):
        d.fitted(("demand", "age_bands", i, "weight"), shares[nm], row["share"], row["ci_low"],
                 row["ci_high"], "share of referrals (Wilson)")
        d.comments[("demand", "age_bands", i)] = _share_comment(row, n, "referrals")


def _fit_shares(d: _Draft, read: Referrals, kind: str, column: np.ndarray | None, key: str) -> None:
    """Shares of the base's sources or localities (``key``), from the column read."""
    if column is None:
        d.notes.append(f"{read.shown} has no {kind} column: demand.{key} is kept from the base.")
        return
    full, n = d.full, len(read.day)
    names = list(full["demand"][key])
    values, counts_ = np.unique(column, return_counts=True)
    found = dict(zip(values.tolist(), counts_.tolist(), strict=True))
    rows = _mix_rows(kind, {nm: int(found.get(nm, 0)) for nm in names}, full["demand"][key])
    d.mixes += rows
    # a category with no referrals cannot be told from one the extract leaves out: keep its
    # assumed share, and share the rest out as the data say
    unseen = [row["category"] for row in rows if row["count"] == 0]
    kept = math.fsum(full["demand"][key][nm] for nm in unseen)
    if unseen and kept >= 1.0:
        unseen, kept = [], 0.0  # every category with a share is unseen: nothing to keep
    shares = rounded_shares({row["category"]: full["demand"][key][row["category"]]
                             if row["category"] in unseen else row["share"] * (1.0 - kept)
                             for row in rows})
    for row in rows:
        if row["category"] in unseen:
            _set(d.data, ("demand", key, row["category"]), shares[row["category"]])
            d.comments[("demand", key, row["category"])] = (
                f"assumed: kept from the base; no referrals in the data name this {kind}")
            continue
        d.fitted(("demand", key, row["category"]), shares[row["category"]], row["share"],
                 row["ci_low"], row["ci_high"], "share of referrals (Wilson)",
                 _share_comment(row, n, "referrals"))
    if unseen:
        d.notes.append(f"No referrals in {read.shown} name the {kind} "
                       f"{', '.join(repr(u) for u in unseen)}: its share of demand.{key} cannot "
                       "be estimated, so the base's is kept (assumed) and the others share the "
                       "rest as the data say. Check that the extract covers it.")


def _fit_triage(d: _Draft, read: Referrals) -> None:
    """Shares of triage outcomes among the referrals triaged."""
    decided = read.triage[read.triage != ""]
    if len(decided):
        counts_t = {o: int((decided == o).sum()) for o in ("accept", "reject", "more_information")}
        rows = _mix_rows("triage_outcome", counts_t, d.full["triage"]["outcomes"])
        d.mixes += rows
        shares = rounded_shares({row["category"]: row["share"] for row in rows})
        for row in rows:
            d.fitted(("triage", "outcomes", row["category"]), shares[row["category"]], row["share"],
                     row["ci_low"], row["ci_high"], "share of triaged referrals (Wilson)",
                     _share_comment(row, len(decided), "triaged"))
        if d.scenario.triage.outcomes_by_source:
            d.notes.append("triage.outcomes_by_source is kept from the base (not fitted).")


def _starting_list(d: _Draft, waiting_list: str | Path | None, dayfirst: bool,
                   inputs: dict[str, str]) -> pd.DataFrame | None:
    """Today's list as the starting state (or the base's list by its absolute path), and its
    summary table."""
    data = d.data
    if waiting_list is not None:
        inputs["waiting_list"] = Path(waiting_list).name
        rule = date_rule(dayfirst)
        snapshot = read_snapshot(waiting_list, dates=rule, switch=DATE_SWITCH)
        state = {"kind": "csv", "csv": str(Path(waiting_list).absolute()), "dates": rule}
        if data.get("initial_state", {}).get("warm"):
            state["warm"] = True  # the base's warm start: a list holds only those waiting
        data["initial_state"] = state
        d.comments[("initial_state",)] = (f"today's list, read from {Path(waiting_list).name} "
                                          f"(dates YYYY-MM-DD or {_DATE_FORMS[rule]})")
        return _list_table(snapshot, d.scenario.start_date)
    if data.get("initial_state", {}).get("csv"):
        data["initial_state"]["csv"] = str(Path(data["initial_state"]["csv"]).absolute())
    return None


def _finish(d: _Draft, inputs: dict[str, str], span: str) -> Scenario:
    """The calibrated scenario validated, its name and assumptions said, over-capacity warned."""
    data = d.data
    done = {row["parameter"] for row in d.params}
    data["assumed"] = [a for a in data.get("assumed", []) if a not in done]
    data["name"] = f"{d.scenario.name} calibrated"
    data["assumptions"] = [*data.get("assumptions", []), (
        f"Referral rate, growth and seasonality fitted to {inputs['referrals']} ({span}); "
        "shares fitted where the data have them; see the comments and the fit report.")]
    calibrated = scenario_from_dict(data, name="calibrated scenario")
    for over in over_capacity(calibrated):  # e.g. a template's triage capacity beside the fitted rate
        d.notes.append(f"Warning: {over.message}.")
        if over.field == "triage.capacity_per_week":
            d.above.setdefault(("triage", "capacity_per_week"), []).append(f"WARNING: {over.message}.")
    return calibrated


def _list_table(snapshot: Snapshot, start: dt.date) -> pd.DataFrame:
    """Children on today's list by stage and weeks waited since referral."""
    bands = [*WAIT_BANDS, math.inf]
    labels = [f"{lo}-{hi}" if hi != math.inf else f"{lo}+" for lo, hi in itertools.pairwise(bands)]
    counts = {(stage, label): 0 for stage in STAGES for label in labels}
    for row in snapshot.rows:
        weeks = (start - row.referral_date).days / 7.0
        band = max(i for i, lo in enumerate(WAIT_BANDS) if weeks >= lo) if weeks >= 0 else 0
        counts[(row.stage, labels[band])] += 1
    return pd.DataFrame([{"stage": s, "weeks_waited": w, "children": c}
                         for (s, w), c in counts.items()])
