#!/usr/bin/env bash
# The cost of following many apps' logs at once (issue 11): APPS apps that
# each print a line every 100 ms, one `tend logs` following all of them for
# SECS s. Prints the CPU of the daemon and of the follower, and the lines the
# follower printed against the lines written.
# Usage: bench/follow.sh [APPS=200] [SECS=20]
set -euo pipefail
APPS=${1:-200} SECS=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/tend-follow-bench.XXXXXX)
(cd "$root" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend)
export TEND_HOME=$work/home HOME=$work
cleanup() { "$work/tend" kill >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
cat >"$work/ticker.sh" <<'SH'
#!/bin/bash
i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done
SH
chmod +x "$work/ticker.sh"
python3 - "$work" "$APPS" <<'PY'
import json, sys
w, n = sys.argv[1], int(sys.argv[2])
json.dump({"apps": [{"name": "t%03d" % i, "script": w + "/ticker.sh"} for i in range(n)]}, open(w + "/apps.json", "w"))
PY
"$work/tend" start "$work/apps.json" >/dev/null
sleep 3
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
dpid=$(cat "$TEND_HOME/tend.pid")
b0=$(ticks "$dpid")
sleep "$SECS"
b1=$(ticks "$dpid")
"$work/tend" logs --lines 0 --raw >"$work/follow.out" &
fpid=$!
sleep 1
d0=$(ticks "$dpid") f0=$(ticks "$fpid") l0=$(wc -l <"$work/follow.out")
sleep "$SECS"
d1=$(ticks "$dpid") f1=$(ticks "$fpid") l1=$(wc -l <"$work/follow.out")
kill "$fpid"; wait "$fpid" 2>/dev/null || true
hz=$(getconf CLK_TCK)
awk -v a="$APPS" -v s="$SECS" -v b=$((b1-b0)) -v d=$((d1-d0)) -v f=$((f1-f0)) -v l=$((l1-l0)) -v hz="$hz" 'BEGIN {
  printf "%d apps, %d s: daemon %.2f %% of a core without a follower, %.2f %% with one; follower %.2f %%; follower printed %d lines (%d lines/s; the apps wrote about %d/s)\n",
    a, s, 100*b/hz/s, 100*d/hz/s, 100*f/hz/s, l, l/s, a*10 }'
