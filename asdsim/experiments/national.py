"""NHS England's Autism Statistics for one organisation, as an observed series.

The publication's CSV files have one row per reporting period, breakdown, organisation and
measure. The columns read (matched ignoring case and surrounding spaces; any other is dropped
unread) are ``REPORTING_PERIOD_START``, ``REPORTING_PERIOD_END``, ``BREAKDOWN``,
``PRIMARY_LEVEL`` (the organisation's code), ``PRIMARY_LEVEL_DESCRIPTION`` (its name),
``METRIC`` and ``METRIC_VALUE`` (the names of the publication's files; ``MEASURE_ID`` and
``MEASURE_VALUE``, the names of other Mental Health Services Data Set files, are read alike), and
where present ``SECONDARY_LEVEL`` (a breakdown within the organisation: age group, gender...),
``METRIC_NAME`` or ``MEASURE_NAME``, and ``STATUS``. Dates are ``YYYY-MM-DD`` or ``DD/MM/YYYY``;
a value is a count, or ``*`` where it was suppressed.

:func:`read_national` keeps the organisation's own rows (no secondary level), maps each measure by
:mod:`asdsim.experiments.national_measures`, and returns the observed points (the long format of
:mod:`asdsim.experiments.observed`, which ``asdsim calibrate --observed`` and ``asdsim backtest``
read), every row of the organisation not used with the reason, and the measures not mapped. Several
files (publications) may be given: a figure published twice is taken from the later publication
(the one with the later latest period), and open-referral figures on the two bases of counting
are never mixed (:data:`BASES`).

Child development and community paediatric services are mostly outside the data set, so a
child's referral and wait there is not counted: the figures under-count children's waits.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from asdsim.errors import AsdsimError, Problem, ScenarioError
from asdsim.experiments.calibrate import normal_name, read_table
from asdsim.experiments.national_measures import (
    AGES,
    ALIASES,
    COLUMNS,
    RECORDED,
    REQUIRED,
    SUBMITTED,
    Mapping,
    canonical_id,
    file_basis,
    mapping_for,
    name_contradicts,
)
from asdsim.scenario.csvfile import did_you_mean
from asdsim.scenario.dates import parse_date

OBSERVED_COLUMNS = ["date", "measure", "value", "over_weeks", "locality", "age_group",
                    "period_start", "published_measure", "open_referral_basis", "source"]
"""The columns of the observed series written; :func:`asdsim.experiments.observed.read_observed`
reads the first seven and drops the rest unread."""
BASES = ("newer", "refuse")
"""What to do with open-referral figures on both bases: keep the newer basis's alone, or refuse."""
SUPPRESSED = "*"
"""A value suppressed by the publisher (a small count)."""
UNDER_COUNT = ("child development and community paediatric services, where most children are "
               "assessed for autism, are mostly outside the Mental Health Services Data Set: "
               "these figures under-count children's referrals and waits")
"""The caveat every comparison of the model with these figures carries."""
_DATE_REASON = "is not a calendar date read day first (DD/MM/YYYY, as the publication writes it)"
_NO_SECONDARY = {"", "none", "null", "na", "n/a", "all", "total"}
_COUNT = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.0+)?")
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?")


@dataclass(frozen=True)
class Organisation:
    """An organisation of the publication."""

    breakdown: str
    """Its level, as the files name it (``Provider``, ``Sub ICB``, ``ICB``, ``England``...)."""
    code: str
    """``PRIMARY_LEVEL``."""
    name: str
    """``PRIMARY_LEVEL_DESCRIPTION`` (the latest file's)."""


@dataclass(frozen=True)
class NationalSeries:
    """An organisation's published figures as an observed series."""

    organisation: Organisation
    """The organisation read."""
    observed: pd.DataFrame
    """The points, one a row, columns :data:`OBSERVED_COLUMNS`, by date and measure."""
    skipped: pd.DataFrame
    """Rows of the organisation not read: ``file, line, published_measure, reason``."""
    unmapped: pd.DataFrame
    """Published measures not read: ``published_measure, measure_name, rows, reason``."""
    ages: str
    """The ages read (``0-17`` or ``all``)."""
    bases: tuple[str, ...]
    """The open-referral bases of the points read (at most one)."""

    @property
    def suppressed(self) -> int:
        """Rows of mapped measures skipped because their value was suppressed."""
        return int((self.skipped["reason"] == _SUPPRESSED_REASON).sum())


