"""Messages never repeat a value from a patient file (issue 23, class 4).

A marker that appears nowhere else is planted in one column of each CSV kind asdsim reads (the
referrals, today's waiting list and the appointments), in one row or in every row, in shapes that
reach different rules (text, a formula, a number, a date, a date decades away from the rest).
Whatever the command makes of it (a refusal by line and column, a fit, a note), the marker never
appears in anything printed or logged. Outputs written to files are not messages and may hold
the data (see docs/privacy.md).
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pytest

from asdsim.cli import main
from asdsim.templates_area import create_area

# marker -> what of it must never be printed (a date in either order of day and month)
MARKERS = {
    "QZXWV": ["QZXWV"],
    "=QZXWV(1)": ["QZXWV"],
    " qzxwv ": ["qzxwv", "QZXWV"],
    "7.77713e1": ["7.77713", "77.7713"],
    "1931-07-19": ["1931-07-19", "19/07/1931", "07/19/1931", "1931"],
    "2019-07-19": ["2019-07-19", "19/07/2019", "07/19/2019"],
    "2022-04-01": ["2022-04-01", "01/04/2022", "04/01/2022"],  # the first referral, if valid
    "19/07/2023": ["19/07/2023", "2023-07-19", "07/19/2023"],
}
KINDS = {
    "referrals": ("referrals.csv", ["referral_id", "referral_date", "date_of_birth", "source",
                                    "locality", "triage_outcome"]),
    "waiting_list": ("waiting_list.csv", ["child_id", "referral_date", "date_of_birth", "stage",
                                          "priority", "locality"]),
    "activity": ("activity.csv", ["appointment_date", "team", "step", "attended",
                                  "duration_minutes"]),
}


KEEP_ROWS = 250
"""Rows kept of each example file (the referrals still span more than eight weeks)."""


def _plant(path: Path, column: str, marker: str, every: bool) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))[:KEEP_ROWS]
    at = rows[0].index(column)
    for row in rows[1:] if every else rows[1:2]:
        row[at] = marker
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _cases() -> list[tuple[str, str, str, bool]]:
    return [(kind, column, marker, every) for kind, (_, columns) in KINDS.items()
            for column in columns for marker in MARKERS for every in (False, True)
            if not every or marker in ("QZXWV", "1931-07-19")]


@pytest.mark.parametrize(("kind", "column", "marker", "every"), _cases())
def test_no_message_repeats_a_cell(tmp_path, capsys, caplog, kind, column, marker, every):
    area = tmp_path / "area"
    create_area(area)
    _plant(area / KINDS[kind][0], column, marker, every)
    caplog.set_level(logging.DEBUG)
    argv = ["calibrate", "--referrals", str(area / "referrals.csv"), "--base",
            str(area / "scenario.yaml"), "--waiting-list", str(area / "waiting_list.csv"),
            "--activity", str(area / "activity.csv"), "--no-dayfirst", "--out",
            str(tmp_path / "calibrated.yaml")]
    code = main(argv)
    if kind == "waiting_list":  # the scenario reads the list itself too
        code = max(code, main(["validate", str(area / "scenario.yaml")]))
    printed = capsys.readouterr()
    said = printed.out + printed.err + caplog.text
    assert code in (0, 1), said
    assert "Traceback" not in said
    for secret in MARKERS[marker]:
        assert secret not in said, (secret, said)


@pytest.mark.parametrize("rows", [1, 2])
def test_a_history_too_short_to_fit_is_refused_without_its_dates(tmp_path, capsys, rows):
    """With one referral, "the referrals cover ... from DATE to DATE" would be a child's date."""
    area = tmp_path / "area"
    create_area(area)
    lines = (area / "referrals.csv").read_text().splitlines()[: rows + 1]
    (area / "referrals.csv").write_text("\n".join(lines) + "\n")
    dates = {cell for line in lines[1:] for cell in line.split(",") if cell[:2] in ("19", "20")}
    assert main(["calibrate", "--referrals", str(area / "referrals.csv"), "--base",
                 str(area / "scenario.yaml"), "--out", str(tmp_path / "c.yaml")]) == 1
    printed = capsys.readouterr()
    assert "eight weeks" in printed.err
    for date in dates:
        assert date not in printed.out + printed.err
