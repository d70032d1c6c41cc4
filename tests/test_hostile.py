"""Hostile and careless inputs: every file in tests/hostile/ is refused cleanly by the CLI.

Each case is a scenario file (some name a CSV snapshot beside them). ``validate`` and ``run`` must
exit 1, name the file at fault and the field or column (or, for a file-level problem, what is
wrong), print no traceback, write nothing, and never repeat a cell of a snapshot that could
identify a child (the CSVs carry sentinel names, postcodes and dates for that check).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from asdsim.cli import main

HOSTILE = Path(__file__).parent / "hostile"

# case (scenario file stem) -> (file named in the message, field or column named, phrase expected)
CASES: dict[str, tuple[str, str, str]] = {
    "alias_bomb": ("alias_bomb.yaml", "", "alias bomb"),
    "recursive_alias": ("recursive_alias.yaml", "", "recursive alias"),
    "deep_nesting": ("deep_nesting.yaml", "", "nest more than 50 deep"),
    "extends_dev_zero": ("extends_dev_zero.yaml", "extends", "device, pipe or socket"),
    "extends_folder": ("extends_folder.yaml", "extends", "folder"),
    "extends_itself": ("extends_itself.yaml", "extends", "extends cycle"),
    "duplicate_key": ("duplicate_key.yaml", "horizon_weeks", "key given twice"),
    "locality_on": ("locality_on.yaml", "demand.localities", "read by YAML as true/false"),
    "horizon_yes": ("horizon_yes.yaml", "horizon_weeks", "not true/false"),
    "date_feb_30": ("date_feb_30.yaml", "start_date", "date in the calendar"),
    "date_month_13": ("date_month_13.yaml", "start_date", "date in the calendar"),
    "date_year_9999": ("date_year_9999.yaml", "start_date", "2200-12-31"),
    "wte_inf": ("wte_inf.yaml", "teams.mdt.staff.psychologist.wte", "finite number"),
    "max_years_inf": ("max_years_inf.yaml", "demand.age_bands[0].max_years", "finite number"),
    "referrals_1e300": ("referrals_1e300.yaml", "demand.referrals_per_week", "at most 1,000,000,000"),
    "referrals_1e8": ("referrals_1e8.yaml", "demand.referrals_per_week", "<= 10,000"),
    "referrals_inf": ("referrals_inf.yaml", "demand.referrals_per_week", "finite number"),
    "min_gap_inf": ("min_gap_inf.yaml", "teams.mdt.steps[1].min_gap_days", "finite number"),
    "dna_nan": ("dna_nan.yaml", "teams.mdt.steps[0].dna_probability", "finite number"),
    "not_utf8": ("not_utf8.yaml", "", "UTF-8"),
    "top_level_list": ("top_level_list.yaml", "", "must be a YAML mapping"),
    "tab_indented": ("tab_indented.yaml", "", "not valid YAML"),
    "overlapping_teams": ("overlapping_teams.yaml", "teams.older.min_age_years", "overlap"),
    "capacity_change_unknown_team": ("capacity_change_unknown_team.yaml", "capacity_changes[1].team",
                                     "no team 'nobody'"),
    "count_huge": ("count_huge.yaml", "initial_state.backlog[0].count", "at most"),
    "csv_dev_zero": ("csv_dev_zero.yaml", "initial_state.csv", "device, pipe or socket"),
    "csv_folder": ("csv_folder.yaml", "initial_state.csv", "folder"),
    "csv_missing_file": ("csv_missing_file.yaml", "initial_state.csv", "not found"),
    "csv_semicolons": ("csv_semicolons.csv", "", "separated by semicolons"),
    "csv_header_only": ("csv_header_only.csv", "", "no rows"),
    "csv_empty": ("csv_empty.csv", "", "empty"),
    "csv_duplicate_rows": ("csv_duplicate_rows.csv", "", "repeats line 2"),
    "csv_adult_age": ("csv_adult_age.csv", "age_years", "for children"),
    "csv_aged_out_by_start": ("csv_aged_out_by_start.csv", "age_years", "by start_date"),
    "csv_dob_after_referral": ("csv_dob_after_referral.csv", "date_of_birth", "after referral_date"),
    "csv_misaligned_name": ("csv_misaligned_name.csv", "", "8 cells but the header has 7"),
    "csv_shifted_cells": ("csv_shifted_cells.csv", "stage", "expected one of"),
    "csv_utf16_without_bom": ("csv_utf16_without_bom.csv", "", "UTF-16 with a byte-order mark"),
    "csv_slash_dates": ("csv_slash_dates.csv", "referral_date", "YYYY-MM-DD"),
    "csv_referral_after_start": ("csv_referral_after_start.csv", "referral_date", "after the scenario's"),
    "csv_postcode_as_locality": ("csv_postcode_as_locality.csv", "locality", "expected one of north"),
    "csv_unknown_priority": ("csv_unknown_priority.csv", "priority", "expected one of urgent"),
    "csv_huge_unread_cell": ("csv_huge_unread_cell.csv", "stage", "expected one of"),
    "csv_cp1252_bad_stage": ("csv_cp1252_bad_stage.csv", "stage", "expected one of"),
    "csv_nan_age": ("csv_nan_age.csv", "age_years", "number of years"),
    "csv_missing_stage_column": ("csv_missing_stage_column.csv", "", "missing column(s): stage"),
    "csv_no_locality_column": ("csv_no_locality_column.csv", "locality", "missing column"),
    "csv_nul_bytes": ("csv_nul_bytes.csv", "", "NUL bytes"),
    "csv_unclosed_quote": ("csv_unclosed_quote.csv", "", "double quotes"),
}

# cells of the snapshots that identify a child: never in any message
SENTINELS = ("SECRET", "Smith", "ZZ9", "9990001234", "2013-07-19", "2019-11-23", "19/07/2013",
             "23/11/2019", "2019-12-24", "2021-03-04", "Zo")


def test_every_hostile_file_has_a_case():
    stems = {p.stem for p in HOSTILE.glob("*.yaml") if not p.name.startswith("_")}
    assert stems == set(CASES)
    csvs = {p.stem for p in HOSTILE.glob("*.csv")}
    assert csvs <= stems
    assert len(list(HOSTILE.iterdir())) >= 25


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_is_refused_cleanly(case, command, tmp_path, capsys, monkeypatch):
    file_named, field, phrase = CASES[case]
    path = HOSTILE / f"{case}.yaml"
    out = tmp_path / "o"
    monkeypatch.chdir(tmp_path)  # a stray write into the working folder would show too
    argv = ["validate", str(path)] if command == "validate" else \
        ["run", str(path), "--out", str(out), "--replications", "1"]
    code = main(argv)
    printed = capsys.readouterr()
    stderr = printed.err
    assert code == 1, (printed.out, stderr)
    assert "Traceback" not in stderr + printed.out
    problems = [line for line in stderr.splitlines() if file_named in line and phrase in line]
    assert problems, stderr
    if field:
        assert any(f": {field}: " in line for line in problems), stderr
    for secret in SENTINELS:
        assert secret not in stderr + printed.out, (secret, stderr)
    assert not out.exists() or not any(out.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == []
