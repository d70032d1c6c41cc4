"""The shipped scenario library, and naming one of its scenarios without a path.

The library is the ``scenarios/`` folder of the source tree: designs (``*.yaml``), the base files
they extend (``base/``), sweep grids (``grids/``) and regression scenarios (``regression/``).
An installed wheel carries the same folder as the package ``asdsim.scenario_library`` (the
build maps it onto ``scenarios/``; see ``pyproject.toml``), so there is one copy in the
repository and the library works from any folder after ``pip install .``.

A scenario argument is a file path or a shipped name (``nice_mdt``, or ``nice_mdt.yaml``). A
path to an existing file always wins; a name that is neither gets an error listing the shipped
names.
"""

from __future__ import annotations

from pathlib import Path

from asdsim.errors import Problem, ScenarioError

_PACKAGE = Path(__file__).resolve().parents[1]
_INSTALLED = _PACKAGE / "scenario_library"
"""Where a wheel puts the library (``asdsim/scenario_library``)."""
_SOURCE = _PACKAGE.parent / "scenarios"
"""``scenarios/`` beside the package in a checkout or an editable install."""


def library_folder() -> Path | None:
    """The shipped scenario library's folder, or None when neither copy exists."""
    for folder in (_INSTALLED, _SOURCE):
        if folder.is_dir() and any(folder.glob("*.yaml")):
            return folder
    return None


def _stems(folder: Path | None) -> dict[str, Path]:
    if folder is None or not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))
            if p.is_file() and not p.name.endswith(".expected.yaml")}


def shipped_scenarios() -> dict[str, Path]:
    """The shipped designs (``scenarios/*.yaml``) by name, in name order."""
    return _stems(library_folder())


def shipped_grids() -> dict[str, Path]:
    """The shipped sweep grids (``scenarios/grids/*.yaml`` with a ``vary:``, not the base
    scenarios beside them) by name, in name order."""
    folder = library_folder()
    files = _stems(folder / "grids" if folder is not None else None)
    return {name: path for name, path in files.items()
            if any(line.startswith("vary:") for line in path.read_text(encoding="utf-8").splitlines())}


def shipped_areas() -> dict[str, Path]:
    """The shipped areas tables (``scenarios/NAME/areas.csv`` or ``areas.yaml``, such as the
    illustrative ``england``) by folder name, in name order."""
    folder = library_folder()
    if folder is None:
        return {}
    tables = [*folder.glob("*/areas.csv"), *folder.glob("*/areas.yaml")]
    return {p.parent.name: p.parent for p in sorted(tables, key=lambda p: p.parent.name)
            if p.is_file()}


def _as_name(text: str) -> str | None:
    """``text`` as a shipped name (``nice_mdt`` or ``nice_mdt.yaml``), or None if it has a
    folder in it."""
    if not text or "/" in text or "\\" in text:
        return None
    return text.removesuffix(".yaml")


def resolve_scenario(path: str | Path, kind: str = "scenario") -> Path:
    """The file a scenario argument names: the path if such a file exists, else the shipped
    scenario (or, with ``kind="grid"``, grid) of that name.

    Parameters
    ----------
    path
        A file path, or a shipped name with or without ``.yaml``.
    kind
        ``scenario`` (``scenarios/*.yaml``), ``grid`` (``scenarios/grids/*.yaml``) or
        ``areas`` (a folder ``scenarios/NAME/`` holding ``areas.csv``).

    Returns
    -------
    Path
        The path as given when something exists there or when it has a folder in it (so the
        reader reports what is wrong with it), otherwise the shipped file of that name.

    Raises
    ------
    ScenarioError
        When a bare name is neither an existing file nor a shipped name; the message lists
        the shipped names.
    """
    given = Path(path)
    name = _as_name(str(path))
    if given.exists() or name is None:
        return given
    shipped = {"grid": shipped_grids, "areas": shipped_areas}.get(kind, shipped_scenarios)()
    if name in shipped:
        return shipped[name]
    names = ", ".join(shipped) if shipped else "none (the scenario library is not installed)"
    what = {"grid": "sweep grid", "areas": "areas table"}.get(kind, "scenario")
    raise ScenarioError([Problem(str(path), None, "",
                                 f"file not found, and not the name of a shipped {what}; the "
                                 f"shipped {what}s are: {names}")])


__all__ = ["library_folder", "resolve_scenario", "shipped_areas", "shipped_grids", "shipped_scenarios"]
