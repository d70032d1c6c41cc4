"""Any reader error is a message with a place (issue 23, class 6).

Every low-level fault a file can have (a NUL byte, a control character, bytes that are not
UTF-8, a YAML syntax error, a symbolic-link loop, a folder or a missing file where a file is
expected) is put in every role a file plays (a scenario, the base it extends, its snapshot, a
grid, calibrate's three CSV files, an app upload). Each time the command exits 1 with messages
that start with the file's name, and no traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from asdsim.app import sources
from asdsim.cli import main
from asdsim.errors import ScenarioError, os_error_message, unexpected_error_message
from asdsim.templates_area import create_area

FIXTURES = Path(__file__).parent / "fixtures"


def _fault(path: Path, fault: str) -> None:
    """Make ``path`` a file (or not a file) with ``fault``."""
    if path.exists() or path.is_symlink():
        path.unlink()
    if fault == "nul byte":
        path.write_bytes(b"name: x\x00y\n")
    elif fault == "control character":
        path.write_bytes(b"name: x\x07y\nstart_date: 2020-01-06\n")
    elif fault == "not utf-8":
        path.write_bytes(b"name: \xff\xfe\x81x\n")
    elif fault == "yaml syntax":
        path.write_text("name: [unclosed\nteams: {\n")
    elif fault == "symlink loop":
        other = path.with_name(path.name + ".other")
        path.symlink_to(other)
        other.symlink_to(path)
    elif fault == "folder":
        path.mkdir()
    elif fault == "missing":
        pass
    elif fault == "dangling link":
        path.symlink_to(path.with_name("nowhere"))


FAULTS = ["nul byte", "control character", "not utf-8", "yaml syntax", "symlink loop", "folder",
          "missing", "dangling link"]


def _area(tmp_path: Path) -> Path:
    area = tmp_path / "area"
    create_area(area)
    (area / "child.yaml").write_text("extends: scenario.yaml\nname: child\n")
    shutil.copy(FIXTURES / "small.yaml", area / "small.yaml")
    (area / "grid.yaml").write_text("base: small.yaml\nvary:\n  demand.annual_growth: [0.0]\n")
    return area


# role -> (the file given the fault, the command line)
ROLES = {
    "scenario": ("small.yaml", lambda a: ["run", str(a / "small.yaml"), "--out", str(a / "o")]),
    "extended base": ("scenario.yaml", lambda a: ["validate", str(a / "child.yaml")]),
    "snapshot": ("waiting_list.csv", lambda a: ["validate", str(a / "scenario.yaml")]),
    "grid": ("grid.yaml", lambda a: ["sweep", str(a / "grid.yaml"), "--out", str(a / "o")]),
    "grid base": ("small.yaml", lambda a: ["sweep", str(a / "grid.yaml"), "--out", str(a / "o")]),
    "referrals": ("referrals.csv", lambda a: [
        "calibrate", "--referrals", str(a / "referrals.csv"), "--base", str(a / "scenario.yaml"),
        "--out", str(a / "c.yaml")]),
    "activity": ("activity.csv", lambda a: [
        "calibrate", "--referrals", str(a / "referrals.csv"), "--base", str(a / "scenario.yaml"),
        "--activity", str(a / "activity.csv"), "--out", str(a / "c.yaml")]),
    "calibrate base": ("scenario.yaml", lambda a: [
        "calibrate", "--referrals", str(a / "referrals.csv"), "--base", str(a / "scenario.yaml"),
        "--out", str(a / "c.yaml")]),
    "plan scenario": ("small.yaml", lambda a: [
        "plan", str(a / "small.yaml"), "--target", "backlog_cleared_weeks <= 12", "--from",
        "2019-03-04", "--vary", "slt", "--out", str(a / "o")]),
    "sensitivity scenario": ("small.yaml", lambda a: [
        "sensitivity", str(a / "small.yaml"), "--out", str(a / "o")]),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_reader_error_is_a_message_with_a_place(tmp_path, capsys, role, fault):
    area = _area(tmp_path)
    name, argv = ROLES[role]
    if role == "snapshot" and fault in ("yaml syntax",):
        pytest.skip("a CSV file has no YAML syntax")
    _fault(area / name, fault)
    code = main(argv(area))
    printed = capsys.readouterr()
    assert code == 1, printed
    assert "Traceback" not in printed.err + printed.out
    lines = [line.strip() for line in printed.err.splitlines() if line.strip()]
    assert lines, printed
    assert any(name in line for line in lines), lines
    assert not (area / "o").exists()


@pytest.mark.parametrize("fault", ["nul byte", "control character", "not utf-8", "yaml syntax"])
def test_an_app_upload_is_read_the_same_way(tmp_path, fault):
    path = tmp_path / "up.yaml"
    _fault(path, fault)
    folder = sources.SessionFolder()
    try:
        with pytest.raises(ScenarioError) as caught:
            sources.load_upload(folder, "up.yaml", path.read_bytes())
    finally:
        folder.close()
    assert all(p.file == "up.yaml" for p in caught.value.problems)


def test_os_errors_are_a_place_and_a_fix():
    import errno

    error = OSError(errno.ELOOP, "Too many levels of symbolic links", "area/loop.yaml")
    assert os_error_message(error) == ("area/loop.yaml: too many levels of symbolic links; a "
                                       "symbolic link points back to itself; fix or remove it")
    try:
        raise ValueError("a cell: Smith")
    except ValueError as exc:
        message = unexpected_error_message(exc)
    assert "Smith" not in message and "ValueError" in message
