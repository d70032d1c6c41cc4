"""Targets a plan must meet: ``assessment_started_within_3_months >= 0.9``, parsed and checked.

A target is written ``KPI OPERATOR VALUE [by DATE]``:

* ``KPI`` is a KPI of the registry (:data:`asdsim.analysis.definitions.REGISTRY`), optionally with
  its bracketed argument (``assessment_started_within_3_months[2025Q2]``,
  ``waiting_over_52_weeks[2026-03-31]``);
* ``OPERATOR`` is ``>=``, ``>``, ``<=``, ``<`` or ``==``, and must point the way the KPI gets
  better: ``>=`` for a share where higher is better, ``<=`` for a wait or a count of long
  waiters. ``==`` is allowed only at the best end (``== 0`` for a count, ``== 1`` for a share),
  where it means the same as ``<= 0`` or ``>= 1``;
* ``VALUE`` is a number; a share may be written as a percentage (``90%``);
* ``by DATE`` gives the reporting date of a count at a date (``open_referrals``,
  ``waiting_over_N_weeks``): ``waiting_over_52_weeks == 0 by 2026-03-31``.

KPIs counted over a cohort of referrals (the within-window shares, the wait quantiles) are
measured for the children referred from the plan's ``--by`` date (default ``--from``); counts at
a date need a date, from ``by DATE``, the bracket, or ``--by``. Costs are what a plan minimises,
so they are not targets (give a budget instead), nor are KPIs with no better direction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from asdsim.analysis.definitions import REGISTRY, KpiDefinition, split
from asdsim.errors import AsdsimError

Sense = Literal["higher", "lower"]

SNAPSHOT_KPIS = frozenset(name for name in REGISTRY
                          if name == "open_referrals" or name.startswith("waiting_over_"))
"""KPIs counted at the end of a reporting date."""
COHORT_KPIS = frozenset(name for name, d in REGISTRY.items() if "cohort" in d.denominator)
"""KPIs counted over the children referred from the cohort's first date."""

_PATTERN = re.compile(
    r"^\s*(?P<kpi>[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?)\s*"
    r"(?P<op>>=|<=|==|=|>|<|≥|≤)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<percent>%)?"
    r"(?:\s+by\s+(?P<date>\S+))?\s*$")
_OPERATORS = {"=": "==", "≥": ">=", "≤": "<="}


class TargetError(AsdsimError):
    """A target string cannot be read, or names a KPI a plan cannot aim at."""


@dataclass(frozen=True)
class Target:
    """One target: a KPI, which way it must be, and the value.

    Attributes
    ----------
    text
        The target as written.
    kpi
        The KPI name measured, with its argument (``waiting_over_52_weeks[2026-03-31]``).
    op
        ``>=``, ``>``, ``<=`` or ``<`` (``==`` at the best end is stored as ``>=`` or ``<=``).
    value
        The threshold (a share as 0-1).
    date
        The reporting date of a count at a date, else None.
    """

    text: str
    kpi: str
    op: str
    value: float
    date: dt.date | None = None

    @property
    def base(self) -> str:
        """The KPI's base name (without the bracket)."""
        return split(self.kpi)[0]

    @property
    def definition(self) -> KpiDefinition:
        """The KPI's registry entry."""
        return REGISTRY[self.base]

    @property
    def sense(self) -> Sense:
        """``higher`` when the KPI must be at least the value, else ``lower``."""
        return "higher" if self.op in (">=", ">") else "lower"

    @property
    def cohort(self) -> bool:
        """Whether the KPI counts a cohort of referrals (measured from the plan's date)."""
        return self.base in COHORT_KPIS and split(self.kpi)[1] is None

    def met(self, value: float) -> bool:
        """Whether a value meets the target (NaN, a quantile not reached, never does)."""
        if value is None or math.isnan(value):
            return False
        tolerance = 1e-9 * max(1.0, abs(self.value))
        if self.op == ">=":
            return value >= self.value - tolerance
        if self.op == ">":
            return value > self.value
        if self.op == "<=":
            return value <= self.value + tolerance
        return value < self.value

    def margin(self, value: float) -> float:
        """How far a value is on the right side of the threshold (negative: short of it),
        relative to the threshold where it is not zero; -inf for NaN."""
        if value is None or math.isnan(value):
            return -math.inf
        gap = value - self.value if self.sense == "higher" else self.value - value
        return gap / abs(self.value) if self.value else gap

    def describe(self) -> str:
        """The target in canonical form: ``assessment_started_within_3_months >= 0.9``."""
        return f"{self.kpi} {self.op} {self.value:g}"


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise TargetError(f"{what}: {text!r} is not a date like 2026-03-31") from None


