"""One CSV writer for every CSV asdsim writes (issue 23, class 2): no spreadsheet formulas, and
numbers at their meaning."""

from __future__ import annotations

import ast
import csv
import io
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import tests.hypothesis_profiles  # noqa: F401  (loads the profile)
from asdsim.cli import main
from asdsim.spreadsheet import DIGITS, FORMULA_STARTS, csv_number, csv_text

PACKAGE = Path(__file__).resolve().parent.parent / "asdsim"
FIXTURES = Path(__file__).parent / "fixtures"
NOISE = re.compile(r"\d\.\d*(0{6,}|9{6,})\d")


def test_no_module_writes_csv_but_the_writer():
    """Every ``to_csv`` call in the package is in asdsim/spreadsheet.py."""
    callers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("to_csv", "writer", "DictWriter") \
                    and path.name != "spreadsheet.py":
                if node.attr == "to_csv" or getattr(node.value, "id", "") == "csv":
                    callers.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert callers == []


def test_floats_are_written_at_their_meaning():
    assert csv_number(0.1 + 0.2) == "0.3"
    assert csv_number(0.45000000000000007) == "0.45"
    assert csv_number(1 / 3) == "0.333333333333"
    assert csv_number(2.0) == "2.0" and csv_number(-0.0) == "-0.0"
    assert csv_number(1e300) == "1e+300" and csv_number(5e-324) == "5e-324"
    assert math.isnan(csv_number(float("nan")))
    frame = pd.DataFrame({"x": np.array([0.1 + 0.2, np.nan], dtype=np.float32),
                          "n": [1, 2], "b": [True, False]})
    assert csv_text(frame).splitlines() == ["x,n,b", "0.300000011921,1,True", ",2,False"]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_written_float_reads_back_within_its_digits(x):
    back = float(csv_number(x))
    assert back == float(f"{x:.{DIGITS}g}")
    assert math.isclose(back, x, rel_tol=10.0 ** (1 - DIGITS), abs_tol=0.0) or x == 0


@given(st.text(max_size=8))
def test_no_text_cell_or_header_can_start_a_formula(text):
    frame = pd.DataFrame({text: [text, 1.5]})
    rows = list(csv.reader(io.StringIO(csv_text(frame), newline="")))
    assert len(rows) == 3  # one header, two rows: a line break inside a cell is quoted
    for cell in [rows[0][0], rows[1][0]]:
        assert not cell.startswith(FORMULA_STARTS)
        assert "\r" not in cell
    assert rows[2] == ["1.5"]  # a number is never given an apostrophe


def _cells(folder: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted(folder.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            found += [(path.name, cell) for row in csv.reader(handle) for cell in row]
    return found


def test_every_csv_of_a_run_is_safe_and_free_of_float_noise(tmp_path):
    text = (FIXTURES / "small.yaml").read_text().replace("{north: 0.5, south: 0.5}",
                                                          "{'=north': 0.5, '@south': 0.5}")
    text = text.replace("[north]", "['=north']").replace("[south]", "['@south']")
    (tmp_path / "s.yaml").write_text(text)
    assert main(["run", str(tmp_path / "s.yaml"), "--csv", "--replications", "2",
                 "--out", str(tmp_path / "o")]) == 0
    cells = _cells(tmp_path / "o")
    assert ("patients.csv", "'=north") in cells
    for name, cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
        if cell.startswith("-"):
            float(cell)  # only numbers start with a minus
        assert not NOISE.search(cell), (name, cell)


def test_a_sweep_table_is_written_by_the_same_writer(tmp_path):
    shutil.copy(FIXTURES / "small.yaml", tmp_path / "small.yaml")
    (tmp_path / "g.yaml").write_text("base: small.yaml\nreplications: 1\n"
                                     "vary:\n  demand.annual_growth: [0.1, 0.2]\n")
    assert main(["sweep", str(tmp_path / "g.yaml"), "--out", str(tmp_path / "o"), "--no-chart",
                 "--jobs", "1"]) == 0
    for name, cell in _cells(tmp_path / "o"):
        assert not NOISE.search(cell), (name, cell)
