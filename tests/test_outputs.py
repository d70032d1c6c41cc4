"""Output folders: written all at once, with the permissions a plain mkdir would give."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from asdsim.reporting.outputs import atomic_folder


@pytest.fixture
def umask():
    """Set a umask for one test and restore the old one afterwards."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_output_folder_follows_the_umask(tmp_path, umask, mask):
    umask(mask)
    out = tmp_path / "results"
    with atomic_folder(out) as tmp:
        (tmp / "kpis.csv").write_text("kpi\n")
        (tmp / "charts").mkdir()
    expected = 0o777 & ~mask
    assert stat.S_IMODE(out.stat().st_mode) == expected  # not 0700 from tempfile.mkdtemp
    assert stat.S_IMODE((out / "charts").stat().st_mode) == expected
    assert stat.S_IMODE((out / "kpis.csv").stat().st_mode) == 0o666 & ~mask
    plain = tmp_path / "plain"
    plain.mkdir()
    assert stat.S_IMODE(plain.stat().st_mode) == stat.S_IMODE(out.stat().st_mode)


def test_a_replaced_folder_gets_them_too(tmp_path, umask):
    umask(0o022)
    out = tmp_path / "results"
    out.mkdir(mode=0o700)
    (out / "old.txt").write_text("old")
    (out / "provenance.json").write_text("{}")  # an earlier results folder
    (out / ".asdsim-written").write_text("old.txt\nprovenance.json\n")  # ... whose files asdsim wrote
    with atomic_folder(out, force=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert sorted(p.name for p in out.iterdir()) == [".asdsim-written", "new.txt"]
    assert not [p for p in Path(tmp_path).iterdir() if p.name.startswith(".")]  # nothing left


def test_a_sweep_writes_its_table_as_csv_too(tmp_path):
    import shutil

    import pandas as pd

    from asdsim.experiments.grid import load_grid
    from asdsim.experiments.sweep import run_sweep

    shutil.copy(Path(__file__).parent / "fixtures" / "small.yaml", tmp_path / "small.yaml")
    (tmp_path / "grid.yaml").write_text(
        "base: small.yaml\nreplications: 2\nseed: 3\n"
        "vary:\n  teams.school.staff.psychologist.wte: [0.4, 0.8]\n")
    result = run_sweep(load_grid(tmp_path / "grid.yaml"), tmp_path / "out", chart=False)
    csv = pd.read_csv(tmp_path / "out" / "sweep.csv")
    parquet = pd.read_parquet(tmp_path / "out" / "sweep.parquet")
    assert list(csv.columns) == list(parquet.columns) == list(result.table.columns)
    pd.testing.assert_frame_equal(csv, parquet.astype({c: csv[c].dtype for c in csv}),
                                  check_exact=False, rtol=1e-11)  # 12 significant digits