def parse_target(text: str, by_date: dt.date | None = None) -> Target:
    """Read one target string.

    Parameters
    ----------
    text
        ``KPI OPERATOR VALUE [by DATE]`` (see the module's description).
    by_date
        The date a count at a date is taken at when the target gives none (the plan's ``--by``).

    Raises
    ------
    TargetError
        Naming the target and what is wrong; an unknown KPI lists the valid ones.
    """
    if not isinstance(text, str):
        raise TargetError(f"a target must be text like 'assessment_started_within_3_months >= 0.9', "
                          f"not {text!r}")
    match = _PATTERN.match(text)
    if match is None:
        raise TargetError(f"target {text!r} is not of the form 'KPI >= VALUE' or 'KPI <= VALUE "
                          "[by DATE]', e.g. 'assessment_started_within_3_months >= 0.9' or "
                          "'waiting_over_52_weeks == 0 by 2026-03-31'")
    kpi, value_text = match["kpi"], match["value"]
    op = _OPERATORS.get(match["op"], match["op"])
    base, argument = split(kpi)
    if base not in REGISTRY:
        raise TargetError(f"target {text!r}: no KPI {base!r}; valid KPIs: {', '.join(REGISTRY)}")
    definition = REGISTRY[base]
    if definition.unit in ("GBP", "WTE"):
        raise TargetError(f"target {text!r}: {base} is a cost, which a plan minimises; give a "
                          "budget instead of a target on it")
    if definition.direction == "none":
        raise TargetError(f"target {text!r}: {base} has no better direction (neither higher nor "
                          "lower is better), so no staffing can aim at it")
    value = float(value_text)
    if match["percent"]:
        if definition.unit != "share":
            raise TargetError(f"target {text!r}: only a share can be a percentage; {base} is in "
                              f"{definition.unit}")
        value /= 100.0
    if not math.isfinite(value):
        raise TargetError(f"target {text!r}: the value must be a finite number")
    if definition.unit == "share" and not 0.0 <= value <= 1.0:
        raise TargetError(f"target {text!r}: {base} is a share, so the value must be from 0 to 1 "
                          "(or 0% to 100%)")
    if value < 0:
        raise TargetError(f"target {text!r}: {base} is in {definition.unit}, which are never "
                          "below 0")
    if op == "==":
        best = 1.0 if definition.direction == "higher" else 0.0
        if definition.unit not in ("share", "children") or value != best:
            better = ">=" if definition.direction == "higher" else "<="
            raise TargetError(f"target {text!r}: '==' is only allowed at the best value "
                              f"({best:g}); write '{base} {better} {value:g}'")
        op = ">=" if definition.direction == "higher" else "<="
    wanted = (">=", ">") if definition.direction == "higher" else ("<=", "<")
    if op not in wanted:
        raise TargetError(f"target {text!r}: {'higher' if definition.direction == 'higher' else 'lower'}"
                          f" {base} is better, so the target must be '{base} {wanted[0]} VALUE'")

    date = None
    if base in SNAPSHOT_KPIS:
        candidates = [d for d in (
            _date(argument, f"target {text!r}") if argument is not None else None,
            _date(match["date"], f"target {text!r}") if match["date"] else None) if d is not None]
        if len(set(candidates)) > 1:
            raise TargetError(f"target {text!r}: two different dates ({candidates[0]} and "
                              f"{candidates[1]})")
        date = candidates[0] if candidates else by_date
        if date is None:
            raise TargetError(f"target {text!r}: {base} is a count at a date; add the date, e.g. "
                              f"'{base} {op} {value:g} by 2026-03-31', or give --by")
        kpi = f"{base}[{date.isoformat()}]"
    elif match["date"]:
        raise TargetError(f"target {text!r}: 'by DATE' is for counts at a date "
                          f"({', '.join(sorted(SNAPSHOT_KPIS))}); {base} is measured for the "
                          "referrals from --by (default --from)")
    elif argument is not None and base in COHORT_KPIS and definition.unit == "share":
        if not re.fullmatch(r"\d{4}(Q[1-4])?", argument):
            raise TargetError(f"target {text!r}: {base}[...] takes a year or quarter of referral, "
                              "like [2025] or [2025Q2]")
    return Target(text=text.strip(), kpi=kpi, op=op, value=value, date=date)


def parse_targets(texts: Sequence[str] | str, by_date: dt.date | None = None) -> list[Target]:
    """Read several targets (all must hold); one string is one target.

    Raises
    ------
    TargetError
        For the first target that cannot be read, or when none is given or one is repeated.
    """
    if isinstance(texts, str):
        texts = [texts]
    targets = [t if isinstance(t, Target) else parse_target(t, by_date) for t in texts]
    if not targets:
        raise TargetError("give at least one target, e.g. 'assessment_started_within_3_months >= 0.9'")
    seen: dict[str, str] = {}
    for t in targets:
        if t.kpi in seen:
            raise TargetError(f"targets {seen[t.kpi]!r} and {t.text!r} are on the same KPI "
                              f"{t.kpi}; keep one")
        seen[t.kpi] = t.text
    return targets