_SUPPRESSED_REASON = "the value is suppressed (*)"


@dataclass
class _File:
    """One file's rows as read, with its problems so far."""

    shown: str
    rows: list[tuple[int, dict[str, str], dt.date | None, dt.date | None]]
    has: frozenset[str]
    latest: dt.date | None
    problems: list[Problem]

    def column(self, read_as: str) -> str:
        """A column as the file's header names it (``METRIC`` for ``measure_id`` in the
        publication's files), for messages."""
        for theirs, ours in ALIASES.items():
            if ours == read_as and theirs in self.has:
                return theirs.upper()
        return read_as.upper()


@dataclass
class _Candidate:
    """A point read from one row, before figures published twice are settled."""

    key: tuple[object, ...]
    file: _File
    line: int
    value: int
    mapping: Mapping
    published: str
    start: dt.date
    end: dt.date

    @property
    def basis(self) -> str:
        """The open-referral basis of its file (every file read has a latest period)."""
        assert self.file.latest is not None
        return file_basis(self.file.latest)


def _read_file(path: str | Path) -> _File:
    table = read_table(path, "national statistics file", COLUMNS, REQUIRED)
    for theirs, ours in ALIASES.items():  # read the publication's names as the others
        if theirs in table.columns and ours not in table.columns:
            for _line, row in table.rows:
                row[ours] = row.pop(theirs, "")
    parsed: dict[str, dt.date | str] = {}
    rows = []
    latest: dt.date | None = None
    for line, row in table.rows:
        days: list[dt.date | None] = []
        for column in ("reporting_period_start", "reporting_period_end"):
            text = row[column]
            if text not in parsed:
                parsed[text] = (parse_date(text, "day_first") if text
                                else "is empty; expected a date as YYYY-MM-DD or DD/MM/YYYY")
            day = parsed[text]
            if isinstance(day, str):
                table.problems.add(line, column.upper(), _DATE_REASON if day.startswith(
                    "is not a calendar date") else day)
                days.append(None)
            else:
                days.append(day)
        start, end = days
        if start is not None and end is not None and start > end:
            table.problems.add(line, "REPORTING_PERIOD_START", "is after REPORTING_PERIOD_END; "
                               "expected the period's first day")
            start = end = None
        if end is not None:
            latest = end if latest is None else max(latest, end)
        rows.append((line, row, start, end))
    return _File(table.shown, rows, table.columns, latest, list(table.problems.items))


def _own(row: dict[str, str]) -> bool:
    """Whether a row is an organisation's own total (no secondary breakdown)."""
    return (row.get("secondary_level", "").strip().casefold() in _NO_SECONDARY
            and ";" not in row["breakdown"])


def _level(row: dict[str, str]) -> str:
    """The organisation level of a row's breakdown, as compared (``Provider; Age Group``: the
    provider's)."""
    return _level_of(row["breakdown"])


@functools.lru_cache(maxsize=256)
def _level_of(breakdown: str) -> str:
    # a file has a few breakdowns and many rows of each
    return normal_name(breakdown.split(";")[0])


def _organisations(files: Sequence[_File]) -> dict[tuple[str, str], Organisation]:
    """Every organisation with rows of its own, by (breakdown, code) as compared."""
    found: dict[tuple[str, str], Organisation] = {}
    for file in sorted(files, key=lambda f: f.latest or dt.date.min):  # the latest name wins
        for _, row, _, _ in file.rows:
            if _own(row) and row["primary_level"]:
                key = (_level(row), row["primary_level"].casefold())
                found[key] = Organisation(row["breakdown"], row["primary_level"],
                                          row["primary_level_description"])
    return found


