#!/bin/bash
# The crash soak of the durability issue: kill -9 the daemon KILLS times
# (default 100) at random instants while its apps serve HTTP load and write
# logs, and count what the apps noticed:
#   - apps restarted: processes whose pid changed, and restarts counted;
#   - log lines lost, written twice, or torn (testdata/apps/numbered.py,
#     RATE lines/s on stdout, checked by bench/checklines.py);
#   - requests failed: the shared bench's load generator against a Python
#     app (web.py, 2 instances on tend's socket) and a Node cluster app
#     (web.js, 2 instances), a new connection per request.
# Also the time from each kill until the CLI is answered by a daemon with
# the full table (`tend jlist` run right after the kill: it waits in the
# API socket's backlog, which the keeper holds).
#
#   bench/soak.sh                 # KILLS=100 RATE=5000 RPS=200
#
# Prints one `metric value unit` line per metric; progress goes to stderr.
# Environment: SHARED_BENCH (default ../shared/bench next to the repo),
# KILLS, RATE (log lines/s), RPS (requests/s per app), BENCH_PORT (18571,
# and the next one), GAP_MS (the longest pause between kills, 400),
# BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$repo/../shared/bench}
[ -d "$shared/benchtool" ] || shared=$repo/../../shared/bench
if [ ! -d "$shared/benchtool" ]; then
  echo "soak.sh: the shared bench is not at $shared; set SHARED_BENCH" >&2
  exit 2
fi
kills=${KILLS:-100}
rate=${RATE:-5000}
rps=${RPS:-200}
port=${BENCH_PORT:-18571}
nport=$((port + 1))
gap=${GAP_MS:-400}

work=$(mktemp -d /tmp/tend-soak.XXXXXX)
export TEND_HOME=$work/home
# The line check reads the current log file only: no rotation (at 100 MB by
# default, which a high RATE reaches).
export TEND_LOG_MAX_SIZE=none
loads=()
cleanup() {
  for p in "${loads[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -S "$TEND_HOME/tend.sock" ] && "$work/tend" kill >/dev/null 2>&1 || true
  [ "${BENCH_KEEP:-}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[soak $(date +%H:%M:%S)] $*" >&2; }

log "building tend and benchtool into $work"
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$work/tend" ./cmd/tend)
(cd "$shared/benchtool" && CGO_ENABLED=0 go build -trimpath -o "$work/benchtool" .)
tend=$work/tend

RATE=$rate "$tend" start "$repo/testdata/apps/numbered.py" --name spam >/dev/null
"$tend" start "$repo/testdata/apps/web.py" --name web -i 2 --listen "tcp://127.0.0.1:$port" >/dev/null
PORT=$nport "$tend" start "$repo/testdata/apps/web.js" --name nweb -i 2 >/dev/null
for p in $port $nport; do
  for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$p/', timeout=1)" 2>/dev/null && break
    sleep 0.1
  done
done
table() {
  "$tend" jlist | python3 -c 'import json,sys
for p in json.load(sys.stdin):
    print(p["pm_id"], p["name"], p["pid"], p["pm2_env"]["status"], p["pm2_env"]["restart_time"])'
}
before=$(table)
log "apps: $(echo "$before" | tr '\n' ';')"
dur=$((kills * (gap + 400) / 1000 + 30))
[ "$dur" -le 300 ] || dur=300
for p in $port $nport; do
  "$work/benchtool" load -url "http://127.0.0.1:$p/" -c 4 -rate "$rps" -d "${dur}s" \
    -keepalive=false -timeout 3s -report "$work/load-$p.json" 2>/dev/null &
  loads+=($!)
done
sleep 1

recover=()
for i in $(seq "$kills"); do
  sleep "$(python3 -c "import random; print(random.uniform(0.02, $gap / 1000))")"
  pid=$(cat "$TEND_HOME/tend.pid")
  t0=$(date +%s%N)
  kill -9 "$pid"
  # Answered by the next daemon (the CLI waits in the socket's backlog).
  # (The clock stops before python3 parses it: through pyenv's shims a
  # loaded machine takes a second or more to start python3.)
  out=$("$tend" jlist)
  t1=$(date +%s%N)
  n=$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
  recover+=($(((t1 - t0) / 1000000)))
  if [ "$n" != 5 ]; then
    log "kill $i: the daemon after it lists $n processes, not 5"
  fi
  [ $((i % 20)) = 0 ] && log "$i kills"
done
sleep 1
for p in "${loads[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" || true; done
loads=()
after=$(table)
"$tend" stop spam >/dev/null
sleep 0.5

python3 - "$work" "$port" "$nport" "$kills" "${recover[@]}" <<EOF
import json, statistics, subprocess, sys
work, port, nport, kills = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rec = [int(x) for x in sys.argv[5:]]
before = {l.split()[0]: l.split() for l in """$before""".strip().splitlines()}
after = {l.split()[0]: l.split() for l in """$after""".strip().splitlines()}
restarted = sum(1 for k, b in before.items() if k not in after or after[k][2] != b[2] or after[k][4] != b[4])
offline = sum(1 for a in after.values() if a[3] != "online")
def check(path, prefix, step):
    out = subprocess.run(["python3", "$repo/bench/checklines.py", path, prefix, str(step)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)
o = check(work + "/home/logs/spam-out.log", "n", 1)
e = check(work + "/home/logs/spam-error.log", "e", 100)
reqs = fails = 0
for p in (port, nport):
    r = json.load(open("%s/load-%s.json" % (work, p)))
    reqs += r["requests"]
    fails += r["errors_hard"]
    kinds = {k: v for k, v in r["errors"].items() if v}
    if kinds:
        print("port %s errors: %s; first: %s" % (p, kinds, r["first_errors"][:3]), file=sys.stderr)
print("soak_kills %d kills" % kills)
print("soak_apps_restarted %d processes" % restarted)
print("soak_apps_not_online %d processes" % offline)
print("soak_log_lines %d lines" % (o["lines"] + e["lines"]))
print("soak_log_lines_lost %d lines" % (o["missing"] + e["missing"]))
print("soak_log_lines_twice %d lines" % (o["duplicated"] + e["duplicated"]))
print("soak_log_lines_torn %d lines" % (o["torn"] + e["torn"]))
print("soak_requests %d requests" % reqs)
print("soak_requests_failed %d requests" % fails)
print("soak_recover_median_ms %d ms" % statistics.median(rec))
print("soak_recover_max_ms %d ms" % max(rec))
for x in (o, e):
    if x["torn_samples"]:
        print("torn in %s: %s" % (x["file"], x["torn_samples"]), file=sys.stderr)
EOF
