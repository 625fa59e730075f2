#!/usr/bin/env bash
# StartSyncExecution of `chain` through `expressway serve`, HTTP/1.1 keep-alive, the load
# generator on the same machine: the figure issue 5 asks for, in one command.
#
#   loadtest/serve-bench.sh                        # 10 s, server on CPU 0, client on CPU 1
#   loadtest/serve-bench.sh --duration 30s --clients 64
#   loadtest/serve-bench.sh --no-pin --server-workers 2 --client-threads 2
#   loadtest/serve-bench.sh -- --history-ring 0    # args after -- go to `expressway serve`
#   loadtest/serve-bench.sh --binary /tmp/expressway-old   # another server build, same client
#
# Builds both release binaries, starts the server with `chain` preloaded (from
# ../shared/bench, or $EXPRESSWAY_BENCH_DIR), runs loadtest/scenarios/chain-http-sync.toml
# (closed loop) against it, prints requests/s, p50/p99 and the server's CPU, and stops the
# server. Pinning (taskset) gives the server and the client one core each, so neither steals
# the other's core mid-request; on a machine with more cores, pass --server-cpus/--client-cpus.
# The JSON and HTML reports go to loadtest-reports/serve-bench.{json,html}.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=10s
clients=32
server_workers=1
client_threads=1
server_cpus=0
client_cpus=1
pin=1
binary=
bench=${EXPRESSWAY_BENCH_DIR:-../shared/bench}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --server-workers) server_workers=$2; shift 2 ;;
    --client-threads) client_threads=$2; shift 2 ;;
    --server-cpus) server_cpus=$2; shift 2 ;;
    --client-cpus) client_cpus=$2; shift 2 ;;
    --no-pin) pin=0; shift ;;
    --binary) binary=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
[ -f "$bench/chain.asl.json" ] || { echo "no $bench/chain.asl.json (set EXPRESSWAY_BENCH_DIR)" >&2; exit 2; }
server_pin=(); client_pin=()
if [ $pin = 1 ] && command -v taskset >/dev/null; then
  server_pin=(taskset -c "$server_cpus"); client_pin=(taskset -c "$client_cpus")
fi
if [ -z "$binary" ]; then
  cargo build --release --quiet -p expressway --bin expressway
  binary=target/release/expressway
fi
cargo build --release --quiet -p expressway-loadtest --bin expressway-loadtest
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
cp "$bench/chain.asl.json" "$dir/"
"${server_pin[@]}" "$binary" serve --bind 127.0.0.1:0 --preload "$dir" \
  --workers "$server_workers" "$@" >/dev/null 2>"$dir/stderr" &
pid=$!
addr=
for _ in $(seq 100); do
  addr=$(sed -n 's#^expressway serve: listening on http://##p' "$dir/stderr")
  [ -n "$addr" ] && break
  kill -0 $pid 2>/dev/null || { cat "$dir/stderr" >&2; exit 1; }
  sleep 0.05
done
[ -n "$addr" ] || { echo "the server did not start" >&2; exit 1; }
mkdir -p loadtest-reports
"${client_pin[@]}" target/release/expressway-loadtest run loadtest/scenarios/chain-http-sync.toml \
  --url "http://$addr/" --server-pid $pid --duration "$duration" --clients "$clients" --threads "$client_threads" \
  --json loadtest-reports/serve-bench.json --html loadtest-reports/serve-bench.html --quiet
python3 - loadtest-reports/serve-bench.json "$server_workers" "$client_threads" "${server_pin[*]:-unpinned}" "$(nproc)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok, failed = r["requests"]["ok"], r["requests"]["failed"]
lat = r["latency_us"]
cpu = [t["cpu_percent"] for t in r["timeline"] if t.get("cpu_percent") is not None]
print(f"StartSyncExecution chain: {r['throughput']['requests_per_sec']:,.0f} requests/s "
      f"({ok} ok, {failed} failed in {r['elapsed_secs']:.1f} s); "
      f"latency p50 {lat['p50']:.0f} µs, p99 {lat['p99']:.0f} µs, max {lat['max']:.0f} µs")
if cpu:
    # CPU per request (user + system) depends far less on what else runs than requests/s does.
    busy = sum(t["cpu_percent"] / 100 * t["dt"] for t in r["timeline"] if t.get("cpu_percent") is not None)
    answered = sum(t["requests_ok"] + t["requests_failed"] for t in r["timeline"] if t.get("cpu_percent") is not None)
    print(f"server: {sys.argv[2]} worker(s), {sys.argv[4]}, mean CPU {sum(cpu)/len(cpu):.0f}% of one core, "
          f"{busy / max(answered, 1) * 1e6:.1f} µs CPU per request; "
          f"client: {sys.argv[3]} thread(s); {sys.argv[5]} CPUs")
if r["errors"]:
    print("errors:", r["errors"])
PY
