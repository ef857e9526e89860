#!/bin/bash
# tend's zero-downtime reload under load, for apps in languages PM2 cannot
# reload: a Python app (stdlib http.server, testdata/apps/web.py) and a Go
# app (bench/goweb), both serving on the socket tend passes with LISTEN_FDS.
# The same measure as the shared bench's reload_zero_downtime scenario: the
# app with 2 instances on 127.0.0.1:PORT, the shared benchtool load
# generator at 1000 req/s over 4 connections, 3 `tend reload` during the
# load, once with keep-alive and once with a new connection per request.
#
#   bench/reload.sh [python] [go] [node]     # default: python go
#
# "node" runs the shared bench's Node fixture (server.js) the same way, for
# comparison. Prints one `metric value unit` line per metric, as the shared
# bench does (reload_cmd_s is the median of the 6 reloads); progress goes to
# stderr. Environment: SHARED_BENCH (default ../shared/bench next to the
# repo), BENCH_PORT (18471), BENCH_RELOAD_RPS (1000), BENCH_RELOAD_CONNS (4),
# BENCH_RELOADS (3), BENCH_INSTANCES (2), BENCH_KEEP=1 keeps the temp dir.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$repo/../shared/bench}
[ -d "$shared/benchtool" ] || shared=$repo/../../shared/bench # a worktree under wt/
if [ ! -d "$shared/benchtool" ]; then
  echo "reload.sh: the shared bench is not at $shared; set SHARED_BENCH" >&2
  exit 2
fi
port=${BENCH_PORT:-18471}
rps=${BENCH_RELOAD_RPS:-1000}
conns=${BENCH_RELOAD_CONNS:-4}
reloads=${BENCH_RELOADS:-3}
instances=${BENCH_INSTANCES:-2}
apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=(python go)

work=$(mktemp -d /tmp/tend-reload-bench.XXXXXX)
export TEND_HOME=$work/home
loadpid=
cleanup() {
  [ -n "$loadpid" ] && kill "$loadpid" 2>/dev/null || true
  [ -S "$TEND_HOME/tend.sock" ] && "$work/tend" kill >/dev/null 2>&1 || true
  [ "${BENCH_KEEP:-}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[reload-bench $(date +%H:%M:%S)] $*" >&2; }

log "building tend, benchtool and goweb into $work"
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$work/tend" ./cmd/tend)
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$work/goweb" ./bench/goweb)
(cd "$shared/benchtool" && CGO_ENABLED=0 go build -trimpath -o "$work/benchtool" .)
tend=$work/tend

# SO_REUSEADDR as tend binds: connections in TIME_WAIT from a run before do
# not count.
if ! python3 -c "import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $port)); s.listen()" 2>/dev/null; then
  echo "reload.sh: port $port on 127.0.0.1 is busy; set BENCH_PORT" >&2
  exit 2
fi

# jlist_pids prints "pid status" for every instance of web.
jlist_pids() {
  "$tend" jlist | python3 -c 'import json,sys
for p in json.load(sys.stdin):
    if p["name"] == "web": print(p["pid"], p["pm2_env"]["status"])'
}

wait_http() {
  for _ in $(seq 300); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/', timeout=1)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "reload.sh: nothing answers on 127.0.0.1:$port" >&2
  return 1
}

failed=0
for app in "${apps[@]}"; do
  case $app in
  python) cmd=("$tend" start "$repo/testdata/apps/web.py" --listen "tcp://127.0.0.1:$port") ;;
  go) cmd=("$tend" start "$work/goweb" --listen "tcp://127.0.0.1:$port") ;;
  node) cmd=("$tend" start "$shared/fixtures/server.js") ;;
  *)
    echo "reload.sh: unknown app $app; use python, go or node" >&2
    exit 2
    ;;
  esac
  log "$app: start -i $instances on 127.0.0.1:$port"
  BENCH_PORT=$port "${cmd[@]}" --name web -i "$instances" >/dev/null
  wait_http
  times=()
  for ka in true false; do
    tag=$([ $ka = true ] && echo keepalive || echo newconn)
    before=$(jlist_pids | cut -d' ' -f1 | sort)
    report=$work/load-$app-$tag.json
    "$work/benchtool" load -url "http://127.0.0.1:$port/" -c "$conns" -rate "$rps" -d 120s \
      -keepalive=$ka -timeout 2s -report "$report" 2>/dev/null &
    loadpid=$!
    sleep 1.5
    for _ in $(seq "$reloads"); do
      t0=$(date +%s.%N)
      if ! "$tend" reload web >/dev/null 2>"$work/reload.err"; then
        log "$app: reload failed: $(cat "$work/reload.err")"
        failed=1
      fi
      t1=$(date +%s.%N)
      times+=("$(python3 -c "print($t1 - $t0)")")
      sleep 1
    done
    sleep 1
    kill -INT "$loadpid"
    wait "$loadpid" || true
    loadpid=
    after=$(jlist_pids)
    replaced=$(comm -13 <(echo "$before") <(echo "$after" | cut -d' ' -f1 | sort) | wc -l)
    online=$(echo "$after" | grep -c ' online$' || true)
    log "$app $tag: $online/$instances online after, $replaced with a new pid"
    python3 - "$report" "$app" "$tag" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
app, tag = sys.argv[2], sys.argv[3]
print("reload_%s_%s_requests %d requests" % (app, tag, r["requests"]))
print("reload_%s_%s_errors %d requests" % (app, tag, r["errors_hard"]))
print("reload_%s_%s_errors_retryable %d requests" % (app, tag, r["errors"]["keepalive_closed"]))
kinds = {k: v for k, v in r["errors"].items() if v}
if kinds:
    print("%s %s errors by kind: %s; first: %s" % (app, tag, kinds, r["first_errors"][:3]), file=sys.stderr)
EOF
  done
  python3 -c 'import statistics,sys; t=[float(x) for x in sys.argv[2:]]
print("reload_%s_cmd_s %.4g s" % (sys.argv[1], statistics.median(t)))
print("%s: reload wall times %s s" % (sys.argv[1], " ".join("%.3f" % x for x in t)), file=sys.stderr)' "$app" "${times[@]}"
  "$tend" delete web >/dev/null
done
exit $failed
