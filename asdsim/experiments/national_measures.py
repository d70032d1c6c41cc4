"""What each measure of NHS England's Autism Statistics means to the model, and the open-referral
basis of a published file.

The publication (monthly "Autism Waiting Time Statistics", experimental statistics from the Mental
Health Services Data Set) gives each measure an identifier (``METRIC``; ``MEASURE_ID`` in other
files of the data set). :data:`MAPPED` holds
the identifiers read into the observed series, each with the observed measure that counts the same
thing by its construction (:mod:`asdsim.analysis.validation`) and the ages it covers;
:data:`NOT_MAPPED` says why the model cannot reproduce the others it knows. Any other identifier
is listed as not mapped, never dropped silently. docs/national-statistics.md has the table.

From the September 2023 publication (data to June 2023) a referral counts as open only in the
months a record of it was submitted; before, it counted as open from its referral date to its
recorded closure, which national counts 20-37% higher. :func:`file_basis` dates a file's basis by
its latest reporting period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SUBMITTED = "submitted_months"
"""The open-referral basis from the September 2023 publication: open in months a record was sent."""
RECORDED = "recorded_dates"
"""The open-referral basis before it: open from referral to the closure date recorded."""
NEW_BASIS_FROM = dt.date(2023, 6, 30)
"""The last day of the latest period of the first publication on the :data:`SUBMITTED` basis
(September 2023, data for July 2022 to June 2023)."""
AGES = ("0-17", "all")
"""The ages a series can be read for: children (0 to 17 at referral) or every age."""


@dataclass(frozen=True)
class Mapping:
    """How one published measure becomes an observed point."""

    measure: str
    """The observed measure (:mod:`asdsim.experiments.observed`), as written in its CSV."""
    ages: str
    """``0-17`` or ``all``: the ages at referral the published count covers."""
    words: tuple[str, ...]
    """Words a ``MEASURE_NAME`` of this identifier has (a check that the identifier still means
    what this table says, where the file names its measures)."""
    construction: str
    """How the publication counts it, and how the model counts the same."""

    @property
    def open_referrals(self) -> bool:
        """Whether the 2023 change to counting open referrals changed this measure."""
        return not self.is_flow

    @property
    def is_flow(self) -> bool:
        """Whether the measure is a count over the reporting period (else at its end)."""
        return self.measure == "referrals_received"

    @property
    def over_weeks(self) -> int | None:
        """The N of an 'over N weeks' measure."""
        return 13 if self.measure == "waiting_over_13_weeks" else None


_NEW = ("new referrals for suspected autism received in the reporting period; the model counts "
        "new referrals and re-referrals from the period's first day to its last")
_OPEN = ("referrals for suspected autism open at the end of the reporting period; the model "
         "counts children referred and not discharged, at any stage, at the end of that day")
_OVER = ("open referrals at the period's end whose referral is 13 weeks old or more; the model "
         "counts those more than 13 weeks (91 days) old, so a referral exactly 91 days old on "
         "the last day is counted by the publication only")

MAPPED: dict[str, Mapping] = {
    "ASD01": Mapping("referrals_received", "all", ("referral",), _NEW),
    "ASD12": Mapping("referrals_received", "all", ("referral",), _NEW),
    "ASD12a": Mapping("referrals_received", "0-17", ("referral",), _NEW + " (aged 0 to 17)"),
    "ASD16": Mapping("open_referrals", "all", ("open",), _OPEN),
    "ASD16a": Mapping("waiting_over_13_weeks", "all", ("open", "13"), _OVER),
    "ASD16b": Mapping("open_referrals", "0-17", ("open",), _OPEN + " (aged 0 to 17)"),
    "ASD16c": Mapping("waiting_over_13_weeks", "0-17", ("open", "13"), _OVER + " (aged 0 to 17)"),
}
"""Published measures read, by identifier (matched ignoring case). The ages are the
publication's own: its methodology names ASD12, ASD13, ASD16 and ASD16a as counting patients of
all ages, and ASD12a, ASD13a, ASD16b and ASD16c patients aged 0 to 17; within each pair the
second open-referral measure is read as those open 13 weeks or more (the publication's headline
pair), which a file's ``METRIC_NAME``, where given, must confirm (:func:`name_contradicts`)."""

NOT_MAPPED: dict[str, str] = {
    "ASD02": "new referrals of the period with a first appointment recorded by the time the data "
             "were extracted: a count of a cohort that grows with each later extract; the model "
             "has no extract date",
    "ASD03": "new referrals of the period whose first appointment came within 13 weeks: counted "
             "by the month of referral; the model's first_contacts_within_13_weeks counts by the "
             "month of the first appointment, another construction",
    "ASD13": "referrals closed in the period: the observed series has no measure of closures "
             "(they include closures for reasons the model lacks)",
    "ASD13a": "referrals of children closed in the period: the observed series has no measure "
              "of closures (they include closures for reasons the model lacks)",
}
"""Published measures known and not read, with the reason."""
OTHER_REASON = ("no measure of the model is known to count the same thing (first contacts by "
                "wait band, proportions and closures by reason are not read)")
"""Why a published measure in neither table is not read."""


def mapping_for(measure_id: str) -> Mapping | str:
    """The mapping of a published identifier (ignoring case), or why it is not read."""
    key = measure_id.strip().casefold()
    for name, mapping in MAPPED.items():
        if name.casefold() == key:
            return mapping
    return next((why for name, why in NOT_MAPPED.items() if name.casefold() == key), OTHER_REASON)


def canonical_id(measure_id: str) -> str:
    """A published identifier as the tables above spell it (as written when unknown)."""
    key = measure_id.strip().casefold()
    return next((name for name in (*MAPPED, *NOT_MAPPED) if name.casefold() == key),
                measure_id.strip())


def name_contradicts(mapping: Mapping, measure_name: str) -> bool:
    """Whether a file's ``MEASURE_NAME`` does not describe what :data:`MAPPED` says (a word
    missing), the sign of an identifier that has changed meaning."""
    name = measure_name.casefold()
    return bool(name) and not all(word in name for word in mapping.words)


def file_basis(latest_period_end: dt.date) -> str:
    """The open-referral basis of a file whose latest reporting period ends on the given day."""
    return SUBMITTED if latest_period_end >= NEW_BASIS_FROM else RECORDED


# ------------------------------------------------------------------------- the files' layout

COLUMNS = ("reporting_period_start", "reporting_period_end", "status", "breakdown",
           "primary_level", "primary_level_description", "secondary_level",
           "secondary_level_description", "metric", "metric_name", "metric_value",
           "measure_id", "measure_name", "measure_value")
"""The columns read (as matched: lower case)."""
REQUIRED = (("reporting_period_start",), ("reporting_period_end",), ("breakdown",),
            ("primary_level",), ("primary_level_description",), ("metric", "measure_id"),
            ("metric_value", "measure_value"))
"""The columns a file must have (one of each group)."""
ALIASES = {"metric": "measure_id", "metric_name": "measure_name", "metric_value": "measure_value"}
"""The publication's own column names, and the names they are read under."""
