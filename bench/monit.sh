#!/bin/bash
# monit CPU: tend monit and pm2 monit (PM2 7.0.4 in $PM2_DIR, default /tmp/pm2peer),
# 10 apps printing a line a second, 80x24 in tmux, 10 s. Needs tmux.
set -u
W=$(mktemp -d /tmp/monitb.XXXX)
P=${PM2_DIR:-/tmp/pm2peer}/node_modules/.bin/pm2
T=$W/tend
(cd "$(dirname "$0")/.." && CGO_ENABLED=0 go build -o "$T" ./cmd/tend)
cat > $W/idle.sh <<'SH'
#!/bin/bash
while :; do echo tick; sleep 1; done
SH
chmod +x $W/idle.sh
measure() { # name cmd...
  local name=$1; shift
  tmux -L mb kill-server 2>/dev/null
  tmux -L mb new-session -d -x 80 -y 24 "$*"
  sleep 4
  local pid; pid=$(tmux -L mb list-panes -F '#{pane_pid}')
  # the monit process: the pane's process or its node child
  local target=$pid
  local kids; kids=$(pgrep -P $pid | head -1); [ -n "$kids" ] && target=$kids
  local t0; t0=$(awk '{print $14+$15}' /proc/$target/stat)
  sleep 10
  local t1; t1=$(awk '{print $14+$15}' /proc/$target/stat)
  echo "$name: $(( t1 - t0 )) ticks in 10 s ($(awk -v d=$((t1-t0)) 'BEGIN{printf "%.1f", d/10}') % of a core), RSS $(awk '/VmRSS/{print $2}' /proc/$target/status) KiB ($(tr '\0' ' ' </proc/$target/cmdline | cut -c1-60))"
  tmux -L mb kill-server
}
export HOME=$W PM2_HOME=$W/.pm2 TEND_HOME=$W/.tend
for i in $(seq 10); do $T start $W/idle.sh --name a$i >/dev/null; $P start $W/idle.sh --name a$i >/dev/null 2>&1; done
measure "tend monit" "TEND_HOME=$TEND_HOME $T monit"
measure "pm2 monit" "HOME=$HOME PM2_HOME=$PM2_HOME $P monit"
$T kill >/dev/null; $P kill >/dev/null 2>&1
rm -rf $W
