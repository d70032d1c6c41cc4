"""The scenarios a page can start from, and what a user uploads.

Starting points are the shipped scenarios (the scenario library, installed with the package;
:mod:`asdsim.scenario.library`), the files
of the folder given with ``asdsim app --scenarios DIR``, or an uploaded scenario file. Files are
listed by the server; the page only picks among them by name, so no path ever comes from the
browser.

An uploaded scenario is checked exactly as ``asdsim validate`` checks a file (the same size,
nesting and alias limits, the same messages with file, line and field), from a private folder
of the session's (:class:`SessionFolder`). It may not name other files on the server: no
``extends:``, and a CSV snapshot only as one uploaded beside it. An uploaded snapshot is written
to the same folder, which is removed when the session ends or the upload is cleared.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from asdsim.app import settings
from asdsim.errors import Problem, ScenarioError
from asdsim.scenario.library import library_folder
from asdsim.scenario.loading import load_scenario, scenario_from_dict
from asdsim.scenario.schema import Scenario
from asdsim.scenario.yamlfile import parse_yaml


def shipped_folder() -> Path | None:
    """The shipped scenarios' folder (installed with the package, or ``scenarios/`` of a
    checkout), if there is one with scenario files."""
    return library_folder()


def list_scenarios(folder: Path | None) -> dict[str, Path]:
    """The scenario files directly in ``folder``, by file stem, in name order.

    Files named ``*.expected.yaml`` (regression results) are left out.
    """
    if folder is None or not folder.is_dir():
        return {}
    files = sorted(p for p in folder.glob("*.yaml") if p.is_file()
                   and not p.name.endswith(".expected.yaml"))
    return {p.stem: p for p in files}


def starting_points() -> dict[str, dict[str, Path]]:
    """The folders offered, by heading: ``{"Shipped scenarios": {stem: path}, ...}``."""
    out: dict[str, dict[str, Path]] = {}
    shipped = list_scenarios(shipped_folder())
    if shipped:
        out["Shipped scenarios"] = shipped
    extra = settings.scenarios_dir()
    if extra is not None:
        out[f"Scenarios in {extra.name or extra}"] = list_scenarios(extra)
    return out


@functools.lru_cache(maxsize=64)
def _load(path: str, mtime_ns: int, size: int) -> Scenario:
    return load_scenario(path)


def load_file(path: Path) -> Scenario:
    """A server-side scenario file, loaded once per version of the file.

    Raises
    ------
    ScenarioError
        With every problem of the file.
    """
    try:
        info = path.stat()
    except OSError:
        return load_scenario(path)  # reports the file as missing, as the CLI does
    return _load(str(path), info.st_mtime_ns, info.st_size)


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, suffix: str) -> str:
    """An uploaded file's name without any folder, reduced to letters, digits and ``._-``."""
    base = _SAFE.sub("_", Path(name.replace("\\", "/")).name).strip("._") or "upload"
    return base if base.lower().endswith(suffix) else base + suffix


class SessionFolder:
    """A private temporary folder of one session (mode 0700), removed when it is closed, when
    the session's state is dropped (garbage collected) or when the server stops."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="asdsim-app-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def close(self) -> None:
        """Remove the folder and everything in it."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        """Whether the folder has been removed."""
        return not self._finalizer.alive


def _renamed(error: ScenarioError, folder: Path, shown: dict[str, str]) -> ScenarioError:
    """The error with the private folder's paths replaced by the names the user gave."""
    prefix = str(folder)
    problems = []
    for p in error.problems:
        file = shown.get(Path(p.file).name, p.file) if p.file.startswith(prefix) else p.file
        message = p.message.replace(prefix + "/", "")
        problems.append(dataclasses.replace(p, file=file, message=message))
    return ScenarioError(problems)


def _too_large(name: str, size: int, limit: int, what: str) -> ScenarioError:
    return ScenarioError([Problem(name, None, "", f"{what} is larger than the limit of "
                                                  f"{limit / 1_000_000:g} MB ({size:,} bytes)")])


