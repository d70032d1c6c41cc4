"""What a history match writes: the fitted scenario (YAML with comments) and its report folder."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from asdsim.analysis.results import Results
from asdsim.errors import AsdsimError
from asdsim.experiments.calibrate import CALIBRATED_MARK, emit_yaml, written_by_calibrate
from asdsim.experiments.history.fit import HistoryMatch
from asdsim.experiments.history.levers import factor_data


def _fmt_factor(row: Any) -> str:
    return f"{row.estimate:.3f} (95% CI {row.ci_low:.3f} to {row.ci_high:.3f})"


def yaml_text(match: HistoryMatch, base_file: str | Path, out: str | Path,
              observed_file: str | Path) -> str:
    """The fitted scenario as YAML: ``extends:`` the base, with the fitted capacity changes (and
    referral rate) and the fitted points under ``observed:``, each fitted number with a comment
    naming the fit and its interval.

    Parameters
    ----------
    match
        From :func:`history_match`.
    base_file
        The base scenario's file (named relative to ``out``'s folder).
    out
        Where the file will be written.
    observed_file
        The observed series fitted (named in the head comment).
    """
    relative = Path(os.path.relpath(Path(base_file).absolute(), Path(out).absolute().parent))
    levers, factors = match.levers, np.exp(match.log_estimate)
    data, setters = factor_data(match.base, levers, factors)
    rows = {r.parameter: r for r in match.parameters.itertuples()}
    comments: dict[tuple[str | int, ...], str] = {}
    for index, which in setters.items():
        row = rows[levers[which].name]
        comments[("capacity_changes", index)] = (
            f"fitted: capacity factor {_fmt_factor(row)} on {row.team}'s WTE from {row.start}")
    out_data: dict[str, Any] = {"extends": relative.as_posix(),
                                "name": f"{match.base.name}, fitted to history"}
    if any(lv.kind == "demand" for lv in levers):
        row = rows["demand.referrals_per_week"]
        out_data["demand"] = {"referrals_per_week": data["demand"]["referrals_per_week"]}
        comments[("demand", "referrals_per_week")] = (
            f"fitted: {_fmt_factor(row)} x the base rate")
    out_data["capacity_changes"] = data["capacity_changes"]
    out_data["observed"] = [
        {k: v for k, v in p.model_dump(mode="json").items() if v is not None}
        for p in match.points]
    head = [
        f"{CALIBRATED_MARK} --observed on {dt.date.today().isoformat()}: fitted "
        + " and ".join(part for part in (
            "the capacity of " + ", ".join(sorted({lv.team for lv in levers if lv.team}))
            + " by period" if any(lv.kind == "capacity" for lv in levers) else "",
            "the referral rate" if any(lv.kind == "demand" for lv in levers) else "") if part)
        + (" (nothing identified)" if not levers else ""),
        f"# to the {len(match.points)} points of {Path(observed_file).name} (history matching by "
        f"simulation, {match.replications} replications, seed {match.seed}; loss "
        f"{match.loss:.1f}).",
        "# Each fitted change is a factor on the WTE in force, with its 95% interval from the "
        "fit's linearisation",
        "# (docs/as-happened.md). Factors the data could not identify are not written:",
    ]
    unident = match.parameters[~match.parameters["identified"]]
    head += [f"#   {r.parameter}: {r.note}" for r in unident.itertuples()] or ["#   none."]
    text = "\n".join(head) + "\n" + emit_yaml(out_data, comments)
    if yaml.safe_load(text) != json.loads(json.dumps(out_data)):  # the emitter must write the data
        raise AssertionError("fitted YAML does not read back as the data it was made from")
    return text


def write_history(match: HistoryMatch, base_file: str | Path, out: str | Path,
                  observed_file: str | Path, force: bool = False) -> Path:
    """Write the fitted scenario (see :func:`yaml_text`) and check it loads as the fit.

    Raises
    ------
    AsdsimError
        When ``out`` exists and ``force`` is false, or is a folder.
    """
    from asdsim.files import write_text_atomic

    out = Path(out)
    if out.is_dir():
        raise AsdsimError(f"{out} is a folder; expected the path of a scenario file to write")
    if out.exists() and not (force and written_by_calibrate(out)):
        raise AsdsimError(f"{out} exists; choose another --out, or add --force to replace a "
                          "scenario asdsim calibrate wrote")
    text = yaml_text(match, base_file, out, observed_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, text)
    return out


def write_history_report(match: HistoryMatch, folder: str | Path, *, observed_file: str | Path,
                         force: bool = False) -> Path:
    """Write the fit report folder: ``parameters.csv`` (each fitted value with its interval, or
    why it was not identified), ``fit.csv`` (the fit at every point), ``fit.png`` (the
    validation chart of the fitted scenario), ``provenance.json`` and ``report.html``."""
    from asdsim.reporting.history_report import write_report_folder
    from asdsim.reporting.validation_chart import validation_chart

    figure = validation_chart(Results(scenario=match.scenario, provenance={},
                                      records=match.records))
    figures = {"fit": figure} if figure is not None else {}
    intro = [
        f"{match.base.name} fitted to {len(match.points)} observed points of "
        f"{Path(observed_file).name} by simulation ({match.replications} replications, seed "
        f"{match.seed}, {match.evaluations} evaluations); loss {match.loss:.1f}"
        + (f", {match.dispersion:.2f} per degree of freedom." if np.isfinite(match.dispersion)
           else "."),
        "Each fitted value is a factor on the base (a team's WTE in force from the date, or the "
        "referral rate), with a 95% interval from the fit's linearisation and the run-to-run "
        "covariance of the points (docs/as-happened.md).",
        *match.notes,
    ]
    sections: list[tuple[str, Any]] = [("Fitted values", match.parameters)]
    if figure is not None:
        sections.append(("The fit at every point", figure))
    sections.append(("The fit at every point (table)", match.fit_table))
    return write_report_folder(
        folder, title=f"History match of {match.base.name}", intro=intro,
        tables={"parameters": match.parameters, "fit": match.fit_table}, figures=figures,
        sections=sections, force=force,
        provenance={"kind": "history match", "seed": match.seed,
                    "replications": match.replications, "evaluations": match.evaluations,
                    "observed": Path(observed_file).name})
