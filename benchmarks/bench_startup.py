"""How long the ``asdsim`` command takes before it starts work, and what its imports cost.

Prints, for ``asdsim --version``, ``asdsim --help`` and ``asdsim validate scenarios/minimal.yaml``
(targets: 0.5 s, 0.5 s and 1 s), the wall time of the whole process (median and best of
``--rounds``, run alternately with a bare ``python -c pass`` so the interpreter's own start is
shown beside them), then the import time of ``asdsim``, ``asdsim.cli`` and the ``validate``
command's module from ``python -X importtime`` with the slowest imports under each, and the load
average (the machine may be shared: compare figures from the same run).

Run: ``python benchmarks/bench_startup.py [--rounds N]`` from the repository root, with the
package installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (
    ("asdsim --version", ["--version"], 0.5),
    ("asdsim --help", ["--help"], 0.5),
    ("asdsim validate scenarios/minimal.yaml", ["validate", "scenarios/minimal.yaml"], 1.0),
)
IMPORTS = ("asdsim", "asdsim.cli", "asdsim.cli.validate")


def _asdsim() -> list[str]:
    """The installed ``asdsim`` command, or the same entry point through this interpreter."""
    found = shutil.which("asdsim", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-c", "import sys; from asdsim.cli import main; "
                                                        "sys.exit(main())"]


def wall_seconds(argv: list[str]) -> float:
    """Wall time of one process running ``argv`` to its end."""
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    return time.perf_counter() - started


def _importtime(code: str) -> list[tuple[float, str]]:
    """(cumulative seconds, indented name) of each import ``python -X importtime`` reports."""
    log = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                         cwd=ROOT, capture_output=True, text=True, check=True).stderr
    rows = []
    for line in log.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            _, cumulative, name = line[len("import time:"):].split("|")
            rows.append((int(cumulative) / 1e6, name.rstrip()[1:]))  # after "| "
    return rows


def import_times(module: str, slowest: int = 4) -> tuple[float, list[tuple[float, str]]]:
    """Seconds to import ``module`` in a fresh interpreter (``-X importtime``: the cumulative
    times of its top-level imports, the interpreter's own start-up left out), and the
    ``slowest`` imports one level under those."""
    interpreter = {name for _, name in _importtime("pass")}
    rows = [(s, n) for s, n in _importtime(f"import {module}") if n not in interpreter]
    total = sum(s for s, n in rows if not n.startswith(" "))
    under = [(s, n.strip()) for s, n in rows if n.startswith("  ") and not n.startswith("   ")]
    return total, sorted(under, reverse=True)[:slowest]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs of each command (default 7)")
    args = parser.parse_args()
    command = _asdsim()
    bare = [sys.executable, "-c", "pass"]
    wall_seconds([*command, "--version"])  # files into the page cache
    times: dict[str, list[float]] = {"python -c pass": []}
    for _ in range(args.rounds):
        times["python -c pass"].append(wall_seconds(bare))
        for name, argv, _target in COMMANDS:
            times.setdefault(name, []).append(wall_seconds([*command, *argv]))
    print(f"wall time of the whole process, {args.rounds} rounds run alternately "
          f"(load average {os.getloadavg()[0]:.1f}):")
    targets = {name: target for name, _, target in COMMANDS}
    for name, seconds in times.items():
        target = f" (target <= {targets[name]:.1f} s)" if name in targets else ""
        print(f"  {name:40} median {statistics.median(seconds):.2f} s, best {min(seconds):.2f} s"
              f"{target}")
    print("import time (python -X importtime, cumulative), with the slowest imports under it:")
    for module in IMPORTS:
        total, slowest = import_times(module)
        shown = ", ".join(f"{name} {seconds:.3f}" for seconds, name in slowest)
        print(f"  import {module:22} {total:.3f} s   [{shown}]")


if __name__ == "__main__":
    main()
