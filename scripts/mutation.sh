#!/usr/bin/env bash
# Mutation testing of asdsim/analysis, asdsim/scenario and asdsim/model with mutmut 3.
#
#   scripts/mutation.sh [--workers N] [--nice N] [--here | --keep-tree] [--retest-survivors]
#                       [--sample N [--sample-seed S]] [analysis|scenario|model ...]
#   scripts/mutation.sh --direct FILE [--nice N]
#
# By default the committed tree (git HEAD) is exported to mutants/tree/ and mutated there, so
# edits in progress are never mutated and the figure belongs to one commit (a new commit means
# a fresh export). --keep-tree reuses mutants/tree/ as it is, whatever HEAD is now; --here
# mutates the working tree instead (mutmut's own mutants/ folder then sits at the repository
# root). The configuration (which files are mutated, which tests run) is the [mutmut] section of
# setup.cfg. Each named package's mutants are all (re)tested. --retest-survivors first copies
# HEAD's pinned tests (tests/test_pinned_*.py) into the tree and retests only the package's
# surviving mutants, keeping the other verdicts: the source and the other tests stay those of
# the tree's commit (mutants/tree/.commit). Prints killed / total per package; list the
# survivors with `cd mutants/tree && mutmut results` and show one with `mutmut show NAME`.
# --sample N checks only a seeded random sample of N mutant names per package (drawn with
# Python's random.Random(S).shuffle of the sorted names that `mutmut results --all true` lists
# after mutant generation, first N taken; --sample-seed S, default 1), runs those not yet checked
# in the tree with `mutmut run NAME...` (a larger N with the same seed extends the sample),
# writes the names to mutants/tree/sample-PACKAGE-N-sS.txt and prints killed / sample with a
# 95% Wilson interval (a "no tests" mutant counts as not killed). With --retest-survivors it
# samples the package's survivors instead. --nice N runs mutmut under `nice -n N` (default 15).
# --direct FILE runs each mutant named in FILE (one a line) in a fresh pytest process in
# mutants/tree/mutants with MUTANT_UNDER_TEST set, the [mutmut] pytest arguments and test
# selection (or the test paths in $DIRECT_TESTS), and appends "NAME: killed|survived (exit N)"
# to mutants/tree/direct-results.txt (or $DIRECT_OUT). It is for what mutmut's
# fork-after-import runner cannot see: a function called only while a module is imported (e.g. the KPI registry built by
# asdsim/analysis/definitions.py) runs unmutated in every forked worker, so its mutants all
# "survive" there; a fresh process imports the module with the mutant active. A --sample run
# checks the mutants of such functions (the import_time list below) this way by itself, and the
# printed figure counts a mutant killed in a fresh process as killed.
set -euo pipefail
# the whole script is one function, read before it runs: editing this file during a long run
# cannot change the run
main() {
cd "$(dirname "$0")/.."
root=$(pwd)

workers=1
here=0
keep=0
retest=0
sample=0
seed=1
niceness=15
direct=
packages=()
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --here) here=1; shift ;;
    --keep-tree) keep=1; shift ;;
    --retest-survivors) retest=1; keep=1; shift ;;
    --sample) sample=$2; shift 2 ;;
    --sample-seed) seed=$2; shift 2 ;;
    --nice) niceness=$2; shift 2 ;;
    --direct) direct=$(realpath "$2"); keep=1; shift 2 ;;
    analysis|scenario|model) packages+=("$1"); shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
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
mm() { nice -n "$niceness" mutmut "$@"; }
# functions that run only while their module is imported (the KPI registry): mutmut's forked
# workers never see their mutants, so a sample checks these with --direct instead
import_time=('asdsim.analysis.definitions.x__waits__mutmut_*'
             'asdsim.analysis.definitions.x__wait_shares__mutmut_*')
is_import_time() {
  local glob
  for glob in "${import_time[@]}"; do
    # shellcheck disable=SC2053
    [[ $1 == $glob ]] && return 0
  done
  return 1
}

if [ -n "$direct" ]; then
  cd "$tree/mutants"
  mapfile -t args < <(python - <<'PY'
import configparser

cfg = configparser.ConfigParser()
cfg.read("setup.cfg")
for key in ("pytest_add_cli_args", "pytest_add_cli_args_test_selection"):
    print("\n".join(line.strip() for line in cfg["mutmut"][key].splitlines() if line.strip()))
PY
)
  if [ -n "${DIRECT_TESTS:-}" ]; then
    mapfile -t args < <(printf '%s\n' "${args[@]}" | grep -v '^tests/test_[a-z_]*\.py$')
    read -r -a extra <<< "$DIRECT_TESTS"
    args+=("${extra[@]}")
  fi
  while read -r name; do
    [ -n "$name" ] || continue
    set +e
    MUTANT_UNDER_TEST=$name timeout 900 nice -n "$niceness" python -m pytest -q "${args[@]}" \
      >/dev/null 2>&1
    rc=$?
    set -e
    if [ "$rc" = 0 ]; then verdict=survived; elif [ "$rc" = 124 ]; then verdict=timeout; else verdict=killed; fi
    echo "$name: $verdict (exit $rc)" | tee -a "${DIRECT_OUT:-$tree/direct-results.txt}"
  done < "$direct"
  exit 0
fi

# the mutants exist only after mutmut's generation (and stats) phase: a fresh export runs it
# once with a filter that matches nothing, so their names can be listed and sampled
mutmut results --all true > "$tree/mutmut-results.txt" 2>/dev/null || true
if ! grep -q 'asdsim\.' "$tree/mutmut-results.txt"; then
  echo "generating mutants and collecting test stats"
  mm run --max-children "$workers" 'asdsim.__no_such_mutant__*' >/dev/null 2>&1 || true
