"""``asdsim calibrate``: fits that recover known parameters, inputs read safely, the written file."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
import yaml

import asdsim
from asdsim.cli import main
from asdsim.experiments.calibrate import DATE_SWITCH, calibrate, fit_referrals
from asdsim.model.demand import referral_days
from asdsim.scenario.dates import parse_date
from asdsim.scenario.schema import Demand
from asdsim.scenario.warm import warm_start_children
from asdsim.templates_area import create_area

START = dt.date(2021, 1, 4)
DAYS = 3 * 364
SEASON = [1.1, 1.0, 1.1, 0.9, 1.0, 1.1, 1.0, 0.6, 1.0, 1.1, 1.1, 1.0]
CHANGE = dt.date(2022, 7, 4)
TRUE = Demand.model_validate({
    "referrals_per_week": 12.0, "annual_growth": 0.08, "monthly_factors": SEASON,
    "step_changes": [{"date": CHANGE.isoformat(), "factor": 1.3}],
    "age_bands": [{"min_years": 0, "max_years": 18, "weight": 1}]})


def history(seed: int) -> np.ndarray:
    """Referral dates simulated by the model's own referral process."""
    times = referral_days(TRUE, START, DAYS, np.random.default_rng(seed))
    return np.datetime64(START) + np.floor(times).astype(int)


def test_known_parameters_fall_inside_the_fitted_intervals_at_about_95_percent():
    end = START + dt.timedelta(days=DAYS)
    truth = {"referrals_per_week": 12.0 * 1.08 ** (DAYS / 365.25) * 1.3, "annual_growth": 0.08,
             f"step_change[{CHANGE}]": 1.3}
    truth |= {f"monthly_factors[{m}]": f for m, f in enumerate(SEASON)}
    hits = dict.fromkeys(truth, 0)
    seeds = 40
    for seed in range(seeds):
        fit = fit_referrals(history(seed), end, [CHANGE], seed=seed).parameters.set_index("parameter")
        for name, value in truth.items():
            hits[name] += bool(fit.loc[name, "ci_low"] <= value <= fit.loc[name, "ci_high"])
    coverage = {k: v / seeds for k, v in hits.items()}
    assert all(0.85 <= c <= 1.0 for c in coverage.values()), coverage


def test_over_dispersion_is_found_and_widens_the_intervals():
    rng = np.random.default_rng(3)
    weeks = 156
    means = 20 * rng.gamma(2.0, 0.5, size=weeks)  # weekly rates that wander: negative binomial counts
    counts = rng.poisson(means)
    days = np.concatenate([np.datetime64(START) + 7 * w + rng.integers(0, 7, size=c)
                           for w, c in enumerate(counts)])
    fit = fit_referrals(days, START + dt.timedelta(days=7 * weeks))
    assert fit.overdispersed and fit.dispersion > 3
    poisson = fit_referrals(history(1), START + dt.timedelta(days=DAYS))
    assert not poisson.overdispersed and 0.7 < poisson.dispersion < 1.3


def parse_day(text, dayfirst=True):
    """A date as calibrate reads it (the scenario layer's parser, with calibrate's hints)."""
    return parse_date(text, "day_first" if dayfirst else "month_first", switch=DATE_SWITCH)


def test_dates_iso_or_day_first_and_never_echoed():
    assert parse_day("2024-03-05") == dt.date(2024, 3, 5)
    assert parse_day("05/03/2024") == dt.date(2024, 3, 5)
    assert parse_day("05.03.2024 00:00") == dt.date(2024, 3, 5)
    assert parse_day("05/03/2024", dayfirst=False) == dt.date(2024, 5, 3)
    for bad in ("13/13/2024", "31/02/2024", "5/3/24", "March 5"):
        reason = parse_day(bad)
        assert isinstance(reason, str) and bad not in reason
    assert "--no-dayfirst" in parse_day("05/13/2024")
    assert "--dayfirst" in parse_day("13/05/2024", dayfirst=False)


def test_an_ambiguous_date_reads_by_the_rule_asked_for():
    assert parse_date("03/04/2025", "day_first") == dt.date(2025, 4, 3)
    assert parse_date("03/04/2025", "month_first") == dt.date(2025, 3, 4)
    reason = parse_date("03/04/2025")  # iso, a snapshot's default
    assert isinstance(reason, str) and "YYYY-MM-DD" in reason and "03/04" not in reason
    assert "initial_state.dates: day_first" in reason
    assert parse_date("2025-04-03") == parse_date("2025-04-03 00:00") == dt.date(2025, 4, 3)