def save_snapshot(folder: SessionFolder, name: str, data: bytes, as_name: str | None = None) -> Path:
    """Write an uploaded CSV snapshot into the session's folder (size-capped).

    Raises
    ------
    ScenarioError
        When the file is over the snapshot limit.
    """
    shown = safe_name(name, ".csv")
    if len(data) > settings.MAX_CSV_BYTES:
        raise _too_large(shown, len(data), settings.MAX_CSV_BYTES, "snapshot")
    for old in folder.path.glob("*.csv"):
        old.unlink()
    path = folder.path / (as_name or shown)
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def load_upload(folder: SessionFolder, name: str, data: bytes,
                snapshot: tuple[str, bytes] | None = None) -> Scenario:
    """Check and load an uploaded scenario file as the CLI would.

    Parameters
    ----------
    folder
        The session's private folder.
    name
        The file's name as uploaded (only its last part is used, to name it in messages).
    data
        Its bytes.
    snapshot
        An uploaded CSV snapshot (name, bytes), used where the scenario names one.

    Raises
    ------
    ScenarioError
        Every problem, each with the file, line and field, as ``asdsim validate`` lists them.
    """
    shown = safe_name(name, ".yaml")
    if len(data) > settings.MAX_YAML_BYTES:
        raise _too_large(shown, len(data), settings.MAX_YAML_BYTES, "file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(shown, line, "", "expected text in UTF-8 (save the file "
                                                      "as UTF-8)")]) from None
    doc = parse_yaml(text, shown)  # the limits of the CLI's reader, before anything is written
    problems: list[Problem] = []
    csv_as: str | None = None
    if isinstance(doc.data, dict):
        if "extends" in doc.data:
            problems.append(Problem(
                shown, doc.line(("extends",)), "extends",
                "a scenario uploaded here cannot extend another file; upload the whole scenario "
                "(the page's 'scenario YAML' download, or scenario.resolved.yaml from asdsim run)"))
        state = doc.data.get("initial_state")
        if isinstance(state, dict) and state.get("kind") == "csv" and state.get("csv"):
            named = str(state["csv"])
            line = doc.line(("initial_state", "csv"))
            if named != Path(named.replace("\\", "/")).name or named in (".", ".."):
                problems.append(Problem(shown, line, "initial_state.csv",
                                        "name the snapshot by its file name alone, and upload it "
                                        "under 'Starting list'"))
            elif snapshot is None:
                problems.append(Problem(shown, line, "initial_state.csv",
                                        f"upload the snapshot {named!r} under 'Starting list'; a "
                                        "scenario uploaded here cannot read files on the server"))
            else:
                csv_as = named
    if problems:
        raise ScenarioError(problems)
    names = {shown: shown}
    if snapshot is not None and csv_as is not None:
        save_snapshot(folder, snapshot[0], snapshot[1], as_name=csv_as)
        names[csv_as] = safe_name(snapshot[0], ".csv")
    path = folder.path / shown
    path.write_bytes(data)
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise _renamed(exc, folder.path, names) from None
    finally:
        path.unlink(missing_ok=True)


def with_snapshot(data: dict[str, Any], path: Path, folder: SessionFolder, shown: str,
                  dates: str = "iso") -> Scenario:
    """A scenario (as a dict) started from the uploaded snapshot at ``path``, its dates read by
    ``dates`` (``iso``, ``day_first`` or ``month_first``).

    Raises
    ------
    ScenarioError
        When a row of the snapshot is invalid or does not fit the scenario (never echoing a
        cell; see docs/privacy.md).
    """
    data = copy.deepcopy(data)
    data["initial_state"] = {"kind": "csv", "csv": str(path), "dates": dates}
    try:
        return scenario_from_dict(data, name=str(data.get("name", "scenario")))
    except ScenarioError as exc:
        raise _renamed(exc, folder.path, {path.name: shown}) from None