fi

names=()
rm -f "$tree/direct-todo.txt"
if [ "$sample" -gt 0 ]; then
  mutmut results --all true > "$tree/mutmut-results.txt" 2>/dev/null || true
  for p in "${packages[@]}"; do
    list=$tree/sample-$p-$sample-s$seed.txt
    [ "$retest" = 1 ] && list=$tree/sample-$p-survivors-$sample-s$seed.txt
    python - "$tree/mutmut-results.txt" "$p" "$sample" "$seed" "$retest" > "$list" <<'PY'
import random
import sys

path, package, n, seed, retest = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
names = []
for line in open(path, encoding="utf-8"):
    name, sep, status = line.strip().rpartition(": ")
    if sep and name.startswith(f"asdsim.{package}.") and (retest != "1" or status == "survived"):
        names.append(name)
names.sort()
random.Random(seed).shuffle(names)  # the first N of one seed's order: a larger N extends a sample
for name in names[:n]:
    print(name)
PY
    echo "$p: $(wc -l < "$list") sampled names in ${list#"$root"/}"
    # a sample keeps the verdicts the tree already has (so a larger N only runs the new names);
    # a survivors' sample is rerun
    while read -r name; do
      if [ "$retest" = 1 ] || grep -qxF "    $name: not checked" "$tree/mutmut-results.txt"; then
        if is_import_time "$name"; then
          grep -qF "$name: " "$tree/direct-results.txt" 2>/dev/null || echo "$name" >> "$tree/direct-todo.txt"
        else
          names+=("$name")
        fi
      fi
    done < "$list"
    echo "$p: ${#names[@]} to run so far"
  done
elif [ "$retest" = 1 ]; then
  for p in "${packages[@]}"; do
    while read -r name; do names+=("$name"); done < <(
      mutmut results 2>/dev/null | awk -F': ' -v p="asdsim.$p." \
        'index($1, p) && $2 == "survived" {gsub(/^ +/, "", $1); print $1}')
  done
  [ ${#names[@]} -gt 0 ] || { echo "no survivors to retest"; }
else
  for p in "${packages[@]}"; do names+=("asdsim.$p.*"); done
fi
direct_pid=
if [ -s "$tree/direct-todo.txt" ]; then
  echo "$(wc -l < "$tree/direct-todo.txt") import-time mutants: checked in fresh processes (--direct)"
  "$root/scripts/mutation.sh" --direct "$tree/direct-todo.txt" --nice "$niceness" > /dev/null &
  direct_pid=$!
fi
[ ${#names[@]} -eq 0 ] || mm run --max-children "$workers" "${names[@]}" || true
[ -z "$direct_pid" ] || wait "$direct_pid" || true
echo "mutmut run finished: $(date -u '+%F %H:%M:%S') UTC"

mutmut results --all true > "$tree/mutmut-results.txt" 2>/dev/null || true
lists=()
if [ "$sample" -gt 0 ]; then
  for p in "${packages[@]}"; do
    if [ "$retest" = 1 ]; then lists+=("$tree/sample-$p-survivors-$sample-s$seed.txt")
    else lists+=("$tree/sample-$p-$sample-s$seed.txt"); fi
  done
fi
python - "$tree/mutmut-results.txt" "$(cat "$tree/.commit" 2>/dev/null || git rev-parse HEAD)" \
  "${packages[@]}" ${lists[@]+"${lists[@]}"} <<'PY'
import collections
import math
import os
import sys

path, commit, args = sys.argv[1], sys.argv[2], sys.argv[3:]
packages = [a for a in args if "/" not in a]
lists = dict(zip(packages, [a for a in args if "/" in a]))
status_of = {}
for line in open(path, encoding="utf-8"):
    name, sep, status = line.strip().rpartition(": ")
    if sep and name.startswith("asdsim."):
        status_of[name] = status
# a mutant killed in a fresh process (--direct; code run at import) is killed
direct = os.path.join(os.path.dirname(path), "direct-results.txt")
if os.path.exists(direct):
    for line in open(direct, encoding="utf-8"):
        name, sep, verdict = line.strip().partition(": ")
        if sep and name in status_of and status_of[name] in ("survived", "not checked"):
            status_of[name] = "killed" if verdict.startswith("killed") else verdict.split()[0]


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion k / n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


print(f"commit {commit[:10]}; killed = killed + timeout; 'no tests' counts as not killed")
print(f"{'package':10s} {'killed':>7s} {'of':>6s} {'score':>6s}  {'95% Wilson':>14s}  other")
for package in packages:
    if package in lists:
        names = [n.strip() for n in open(lists[package], encoding="utf-8") if n.strip()]
        what = f"sample of {len(names)} from {sum(n.startswith(f'asdsim.{package}.') for n in status_of)}"
    else:
        names = [n for n in status_of if n.startswith(f"asdsim.{package}.")]
        what = "all mutants"
    c = collections.Counter(status_of.get(n, "missing") for n in names)
    checked = sum(v for k, v in c.items() if k not in ("not checked", "missing"))
    killed = c["killed"] + c["timeout"]
    other = ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if k != "killed")
    if checked:
        lo, hi = wilson(killed, checked)
        print(f"{package:10s} {killed:7d} {checked:6d} {100 * killed / checked:5.1f}%  "
              f"[{100 * lo:4.1f}%, {100 * hi:4.1f}%]  {other} ({what})")
    else:
        print(f"{package:10s} {killed:7d} {checked:6d}     -  {'':14s}  {other} ({what})")
PY
}
main "$@"
exit