def area(tmp_path):
    made = create_area(tmp_path / "area")
    return made.folder, made.scenario


def test_excel_files_and_loose_category_names_are_read(tmp_path):
    _, scenario = area(tmp_path)
    rows = ["ID,Referral_Date,age_years,Source,Locality,notes"]
    rng = np.random.default_rng(0)
    for i, day in enumerate(np.datetime64("2024-01-01") + np.sort(rng.integers(0, 400, size=500))):
        d = day.astype(dt.date)
        rows.append(f"{i},{d:%d/%m/%Y},{rng.uniform(2, 16):.1f},"
                    f"{['GP', 'gp ', 'School', 'Health visitor', 'health-visitor'][i % 5]},"
                    f"{['Eastern ', 'SOUTHERN'][i % 2]},Café crème {i}")
    path = tmp_path / "excel.csv"
    path.write_bytes("\r\n".join(rows).encode("cp1252"))
    fit = calibrate(path, scenario)
    mix = fit.mixes.set_index(["kind", "category"])
    assert mix.loc[("source", "gp"), "count"] == 200
    assert mix.loc[("source", "health_visitor"), "count"] == 200
    assert mix.loc[("source", "parent"), "count"] == 0
    assert mix.loc[("locality", "eastern"), "count"] == 250
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(rows).encode("utf-8"))  # UTF-8 with a BOM
    assert calibrate(path, scenario).referral_fit.referrals == 500


def test_every_bad_row_is_named_by_line_and_column_without_its_content(tmp_path):
    _, scenario = area(tmp_path)
    path = tmp_path / "bad.csv"
    path.write_text("referral_date,date_of_birth,source,locality\n"
                    "01/02/2024,03/04/2019,gp,eastern\n"
                    "31/02/2024,03/04/2019,gp,eastern\n"          # line 3: no such date
                    "01/03/2024,Jane Smith,gp,eastern\n"          # line 4: a name in the age column
                    "01/03/2024,03/04/2019,Dr Who Surgery,eastern\n"  # line 5: unknown source
                    "01/03/2024,03/04/2019,gp,Westfield\n"        # line 6: unknown locality
                    "01/03/2024,03/04/2030,gp,eastern\n"          # line 7: born after referral
                    "01/03/2024,03/04/2019,gp,eastern,extra\n"    # line 8: a cell too many
                    "01/03/2026,03/04/2019,gp,eastern\n")         # line 9: after start_date
    with pytest.raises(asdsim.ScenarioError) as caught:
        calibrate(path, scenario)
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {(3, "referral_date"), (4, "date_of_birth"), (5, "source"), (6, "locality"),
                     (7, "date_of_birth"), (8, ""), (9, "referral_date")}
    text = str(caught.value)
    for secret in ("Jane", "Smith", "Dr Who", "Westfield", "31/02", "2030", "extra"):
        assert secret not in text


def test_calibrate_writes_a_commented_scenario_that_runs(tmp_path, capsys):
    folder, scenario = area(tmp_path)
    out = folder / "calibrated.yaml"
    args = ["calibrate", "--referrals", str(folder / "referrals.csv"), "--waiting-list",
            str(folder / "waiting_list.csv"), "--activity", str(folder / "activity.csv"),
            "--base", str(scenario), "--out", str(out), "--step-change", "2024-01-08"]
    assert main(args) == 0
    assert "referrals_per_week" in capsys.readouterr().out
    text = out.read_text()
    data = yaml.safe_load(text)
    # the template's warm start is kept: today's list holds only the children waiting
    assert "extends" not in data and data["initial_state"] == {
        "kind": "csv", "csv": "waiting_list.csv", "dates": "day_first", "warm": True}
    line = next(t for t in text.splitlines() if t.strip().startswith("referrals_per_week:"))
    assert "# fitted: Poisson GLM" in line and "95% CI" in line
    assert "95% CIs of the monthly factors" in text and "step changes before start_date" in text
    calibrated = asdsim.load_scenario(out)
    assert "demand.referrals_per_week" not in calibrated.assumed
    assert "teams.school_age_mdt.staff.psychologist.wte" in calibrated.assumed
    assert 10 < calibrated.demand.referrals_per_week < 20
    report = folder / "calibrated_fit"
    assert (report / "report.html").is_file()
    assert {p.name for p in (report / "charts").iterdir()} == {
        "referrals.png", "mixes.png", "activity.png", "waiting_list.png"}
    assert main(args) == 1  # refuses to replace without --force
    assert "exists" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def _day_first(path, out):
    """The ISO waiting list at ``path`` written as Excel writes UK dates (DD/MM/YYYY), to ``out``."""
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    dated = [i for i, h in enumerate(header) if h in ("referral_date", "date_of_birth")]
    rows = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        for i in dated:
            cells[i] = dt.date.fromisoformat(cells[i]).strftime("%d/%m/%Y")
        rows.append(",".join(cells))
    out.write_text("\r\n".join(rows) + "\r\n")
    return out


