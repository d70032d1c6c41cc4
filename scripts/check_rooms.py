"""Check that every room of the package fits its work: no function over cyclomatic complexity 20
and no module over 500 lines.

Complexity is radon's (``radon cc``), which counts ``and``/``or``, comprehensions' ``if`` clauses
and ``try`` arms that ruff's mccabe rule (C901) leaves out, so a function ruff passes can still
be over the limit here. Every function, method and nested function is checked; a class is not,
since radon scores a class as the sum of its methods. One line per room over its limit::

    asdsim/experiments/plan/run.py:76 plan complexity 38
    asdsim/experiments/plan.py:1 module 1520 lines

Usage (from the repository root, with the test extra installed)::

    python scripts/check_rooms.py            # checks asdsim/
    python scripts/check_rooms.py PATH ...   # checks these folders or .py files

Exit 0 when every room fits, 1 when any does not (or a file cannot be parsed), 2 for a usage
error such as a path that does not exist.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from radon.complexity import add_inner_blocks, cc_visit
from radon.visitors import Function

MAX_COMPLEXITY = 20
MAX_LINES = 500


def python_files(paths: list[Path]) -> list[Path]:
    """Every ``.py`` file under the given folders (and the given files), sorted."""
    found: set[Path] = set()
    for path in paths:
        found.update(path.rglob("*.py") if path.is_dir() else [path])
    return sorted(found)


def _functions(source: str) -> Iterator[Function]:
    """Every function, method and nested function radon finds in a module's source."""
    for block in add_inner_blocks(cc_visit(source)):
        if isinstance(block, Function):
            yield block


def module_problems(path: Path) -> list[str]:
    """One line per function of ``path`` over the complexity limit, and one if it is too long."""
    source = path.read_text(encoding="utf-8")
    try:
        functions = list(_functions(source))
    except SyntaxError as error:
        return [f"{path}:{error.lineno or 1} cannot be parsed: {error.msg}"]
    problems = [f"{path}:{function.lineno} {function.fullname} complexity {function.complexity}"
                for function in sorted(functions, key=lambda f: f.lineno)
                if function.complexity > MAX_COMPLEXITY]
    lines = len(source.splitlines())
    if lines > MAX_LINES:
        problems.append(f"{path}:1 module {lines} lines")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("asdsim")],
                        help="folders or .py files to check (default: asdsim)")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")

    files = python_files(args.paths)
    problems = [problem for path in files for problem in module_problems(path)]
    for problem in problems:
        sys.stdout.write(problem + "\n")
    if problems:
        sys.stdout.write(f"{len(problems)} rooms over their limits (complexity {MAX_COMPLEXITY}, "
                         f"{MAX_LINES} lines) in {len(files)} modules\n")
        return 1
    sys.stdout.write(f"every room fits: {len(files)} modules, no function over complexity "
                     f"{MAX_COMPLEXITY}, no module over {MAX_LINES} lines\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
