#!/usr/bin/env bash
# End-to-end NDJSON ingestion: `expressway run --bus` reading PutEvents lines on stdin, one rule
# (`source` exact, `detail.temperature` numeric) starting the `chain` workflow with the event's
# detail, results written as NDJSON. The figure issue 7 asks for (events/s on this machine).
#
#   loadtest/bus-bench.sh                 # 200,000 events
#   loadtest/bus-bench.sh --events 1000000
#
# Builds the release binary, writes the rules file and the events (each line a PutEvents entry
# whose Detail is ../shared/bench/event.json, or $EXPRESSWAY_BENCH_DIR/event.json) into a
# temporary folder, runs once to warm the page cache, then times one run and checks that every
# event produced a SUCCEEDED result line.
set -euo pipefail
cd "$(dirname "$0")/.."
events=200000
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bench=${EXPRESSWAY_BENCH_DIR:-../shared/bench}
[ -f "$bench/chain.asl.json" ] || { echo "no $bench/chain.asl.json (set EXPRESSWAY_BENCH_DIR)" >&2; exit 2; }
cargo build --release --quiet --bin expressway
bin=$PWD/target/release/expressway
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$bench/chain.asl.json" "$dir/chain.asl.json"
cat > "$dir/rules.json" <<'RULES'
{"StateMachines": [{"Name": "chain", "DefinitionFile": "chain.asl.json"}],
 "Rules": [{"Name": "iot",
            "EventPattern": {"source": ["iot.sensors"], "detail": {"temperature": [{"numeric": [">", 0]}]}},
            "Targets": [{"Id": "chain", "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:chain", "InputPath": "$.detail"}]}]}
RULES
python3 - "$bench/event.json" "$events" > "$dir/events.ndjson" <<'PY'
import json, sys
detail = json.dumps(json.load(open(sys.argv[1])), separators=(",", ":"))
line = json.dumps({"Source": "iot.sensors", "DetailType": "reading", "Detail": detail}, separators=(",", ":"))
sys.stdout.write((line + "\n") * int(sys.argv[2]))
PY
cd "$dir"
"$bin" run --bus rules.json < events.ndjson > /dev/null
start=$(date +%s.%N)
"$bin" run --bus rules.json < events.ndjson > results.ndjson
end=$(date +%s.%N)
ok=$(grep -c '"status":"SUCCEEDED"' results.ndjson || true)
python3 - "$events" "$ok" "$start" "$end" "$(nproc)" <<'PY'
import sys
n, ok, start, end, cpus = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
secs = end - start
print(f"run --bus into chain: {n:,} events in {secs:.2f} s = {n / secs:,.0f} events/s; {ok:,} SUCCEEDED; {cpus} CPUs")
if ok != n:
    sys.exit(f"expected {n} SUCCEEDED results, got {ok}")
PY
