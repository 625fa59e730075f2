#!/usr/bin/env bash
# Instructions per StartSyncExecution request of `expressway serve`, counted by callgrind.
#
#   loadtest/server-profile.sh                       # chain, 2,000 requests, the default ring
#   loadtest/server-profile.sh --requests 5000 -- --history-ring 0    # args after -- go to serve
#   loadtest/server-profile.sh --cache-sim --warmup 12000   # the full ring: memory effects too
#
# Builds the release binary, starts `expressway serve` under callgrind with the workflow
# preloaded, sends a warm-up, zeroes the counters, sends exactly N requests over 4 keep-alive
# connections (a stdlib Python client), dumps the counters and prints instructions per
# request. The dump (OUT.1) can be read with `callgrind_annotate --inclusive=yes OUT.1`.
# Instruction counts do not depend on what else runs on the machine, unlike requests/s.
# With --cache-sim it also simulates the caches and prints misses per request and callgrind's
# cycle estimate (Ir + 10 × L1 misses + 100 × last-level misses): what a big working set (the
# history ring) costs shows there, not in instructions. The ring reaches its steady state
# (evicting one execution per request) only after --warmup exceeds --history-ring (10,000).
set -euo pipefail
cd "$(dirname "$0")/.."
requests=2000
workflow=../shared/bench/chain.asl.json
event=../shared/bench/event.json
out=/tmp/cg.expressway-serve
binary=
warmup=400
cache_sim=no
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests=$2; shift 2 ;;
    --workflow) workflow=$2; shift 2 ;;
    --event) event=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;   # an expressway binary to profile instead of building one
    --warmup) warmup=$2; shift 2 ;;
    --cache-sim) cache_sim=yes; shift ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
if [ -z "$binary" ]; then
  cargo build --release --quiet --bin expressway
  binary=target/release/expressway
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$workflow" "$dir/"
machine=$(basename "$workflow" .asl.json)
rm -f "$out" "$out".*
valgrind --tool=callgrind --cache-sim=$cache_sim --callgrind-out-file="$out" "$binary" serve \
  --bind 127.0.0.1:0 --preload "$dir" --workers 2 "$@" >/dev/null 2>"$dir/stderr" &
pid=$!
for _ in $(seq 600); do
  addr=$(sed -n 's#^expressway serve: listening on http://##p' "$dir/stderr")
  [ -n "$addr" ] && break
  kill -0 $pid 2>/dev/null || { cat "$dir/stderr" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "the server did not start" >&2; kill $pid; exit 1; }
drive() {
  python3 - "$addr" "$machine" "$event" "$1" <<'PY'
import http.client, json, sys, threading
addr, machine, event_file, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host, port = addr.rsplit(":", 1)
body = json.dumps({"stateMachineArn": f"arn:aws:states:us-east-1:123456789012:stateMachine:{machine}",
                   "input": open(event_file).read().strip()})
headers = {"X-Amz-Target": "AWSStepFunctions.StartSyncExecution", "Content-Type": "application/x-amz-json-1.0"}
failed = []
def client(n):
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    for _ in range(n):
        conn.request("POST", "/", body, headers)
        r = conn.getresponse()
        answer = r.read()
        if r.status != 200 or json.loads(answer).get("status") != "SUCCEEDED":
            failed.append(answer)
threads = [threading.Thread(target=client, args=(total // 4 + (i < total % 4),)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
if failed:
    sys.exit(f"{len(failed)} requests failed, e.g. {failed[0][:200]!r}")
PY
}
drive "$warmup"
callgrind_control -z $pid >/dev/null 2>&1
drive "$requests"
callgrind_control -d $pid >/dev/null 2>&1
kill -TERM $pid
wait $pid || true
python3 - "$out.1" "$requests" "$machine" <<'PY'
import sys
path, requests, machine = sys.argv[1], int(sys.argv[2]), sys.argv[3]
events = totals = None
for line in open(path):
    if line.startswith("events:"):
        events = line.split()[1:]
    elif line.startswith(("summary:", "totals:")) and totals is None:
        totals = [int(x) for x in line.split()[1:]]
c = dict(zip(events, totals))
print(f"instructions per request: {c['Ir'] // requests} ({c['Ir']} for {requests} StartSyncExecution of {machine}; dump: {path})")
if "DLmr" in c:
    l1 = c["I1mr"] + c["D1mr"] + c["D1mw"]
    ll = c["ILmr"] + c["DLmr"] + c["DLmw"]
    print(f"per request: L1 misses {l1 / requests:.0f}, last-level misses {ll / requests:.0f}, "
          f"estimated cycles {(c['Ir'] + 10 * l1 + 100 * ll) / requests:.0f}")
PY
