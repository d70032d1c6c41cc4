#!/usr/bin/env bash
# Mutation testing of asdsim/analysis, asdsim/scenario and asdsim/model with mutmut 3.
#
#   scripts/mutation.sh [--workers N] [--here | --keep-tree] [--retest-survivors]
#                       [analysis|scenario|model ...]
#
# By default the committed tree (git HEAD) is exported to mutants/tree/ and mutated there, so
# edits in progress are never mutated and the figure belongs to one commit (a new commit means
# a fresh export). --keep-tree reuses mutants/tree/ as it is, whatever HEAD is now; --here
# mutates the working tree instead (mutmut's own mutants/ folder then sits at the repository
# root). The configuration (which files are mutated, which tests run) is the [mutmut] section of
# setup.cfg. Each named package's mutants are all (re)tested. --retest-survivors first copies
# HEAD's pinned tests (tests/test_pinned_*.py) into the tree and retests only the package's
# surviving mutants, keeping the other verdicts: the source and the other tests stay those of
# the tree's commit (mutants/tree/.commit). Prints killed / total per package; list the survivors with
# `cd mutants/tree && mutmut results` and show one with `mutmut show NAME`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

workers=1
here=0
keep=0
retest=0
packages=()
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --here) here=1; shift ;;
    --keep-tree) keep=1; shift ;;
    --retest-survivors) retest=1; keep=1; shift ;;
    analysis|scenario|model) packages+=("$1"); shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
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
  if [ ! -f "$tree/.commit" ] || { [ "$keep" = 0 ] && [ "$(cat "$tree/.commit")" != "$commit" ]; }; then
    echo "exporting $commit to mutants/tree/"
    rm -rf "$tree"
    mkdir -p "$tree"
    git archive "$commit" | tar -x -C "$tree"
    echo "$commit" > "$tree/.commit"
  fi
  if [ "$retest" = 1 ]; then
    echo "pinned tests from HEAD ($(git rev-parse --short HEAD)); the rest from $(cut -c1-7 "$tree/.commit")"
    git archive HEAD $(git ls-tree --name-only HEAD tests/ | grep '^tests/test_pinned_') \
      | tar -x -C "$tree"
  fi
fi

cd "$tree"
# property tests: a few fixed examples per mutant (see tests/hypothesis_profiles.py)
export HYPOTHESIS_PROFILE=mutation
names=()
if [ "$retest" = 1 ]; then
  for p in "${packages[@]}"; do
    while read -r name; do names+=("$name"); done < <(
      mutmut results 2>/dev/null | awk -F': ' -v p="asdsim.$p." \
        'index($1, p) && $2 == "survived" {gsub(/^ +/, "", $1); print $1}')
  done
  [ ${#names[@]} -gt 0 ] || { echo "no survivors to retest"; }
else
  for p in "${packages[@]}"; do names+=("asdsim.$p.*"); done
fi
[ ${#names[@]} -eq 0 ] || mutmut run --max-children "$workers" "${names[@]}" || true

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
