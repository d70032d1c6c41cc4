#!/usr/bin/env bash
# Mutation testing of asdsim/analysis, asdsim/scenario and asdsim/model with mutmut 3.
#
#   scripts/mutation.sh [--workers N] [--here] [analysis|scenario|model ...]
#
# By default the committed tree (git HEAD) is exported to mutants/tree/ and mutated there, so
# edits in progress are never mutated and the figure belongs to one commit; --here mutates the
# working tree instead (mutmut's own mutants/ folder then sits at the repository root). The
# configuration (which files are mutated, which tests run) is the [mutmut] section of setup.cfg.
# Results are kept: a second run on the same commit only tests mutants not yet tested, so the
# packages can be run one at a time. Prints killed / total per package; the survivors are listed
# with `cd mutants/tree && mutmut results` and shown with `mutmut show NAME`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

workers=1
here=0
packages=()
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --here) here=1; shift ;;
    analysis|scenario|model) packages+=("$1"); shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (expected --workers N, --here, analysis, scenario, model)" >&2
       exit 2 ;;
  esac
done
[ ${#packages[@]} -gt 0 ] || packages=(analysis scenario model)

if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
  . .venv/bin/activate
fi
command -v mutmut >/dev/null || { echo "mutmut is not installed (pip install 'mutmut>=3.3')" >&2; exit 2; }

if [ "$here" = 1 ]; then
  tree=$root
else
  tree=$root/mutants/tree
  commit=$(git rev-parse HEAD)
  if [ "$(cat "$tree/.commit" 2>/dev/null || true)" != "$commit" ]; then
    echo "exporting $commit to mutants/tree/"
    rm -rf "$tree"
    mkdir -p "$tree"
    git archive "$commit" | tar -x -C "$tree"
    echo "$commit" > "$tree/.commit"
  fi
fi

cd "$tree"
# property tests: a few fixed examples per mutant (see tests/hypothesis_profiles.py)
export HYPOTHESIS_PROFILE=mutation
names=()
for p in "${packages[@]}"; do names+=("asdsim.$p.*"); done
mutmut run --max-children "$workers" "${names[@]}" || true

mutmut results --all true > "$tree/mutmut-results.txt" 2>/dev/null || true
python - "$tree/mutmut-results.txt" "${packages[@]}" <<'PY'
import collections
import sys

path, packages = sys.argv[1], sys.argv[2:]
counts = collections.defaultdict(collections.Counter)
for line in open(path, encoding="utf-8"):
    name, sep, status = line.strip().rpartition(": ")
    if not sep or not name.startswith("asdsim."):
        continue
    counts[name.split(".")[1]][status] += 1
print(f"{'package':10s} {'killed':>7s} {'total':>6s} {'score':>6s}  other")
for package in packages:
    c = counts.get(package, collections.Counter())
    total = sum(c.values())
    killed = c["killed"] + c["timeout"]
    other = ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if k not in ("killed", "timeout"))
    score = f"{100 * killed / total:5.1f}%" if total else "    -"
    print(f"{package:10s} {killed:7d} {total:6d} {score}  {other}")
PY
