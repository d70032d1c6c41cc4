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

The NICE standard has its own spelling, ``nice_standard [>= VALUE] [from QUARTER]`` (``standard``
for short): at least ``VALUE`` (default 0.9) of *each* quarter's referrals start assessment
within 3 months, from ``QUARTER`` (default the quarter of the plan's ``--by``) on, every later
quarter whose window has closed included, exactly as the report judges it
(:mod:`asdsim.analysis.standard`). It is what a plan aims at when no target is given. Its
per-replication value is the lowest of those quarters' shares, so a replication meets it when
every quarter does. ``assessment_started_within_3_months >= 0.9``, by contrast, is the *pooled*
share over every referral from ``--by``: a good quarter can make up for a bad one.

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

from asdsim.analysis.definitions import HEADLINE, REGISTRY, KpiDefinition, split
from asdsim.analysis.standard import LEVEL, quarter_of, reaches
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
STANDARD = "nice_standard"
"""The name of the NICE standard target (``standard`` is read as the same)."""
_STANDARD = re.compile(
    r"^\s*(?:nice_)?standard\s*(?:(?P<op>>=|≥|>|=|==|<=|≤|<)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<percent>%)?)?"
    r"\s*(?:from\s+(?P<quarter>\S+))?\s*$", re.IGNORECASE)
_QUARTER = re.compile(r"(?P<year>\d{4})[Qq](?P<q>[1-4])")


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
    quarter
        The NICE standard's first quarter (``2020Q4``), else None.
    """

    text: str
    kpi: str
    op: str
    value: float
    date: dt.date | None = None
    quarter: str | None = None

    @property
    def standard(self) -> bool:
        """Whether this is the NICE standard, judged quarter by quarter."""
        return self.quarter is not None

    @property
    def base(self) -> str:
        """The KPI's base name (without the bracket)."""
        return split(self.kpi)[0]

    @property
    def definition(self) -> KpiDefinition:
        """The KPI's registry entry (the NICE standard's is that of its quarterly shares)."""
        return REGISTRY[HEADLINE if self.standard else self.base]

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
        if self.standard:  # the worst quarter's share, judged as the report judges a quarter
            return reaches(value, self.value)
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
        """The target in canonical form: ``assessment_started_within_3_months >= 0.9``,
        ``nice_standard >= 0.9 from 2020Q4``."""
        if self.standard:
            return f"{STANDARD} {self.op} {self.value:g} from {self.quarter}"
        return f"{self.kpi} {self.op} {self.value:g}"

    def words(self) -> str:
        """The target in plain words."""
        if self.standard:
            return (f"at least {self.value:.0%} of each quarter's referrals from "
                    f"{quarter_words(self.quarter or '')} start assessment within 3 months")
        return self.describe()


def quarter_words(quarter: str) -> str:
    """``2020Q4`` as ``2020 Q4``."""
    return quarter.replace("Q", " Q")


def _quarter(text: str, what: str) -> str:
    match = _QUARTER.fullmatch(text.strip())
    if match is None:
        raise TargetError(f"{what}: {text!r} is not a quarter like 2020Q4")
    return f"{match['year']}Q{match['q']}"


def _standard(text: str, match: re.Match[str], by_date: dt.date | None) -> Target:
    op = _OPERATORS.get(match["op"] or ">=", match["op"] or ">=")
    if op == "==":
        op = ">="
    if op not in (">=", ">"):
        raise TargetError(f"target {text!r}: a higher share meets the standard, so write "
                          "'nice_standard >= VALUE'")
    value = LEVEL if match["value"] is None else float(match["value"])
    if match["percent"]:
        value /= 100.0
    if not (math.isfinite(value) and 0.0 < value <= 1.0):
        raise TargetError(f"target {text!r}: the standard's level is a share above 0 and at most 1 "
                          "(or a percentage)")
    if match["quarter"] is not None:
        quarter = _quarter(match["quarter"], f"target {text!r}")
    elif by_date is not None:
        quarter = quarter_of(by_date)
    else:
        raise TargetError(f"target {text!r}: give the first quarter judged ('nice_standard >= 0.9 "
                          "from 2020Q4') or --by")
    return Target(text=text.strip(), kpi=f"{STANDARD}[{quarter}]", op=">=", value=value,
                  quarter=quarter)


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
    standard = _STANDARD.match(text)
    if standard is not None:
        return _standard(text, standard, by_date)
    match = _PATTERN.match(text)
    if match is None:
        raise TargetError(f"target {text!r} is not of the form 'KPI >= VALUE' or 'KPI <= VALUE "
                          "[by DATE]', e.g. 'assessment_started_within_3_months >= 0.9' or "
                          "'waiting_over_52_weeks == 0 by 2026-03-31'")
    kpi = match["kpi"]
    base, argument = split(kpi)
    definition = _aimable(text, base)
    value = _target_value(text, base, definition, match["value"], bool(match["percent"]),
                          _OPERATORS.get(match["op"], match["op"]))
    op = _target_op(text, base, definition, _OPERATORS.get(match["op"], match["op"]), value)
    kpi, date = _target_kpi(text, kpi, base, argument, match["date"], definition, op, value, by_date)
    return Target(text=text.strip(), kpi=kpi, op=op, value=value, date=date)


def _aimable(text: str, base: str) -> KpiDefinition:
    """The definition of a KPI a plan can aim at: known, not a cost, with a better direction."""
    if base not in REGISTRY:
        raise TargetError(f"target {text!r}: no KPI {base!r}; valid KPIs: {', '.join(REGISTRY)}")
    definition = REGISTRY[base]
    if definition.unit in ("GBP", "WTE"):
        raise TargetError(f"target {text!r}: {base} is a cost, which a plan minimises; give a "
                          "budget instead of a target on it")
    if definition.direction == "none":
        raise TargetError(f"target {text!r}: {base} has no better direction (neither higher nor "
                          "lower is better), so no staffing can aim at it")
    return definition


def _target_value(text: str, base: str, definition: KpiDefinition, value_text: str, percent: bool,
                  op: str) -> float:
    """The target's value, a percentage as a share, in the range the KPI's unit allows."""
    value = float(value_text)
    if percent:
        if definition.unit != "share":
            raise TargetError(f"target {text!r}: only a share can be a percentage; {base} is in "
                              f"{definition.unit}")
        value /= 100.0
    if not math.isfinite(value):
        raise TargetError(f"target {text!r}: the value must be a finite number")
    if definition.unit == "share" and not 0.0 <= value <= 1.0:
        raise TargetError(f"target {text!r}: {base} is a share, so the value must be from 0 to 1 "
                          "(or 0% to 100%)")
    if definition.unit != "share" and (value < 0 or (op == "<" and value <= 0)):
        raise TargetError(f"target {text!r}: {base} is in {definition.unit}, which cannot be below "
                          "0, so no staffing can meet it")
    return value


def _target_op(text: str, base: str, definition: KpiDefinition, op: str, value: float) -> str:
    """The operator, '==' at the best value read as reaching it, in the KPI's better direction."""
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
    return op


def _target_kpi(text: str, kpi: str, base: str, argument: str | None, by: str | None,
                definition: KpiDefinition, op: str, value: float,
                by_date: dt.date | None) -> tuple[str, dt.date | None]:
    """The KPI as the tables label it (a count at its date, a share of a year's or quarter's
    referrals) and the date of a count at a date."""
    date = None
    if base in SNAPSHOT_KPIS:
        candidates = [d for d in (
            _date(argument, f"target {text!r}") if argument is not None else None,
            _date(by, f"target {text!r}") if by else None) if d is not None]
        if len(set(candidates)) > 1:
            raise TargetError(f"target {text!r}: two different dates ({candidates[0]} and "
                              f"{candidates[1]})")
        date = candidates[0] if candidates else by_date
        if date is None:
            raise TargetError(f"target {text!r}: {base} is a count at a date; add the date, e.g. "
                              f"'{base} {op} {value:g} by 2026-03-31', or give --by")
        kpi = f"{base}[{date.isoformat()}]"
    elif by:
        raise TargetError(f"target {text!r}: 'by DATE' is for counts at a date "
                          f"({', '.join(sorted(SNAPSHOT_KPIS))}); {base} is measured for the "
                          "referrals from --by (default --from)")
    elif argument is not None and base in COHORT_KPIS and definition.unit == "share":
        if not re.fullmatch(r"\d{4}([Qq][1-4])?", argument):
            raise TargetError(f"target {text!r}: {base}[...] takes a year or quarter of referral, "
                              "like [2025] or [2025Q2]")
        kpi = f"{base}[{argument.upper()}]"  # the KPI tables label quarters 2025Q2
    return kpi, date


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
