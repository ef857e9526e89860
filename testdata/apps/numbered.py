"""Prints numbered lines ("n 0000001 ..."), RATE per second (default 5000),
one write per line, on stdout; every 100th also on stderr. A line-loss
checker reads them back (bench/soak.sh, integration tests)."""
import os
import signal
import time

# Each line is one write(2), so a stop between two bytecodes ends between
# two lines; os._exit, not sys.exit, which prints tracebacks of threads.
signal.signal(signal.SIGINT, lambda *_: os._exit(0))
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

rate = int(os.environ.get("RATE", "5000"))
pad = "x" * int(os.environ.get("PAD", "40"))
out = os.fdopen(1, "wb", buffering=0)
err = os.fdopen(2, "wb", buffering=0)
n = 0
start = time.monotonic()
while True:
    n += 1
    out.write(b"n %07d %s\n" % (n, pad.encode()))
    if n % 100 == 0:
        err.write(b"e %07d\n" % n)
    if n % 50 == 0:
        ahead = n / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
