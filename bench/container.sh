#!/bin/bash
# Container figures (issue 14) for examples/kubernetes: the FROM scratch image's size, the RSS of
# tend runtime as PID 1 with the example app running (2 goweb instances), and the time from
# SIGTERM to PID 1's exit (median of $RUNS, default 5). Measured in a podman container
# (Containerfile.scratch, --cpus 2 as the Deployment's limit) when podman runs, and under
# unshare --pid --fork --mount-proc (PID 1 of a new PID namespace, no image) always.
# Needs root (unshare, podman). podman uses a private store in a temp dir, removed at the end.
set -u
RUNS=${RUNS:-5}
repo=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/ctrbench.XXXX)
ctx=$W/ctx
mkdir -p "$ctx"
log() { echo "# $*" >&2; }

log "building tend and goweb (CGO_ENABLED=0 -trimpath, as the Dockerfile) into $ctx"
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$ctx/tend" ./cmd/tend &&
  CGO_ENABLED=0 go build -trimpath -o "$ctx/goweb" ./bench/goweb) || exit 1
cp "$repo/examples/kubernetes/ecosystem.json" "$ctx/"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
now_us() { echo $(($(date +%s%N) / 1000)); }
# stop_ms PID: SIGTERM to PID, and the milliseconds until it is gone.
stop_ms() {
  local t0 t1
  t0=$(now_us)
  kill -TERM "$1"
  while [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; do sleep 0.002; done
  t1=$(now_us)
  awk -v d=$((t1 - t0)) 'BEGIN{printf "%.0f\n", d/1000}'
}
# apps_kib PID: the summed RSS of PID's children (the app's instances).
apps_kib() {
  local s=0 c
  for c in $(pgrep -P "$1"); do s=$((s + $(kib "$c"))); done
  echo $s
}

declare -A R

# --- podman ---------------------------------------------------------------------------------
podman_ok=no
if command -v podman >/dev/null; then
  P=(podman --root "$W/root" --runroot "$W/run" --tmpdir "$W/tmp" --cgroup-manager cgroupfs --events-backend file)
  # crun refuses hybrid cgroups (a cgroup2 mount with a controller beside v1); runc runs there.
  command -v runc >/dev/null && P+=(--runtime "$(command -v runc)")
  n=$(ulimit -Hn); [ "$n" = unlimited ] || [ "$n" -gt 4096 ] && n=4096
  u=$(ulimit -Hu); [ "$u" = unlimited ] || [ "$u" -gt 4096 ] && u=4096
  RUN=(run --detach --cpus 2 --ulimit "nofile=$n:$n" --ulimit "nproc=$u:$u")
  if "${P[@]}" build -q --network=none -f "$repo/examples/kubernetes/Containerfile.scratch" -t tend-bench "$ctx" >/dev/null; then
    R[image]=$("${P[@]}" image inspect --format '{{.Size}}' tend-bench)
    cp -r "$ctx" "$W/ctx-s" && (cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$W/ctx-s/tend" ./cmd/tend &&
      CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$W/ctx-s/goweb" ./bench/goweb)
    "${P[@]}" build -q --network=none -f "$repo/examples/kubernetes/Containerfile.scratch" -t tend-bench-s "$W/ctx-s" >/dev/null &&
      R[image_s]=$("${P[@]}" image inspect --format '{{.Size}}' tend-bench-s)
    times=()
    for i in $(seq "$RUNS"); do
      "${P[@]}" "${RUN[@]}" --name "tb$i" tend-bench >/dev/null || break
      for _ in $(seq 200); do "${P[@]}" exec "tb$i" /usr/local/bin/tend health >/dev/null 2>&1 && break; sleep 0.1; done
      pid=$("${P[@]}" inspect --format '{{.State.Pid}}' "tb$i")
      if [ "$i" = 1 ]; then
        sleep 2
        R[pod_pid1]=$(kib "$pid") R[pod_apps]=$(apps_kib "$pid") R[pod_n]=$(pgrep -P "$pid" | wc -l)
      fi
      times+=("$(stop_ms "$pid")")
      R[pod_exit]=$("${P[@]}" wait "tb$i")
      "${P[@]}" rm -f "tb$i" >/dev/null
    done
    [ ${#times[@]} = "$RUNS" ] && podman_ok=yes R[pod_stop]=$(printf '%s\n' "${times[@]}" | median) R[pod_all]="${times[*]}"
    "${P[@]}" rmi -f tend-bench tend-bench-s >/dev/null 2>&1
  fi
  [ $podman_ok = yes ] || log "podman could not build or run the image; see the errors above"
else
  log "podman is not installed: no image figures"
fi

# --- unshare --pid --fork --mount-proc --------------------------------------------------------
sed "s|/app/goweb|$ctx/goweb|; s|0.0.0.0:8080|127.0.0.1:${PORT:-18090}|" "$ctx/ecosystem.json" >"$W/eco.json"
times=()
for i in $(seq "$RUNS"); do
  export TEND_HOME=$W/home$i
  unshare --pid --fork --mount-proc "$ctx/tend" runtime "$W/eco.json" >/dev/null 2>&1 &
  upid=$!
  pid=
  for _ in $(seq 200); do pid=$(pgrep -P $upid -x tend); [ -n "$pid" ] && "$ctx/tend" health >/dev/null 2>&1 && break; sleep 0.1; done
  if [ "$i" = 1 ]; then
    sleep 2
    R[ns_pid1]=$(kib "$pid") R[ns_apps]=$(apps_kib "$pid") R[ns_n]=$(pgrep -P "$pid" | wc -l)
  fi
  times+=("$(stop_ms "$pid")")
  wait $upid
  R[ns_exit]=$?
done
R[ns_stop]=$(printf '%s\n' "${times[@]}" | median) R[ns_all]="${times[*]}"

bin=$(($(stat -c %s "$ctx/tend") + $(stat -c %s "$ctx/goweb") + $(stat -c %s "$ctx/ecosystem.json")))
mb() { awk -v b="$1" 'BEGIN{printf "%.1f MB", b/1e6}'; }
echo
echo "| figure | podman (scratch image, --cpus 2) | unshare --pid --fork --mount-proc |"
echo "|---|---|---|"
if [ $podman_ok = yes ]; then
  echo "| image size (podman image inspect) | $(mb "${R[image]}"); $(mb "${R[image_s]:-0}") with -ldflags=-s | files: $(mb $bin) |"
  echo "| tend runtime RSS as PID 1, app running | $((R[pod_pid1] / 1024)).$((R[pod_pid1] % 1024 * 10 / 1024)) MiB (${R[pod_pid1]} KiB) | $((R[ns_pid1] / 1024)).$((R[ns_pid1] % 1024 * 10 / 1024)) MiB (${R[ns_pid1]} KiB) |"
  echo "| the app's RSS (goweb instances) | ${R[pod_apps]} KiB (${R[pod_n]}) | ${R[ns_apps]} KiB (${R[ns_n]}) |"
  echo "| SIGTERM to PID 1's exit, median of $RUNS | ${R[pod_stop]} ms (${R[pod_all]}) | ${R[ns_stop]} ms (${R[ns_all]}) |"
  echo "| exit code | ${R[pod_exit]} | ${R[ns_exit]} |"
else
  echo "| image size | - | files the image would hold: $(mb $bin) |"
  echo "| tend runtime RSS as PID 1, app running | - | ${R[ns_pid1]} KiB |"
  echo "| the app's RSS (goweb instances) | - | ${R[ns_apps]} KiB (${R[ns_n]}) |"
  echo "| SIGTERM to PID 1's exit, median of $RUNS | - | ${R[ns_stop]} ms (${R[ns_all]}) |"
  echo "| exit code | - | ${R[ns_exit]} |"
fi
rm -rf "$W"
