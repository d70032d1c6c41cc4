"""asdsim as a user gets it: a wheel built from this checkout, installed (not editable) in a
fresh virtual environment outside the source tree.

The wheel is built with ``--no-build-isolation`` from a copy of the sources, and installed with
``--no-deps --no-index``, so nothing is downloaded. The fresh environment sees the test
environment's third-party packages through a ``.pth`` line naming its ``site-packages``: a path
added that way is not a site folder, so the editable install's own ``.pth`` there is never run
and ``import asdsim`` finds only the installed wheel (:func:`installed` checks).

The environment is built once per content of the sources (a hash of ``pyproject.toml``,
``README.md``, ``asdsim/`` and ``scenarios/``), under a lock, and reused by every test process
(``pytest -n``) and later sessions; older ones are removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "asdsim", "scenarios")
PREFIX = "asdsim-installed-"


@dataclass(frozen=True)
class Installed:
    """A fresh environment with the wheel installed."""

    root: Path
    """The environment's folder."""

    @property
    def python(self) -> Path:
        """Its interpreter."""
        return self.root / "venv" / "bin" / "python"

    @property
    def asdsim(self) -> Path:
        """Its ``asdsim`` command."""
        return self.root / "venv" / "bin" / "asdsim"


def _files() -> list[Path]:
    out: list[Path] = []
    for name in SOURCES:
        path = REPO / name
        if path.is_file():
            out.append(path)
        else:
            out.extend(p for p in sorted(path.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
                       and not p.name.endswith((".pyc", ".egg-info")))
    return out


def source_hash() -> str:
    """A hash of every file the wheel is built from (names and bytes)."""
    digest = hashlib.sha256()
    for path in _files():
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _run(args: list[str | Path], cwd: Path) -> None:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")


def _build(root: Path) -> None:
    src = root / "src"
    for name in SOURCES:
        path = REPO / name
        if path.is_file():
            shutil.copy2(path, src / name if src.exists() else _mkdir(src) / name)
        else:
            shutil.copytree(path, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    wheels = root / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "--no-index", ".", "-w", wheels], cwd=src)
    _run([sys.executable, "-m", "venv", root / "venv"], cwd=root)
    venv_python = root / "venv" / "bin" / "python"
    wheel = next(wheels.glob("asdsim-*.whl"))
    _run([venv_python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel], cwd=root)
    site = subprocess.run([venv_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "test-environment-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.rmtree(src)  # nothing of the sources is left beside the environment


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def installed() -> Installed:
    """The fresh environment for the current sources, built if it is not there yet.

    Raises
    ------
    RuntimeError
        When the wheel cannot be built or installed, or the environment imports asdsim from
        anywhere but its own ``site-packages``.
    """
    base = Path(tempfile.gettempdir())
    root = base / f"{PREFIX}{source_hash()}"
    with open(base / f"{PREFIX}lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "ready").exists():
            for old in base.glob(f"{PREFIX}*"):
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
            root.mkdir()
            _build(root)
            (root / "ready").write_text("")
    env = Installed(root)
    found = subprocess.run([env.python, "-c", "import asdsim; print(asdsim.__file__)"], cwd=root,
                           capture_output=True, text=True).stdout.strip()
    if not found.startswith(str(root / "venv")):
        raise RuntimeError(f"the fresh environment imports asdsim from {found or 'nowhere'}")
    return env
