#!/usr/bin/env python3
"""Side-by-side throughput: aws-local-stepfunctions (npm, in-process, Node) against Expressway
in-process on 1 and 2 worker threads, on the standard workloads, in one run.

    python3 loadtest/peers/compare.py [--seconds 5] [--bench-dir ../shared/bench] [--workflows chain,branchy,task]

What it does:
  1. installs npm `aws-local-stepfunctions@3` into loadtest/peers/node_modules (once; needs npm
     and the registry). Version 3 wants Node 22; on Node 20 `with-resolvers.cjs` is preloaded
     with `node -r` to add `Promise.withResolvers`;
  2. builds `expressway-loadtest` (release);
  3. for each workflow, in turn: the peer (one client, executions back to back, after a 1 s
     warm-up; its first output is checked against expected/), then ours with `--threads 1` and
     `--threads 2` (closed loop, 16 clients, the same event replayed: peers/WORKFLOW.toml);
  4. prints executions/s and the ratio to the peer, plus executions per CPU-second, which is
     steadier than wall-clock throughput on a busy machine.

Both sides run the engine alone: the peer takes and returns JavaScript objects, and ours
(`json_boundary = false` in peers/*.toml) takes the event parsed before the run and does not
serialise outputs. Our figures still include the load generator's own work (same process).
The whole path with the JSON boundary is `scenarios/*-closed.toml`.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEER = "aws-local-stepfunctions@3"


def die(msg):
    print(f"compare: {msg}", file=sys.stderr)
    sys.exit(2)


def install_peer():
    if os.path.isdir(os.path.join(HERE, "node_modules", "aws-local-stepfunctions")):
        return
    if not shutil.which("npm"):
        die("npm not found; install Node.js (20 or later)")
    print(f"installing {PEER} into {os.path.join(HERE, 'node_modules')}", file=sys.stderr)
    subprocess.run(
        ["npm", "install", "--prefix", HERE, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error", PEER],
        check=True,
    )


def node_version():
    out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return out


def run_peer(bench_dir, workflow, seconds):
    cmd = ["node", "-r", os.path.join(HERE, "with-resolvers.cjs"), os.path.join(HERE, "peer-bench.cjs"), bench_dir, workflow, str(seconds)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    if out.returncode != 0:
        die(f"peer failed on {workflow}: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_ours(binary, workflow, threads, seconds, tmp):
    report = os.path.join(tmp, f"{workflow}-{threads}.json")
    cmd = [
        binary, "run", os.path.join(HERE, f"{workflow}.toml"), "--threads", str(threads), "--duration", f"{seconds}s",
        "--quiet", "--json", report, "--html", os.path.join(tmp, f"{workflow}-{threads}.html"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        die(f"expressway-loadtest failed on {workflow}: {out.stderr.strip()}")
    with open(report) as f:
        r = json.load(f)
    if r["errors"]:
        die(f"{workflow}: our executions failed: {r['errors']}")
    per_sec = r["throughput"]["events_per_sec"]
    cpu = r["resources"].get("cpu_mean_percent")
    per_cpu = per_sec / (cpu / 100.0) if cpu else None
    return {"per_sec": per_sec, "per_cpu_sec": per_cpu, "p99_us": r["latency_us"]["p99"]}


def fmt(x):
    return "n/a" if x is None else f"{x:,.0f}"


def ratio(a, b):
    return "n/a" if not a or not b else f"{a / b:,.0f}x"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5, help="measured seconds per engine and workflow (default 5)")
    ap.add_argument("--bench-dir", default=os.environ.get("EXPRESSWAY_BENCH_DIR", os.path.join(ROOT, "..", "shared", "bench")))
    ap.add_argument("--workflows", default="chain,branchy,task")
    args = ap.parse_args()
    bench_dir = os.path.abspath(args.bench_dir)
    if not os.path.isfile(os.path.join(bench_dir, "chain.asl.json")):
        die(f"no benchmark workloads in {bench_dir} (use --bench-dir or EXPRESSWAY_BENCH_DIR)")
    os.environ["EXPRESSWAY_BENCH_DIR"] = bench_dir

    install_peer()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "expressway-loadtest"], cwd=ROOT, check=True)
    binary = os.path.join(ROOT, "target", "release", "expressway-loadtest")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for wf in args.workflows.split(","):
            peer = run_peer(bench_dir, wf, args.seconds)
            one = run_ours(binary, wf, 1, args.seconds, tmp)
            two = run_ours(binary, wf, 2, args.seconds, tmp)
            rows.append((wf, peer, one, two))
            print(f"{wf}: peer {fmt(peer['per_sec'])}/s, ours {fmt(one['per_sec'])}/s (1 thread), {fmt(two['per_sec'])}/s (2 threads)", file=sys.stderr)

    cpus = os.cpu_count()
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown") if os.path.exists("/proc/cpuinfo") else "unknown"
    print(f"\nexecutions/s, {args.seconds:g} s each; {cpus} CPUs ({model}); node {node_version()}; peer {PEER}\n")
    print("| workflow | aws-local-stepfunctions | Expressway 1 thread | ratio | Expressway 2 threads | ratio | per CPU-second: peer | ours (2 threads) | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for wf, peer, one, two in rows:
        print(
            f"| {wf} | {fmt(peer['per_sec'])} | {fmt(one['per_sec'])} | {ratio(one['per_sec'], peer['per_sec'])} "
            f"| {fmt(two['per_sec'])} | {ratio(two['per_sec'], peer['per_sec'])} "
            f"| {fmt(peer.get('per_cpu_sec'))} | {fmt(two['per_cpu_sec'])} | {ratio(two['per_cpu_sec'], peer.get('per_cpu_sec'))} |"
        )


if __name__ == "__main__":
    main()