def _choose(organisation: str, found: dict[tuple[str, str], Organisation],
            shown: str) -> tuple[tuple[str, str], Organisation]:
    """The one organisation named by code or name, or an error naming what would match."""
    wanted = organisation.strip()
    by_code = [k for k in found if k[1] == wanted.casefold()]
    matches = by_code or [k for k, o in found.items() if normal_name(o.name) == normal_name(wanted)]
    if len(matches) == 1:
        return matches[0], found[matches[0]]
    if matches:
        listed = "; ".join(f"{found[k].breakdown} {found[k].code} ({found[k].name})"
                           for k in sorted(matches))
        raise ScenarioError([Problem(shown, None, "PRIMARY_LEVEL", (
            f"--organisation matches {len(matches)} organisations: {listed}; give one code "
            "(asdsim national FILE --list-organisations lists them)"))])
    names = sorted({o.code for o in found.values()} | {o.name for o in found.values()})
    hint = did_you_mean(wanted, names) or did_you_mean(wanted.upper(), names)
    raise ScenarioError([Problem(shown, None, "PRIMARY_LEVEL", (
        f"no organisation of the files has the code or name given to --organisation{hint} "
        "(asdsim national FILE --list-organisations lists them)"))])


def _value(text: str) -> int | str | None:
    """A count as published: a whole number (None: suppressed), or why not."""
    if text == SUPPRESSED:
        return None
    if _COUNT.fullmatch(text):
        return int(float(text.replace(",", "")))
    if text and _NUMBER.fullmatch(text) and text != "-":
        return "expected a whole number of referrals for this measure (a count)"
    return "expected a number, or * where the count was suppressed"


def _read_row(file: _File, line: int, row: dict[str, str], ages: str,
              unmapped: dict[str, list[object]]) -> tuple[Mapping, int] | str | None:
    """One row of the organisation: its mapping and value, why it is not read (text), or None
    for a problem (recorded in the file's problems)."""
    if not _own(row):
        return f"a breakdown within the organisation ({row['breakdown']}); its total is read"
    if not row["measure_id"]:
        file.problems.append(Problem(file.shown, line, file.column("measure_id"),
                                     "is empty; expected the measure's identifier"))
        return None
    mapping = mapping_for(row["measure_id"])
    value = _value(row["measure_value"].strip())
    if isinstance(value, str) and (isinstance(mapping, Mapping) or "whole" not in value):
        file.problems.append(Problem(file.shown, line, file.column("measure_value"), value))
        return None
    if isinstance(mapping, str):
        entry = unmapped.setdefault(canonical_id(row["measure_id"]),
                                    [row.get("measure_name", ""), 0, mapping])
        entry[1] = int(entry[1]) + 1  # type: ignore[call-overload]
        return "not mapped: " + mapping
    if name_contradicts(mapping, row.get("measure_name", "")):
        file.problems.append(Problem(file.shown, line, file.column("measure_name"), (
            f"does not describe {canonical_id(row['measure_id'])} as read ({mapping.measure}: a "
            f"name with {' and '.join(repr(w) for w in mapping.words)}); the publication may "
            "have renumbered its measures: check docs/national-statistics.md")))
        return None
    if mapping.ages != ages:
        return (f"counts {'children 0-17' if mapping.ages == '0-17' else 'every age'}; "
                f"--ages {ages} reads the other measures")
    if value is None:
        return _SUPPRESSED_REASON
    assert isinstance(value, int)  # a text value is a problem, returned above
    return mapping, value


def _candidates(files: Sequence[_File], chosen: tuple[str, str], ages: str,
                skipped: list[tuple[str, int, str, str]],
                unmapped: dict[str, list[object]]) -> list[_Candidate]:
    """The organisation's rows read as points, with the rows not read and why."""
    out: list[_Candidate] = []
    for file in files:
        seen: dict[tuple[object, ...], int] = {}
        for line, row, start, end in file.rows:
            if (_level(row), row["primary_level"].casefold()) != chosen:
                continue
            published = canonical_id(row["measure_id"])
            read = _read_row(file, line, row, ages, unmapped)
            if isinstance(read, str):
                skipped.append((file.shown, line, published, read))
            if not isinstance(read, tuple) or start is None or end is None:
                continue  # not read, or a bad date (already reported)
            mapping, value = read
            key = (end, start if mapping.is_flow else None, mapping.measure, mapping.ages)
            if key in seen:
                file.problems.append(Problem(file.shown, line, file.column("measure_id"), (
                    f"gives the same figure as line {seen[key]} (period, organisation and "
                    "measure); a file gives each figure once")))
                continue
            seen[key] = line
            out.append(_Candidate(key, file, line, value, mapping, published, start, end))
    return out


