"""Writing a calibrated scenario and its fit report, with the rules for where.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from asdsim.errors import AsdsimError
from asdsim.experiments.calibrate.result import CALIBRATED_MARK, Calibration


def written_by_calibrate(path: Path) -> bool:
    """Whether ``path`` is a regular file whose first line starts with :data:`CALIBRATED_MARK`."""
    if not path.is_file() or path.is_symlink():
        return False
    try:
        with open(path, "rb") as handle:
            return handle.read(len(CALIBRATED_MARK)) == CALIBRATED_MARK.encode()
    except OSError:
        return False


def check_scenario_output(out: Path, folder: Path, inputs: Sequence[str | Path], force: bool) -> None:
    """The rules for writing a fitted scenario and its report folder, before any work: neither
    is, holds or sits inside an input (:func:`asdsim.files.guard_output`); OUT is not a folder,
    and an existing OUT is replaced only with ``force`` and only if asdsim calibrate wrote it (its
    first line starts with :data:`CALIBRATED_MARK`); the folder as
    :func:`asdsim.reporting.outputs.check_destination`.

    Raises
    ------
    AsdsimError
        Naming what is in the way and what to do.
    """
    from asdsim.files import guard_output
    from asdsim.reporting.outputs import check_destination

    guard_output(out, inputs)
    guard_output(folder, [*inputs, out], "--report")
    if out.is_dir():
        raise AsdsimError(f"{out} is a folder; expected the path of a scenario file to write")
    if out.exists() or out.is_symlink():
        if not force:
            raise AsdsimError(f"{out} exists; choose another --out or add --force to replace it")
        if not written_by_calibrate(out):
            raise AsdsimError(f"{out} was not written by asdsim calibrate (its first line is not "
                              f"'{CALIBRATED_MARK}...'); --force replaces only a calibrated scenario, "
                              "so choose another --out")
    check_destination(folder, force, inputs)


def report_folder(out: str | Path) -> Path:
    """Default folder of the fit report beside a calibrated scenario: ``<name>_fit``."""
    out = Path(out)
    return out.with_name(f"{out.stem}_fit")


def write_calibration(calibration: Calibration, out: str | Path, report: str | Path | None = None,
                      force: bool = False) -> tuple[Path, Path]:
    """Write the calibrated scenario (YAML with comments) and its fit report.

    Parameters
    ----------
    calibration
        From :func:`calibrate`.
    out
        The scenario file to write.
    report
        The report folder (default :func:`report_folder` of ``out``).
    force
        Replace an existing scenario file and report folder.

    Returns
    -------
    tuple of Path
        The scenario file and the report folder.

    Raises
    ------
    AsdsimError
        When ``out`` exists (or the report folder is not empty) and ``force`` is false.
    """
    from asdsim.files import write_text_atomic
    from asdsim.reporting.calibration_report import write_calibration_report

    out = Path(out)
    folder = Path(report) if report is not None else report_folder(out)
    check_scenario_output(out, folder, calibration.files, force)
    text = calibration.yaml_text(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_calibration_report(calibration, folder, force)
    write_text_atomic(out, text)
    return out, folder
