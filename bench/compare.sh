#!/bin/bash
# Runs the shared PM2-compatible benchmark (../shared/bench) against PM2 7.0.4
# and against tend, one after the other on this machine, and prints both side
# by side with ratios (the table in BENCHMARKS.md).
#
#   bench/compare.sh [scenario ...]      # default: every scenario (~5 min)
#
# Environment: SHARED_BENCH (default ../shared/bench next to the repo),
# PM2_DIR (default /tmp/pm2peer, where pm2@7.0.4 is npm-installed if absent),
# BENCH_OUT (default /tmp/tend-bench-results, /var/tmp/… with BENCH_TMPFS).
#
# tend runs with rotation off (TEND_LOG_MAX_SIZE=none), as PM2 runs without
# pm2-logrotate: the harness reads only the current log file, so lines in
# rotated files would count as lost. bench/logs.py measures rotation itself.
#
# BENCH_TMPFS=1 (root) runs everything in a private mount namespace with
# /tmp on a tmpfs, so the log scenarios measure the managers rather than
# the disk (on a slow disk, writing straight to a file is the bound for both).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$repo/../shared/bench}
pm2dir=${PM2_DIR:-/tmp/pm2peer}
if [ "${BENCH_TMPFS:-}" = 1 ]; then
  out=${BENCH_OUT:-/var/tmp/tend-bench-results}
else
  out=${BENCH_OUT:-/tmp/tend-bench-results}
fi
mkdir -p "$out"
if [ ! -x "$pm2dir/node_modules/.bin/pm2" ]; then
  mkdir -p "$pm2dir"
  (cd "$pm2dir" && npm install --no-audit --no-fund pm2@7.0.4 >/dev/null)
fi
if [ "${BENCH_TMPFS:-}" = 1 ] && [ -z "${BENCH_IN_TMPFS:-}" ]; then
  # PM2 is copied in before /tmp is covered; nothing outlives the namespace
  # but the results in $out.
  keep=$(mktemp -d /dev/shm/tend-bench-pm2.XXXXXX)
  cp -a "$pm2dir/." "$keep/"
  rc=0
  BENCH_IN_TMPFS=1 BENCH_OUT="$out" SHARED_BENCH="$shared" PM2_DIR="$keep" \
    unshare --mount --propagation private sh -c 'mount -t tmpfs -o size=12g,mode=1777 tend-bench /tmp && exec "$0" "$@"' "$0" "$@" || rc=$?
  rm -rf "$keep"
  exit "$rc"
fi
bin=$(mktemp -d)/tend
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/tend)
stamp=$(date +%Y%m%d-%H%M%S)
BENCH_OUT="$out" BENCH_JSON="$out/pm2-$stamp.json" "$shared/run.sh" "$pm2dir/node_modules/.bin/pm2" "$@"
TEND_LOG_MAX_SIZE=none BENCH_OUT="$out" BENCH_JSON="$out/tend-$stamp.json" BENCH_HOME_ENV=TEND_HOME BENCH_PID_FILE=tend.pid \
  BENCH_DAEMON_LOG=tend.log "$shared/run.sh" "$bin" "$@"
python3 "$shared/report.py" "$out/pm2-$stamp.json" "$out/tend-$stamp.json"
