"""The outcome of a plan: :class:`Plan` (the options table, the recommendation, its words and its
chart; built from the evaluator by :mod:`asdsim.experiments.plan.build`), and :func:`write_plan`,
its results folder.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from asdsim.analysis.definitions import HEADLINE, split
from asdsim.analysis.definitions import label as kpi_label
from asdsim.analysis.standard import (
    LEVEL,
    quarter_kpi,
    reaches,
)
from asdsim.experiments.plan.evaluate import Rule
from asdsim.experiments.plan.levers import (
    Lever,
    PlanError,
    _day,
    _month,
    lead_days,
)
from asdsim.experiments.targets import Target, quarter_words
from asdsim.scenario import Scenario, load_scenario, scenario_hash, scenario_to_yaml

if TYPE_CHECKING:  # matplotlib is imported only when a chart is drawn
    from matplotlib.figure import Figure

    from asdsim.reporting.plan_chart import ChartTarget

# ------------------------------------------------------------------------------------------ plan


@dataclass
class Plan:
    """The outcome of :func:`plan`.

    Attributes
    ----------
    feasible
        Whether an option within the bounds (and budget) meets every target with the stated
        confidence on the confirmation replications.
    options
        Every option evaluated, one row per option and phase (``search``: the search's
        replications; ``confirm``: fresh ones): each lever's change, ``added_cost_gbp`` (a year),
        ``annual_cost_gbp`` (every post in force on the date plus the plan's outsourcing, a year),
        each target KPI's mean and 95% CI and share of replications meeting it, ``p_meet`` (all
        targets) with its Wilson 95% interval, ``feasible``, ``non_monotone``, ``frontier`` and
        ``recommended``.
    recommendation
        The recommended option's row (the best option found when infeasible), from its
        confirmation replications.
    frontier
        Options not bettered on the first target's KPI by any cheaper or equally cheap option.
    changes
        The recommended change of each lever (in its unit).
    scenario
        The recommended option's scenario.
    overrides
        What the recommended scenario sets over the input (``capacity_changes``, ``outsourcing``,
        ``reporting``, and ``triage`` where the triage lever moved it): the body of
        ``recommended.yaml`` under ``extends:``.
    optimal
        Whether no cheaper option can meet the targets, assuming monotonicity (false when the
        evaluation budget stopped the search).
    cost_lower_bound
        A cost below which no option meets the targets, assuming monotonicity.
    warnings
        Non-monotone options found, an unconfirmed result, a spent budget.
    """

    feasible: bool
    options: pd.DataFrame
    recommendation: pd.DataFrame
    frontier: pd.DataFrame
    levers: tuple[Lever, ...]
    targets: tuple[Target, ...]
    changes: dict[str, float]
    scenario: Scenario
    overrides: dict[str, Any]
    from_date: dt.date
    by_date: dt.date
    confidence: float
    rule: Rule
    optimal: bool
    cost_lower_bound: float
    evaluations: int
    replications_run: int
    wall_seconds: float
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    threats: pd.DataFrame | None = None
    """With ``draw_inputs``: the recommendation with each uncertain input at its 5th and 95th
    percentile (``input``, ``quantile``, ``value``, ``p_meet``, ``worst_margin``,
    ``replications``), the most threatening first and the inputs as written last."""

    @property
    def added_cost(self) -> float:
        """Extra annual cost of the recommendation (GBP a year)."""
        return float(self.recommendation["added_cost_gbp"].iloc[0])

    def summary(self) -> str:
        """The plan in plain words (what the command prints)."""
        row = self.recommendation.iloc[0]
        lines = [self._headline(row), *self._not_proved(), *self.quarter_lines(row)]
        if self.threats is not None and len(self.threats) > 1:
            lines.append(self.threat_sentence())
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _headline(self, row: pd.Series) -> str:
        """The summary's first sentence: what to fund (or the best found when infeasible), its
        cost, each target's figures and the share of fresh replications meeting them."""
        steps = [round(float(row[f"{lv.name} steps"])) for lv in self.levers]
        funded = [lv.words(k) for lv, k in zip(self.levers, steps, strict=True) if k]
        plural = len(self.targets) > 1
        kpis = "; ".join(self._kpi_words(t, row) for t in self.targets)
        low, high = row["p_meet_ci_low"], row["p_meet_ci_high"]
        odds = (f"the target{'s are' if plural else ' is'} met in {row['p_meet']:.0%} "
                f"[{low:.0%}-{high:.0%}] of {int(row['replications'])} fresh replications")
        if not self.feasible:
            return self._best_found(funded, f"{kpis}; {odds}")
        if not funded:
            return (f"No extra staff is needed: today's staffing meets the target"
                    f"{'s' if plural else ''}; {kpis}; {odds}.")
        return f"{self.when(' and '.join(funded))}: {self._cost_words()}; {kpis}; {odds}."

    def _best_found(self, funded: list[str], figures: str) -> str:
        """The first sentence of an infeasible plan: no option meets the targets, and the best
        found (``funded``, the changes in words) with its cost and ``figures``."""
        rule = (f"at least {self.confidence:.0%} of replications" if self.rule == "share"
                else "the 95% confidence interval of each target")
        what = " and ".join(funded) or "today's staffing"
        return (f"No option within the bounds{' and budget' if self.settings.get('budget') else ''} "
                f"meets the target{'s' if len(self.targets) > 1 else ''} ({rule}). "
                f"The best found: {what} from {_month(self.from_date)} ({self._cost_words()}); "
                f"{figures}.")

    def _cost_words(self) -> str:
        """The recommendation's extra cost a year: ``GBP 12k a year`` (or ``GBP 500 a year``)."""
        if self.added_cost >= 1000:
            return f"GBP {self.added_cost / 1000:,.0f}k a year"
        return f"GBP {self.added_cost:,.0f} a year"

    def _not_proved(self) -> list[str]:
        """For a feasible plan not proved cheapest: which cheaper options may also do, and why."""
        if not self.feasible or self.optimal:
            return []
        why = ("the option the search chose did not hold on fresh replications, so the "
               "recommendation is above it" if self.settings.get("moved_on_fresh")
               else "the search stopped before it could rule them out")
        cheaper = ("cheaper options" if math.isnan(self.cost_lower_bound) else
                   f"options down to GBP {self.cost_lower_bound:,.0f} a year")
        return [f"Not proved cheapest: {cheaper} may also meet the targets ({why})."]

    def threat_sentence(self) -> str:
        """Which assumed input most threatens the recommendation, in plain words."""
        assert self.threats is not None
        worst = self.threats.iloc[0]
        written = self.threats.iloc[-1]
        where = (f"{worst['input']} at {worst['value']:.4g} (its {worst['quantile']:.0%} point)")
        figures = (f"the targets are met in {worst['p_meet']:.0%} of {int(worst['replications'])} "
                   f"replications, against {written['p_meet']:.0%} with the inputs as written")
        side = "low" if worst["quantile"] < 0.5 else "high"
        if (worst["p_meet"], worst["worst_margin"]) == (written["p_meet"], written["worst_margin"]):
            return (f"Robust to what is assumed: no uncertain input at its 5% or 95% point changes "
                    f"it (the targets are met in {written['p_meet']:.0%} of "
                    f"{int(written['replications'])} replications at every end and as written).")
        if worst["p_meet"] < self.confidence:
            return (f"The plan holds only if an assumption is right: with {where} {figures}; it "
                    f"does not hold if {worst['input']} is as {side} as {worst['value']:.4g}.")
        return (f"Robust to what is assumed: with each uncertain input at its 5% or 95% point in "
                f"turn it still holds; the input that most threatens it is {where}: {figures}.")

    @property
    def quarters(self) -> list[str]:
        """The quarters of referral whose 3-month shares the plan shows (``2020Q4``): from the
        NICE standard's first quarter, or the quarter of ``by_date``, to the last judged."""
        found = [split(c)[1] for c in self.options.columns
                 if c.startswith(f"{HEADLINE}[") and c.endswith("]") and "Q" in c]
        return [q for q in found if q is not None]

    def quarter_lines(self, row: pd.Series | None = None) -> list[str]:
        """Each quarter's 3-month share with its 95% CI, for the recommendation (or a row)."""
        row = self.recommendation.iloc[0] if row is None else row
        if not self.quarters:
            return []
        level = next((t.value for t in self.targets if t.standard), LEVEL)
        lines = [f"Share of each quarter's referrals whose assessment started within 3 months, "
                 f"mean [95% CI] of {int(row['replications'])} fresh replications (the standard: "
                 f"{level:.0%} in every quarter):"]
        for q in self.quarters:
            name = quarter_kpi(q)
            mean, low, high = row[name], row[f"{name} ci_low"], row[f"{name} ci_high"]
            if math.isnan(mean):
                continue
            below = "  below" if not reaches(mean, level) else (
                "  interval reaches below" if math.isnan(low) or low < level else "")
            lines.append(f"  {quarter_words(q)}: {mean:.1%} [{low:.1%}-{high:.1%}]{below}")
        return lines

    @property
    def approve_by(self) -> dt.date:
        """The date the recommended posts must be approved: ``from_date`` less the lead time."""
        return self.from_date - dt.timedelta(days=lead_days(self.settings.get("lead_time_weeks", 0.0)))

    def when(self, funded: str) -> str:
        """``Fund X from April 2020``, or with a lead time ``Approve X by 8 January 2020 (12
        weeks' recruitment lead time), in post from 1 April 2020``."""
        lead = self.settings.get("lead_time_weeks", 0.0)
        ramp = self.settings.get("ramp_weeks", 0.0)
        full = (f", at full productivity {ramp:g} weeks later"
                f" ({_day(self.from_date + dt.timedelta(days=lead_days(ramp)))})" if ramp else "")
        if not lead:
            return f"Fund {funded} from {_month(self.from_date)}{full}"
        return (f"Approve {funded} by {_day(self.approve_by)} ({lead:g} weeks' recruitment lead "
                f"time), in post from {_day(self.from_date)}{full}")

    def _kpi_words(self, target: Target, row: pd.Series) -> str:
        mean, low, high = row[target.kpi], row[f"{target.kpi} ci_low"], row[f"{target.kpi} ci_high"]
        definition = target.definition
        if target.standard:
            mean, low, high = (f"{v:.0%}" for v in (mean, low, high))
            return (f"NICE standard from {quarter_words(target.quarter or '')} (at least "
                    f"{target.value:.0%} of each quarter's referrals start assessment within 3 "
                    f"months): worst quarter {mean} [{low}-{high}]")
        if definition.unit == "share":
            shown = f"{mean:.0%} [{low:.0%}-{high:.0%}]"
        else:
            shown = f"{mean:,.3g} [{low:,.3g}-{high:,.3g}] {definition.unit}"
        if target.cohort and definition.unit == "share":
            what = kpi_label(target.kpi)
            what = what[0].lower() + what[1:]
            return f"{shown} of referrals from {_month(self.by_date)}, pooled: {what}"
        if target.cohort:
            return f"{kpi_label(target.kpi).lower()}, referrals from {_month(self.by_date)}: {shown}"
        if target.date is not None:
            base = definition.label.lower()
            return f"{base} on {target.date.day} {target.date.strftime('%B %Y')}: {shown}"
        return f"{kpi_label(target.kpi).lower()}: {shown}"

    def chart(self, title: str | None = None) -> Figure:
        """``plan.png``: extra cost a year against each target (the NICE standard as its worst
        quarter's share), every option with its 95% CI, the frontier and the recommendation."""
        from asdsim.reporting.plan_chart import plan_chart

        specs: list[ChartTarget] = [
            (t.kpi, t.value, t.sense, f"Lowest share of a quarter's referrals from "
             f"{quarter_words(t.quarter or '')} starting assessment within 3 months", "share")
            if t.standard else (t.kpi, t.value, t.sense) for t in self.targets]
        name = self.scenario.name.removesuffix(" (plan)")
        return plan_chart(self.options, specs, title=title or f"{name}: extra cost and targets")

    def to_yaml(self, extends: str | None = None) -> str:
        """The recommended scenario as YAML: the overrides under ``extends:`` the input file, or
        the whole scenario when there is no file to extend."""
        head = (f"# Recommended by asdsim plan: {'; '.join(t.describe() for t in self.targets)}, "
                f"from {self.from_date}, {self.confidence:.0%} confidence ({self.rule}).\n"
                "# capacity_changes and outsourcing are the whole lists (lists replace those of the\n"
                "# base file); reporting measures the targets as the plan did.\n")
        if extends is None:
            return head + scenario_to_yaml(self.scenario)
        body = {"extends": extends, "name": self.scenario.name,
                "description": self.scenario.description, **self.overrides}
        return head + yaml.safe_dump(_plain(body), sort_keys=False, allow_unicode=True)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------- outputs


