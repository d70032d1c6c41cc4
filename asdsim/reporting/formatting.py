"""Numbers for people: one set of rules used by the report, the console and the charts.

Shares are percentages (whole, or to one decimal where whole would hide a difference), children
are whole numbers, money is to the nearest pound (or in thousands and millions, ``£52k``), weeks
and hours to one decimal. A value that rounds to zero is shown without a sign, so a table never
says ``-0.0`` or ``+0.0 to -0.0``, and an interval whose two ends round to the same figure is
shown as that one figure.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from asdsim.analysis.definitions import definition, label, split

NOT_REACHED = "not reached"
"""Shown for a value that is NaN: a censored KPI not reached, or no closed window."""

UNIT_NAMES = {"share": "%", "weeks": "weeks", "children": "children", "hours": "hours",
              "GBP": "£", "WTE": "WTE"}
"""How each registry unit is named in a table's unit column or on a chart axis."""

DIFFERENCE_UNIT_NAMES = {**UNIT_NAMES, "share": "percentage points"}
"""How each unit is named for a difference between two values."""


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))


def _number(value: float, decimals: int) -> str:
    """``value`` with thousands separators and ``decimals`` places, never ``-0``."""
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def percent(share: float | None, decimals: int | None = None) -> str:
    """A share (0-1) as a percentage.

    Parameters
    ----------
    share
        The share; NaN or None gives ``not reached``.
    decimals
        Places after the point; by default whole percent, or one place where whole would show
        a share that is not 0 or 1 as ``0%`` or ``100%``.
    """
    if _missing(share):
        return NOT_REACHED
    value = 100.0 * float(share)  # type: ignore[arg-type]
    if decimals is None:
        decimals = 1 if (0 < abs(value) < 0.5 or 99.5 <= abs(value) < 100) else 0
    return f"{_number(value, decimals)}%"


def children(count: float | None) -> str:
    """A number of children, as a whole number with thousands separators."""
    return NOT_REACHED if _missing(count) else _number(float(count), 0)  # type: ignore[arg-type]


def money(amount: float | None, short: bool = False) -> str:
    """An amount in pounds: to the nearest pound, or with ``short`` as ``£52k`` or ``£1.2m``.

    Parameters
    ----------
    amount
        Pounds; NaN or None gives ``not reached``.
    short
        Round to thousands (``£52k``) or, from a million, to a tenth of a million (``£1.2m``).
    """
    if _missing(amount):
        return NOT_REACHED
    value = float(amount)  # type: ignore[arg-type]
    sign = "-" if value < 0 else ""
    size = abs(value)
    if not short or size < 999.5:
        text = _number(size, 0)
        return f"{sign if text != '0' else ''}£{text}"
    if size < 999_500:
        return f"{sign}£{_number(size / 1e3, 0)}k"
    millions = size / 1e6
    return f"{sign}£{_number(millions, 1 if millions < 99.95 else 0)}m"


def value(amount: float | None, unit: str, short: bool = False) -> str:
    """A KPI value in its registry unit.

    Parameters
    ----------
    amount
        The value (a share as 0-1).
    unit
        ``share``, ``weeks``, ``children``, ``hours``, ``GBP`` or ``WTE``.
    short
        Shares as whole percent and money in thousands (for sentences); otherwise shares to one
        decimal and money to the pound (for tables).
    """
    if _missing(amount):
        return NOT_REACHED
    if unit == "share":
        return percent(amount, None if short else 1)
    if unit == "GBP":
        return money(amount, short)
    if unit == "children":
        return children(amount)
    if unit == "WTE":
        return _number(float(amount), 2)  # type: ignore[arg-type]
    return _number(float(amount), 1)  # type: ignore[arg-type]


def with_unit(amount: float | None, unit: str, short: bool = False) -> str:
    """A value with its unit named where the number alone does not say it: ``12.5 weeks``."""
    text = value(amount, unit, short)
    if text == NOT_REACHED or unit in ("share", "GBP"):
        return text
    noun = unit
    if unit == "children" and text == "1":
        noun = "child"
    return f"{text} {noun}"


def interval(low: float | None, high: float | None, unit: str, short: bool = False) -> str:
    """A confidence interval, ``84% to 90%``; empty where it is missing or both ends round to
    the same figure (every replication agreed)."""
    if _missing(low) or _missing(high):
        return ""
    a, b = value(low, unit, short), value(high, unit, short)
    return "" if a == b else f"{a} to {b}"


def estimate(mean: float | None, low: float | None, high: float | None, unit: str,
             short: bool = False) -> str:
    """A mean with its interval in brackets, ``87% (84% to 90%)``, or the mean alone where the
    interval is missing or says nothing more."""
    text = value(mean, unit, short)
    span = interval(low, high, unit, short)
    return f"{text} ({span})" if span and text != NOT_REACHED else text


