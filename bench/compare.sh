#!/bin/bash
# Runs the shared PM2-compatible benchmark (../shared/bench) against PM2 7.0.4
# and against tend, one after the other on this machine, and prints both side
# by side with ratios (the table in BENCHMARKS.md).
#
#   bench/compare.sh [scenario ...]      # default: every scenario (~5 min)
#
# Environment: SHARED_BENCH (default ../shared/bench next to the repo),
# PM2_DIR (default /tmp/pm2peer, where pm2@7.0.4 is npm-installed if absent),
# BENCH_OUT (default /tmp/tend-bench-results).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$repo/../shared/bench}
pm2dir=${PM2_DIR:-/tmp/pm2peer}
out=${BENCH_OUT:-/tmp/tend-bench-results}
mkdir -p "$out"
if [ ! -x "$pm2dir/node_modules/.bin/pm2" ]; then
  mkdir -p "$pm2dir"
  (cd "$pm2dir" && npm install --no-audit --no-fund pm2@7.0.4 >/dev/null)
fi
bin=$(mktemp -d)/tend
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/tend)
stamp=$(date +%Y%m%d-%H%M%S)
BENCH_OUT="$out" BENCH_JSON="$out/pm2-$stamp.json" "$shared/run.sh" "$pm2dir/node_modules/.bin/pm2" "$@"
BENCH_OUT="$out" BENCH_JSON="$out/tend-$stamp.json" BENCH_HOME_ENV=TEND_HOME BENCH_PID_FILE=tend.pid \
  BENCH_DAEMON_LOG=tend.log "$shared/run.sh" "$bin" "$@"
python3 "$shared/report.py" "$out/pm2-$stamp.json" "$out/tend-$stamp.json"