def write_plan(result: Plan, out: str | Path, scenario_path: str | Path | None = None,
               force: bool = False, command: Sequence[str] | None = None) -> Path:
    """Write ``plan.csv``, ``recommended.yaml``, ``plan.png`` and ``provenance.json`` into a folder
    (and ``threats.csv`` for a plan with drawn inputs).

    The folder is written beside ``out`` and renamed into place at the end; ``force`` replaces
    only an earlier results folder, never one holding the input scenario. ``recommended.yaml``
    ``extends:`` the input scenario file (by a path relative to the folder) when ``scenario_path``
    is given, and is checked to load back to the recommended scenario.

    Raises
    ------
    asdsim.reporting.outputs.OutputExists
        When ``out`` is not empty and ``force`` is false.
    """
    from asdsim import __version__
    from asdsim.reporting.outputs import atomic_folder
    from asdsim.spreadsheet import write_csv

    out = Path(out)
    extends = None
    if scenario_path is not None:
        extends = os.path.relpath(Path(scenario_path).resolve(), out.resolve().parent / out.name)
    inputs = [scenario_path] if scenario_path is not None else []
    with atomic_folder(out, force, inputs) as folder:
        write_csv(result.options, folder / "plan.csv")
        if result.threats is not None:
            write_csv(result.threats, folder / "threats.csv")
        text = result.to_yaml(Path(extends).as_posix() if extends else None)
        (folder / "recommended.yaml").write_text(text, encoding="utf-8")
        loaded = load_scenario(folder / "recommended.yaml")
        if scenario_hash(loaded) != scenario_hash(result.scenario):
            mine, theirs = result.scenario.model_dump(mode="json"), loaded.model_dump(mode="json")
            differ = sorted(k for k in mine if mine.get(k) != theirs.get(k))
            raise PlanError(f"recommended.yaml does not load back to the recommended scenario "
                            f"(it differs in {', '.join(differ) or 'its CSV snapshot'})")
        figure = result.chart()
        figure.savefig(folder / "plan.png", dpi=110)
        provenance = {
            "asdsim_version": __version__, "command": list(command or []),
            "targets": [t.describe() for t in result.targets], "from": str(result.from_date),
            "by": str(result.by_date), "confidence": result.confidence, "rule": result.rule,
            "feasible": result.feasible, "optimal": result.optimal, "changes": result.changes,
            "added_cost_gbp": result.added_cost, "cost_lower_bound_gbp": result.cost_lower_bound,
            "evaluations": result.evaluations, "replications_run": result.replications_run,
            "wall_seconds": result.wall_seconds, "warnings": result.warnings, **result.settings,
            "levers": [{"name": lv.name, "base": lv.base, "step": lv.step, "low": lv.change(lv.low),
                        "high": lv.change(lv.high), "cost_per_step_gbp": lv.cost_per_step}
                       for lv in result.levers],
        }
        (folder / "provenance.json").write_text(json.dumps(provenance, indent=2, default=str),
                                                encoding="utf-8")
    return out
