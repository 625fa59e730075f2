#!/usr/bin/env bash
# The events matcher of this tree against another revision's, timed interleaved on the same
# machine, so that a shared or throttled machine slows both alike and the ratio stays honest.
#
#   benches/events-side-by-side.sh 892edc1                     # 1,000 rules, 2,000,000 matches, 5 rounds
#   benches/events-side-by-side.sh --rules 100 --rounds 9 main
#
# Builds `benches/events.rs` here and at BASE (in a temporary worktree sharing this target
# directory, so only the crate itself is rebuilt), then runs the two binaries in turn, ROUNDS
# times each, in `EVENTS_PROFILE=RULES:MATCHES` mode (no criterion), and prints each round's
# nanoseconds per match, the best and the median of each, and the ratio of the medians. Each
# run's time comes from the binary itself when it prints it, otherwise from the process's wall
# clock minus a run with no matches (the rules' set-up).
set -euo pipefail
cd "$(dirname "$0")/.."
rules=1000
matches=2000000
rounds=5
base=
while [ $# -gt 0 ]; do
  case "$1" in
    --rules) rules=$2; shift 2 ;;
    --matches) matches=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) base=$1; shift ;;
  esac
done
[ -n "$base" ] || { echo "usage: $0 [--rules R] [--matches N] [--rounds K] BASE_REV" >&2; exit 2; }
git rev-parse --verify --quiet "$base^{commit}" > /dev/null || { echo "no such revision: $base" >&2; exit 2; }

target=${CARGO_TARGET_DIR:-$PWD/target}
work=$(mktemp -d)
cleanup() {
  git worktree remove --force "$work/base" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Prints the path of the events bench binary built in directory $1.
build() {
  (cd "$1" && CARGO_TARGET_DIR=$target cargo bench --bench events --no-run 2>&1) |
    sed -n 's/.*Executable benches\/events.rs (\(.*\))/\1/p' | tail -1
}

# BASE first and this tree last: the two builds share the target directory's artifacts and
# fingerprints, and cargo would otherwise take BASE's bench binary, newer than this tree's
# sources, for this tree's (a later `cargo bench` here would silently time BASE).
echo "building $base ..." >&2
git worktree add --detach --quiet "$work/base" "$base"
exe=$(build "$work/base")
[ -x "$exe" ] || { echo "could not build the bench at $base" >&2; exit 1; }
cp "$exe" "$work/old"
echo "building this tree ..." >&2
touch benches/events.rs src/lib.rs
exe=$(build "$PWD")
[ -x "$exe" ] || { echo "could not build the bench here" >&2; exit 1; }
cp "$exe" "$work/new"

now() { date +%s%N; }
# Nanoseconds per match of binary $1 in one run.
per_match() {
  local start out end setup_start
  start=$(now)
  out=$(EVENTS_PROFILE=$rules:$matches "$1")
  end=$(now)
  if [[ $out =~ ([0-9.]+)\ ns\ per\ match ]]; then
    echo "${BASH_REMATCH[1]}"
    return
  fi
  setup_start=$(now)
  EVENTS_PROFILE=$rules:0 "$1" > /dev/null
  python3 -c "import sys; print(f'{(int(sys.argv[1]) - (int(sys.argv[3]) - int(sys.argv[2]))) / int(sys.argv[4]):.1f}')" \
    "$((end - start))" "$setup_start" "$(now)" "$matches"
}

old=()
new=()
for round in $(seq "$rounds"); do
  o=$(per_match "$work/old")
  n=$(per_match "$work/new")
  old+=("$o")
  new+=("$n")
  echo "round $round: $base $o ns, this tree $n ns per match"
done
python3 - "$base" "$rules" "${old[*]}" "${new[*]}" <<'PY'
import statistics, sys
base, rules, old, new = sys.argv[1], sys.argv[2], [float(x) for x in sys.argv[3].split()], [float(x) for x in sys.argv[4].split()]
mo, mn = statistics.median(old), statistics.median(new)
print(f"{rules} rules, ns per match (best / median): {base} {min(old):.0f} / {mo:.0f}, this tree {min(new):.0f} / {mn:.0f}")
print(f"this tree takes {mn / mo:.2f}x the time of {base}; its median is {1e9 / mn:,.0f} matches/s on one core")
PY
