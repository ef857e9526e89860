"""A leaking app: its resident memory grows by GROW_MB_PER_S (default 40)
megabytes a second, in steps ten times a second, up to GROW_MAX_MB (default
1024), and it says how big it is every second."""
import os
import sys
import time

rate = float(os.environ.get("GROW_MB_PER_S", "40"))
cap = float(os.environ.get("GROW_MAX_MB", "1024"))
step = int(rate * (1 << 20) / 10)
held = []
print(f"grow pid={os.getpid()} rate={rate}MB/s", flush=True)
tick = 0
while True:
    if len(held) * step < cap * (1 << 20):
        held.append(b"x" * step)  # bytes are written, so resident
    tick += 1
    if tick % 10 == 0:
        print(f"grow holds {len(held) * step >> 20} MB", flush=True)
    time.sleep(0.1)
