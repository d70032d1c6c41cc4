"""Dates in people's CSV files: ISO, day first or month first, read one way for a whole file.

Every CSV asdsim reads from an area (today's waiting list, and ``asdsim calibrate``'s referrals
and appointments) reads its dates by one rule, :data:`DateRule`:

* ``iso`` -- ``YYYY-MM-DD`` only (a time of midnight after it is allowed). A snapshot's default,
  so a scenario that does not say otherwise reads its list as it always has.
* ``day_first`` -- ``YYYY-MM-DD``, or ``DD/MM/YYYY`` with ``/``, ``.`` or ``-`` (as UK systems and
  Excel write dates); any time of day after the date is ignored.
* ``month_first`` -- ``YYYY-MM-DD``, or ``MM/DD/YYYY``, likewise.

A date that cannot be read gets a reason that never repeats the text (it may be a date of
birth), and, where the other order would read it, says how to ask for that order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Literal

DateRule = Literal["iso", "day_first", "month_first"]
"""How the dates of a file are written."""
DATE_RULES: tuple[DateRule, ...] = ("iso", "day_first", "month_first")
"""Every :data:`DateRule`, the default first."""
SCENARIO_SWITCH: Mapping[DateRule, str] = {
    "iso": "initial_state.dates: iso",
    "day_first": "initial_state.dates: day_first",
    "month_first": "initial_state.dates: month_first",
}
"""How a scenario asks for each rule (named in messages about a snapshot's dates)."""

_ISO_STRICT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")
_TIME = re.compile(r"(.*?)(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?")
_NUMERIC = re.compile(r"([0-9]{1,4})[/.\-]([0-9]{1,2})[/.\-]([0-9]{1,4})")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def date_rule(dayfirst: bool) -> DateRule:
    """The rule of ``--dayfirst`` (``day_first``) or ``--no-dayfirst`` (``month_first``)."""
    return "day_first" if dayfirst else "month_first"


def _iso(text: str, switch: Mapping[DateRule, str]) -> dt.date | str:
    match = _ISO_STRICT.fullmatch(text)
    if match is None:
        if "/" in text or "." in text:
            return ("expected a date as YYYY-MM-DD, not with '/' or '.' (Excel may have "
                    "reformatted the column: format it as yyyy-mm-dd before saving, or, for dates "
                    f"written DD/MM/YYYY, use {switch['day_first']})")
        return "expected a date as YYYY-MM-DD"
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return "expected a date in the calendar as YYYY-MM-DD"


def parse_date(text: str, rule: DateRule = "iso", *,
               switch: Mapping[DateRule, str] = SCENARIO_SWITCH) -> dt.date | str:
    """A date read by ``rule``, or why the text is not one (never repeating the text).

    Parameters
    ----------
    text
        The cell, without surrounding spaces.
    rule
        ``iso`` (YYYY-MM-DD), ``day_first`` (also DD/MM/YYYY) or ``month_first`` (also
        MM/DD/YYYY); see the module docstring.
    switch
        How the reader of the message asks for each rule, named in the reason when another rule
        would read the text (default: the scenario's ``initial_state.dates``).

    Returns
    -------
    datetime.date or str
        The date, or the reason it is not one.

    Examples
    --------
    >>> parse_date("03/04/2025", "day_first"), parse_date("03/04/2025", "month_first")
    (datetime.date(2025, 4, 3), datetime.date(2025, 3, 4))
    """
    if rule == "iso":
        return _iso(text, switch)
    match = _TIME.fullmatch(text.strip())
    day = match.group(1) if match else text.strip()
    if _ISO.fullmatch(day):
        return _iso(day, switch)
    dayfirst = rule == "day_first"
    expected = ("expected a date as YYYY-MM-DD or " + ("DD/MM/YYYY (day first)" if dayfirst
                                                       else "MM/DD/YYYY (month first)"))
    numeric = _NUMERIC.fullmatch(day)
    if numeric is None:
        return expected
    first, second, year = numeric.groups()
    if len(first) == 4:
        return expected
    if len(year) != 4:
        return f"{expected}, with a four-digit year"
    d, m = (first, second) if dayfirst else (second, first)
    try:
        return dt.date(int(year), int(m), int(d))
    except ValueError:
        other: DateRule = "month_first" if dayfirst else "day_first"
        return (f"is not a calendar date read {'day' if dayfirst else 'month'} first; if the "
                f"file's dates are written the other way, use {switch[other]}")


__all__ = ["DATE_RULES", "SCENARIO_SWITCH", "DateRule", "date_rule", "parse_date"]
