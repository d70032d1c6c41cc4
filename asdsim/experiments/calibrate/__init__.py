"""Fitting a scenario to an area's own data: ``asdsim calibrate``.

Inputs are CSV files of people's records, read as safely as a snapshot
(:mod:`asdsim.scenario.snapshot`, with the helpers of :mod:`asdsim.scenario.csvfile` and
:mod:`asdsim.scenario.csvheader`): only the named columns are read (header names matched
ignoring case and surrounding spaces), UTF-8 with or without a byte-order mark, UTF-16 with
one, or Windows-1252; and every bad row is reported by line and column without repeating a
cell.

* ``referrals.csv``, one row per referral: ``referral_date`` (required), ``age_years`` or
  ``date_of_birth``, ``source``, ``locality``, ``triage_outcome`` (each optional: what is missing
  is not fitted). Dates are YYYY-MM-DD or, with ``dayfirst`` (the UK default), DD/MM/YYYY (with
  ``/``, ``.`` or ``-``); ``dayfirst=False`` reads MM/DD/YYYY. A time of day after a date is
  ignored. Sources and localities are matched to the base scenario's names ignoring case, spaces
  and hyphens ("Health visitor" is ``health_visitor``).
* ``waiting_list.csv``: today's list in the snapshot format, its dates read by the same rule
  (:func:`asdsim.scenario.dates.parse_date`), which becomes the calibrated scenario's starting
  state (``initial_state: {kind: csv, dates: day_first}``, or ``month_first`` without
  ``dayfirst``, so the scenario reads the file the same way when it is loaded again).
* ``activity.csv``, one row per booked appointment: ``step`` (a step name of the base scenario),
  ``attended`` (yes or no), and optionally ``team`` and ``duration_minutes`` (or
  ``duration_hours``).

The fits
--------
**Referrals.** The days from the first to the last referral date are split into pieces within
which the week, the calendar month and the step changes in force are all constant (a week
across two months gives two pieces). The count in each piece is modelled as Poisson with mean
``exposure * exp(b0 + b_trend * t + g_month + sum b_step)``, where ``t`` is the piece's midpoint
in years, ``exposure`` its number of days (weighted by the day-of-week mix of referrals when
that mix is clearly uneven, so a piece of two weekend days is not expected to hold two sevenths
of a week's referrals), ``g_month`` a month-of-year effect and ``b_step`` the effect of each
dated step change (``step_changes``, in force from its date). This is the model's own referral
process (:mod:`asdsim.model.demand`) summed over the pieces, fitted by maximum likelihood as a
Poisson GLM (statsmodels). Then ``annual_growth = exp(b_trend) - 1``; the monthly factors are
``exp(g_month)`` scaled to a mean of 1 (the format's convention); a step change's factor is
``exp(b_step)``; and ``referrals_per_week`` is the fitted weekly rate before seasonality at the
scenario's ``start_date``, extrapolated from the data by the trend, with every step change in
force. Intervals are 95%: Wald intervals of the coefficients, transformed (growth, step
factors), or percentiles of coefficients drawn from their fitted normal distribution (monthly
factors, the rate at the start).

**Over-dispersion.** Poisson counts have variance equal to the mean. The Pearson chi-squared
statistic over its residual degrees of freedom estimates the ratio; when the chi-squared test
rejects a ratio of 1 (p < 0.05) the referrals are more variable than Poisson (clusters of
referrals, unmodelled changes), the fit says so, and the intervals are widened by the ratio
(quasi-Poisson). The simulation's referrals stay Poisson, so its spread then understates the
real one.

**Mixes.** Shares of age bands (the base scenario's bands, the outer ends widened to the ages
seen), sources, localities and triage outcomes are the proportions in the data, each with a
Wilson 95% interval. An age comes from ``age_years`` or ``date_of_birth`` as whole months at
referral, like a snapshot's.

**Activity.** A step's DNA probability is the share of its booked appointments not attended
(Wilson interval); its hours are scaled so the longest group's hours equal the mean length of
attended appointments (t interval).

The package, by job: :mod:`~asdsim.experiments.calibrate.table` reads the named columns of a CSV
file; :mod:`~asdsim.experiments.calibrate.readers` reads the referrals and activity files against
the base scenario; :mod:`~asdsim.experiments.calibrate.fits` holds the Poisson GLM and the Wilson
interval; :mod:`~asdsim.experiments.calibrate.scenario_fit` and
:mod:`~asdsim.experiments.calibrate.activity_fit` set the fitted numbers into the scenario;
:mod:`~asdsim.experiments.calibrate.result` is the :class:`Calibration` and its YAML (written by
:mod:`~asdsim.experiments.calibrate.yamltext`); :mod:`~asdsim.experiments.calibrate.writer`
writes it and its report.
"""

from asdsim.experiments.calibrate.fits import (
    DISPERSION_P,
    DRAWS,
    GROWTH_DAYS,
    LEVEL,
    MIN_DAYS,
    MONTHS,
    SEASONAL_DAYS,
    WEEKDAY_P,
    ReferralFit,
    fit_referrals,
    wilson,
)
from asdsim.experiments.calibrate.readers import (
    ATTENDED,
    DATE_SWITCH,
    MAX_GAP_DAYS,
    TRIAGE_NAMES,
    Activity,
    Referrals,
    read_activity,
    read_referrals,
)
from asdsim.experiments.calibrate.result import CALIBRATED_MARK, Calibration
from asdsim.experiments.calibrate.scenario_fit import WAIT_BANDS, calibrate
from asdsim.experiments.calibrate.table import Table, normal_name, read_table
from asdsim.experiments.calibrate.writer import (
    check_scenario_output,
    report_folder,
    write_calibration,
    written_by_calibrate,
)
from asdsim.experiments.calibrate.yamltext import dotted_path, emit_yaml, rounded_shares

__all__ = [
    "ATTENDED", "CALIBRATED_MARK", "DATE_SWITCH", "DISPERSION_P", "DRAWS", "GROWTH_DAYS", "LEVEL",
    "MAX_GAP_DAYS", "MIN_DAYS", "MONTHS", "SEASONAL_DAYS", "TRIAGE_NAMES", "WAIT_BANDS", "WEEKDAY_P",
    "Activity", "Calibration", "ReferralFit", "Referrals", "Table", "calibrate",
    "check_scenario_output", "dotted_path", "emit_yaml", "fit_referrals", "normal_name",
    "read_activity", "read_referrals", "read_table", "report_folder", "rounded_shares", "wilson",
    "write_calibration", "written_by_calibrate",
]