def test_a_day_first_waiting_list_calibrates_and_its_scenario_loads_and_runs(tmp_path):
    folder, scenario = area(tmp_path)
    uk = _day_first(folder / "waiting_list.csv", folder / "waiting_list_uk.csv")
    assert "/" in uk.read_text().splitlines()[1]
    out = folder / "calibrated.yaml"
    assert main(["calibrate", "--referrals", str(folder / "referrals.csv"), "--waiting-list",
                 str(uk), "--base", str(scenario), "--out", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["initial_state"] == {
        "kind": "csv", "csv": "waiting_list_uk.csv", "dates": "day_first", "warm": True}
    calibrated = asdsim.load_scenario(out)  # read again, in this process, as written
    iso = asdsim.load_scenario(scenario)  # the template reads the same list in ISO dates
    assert calibrated.initial_state.dates == "day_first"
    assert [(r.referral_date, r.age_months, r.stage) for r in calibrated._snapshot.rows] == [
        (r.referral_date, r.age_months, r.stage) for r in iso._snapshot.rows]
    results = asdsim.simulate(calibrated, replications=1, seed=1)
    # the list's children, and the warm start's part-way through assessment after them
    assert results.patients.from_backlog.sum() == (len(iso._snapshot.rows)
                                                   + warm_start_children(calibrated))
    # month first: a list whose first numbers go above 12 is refused, by line and column
    with pytest.raises(asdsim.ScenarioError) as caught:
        calibrate(folder / "referrals.csv", scenario, waiting_list=uk, dayfirst=False)
    problems = [p for p in caught.value.problems if p.line is not None]  # not "and N more"
    assert problems and all(p.field in ("referral_date", "date_of_birth") for p in problems)
    assert "--dayfirst (day first)" in problems[0].message
    month = calibrate(folder / "referrals.csv", scenario, waiting_list=folder / "waiting_list.csv",
                      dayfirst=False)
    assert month.data["initial_state"]["dates"] == "month_first"


def test_the_same_day_first_list_read_as_iso_names_line_and_column(tmp_path):
    folder, _ = area(tmp_path)
    uk = _day_first(folder / "waiting_list.csv", folder / "today_uk.csv")
    text = (folder / "scenario.yaml").read_text().replace("csv: waiting_list.csv", "csv: today_uk.csv")
    text = re.sub(r"\n  dates: day_first[^\n]*", "", text)  # the template's rule taken out
    (folder / "uk.yaml").write_text(text)  # initial_state.dates not given: iso
    with pytest.raises(asdsim.ScenarioError) as caught:
        asdsim.load_scenario(folder / "uk.yaml")
    problems = caught.value.problems
    first = uk.read_text().splitlines()[1].split(",")
    assert (problems[0].line, problems[0].field) == (2, "referral_date")
    assert problems[0].file.endswith("today_uk.csv")
    assert "expected a date as YYYY-MM-DD" in problems[0].message
    assert "initial_state.dates: day_first" in problems[0].message
    shown = str(caught.value)
    for cell in first[1:3]:
        assert cell not in shown
    said = text.replace("csv: today_uk.csv", "csv: today_uk.csv\n  dates: day_first")
    (folder / "uk.yaml").write_text(said)
    rows = len(uk.read_text().splitlines()) - 1
    assert len(asdsim.load_scenario(folder / "uk.yaml")._snapshot.rows) == rows


def test_the_readme_steps_run_as_written(tmp_path, capsys):
    """docs/your-area.md's three commands, with the example CSVs (small replications)."""
    folder = tmp_path / "myarea"
    assert main(["init", str(folder)]) == 0
    assert main(["calibrate", "--referrals", str(folder / "referrals.csv"), "--waiting-list",
                 str(folder / "waiting_list.csv"), "--activity", str(folder / "activity.csv"),
                 "--base", str(folder / "scenario.yaml"), "--out", str(folder / "calibrated.yaml")]) == 0
    assert main(["run", str(folder / "calibrated.yaml"), "--out", str(folder / "results"),
                 "--replications", "1"]) == 0
    assert (folder / "calibrated_fit" / "report.html").is_file()
    assert (folder / "results" / "report.html").is_file()
