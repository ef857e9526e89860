"""Reads a log of numbered lines ("PREFIX NNNNNNN ...", PREFIX n or e) and
prints one JSON object: lines, first, last, missing (numbers skipped),
duplicated (a number seen twice), torn (a line not of that form).

    python3 bench/checklines.py FILE [PREFIX] [STEP]

STEP is the distance between numbers (1 for stdout, 100 for numbered.py's
stderr). Only the run of numbers from the first line on is checked, so a
file the app had written to before a test started counts from there."""
import json
import sys

path = sys.argv[1]
prefix = (sys.argv[2] if len(sys.argv) > 2 else "n").encode()
step = int(sys.argv[3]) if len(sys.argv) > 3 else 1
seen = set()
first = last = None
torn = dup = 0
samples = []
lines = 0
with open(path, "rb") as f:
    for line in f:
        lines += 1
        parts = line.split(b" ")
        if len(parts) < 2 or parts[0] != prefix or not parts[1].strip().isdigit() or not line.endswith(b"\n"):
            torn += 1
            if len(samples) < 5:
                samples.append(line[:120].decode("latin1"))
            continue
        n = int(parts[1])
        if n in seen:
            dup += 1
        seen.add(n)
        if first is None:
            first = n
        last = n if last is None else max(last, n)
missing = 0
if first is not None:
    missing = sum(1 for n in range(first, last + 1, step) if n not in seen)
print(json.dumps({"file": path, "lines": lines, "first": first, "last": last,
                  "missing": missing, "duplicated": dup, "torn": torn, "torn_samples": samples}))
