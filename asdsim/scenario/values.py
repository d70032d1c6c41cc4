"""Reading a number, a date and a name: one way, for CSV cells, YAML values and command options.

* **Numbers** are written as people write them in a spreadsheet: ASCII digits, an optional sign,
  point and exponent (``12``, ``-0.5``, ``2.5e3``). Spellings only Python or YAML 1.1 read as
  numbers are refused with a reason: underscores (``1_000``), other scripts' or superscript digits
  (``١٢``, ``²``), ``inf`` and ``nan``, hexadecimal, octal and binary (``0x1F``). A number too large
  for a float (``1e400``) or too small to tell from 0 (``1e-400``) is refused, not read as
  infinity or 0; a field's bounds are checked here too, so the reason names them.
* **Dates** are ISO ``YYYY-MM-DD`` (:mod:`asdsim.scenario.dates` reads the other forms a CSV file
  may use, by the file's rule).
* **Names** are compared after one normalisation, :func:`name_key`: Unicode NFC, case folding,
  and runs of spaces, hyphens and underscores as one underscore. Two names of one kind that
  normalise alike are a clash (:func:`name_clashes`), never two different things.

A reason never repeats the text it is about (a cell may identify a child).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable

from asdsim.scenario.dates import parse_date

__all__ = ["ValueProblem", "name_clashes", "name_key", "number_problem", "parse_iso_date",
           "parse_number", "parse_whole", "python_only_number", "spelling_problem"]

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE = re.compile(r"[+-]?[0-9]+")
_SPECIAL = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan", "-nan",
            ".inf", "+.inf", "-.inf", ".nan"}
_BASES = re.compile(r"[+-]?0[xXoObB]")


class ValueProblem(ValueError):
    """A text is not a value of the kind asked for; the message says why, never repeating it."""


def _why_not(text: str) -> str:
    """Why ``text`` (stripped, not matching :data:`_NUMBER`) is not a number."""
    if text.lower() in _SPECIAL:
        return "expected a finite number (not inf or nan)"
    if "_" in text and _NUMBER.fullmatch(text.replace("_", "")):
        return "expected a number without underscores between the digits (1000, not 1_000)"
    if any(ch.isdigit() and not "0" <= ch <= "9" for ch in text) or \
            any(unicodedata.category(ch) == "No" for ch in text):
        return "expected a number written with the digits 0-9"
    if _BASES.match(text):
        return "expected a decimal number (not hexadecimal, octal or binary)"
    if "," in text and _NUMBER.fullmatch(text.replace(",", ".", 1)):
        return "expected a number with a point for decimals (2.5, not 2,5)"
    return "expected a number, like 2.5"


def python_only_number(text: str) -> str | None:
    """The reason a number written as ``text`` is refused, where Python or YAML 1.1 would read it
    (underscores, ``0x``/``0o``/``0b``, a leading 0, ``1:30``); None if ``text`` is plain."""
    body = text.strip().lstrip("+-")
    if "_" in body:
        return "numbers are written without underscores between the digits (1000, not 1_000)"
    if _BASES.match(body):
        return "numbers are written in decimal (not hexadecimal, octal or binary)"
    if ":" in body:
        return "numbers are written as decimals (90, not 1:30)"
    if len(body) > 1 and body[0] == "0" and body.isdigit():
        return "whole numbers are written without a leading 0 (YAML would read 010 as octal 8)"
    return None


def parse_number(text: str, low: float | None = None, high: float | None = None) -> float:
    """A finite number written as ``text`` (see the module docstring), within ``[low, high]``.

    Raises
    ------
    ValueProblem
        Saying what was expected (and the bounds), never repeating ``text``.
    """
    text = text.strip()
    if not text:
        raise ValueProblem("is empty; expected a number")
    if not _NUMBER.fullmatch(text):
        raise ValueProblem(_why_not(text))
    value = float(text)
    if math.isinf(value):
        raise ValueProblem("is too large for a number (more than about 1.8e308)")
    if value == 0.0 and any(ch in "123456789" for ch in re.split(r"[eE]", text)[0]):
        raise ValueProblem("is too small to tell from 0 (less than about 1e-308)")
    _check_bounds(value, low, high)
    return value


def parse_whole(text: str, low: int | None = None, high: int | None = None) -> int:
    """A whole number written as ``text`` (ASCII digits, an optional sign), within ``[low, high]``.

    Raises
    ------
    ValueProblem
        Saying what was expected (and the bounds), never repeating ``text``.
    """
    text = text.strip()
    if not text:
        raise ValueProblem("is empty; expected a whole number")
    if not _WHOLE.fullmatch(text):
        if _NUMBER.fullmatch(text):
            raise ValueProblem("expected a whole number (no point or exponent)")
        raise ValueProblem(_why_not(text).replace("a number", "a whole number", 1))
    if len(text.lstrip("+-")) > 30:
        raise ValueProblem("is too large (more than 30 digits)")
    value = int(text)
    _check_bounds(value, low, high)
    return value


def _shown(bound: float) -> str:
    return f"{bound:,}" if isinstance(bound, int) else f"{bound:,g}"


def _check_bounds(value: float, low: float | None, high: float | None) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            raise ValueProblem(f"expected a number from {_shown(low)} to {_shown(high)}")
        if low is not None:
            raise ValueProblem(f"expected a number of at least {_shown(low)}")
        raise ValueProblem(f"expected a number of at most {_shown(high)}")


def spelling_problem(text: str) -> str | None:
    """Why ``text`` is refused as a number where a lenient reader (Python, pydantic) would take
    it (``inf``, ``1_000``, other digits, ``0x1F``, ``1e-400`` as 0); None for a plain number (the
    field checks its size) and for text that is no number at all (the field says what it expects)."""
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        if float(stripped) == 0.0 and any(ch in "123456789" for ch in re.split(r"[eE]", stripped)[0]):
            return "is too small to tell from 0 (less than about 1e-308); write 0 if 0 is meant"
        return None  # a plain number: the field checks its size
    why = _why_not(stripped)
    return None if why == _why_not("?") else why


def number_problem(text: str, low: float | None = None, high: float | None = None) -> str | None:
    """Why ``text`` is not a number within ``[low, high]``, or None (see :func:`parse_number`)."""
    try:
        parse_number(text, low, high)
    except ValueProblem as problem:
        return str(problem)
    return None


def parse_iso_date(text: str) -> dt.date:
    """A calendar date written ``YYYY-MM-DD`` (ASCII digits only).

    Raises
    ------
    ValueProblem
        Saying what was expected, never repeating ``text``.
    """
    value = parse_date(text.strip(), "iso")
    if isinstance(value, str):
        raise ValueProblem(value)
    return value


def name_key(name: str) -> str:
    """A name as compared: Unicode NFC, case folded, with runs of spaces, hyphens and underscores
    as one underscore and none at either end (``"North  East"``, ``"north-east"`` and
    ``"NORTH_EAST"`` are one name)."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
    return re.sub(r"[\s\-_]+", "_", folded).strip("_")


def name_clashes(names: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs ``(first, later)`` of different names that :func:`name_key` makes one, in order."""
    seen: dict[str, str] = {}
    clashes = []
    for name in names:
        key = name_key(name)
        if key in seen and seen[key] != name:
            clashes.append((seen[key], name))
        seen.setdefault(key, name)
    return clashes
