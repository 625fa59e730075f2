#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the bench workloads and the conformance corpus.

Usage (from fuzz/): python3 seed_corpus.py [BENCH_DIR] [CONFORMANCE_CASES_DIR]
Defaults: /work/shared/bench and $EXPRESSWAY_CONFORMANCE_DIR or /work/shared/conformance/cases.
"""
import glob, hashlib, json, os, sys

bench = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/bench"
cases = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("EXPRESSWAY_CONFORMANCE_DIR", "/work/shared/conformance/cases")
for t in ["value_parse", "jsonpath", "intrinsic", "definition", "execution", "generated", "jsonata", "config_files"]:
    os.makedirs(f"corpus/{t}", exist_ok=True)

def put(target, data):
    with open(f"corpus/{target}/{hashlib.sha1(data).hexdigest()[:16]}", "wb") as f:
        f.write(data)

defs = []
event = os.path.join(bench, "event.json")
event = open(event).read() if os.path.exists(event) else "{}"
for f in sorted(glob.glob(os.path.join(bench, "*.asl.json"))):
    defs.append((open(f).read(), event))
for f in sorted(glob.glob(os.path.join(cases, "*.json"))):
    d = json.load(open(f))
    text = json.dumps(d["definition"]) if d.get("definition") is not None else d.get("definition_raw")
    if isinstance(text, str):
        defs.append((text, d.get("input") or "{}"))

paths, calls, expressions = set(), set(), set()
def walk(v):
    if isinstance(v, str) and v.startswith("{%") and v.endswith("%}"):
        expressions.add(v[2:-2].strip())
    if isinstance(v, dict):
        for x in v.values():
            if isinstance(x, str) and x.startswith("$"):
                paths.add(x)
            if isinstance(x, str) and x.startswith("States."):
                calls.add(x)
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)

doc = b'{"a":{"b":[1,{"c":2}]},"items":[{"n":1},{"n":3}]}'
for text, inp in defs:
    put("definition", text.encode())
    put("execution", text.encode() + b"\0" + inp.encode())
    put("value_parse", inp.encode())
    try:
        walk(json.loads(text))
    except ValueError:
        pass
for p in paths:
    put("jsonpath", p.encode() + b"\0" + doc)
for c in calls:
    put("intrinsic", c.encode())
for e in expressions:
    put("jsonata", e.encode() + b"\0" + doc)
configs = glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "*", "*.json"))
for f in configs:
    put("config_files", open(f, "rb").read())
print(f"{len(defs)} definitions, {len(paths)} paths, {len(calls)} intrinsic calls, {len(expressions)} JSONata expressions, {len(configs)} config files")
