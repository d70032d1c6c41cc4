"""A starting folder for a new area: ``asdsim init DIR``.

The files beside this module are copied into the folder: ``scenario.yaml`` (a design that stands
alone, every number commented as assumed, starting from ``waiting_list.csv``), example CSVs with
the exact columns ``asdsim calibrate`` reads (``referrals.csv``, ``waiting_list.csv``,
``activity.csv``; the rows are simulated, not real children) and a ``README.md`` of the steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from asdsim.errors import AsdsimError

FILES = ("scenario.yaml", "referrals.csv", "waiting_list.csv", "activity.csv", "README.md")
"""The files an area folder starts with, in the order they are written."""


class AreaExists(AsdsimError):
    """The folder is not empty (or is a file) and ``force`` was not given."""


@dataclass(frozen=True)
class Area:
    """What :func:`create_area` did."""

    folder: Path
    """The area's folder."""
    written: tuple[str, ...]
    """Files written."""
    kept: tuple[str, ...]
    """Files that were there already and were left as they were (with ``force``)."""

    @property
    def scenario(self) -> Path:
        """The area's scenario file."""
        return self.folder / "scenario.yaml"


def template_bytes(name: str) -> bytes:
    """The content of one template file (a name in :data:`FILES`)."""
    if name not in FILES:
        raise KeyError(name)
    return resources.files(__name__).joinpath(name).read_bytes()


def create_area(folder: str | Path, force: bool = False) -> Area:
    """Make a folder for a new area from the templates.

    Parameters
    ----------
    folder
        Where to put the files; made (with its parents) if missing.
    force
        Also write into a folder that is not empty. Nothing there is deleted or replaced: a file
        that already has one of the template names is kept as it is and listed in ``kept``.

    Returns
    -------
    Area
        The files written and kept.

    Raises
    ------
    AreaExists
        When ``folder`` is a file, or a folder that is not empty and ``force`` is false.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise AreaExists(f"{folder} is a file; expected a folder for the area")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise AreaExists(f"{folder} is not empty; choose a new folder, or add --force to add the "
                         "template files that are missing (nothing there is replaced)")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    kept: list[str] = []
    for name in FILES:
        target = folder / name
        try:  # "x": create only, so a file that appears meanwhile is never replaced either
            handle = open(target, "xb")
        except FileExistsError:
            kept.append(name)
            continue
        try:
            with handle:
                handle.write(template_bytes(name))
        except BaseException:
            target.unlink(missing_ok=True)  # only the file made just now
            raise
        written.append(name)
    return Area(folder=folder, written=tuple(written), kept=tuple(kept))
