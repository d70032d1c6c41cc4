"""Hash every table of every shipped, benchmark and regression scenario, to prove a refactor
changed no number.

Each scenario is simulated for a few replications with a fixed seed in this process
(``jobs=1``), and each of its tables (patients, weekly, teams_weekly, staff_weekly, kpis,
kpis_by_replication) is written as CSV with full float precision and hashed with SHA-256. One
line per scenario and table::

    scenarios/as_is_2018.yaml patients 3f0c...

Usage (from the repository root, with the package installed)::

    python scripts/table_hashes.py --save before.txt      # before the change
    python scripts/table_hashes.py --compare before.txt   # after: exit 1 if any hash moved

``--compare`` prints every line that differs (and any scenario or table missing from one side)
and ``identical: N tables`` when none does. The same seed and replications must be used on both
sides (they are written in the file's first line and checked).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import pandas as pd

import asdsim

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("patients", "weekly", "teams_weekly", "staff_weekly", "kpis", "kpis_by_replication")


def default_scenarios() -> list[Path]:
    """The shipped scenarios, the standard benchmark and the regression scenarios."""
    return [*sorted((ROOT / "scenarios").glob("*.yaml")), ROOT / "benchmarks" / "standard.yaml",
            *sorted(p for p in (ROOT / "scenarios" / "regression").glob("*.yaml")
                    if not p.name.endswith(".expected.yaml"))]


def table_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's CSV (column names, every value at full precision, row order)."""
    text = frame.to_csv(index=False, float_format=None, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scenario_hashes(path: Path, replications: int, seed: int) -> list[str]:
    """One ``SCENARIO TABLE HASH`` line per table of one scenario."""
    results = asdsim.simulate(path, replications=replications, seed=seed, jobs=1)
    name = path.resolve().relative_to(ROOT).as_posix()
    return [f"{name} {table} {table_hash(getattr(results, table))}" for table in TABLES]


def _compare(lines: list[str], saved: list[str]) -> list[str]:
    """Lines describing each difference between two hash lists (empty: identical)."""
    def keyed(rows: list[str]) -> dict[str, str]:
        return {row.rsplit(" ", 1)[0]: row.rsplit(" ", 1)[1] for row in rows}

    now, before = keyed(lines), keyed(saved)
    out = []
    for key in sorted(set(now) | set(before)):
        if key not in before:
            out.append(f"new      {key}")
        elif key not in now:
            out.append(f"missing  {key}")
        elif now[key] != before[key]:
            out.append(f"CHANGED  {key} {before[key][:12]} -> {now[key][:12]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", type=Path,
                        help="scenario files (default: shipped, benchmark and regression)")
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12345)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--save", type=Path, help="write the hashes to this file")
    group.add_argument("--compare", type=Path, help="compare with hashes saved earlier")
    args = parser.parse_args(argv)

    header = f"# seed {args.seed} replications {args.replications}"
    if args.compare is not None:
        saved = args.compare.read_text(encoding="utf-8").splitlines()
        if not saved or saved[0] != header:
            sys.stderr.write(f"{args.compare}: saved with other settings ({saved[:1]}), "
                             f"not {header!r}\n")
            return 2
    lines = []
    for path in args.scenarios or default_scenarios():
        for line in scenario_hashes(path, args.replications, args.seed):
            lines.append(line)
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    if args.save is not None:
        args.save.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    if args.compare is not None:
        run = {line.split(" ", 1)[0] for line in lines}
        # scenarios named on the command line are compared alone
        kept = [row for row in saved[1:] if not args.scenarios or row.split(" ", 1)[0] in run]
        differences = _compare(lines, kept)
        for difference in differences:
            sys.stdout.write(difference + "\n")
        if differences:
            return 1
        sys.stdout.write(f"identical: {len(lines)} tables\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