def difference(amount: float | None, unit: str, short: bool = False) -> str:
    """A paired difference with its sign: ``+12.3`` percentage points, ``-£52k``, ``+1,480``
    children; ``0`` (no sign) where it rounds to zero. Shares are in percentage points."""
    if _missing(amount):
        return NOT_REACHED
    a = float(amount)  # type: ignore[arg-type]
    if unit == "share":
        text = _number(100.0 * abs(a), 0 if short else 1)
    else:
        text = value(abs(a), unit, short)
    if not any(c in "123456789" for c in text):
        return "0"
    return ("-" if a < 0 else "+") + text


def difference_interval(low: float | None, high: float | None, unit: str,
                        short: bool = False) -> str:
    """A difference's interval, ``+3.1 to +7.9``; empty where missing or both ends agree."""
    if _missing(low) or _missing(high):
        return ""
    a, b = difference(low, unit, short), difference(high, unit, short)
    return "" if a == b else f"{a} to {b}"


def difference_estimate(mean: float | None, low: float | None, high: float | None, unit: str,
                        short: bool = False) -> str:
    """A paired difference with its interval in brackets, ``+793 (+766 to +819)``."""
    text = difference(mean, unit, short)
    span = difference_interval(low, high, unit, short)
    return f"{text} ({span})" if span and text != NOT_REACHED else text


CSV_DECIMALS = {"share": 4, "GBP": 2, "children": 2, "weeks": 3, "hours": 2, "WTE": 4}
"""Places a CSV keeps of a value in each registry unit: a hundredth of a percentage point, a
penny, a hundredth of a child (means over replications), and so on: what the figure can mean,
with no float noise such as ``0.45000000000000007``."""


def rounded(frame: pd.DataFrame, units: dict[str, str] | None = None,
            row_unit: tuple[str, list[str]] | None = None) -> pd.DataFrame:
    """A copy of a table with its numbers rounded to :data:`CSV_DECIMALS`, for a CSV.

    Parameters
    ----------
    frame
        The table (not changed).
    units
        ``{column: unit}`` for columns whose values all have one unit.
    row_unit
        ``(unit column, value columns)`` for tables whose rows have their own unit (the KPI and
        comparison tables); a unit not in :data:`CSV_DECIMALS` is rounded to 6 places.
    """
    out = frame.copy()
    for column, unit in (units or {}).items():
        if column in out:
            out[column] = out[column].astype(float).round(CSV_DECIMALS.get(unit, 6))
    if row_unit is not None and len(out):
        unit_column, columns = row_unit
        places = out[unit_column].map(lambda u: CSV_DECIMALS.get(str(u), 6))
        for column in columns:
            out[column] = [round(float(v), int(d)) for v, d in zip(out[column], places,
                                                                   strict=True)]
    return out


def unit_name(unit: str, difference: bool = False) -> str:
    """A registry unit as a table header or axis names it (``%``, ``£``, ``percentage points``)."""
    return (DIFFERENCE_UNIT_NAMES if difference else UNIT_NAMES).get(unit, unit)


def kpi_label(name: str) -> str:
    """A KPI's readable label from the registry, its bracketed argument made readable:
    ``Assessment started within 3 months, referred in 2019 Q2``."""
    base, arg = split(name)
    if arg is None:
        return label(name)
    text = definition(name).label
    if base.endswith(("_within_13_weeks", "_within_3_months")) or base.startswith(
            ("first_appointment_within", "assessment_started_within")):
        return f"{text}, referred in {period(arg)}"
    if base in ("open_referrals",) or base.startswith("waiting_over_"):
        try:
            return f"{text} on {date(dt.date.fromisoformat(arg))}"
        except ValueError:
            return f"{text} [{arg}]"
    if base in ("funded_cost", "outsourcing_cost"):
        return f"{text}, {arg}"
    return f"{text}: {arg.replace('_', ' ')}"


def axis_label(name: str) -> str:
    """A KPI's label with its unit, for a chart axis: ``Open referrals (children)``."""
    unit = definition(name).unit
    return f"{kpi_label(name)} ({unit_name(unit)})"


def period(arg: str) -> str:
    """A referral period as people write it: ``2019Q2`` -> ``2019 Q2``, ``2019`` unchanged."""
    return arg.replace("Q", " Q") if "Q" in arg else arg


def date(day: dt.date) -> str:
    """A date as ``30 Sep 2023``."""
    return f"{day.day} {day:%b %Y}"


__all__ = ["CSV_DECIMALS", "NOT_REACHED", "axis_label", "children", "date", "difference",
           "difference_estimate", "difference_interval", "estimate", "interval", "kpi_label",
           "money", "percent", "period", "rounded", "unit_name", "value", "with_unit"]
