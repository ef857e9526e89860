#!/usr/bin/env bash
# Watch cost and latency, tend against PM2 7.0.4 in one run:
#   - daemon CPU (and RSS) while watching a tree of FILES files with no change, over SECS s;
#   - time from a file save to the restart (the new process's pm_uptime minus the save), N saves.
# Usage: bench/watch.sh [FILES=50000] [SECS=30] [N=10]
# PM2 is installed with npm into /tmp/pm2peer if missing; it runs with HOME and PM2_HOME in a
# temporary directory, and is killed at the end.
set -euo pipefail
FILES=${1:-50000} SECS=${2:-30} N=${3:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/tend-watch-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

pm2dir=/tmp/pm2peer
if [ ! -x "$pm2dir/node_modules/.bin/pm2" ]; then
  mkdir -p "$pm2dir" && (cd "$pm2dir" && npm install --silent pm2@7.0.4 >/dev/null)
fi
pm2bin=$pm2dir/node_modules/.bin/pm2

echo "building tend and a tree of $FILES files..."
(cd "$root" && CGO_ENABLED=0 go build -o "$work/tend" ./cmd/tend)
mkdir -p "$work/app/src"
python3 - "$work/app/src" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per = 100
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // per // 10), "e%02d" % (i // per % 10))
    if i % per == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.js" % i), "w") as f:
        f.write("// %d\n" % i)
PY
printf '#!/bin/sh\nexec sleep 100000\n' > "$work/app/app.sh"
chmod +x "$work/app/app.sh"
dirs=$(find "$work/app/src" -type d | wc -l)
echo "tree: $FILES files in $dirs directories"

# cpu_ms PID: user+system CPU time of PID in ms.
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{print ($14+$15)*1000/t}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }

# measure NAME DAEMONPID JLIST...: CPU over SECS idle seconds, then N save-to-restart latencies.
measure() {
  local name=$1 pid=$2; shift 2
  sleep 3 # let the initial walk settle
  local c0 c1
  c0=$(cpu_ms "$pid"); sleep "$SECS"; c1=$(cpu_ms "$pid")
  local cpu_pct
  cpu_pct=$(awk -v a="$c0" -v b="$c1" -v s="$SECS" 'BEGIN{printf "%.2f", (b-a)/(s*1000)*100}')
  echo "$name: idle daemon CPU $cpu_pct % of a core over ${SECS}s ($(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}') ms), RSS $(rss_kib "$pid") KiB"
  local lat=()
  for i in $(seq "$N"); do
    local before up t0
    before=$("$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pm2_env"]["restart_time"])')
    t0=$(date +%s%3N)
    echo "// save $i" >> "$work/app/src/d000/e00/f00000.js"
    for _ in $(seq 500); do
      up=$("$@" | python3 -c 'import json,sys; e=json.load(sys.stdin)[0]["pm2_env"]; print(e["restart_time"], e["pm_uptime"], e["status"])')
      read -r rt ut st <<<"$up"
      if [ "$rt" -gt "$before" ] && [ "$st" = online ]; then break; fi
      sleep 0.02
    done
    lat+=($((ut - t0)))
    sleep 1.5 # PM2 ignores changes while it restarts; let each save stand alone
  done
  printf '%s: save to restart (ms): %s\n' "$name" "${lat[*]}"
  printf '%s\n' "${lat[@]}" | sort -n | awk -v n="$name" '{a[NR]=$1} END{printf "%s: median %d ms, max %d ms\n", n, a[int((NR+1)/2)], a[NR]}'
}

echo "--- tend"
export TEND_HOME=$work/tendhome
(cd "$work/app" && "$work/tend" start app.sh --name w --watch src >/dev/null)
measure tend "$(cat "$TEND_HOME/tend.pid")" "$work/tend" jlist
"$work/tend" kill >/dev/null

export HOME=$work/pm2h PM2_HOME=$work/pm2h/.pm2
mkdir -p "$HOME"
# After the export: pm2 --version starts a daemon in whatever home it sees.
echo "--- pm2 $("$pm2bin" --version 2>/dev/null | tail -1)"
(cd "$work/app" && "$pm2bin" start app.sh --name w --watch src >/dev/null 2>&1)
measure pm2 "$(cat "$PM2_HOME/pm2.pid")" "$pm2bin" jlist
"$pm2bin" kill >/dev/null 2>&1 || true