def _one_basis(candidates: list[_Candidate], bases: str,
               skipped: list[tuple[str, int, str, str]]) -> list[_Candidate]:
    """The candidates with open-referral figures on one basis (see :data:`BASES`)."""
    def older(c: _Candidate) -> bool:
        return c.mapping.open_referrals and c.basis == RECORDED

    def newer(c: _Candidate) -> bool:
        return c.mapping.open_referrals and c.basis == SUBMITTED

    if not (any(map(older, candidates)) and any(map(newer, candidates))):
        return candidates
    if bases == "refuse":
        old = next(filter(older, candidates))
        new = next(filter(newer, candidates))
        raise ScenarioError([Problem(old.file.shown, old.line, old.file.column("measure_id"), (
            f"counts open referrals on the basis before September 2023, and {new.file.shown} "
            f"line {new.line} on the basis since; the two are not comparable (national counts "
            "fell 20-37%): give files of one basis, or --bases newer to keep the newer basis "
            "alone"))])
    for c in filter(older, candidates):
        skipped.append((c.file.shown, c.line, c.published, (
            "open referrals counted on the basis before September 2023; the files also have "
            "the newer basis, which alone is kept (--bases newer)")))
    return [c for c in candidates if not older(c)]


def _settle(candidates: list[_Candidate], bases: str,
            skipped: list[tuple[str, int, str, str]]) -> list[_Candidate]:
    """One candidate per figure: one open-referral basis, and the later publication's."""
    best: dict[tuple[object, ...], _Candidate] = {}
    for c in sorted(_one_basis(candidates, bases, skipped), key=lambda c: c.file.latest or
                    dt.date.min, reverse=True):
        kept = best.setdefault(c.key, c)
        if kept is c:
            continue
        if kept.file.latest == c.file.latest and kept.value != c.value:
            raise ScenarioError([Problem(c.file.shown, c.line, c.file.column("measure_value"), (
                f"differs from {kept.file.shown} line {kept.line}, the same figure in a file "
                "reaching the same latest period: give one publication's file"))])
        skipped.append((c.file.shown, c.line, c.published, (
            f"published again in {kept.file.shown} line {kept.line}, a later publication, "
            "which is kept")))
    return list(best.values())


def _frame(points: Iterable[_Candidate]) -> pd.DataFrame:
    rows = []
    for c in points:
        m = c.mapping
        rows.append([c.end, m.measure, c.value, m.over_weeks, None,
                     m.ages if m.ages != "all" else None, c.start if m.is_flow else None,
                     c.published, c.basis if m.open_referrals else None,
                     f"{c.file.shown} line {c.line}"])
    frame = pd.DataFrame(rows, columns=OBSERVED_COLUMNS)
    frame["value"] = frame["value"].astype("int64")
    frame["over_weeks"] = frame["over_weeks"].astype("Int64")
    return frame.sort_values(["date", "measure", "published_measure"], kind="stable",
                             ignore_index=True)


def _read_all(paths: str | Path | Sequence[str | Path]) -> list[_File]:
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    if not items:
        raise AsdsimError("no national statistics file given")
    files = [_read_file(p) for p in items]
    problems = [p for f in files for p in f.problems]
    if problems:
        raise ScenarioError(problems[:50])
    return files


def list_organisations(paths: str | Path | Sequence[str | Path]) -> pd.DataFrame:
    """Every organisation with figures of its own in the files.

    Returns
    -------
    pandas.DataFrame
        ``breakdown, code, name``, by breakdown and code.

    Raises
    ------
    ScenarioError
        For a file that cannot be read as the publication's CSV (file, line, column).
    """
    found = _organisations(_read_all(paths))
    frame = pd.DataFrame([[o.breakdown, o.code, o.name] for o in found.values()],
                         columns=["breakdown", "code", "name"])
    return frame.sort_values(["breakdown", "code"], ignore_index=True)


