# Echoes every stdin line to stdout, prefixed, so `tend send` can be checked.
import sys
for line in sys.stdin:
    print("got: " + line.rstrip("\n"), flush=True)
