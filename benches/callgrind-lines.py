#!/usr/bin/env python3
"""Per-source-line self cost of one function in a callgrind profile, inlined code included.

callgrind_annotate files inlined code under the caller's name but splits it by source file,
which hides where a large inlined function (the event walker inside `Matcher::matches_with`)
spends its instructions. This prints the costliest (file, line) pairs of every function whose
name matches a regular expression, per event:

    EVENTS_PROFILE=1000:10000 valgrind --tool=callgrind --dump-instr=yes \
        --callgrind-out-file=/tmp/cg.out target/release/deps/events-HASH
    benches/callgrind-lines.py /tmp/cg.out 'Matcher::matches_with' --per 10001 --top 40

`--per` divides the counts (the profile mode runs N + 1 matches: one warm-up). Costs of calls
(the callee's inclusive cost, filed on the call's line) are left out: only the function's own
instructions count.
"""

import argparse
import collections
import re
import sys


def position(token, previous):
    """A callgrind position: absolute, relative (+n / -n) or the same as before (*)."""
    if token == "*":
        return previous
    if token[0] in "+-":
        return previous + int(token, 0)
    return int(token, 0)


def named(table, text):
    """callgrind's name compression: "(id) name" defines an id, "(id)" refers to one."""
    match = re.match(r"\((\d+)\)(?: (.*))?", text)
    if not match:
        return text
    if match.group(2):
        table[match.group(1)] = match.group(2)
    return table.get(match.group(1), "")


def line_costs(path, pattern):
    costs = collections.Counter()
    functions, files = {}, {}
    function = file = inlined = None
    address = line = 0
    skip_call_cost = False
    with open(path, encoding="utf-8", errors="replace") as profile:
        for raw in profile:
            raw = raw.rstrip("\n")
            key, _, value = raw.partition("=")
            if key == "fn":
                function, inlined = named(functions, value), None
            elif key == "fl":
                file, inlined = named(files, value), None
            elif key in ("fi", "fe"):
                inlined = named(files, value)
            elif key == "cfn":
                named(functions, value)
            elif key in ("cfi", "cfl"):
                named(files, value)
            elif key == "calls":
                skip_call_cost = True
            elif raw and (raw[0].isdigit() or raw[0] in "+-*"):
                fields = raw.split()
                if len(fields) < 3:
                    continue
                address = position(fields[0], address)
                line = position(fields[1], line)
                if skip_call_cost:
                    skip_call_cost = False
                elif function and pattern.search(function):
                    source = "/".join((inlined or file or "?").split("/")[-2:])
                    costs[(source, line)] += int(fields[2])
    return costs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", help="callgrind output, recorded with --dump-instr=yes")
    parser.add_argument("function", help="regular expression matched against function names")
    parser.add_argument("--per", type=float, default=1.0, help="divide every count by this (matches run)")
    parser.add_argument("--top", type=int, default=40, help="how many lines to print")
    args = parser.parse_args()
    costs = line_costs(args.profile, re.compile(args.function))
    if not costs:
        sys.exit(f"no instructions of a function matching {args.function!r} in {args.profile}")
    print(f"{sum(costs.values()) / args.per:10.1f} in all")
    for (source, line), cost in costs.most_common(args.top):
        print(f"{cost / args.per:10.1f} {source}:{line}")


if __name__ == "__main__":
    main()