def read_national(paths: str | Path | Sequence[str | Path], organisation: str, *,
                  ages: str = "0-17", bases: str = "newer") -> NationalSeries:
    """Read one organisation's figures from the publication's CSV files (module docstring).

    Parameters
    ----------
    paths
        One file or several (publications; a figure in two is taken from the later one).
    organisation
        Its code (``PRIMARY_LEVEL``) or name (``PRIMARY_LEVEL_DESCRIPTION``; case, spaces and
        hyphens ignored).
    ages
        ``0-17`` (default) reads the measures of children (age group ``0-17`` in the series);
        ``all`` the measures of every age.
    bases
        Where the files count open referrals on both bases (before and since September 2023):
        ``newer`` keeps the newer basis's figures alone (the older are listed as skipped),
        ``refuse`` raises.

    Returns
    -------
    NationalSeries
        The observed points, the rows skipped and why, and the measures not mapped.

    Raises
    ------
    ScenarioError
        Naming the file, line and column of every bad row, an organisation not found (with the
        nearest names), figures that conflict, or bases mixed under ``refuse``.
    """
    if ages not in AGES:
        raise ValueError(f"ages: expected one of {', '.join(AGES)}")
    if bases not in BASES:
        raise ValueError(f"bases: expected one of {', '.join(BASES)}")
    files = _read_all(paths)
    key, chosen = _choose(organisation, _organisations(files), files[0].shown)
    skipped: list[tuple[str, int, str, str]] = []
    unmapped: dict[str, list[object]] = {}
    candidates = _candidates(files, key, ages, skipped, unmapped)
    problems = [p for f in files for p in f.problems]
    if problems:
        raise ScenarioError(problems[:50])
    points = _settle(candidates, bases, skipped)
    if not points:
        raise ScenarioError([Problem(files[0].shown, None, files[0].column("measure_id"), (
            f"{chosen.code} has no figure the model can compare with for --ages {ages} (every "
            "row is suppressed, of another age, or of a measure not mapped)"))])
    observed = _frame(points)
    return NationalSeries(
        organisation=chosen, observed=observed,
        skipped=pd.DataFrame(skipped, columns=["file", "line", "published_measure", "reason"]),
        unmapped=pd.DataFrame([[k, *v] for k, v in sorted(unmapped.items())],
                              columns=["published_measure", "measure_name", "rows", "reason"]),
        ages=ages, bases=tuple(sorted(set(observed["open_referral_basis"].dropna()))))


def write_observed(series: NationalSeries, out: str | Path, inputs: Sequence[str | Path] = (),
                   force: bool = False) -> Path:
    """Write the observed series as CSV (:func:`asdsim.spreadsheet.write_csv`), all or nothing.

    Parameters
    ----------
    series
        What :func:`read_national` returned.
    out
        The CSV file to write.
    inputs
        The files read: ``out`` may not be, hold or sit in one (:func:`asdsim.files.guard_output`).
    force
        Replace an existing ``out``, only one this function wrote (its header is
        :data:`OBSERVED_COLUMNS`).

    Raises
    ------
    AsdsimError
        When ``out`` is an input, a folder, or an existing file not to be replaced.
    """
    from asdsim.spreadsheet import write_csv

    check_output(out, inputs, force)
    return write_csv(series.observed, out)


def check_output(out: str | Path, inputs: Sequence[str | Path], force: bool) -> None:
    """The rules :func:`write_observed` follows, to check before any work (its docstring)."""
    from asdsim.files import guard_output

    out = Path(out)
    guard_output(out, inputs)
    if out.is_dir():
        raise AsdsimError(f"{out} is a folder; expected the path of the CSV file to write")
    if out.exists() or out.is_symlink():
        if not force:
            raise AsdsimError(f"{out} exists; choose another --out or add --force to replace it")
        try:
            with open(out, encoding="utf-8") as handle:
                first = handle.readline().strip()
        except (OSError, UnicodeError):
            first = ""
        if first != ",".join(OBSERVED_COLUMNS):
            raise AsdsimError(f"{out} was not written by asdsim national (its header differs); "
                              "--force replaces only such a file, so choose another --out")
