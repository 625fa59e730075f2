#!/usr/bin/env python3
"""Adapter between ../shared/conformance/compare.py and the `expressway` binary.

compare.py runs this once per case with the definition path as the last argument, the input on
stdin and the case's mode in the environment (SFN_CASE_MODE: run | validate | test_state). We
call the matching `expressway` subcommand and print the one JSON line compare.py reads.

Usage: compare.py CASES --pure-only -- python3 scripts/conformance_runner.py [--bin PATH]
"""
import json
import os
import subprocess
import sys


def main() -> int:
    args = sys.argv[1:]
    binary = os.environ.get("EXPRESSWAY_BIN", "target/release/expressway")
    if len(args) >= 2 and args[0] == "--bin":
        binary, args = args[1], args[2:]
    if not args:
        print("usage: conformance_runner.py [--bin PATH] DEFINITION", file=sys.stderr)
        return 2
    definition = args[-1]
    mode = os.environ.get("SFN_CASE_MODE", "run")
    machine_type = os.environ.get("SFN_EXECUTION_TYPE", "STANDARD").lower()
    case = {}
    case_file = os.environ.get("SFN_CASE_FILE")
    if case_file:
        with open(case_file, encoding="utf-8") as f:
            case = json.load(f)
    stdin = sys.stdin.read()

    if mode == "validate":
        proc = subprocess.run([binary, "validate", "--json", "--type", machine_type, definition],
                              capture_output=True, text=True)
        try:
            body = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            print(json.dumps({"status": "ERROR", "error": "runner", "cause": proc.stderr.strip()}))
            return 0
        if body["result"] == "OK":
            print(json.dumps({"status": "ACCEPTED"}))
        else:
            d = body["diagnostics"][0]
            print(json.dumps({"status": "REJECTED", "error": d["code"], "cause": d["message"]}))
        return 0

    if mode == "test_state":
        params = os.environ.get("SFN_TEST_STATE_PARAMS", "{}")
        cmd = [binary, "test-state", definition, "--params", params]
    else:
        cmd = [binary, "run", "--virtual-time", "--type", machine_type, definition]
        if case.get("start_api") == "StartExecution":
            cmd.insert(2, "--async-start")
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    if not lines:
        print(json.dumps({"status": "ERROR", "error": "runner", "cause": proc.stderr.strip()[-2000:]}))
        return 0
    print(lines[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
