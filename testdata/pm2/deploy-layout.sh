#!/usr/bin/env bash
# Captures what PM2 7.0.4's `pm2 deploy` (pm2-deploy's bash script over the
# system's ssh) makes of a deploy section on a server: the tree under `path`
# after setup, two updates and `revert 1`, with commits and temp paths
# normalised. Writes deploy-layout.txt beside this script; the integration
# test TestDeploy compares tend's tree with it.
#
# Needs: pm2@7.0.4 installed with npm in $PM2PEER (default /tmp/pm2peer),
# openssh-server (/usr/sbin/sshd), git, and root (sshd's privilege
# separation directory). Usage: testdata/pm2/deploy-layout.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pm2=${PM2PEER:-/tmp/pm2peer}/node_modules/.bin/pm2
T=$(mktemp -d /tmp/pm2-deploy-XXXXXX)
export PM2_HOME=$T/pm2home
sshd_pid=
cleanup() {
	"$pm2" kill >/dev/null 2>&1 || true
	[ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# A throwaway sshd on a spare port, with its own host and client keys.
port=$(( 20000 + RANDOM % 20000 ))
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$T/userkey"
cp "$T/userkey.pub" "$T/authorized_keys"
cat > "$T/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $T/hostkey
AuthorizedKeysFile $T/authorized_keys
PidFile none
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
CONF
mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$T/sshd_config" 2>"$T/sshd.log" &
sshd_pid=$!
sleep 0.5

# The app's repository: a bare origin and a developer's clone.
g() { git -c user.name=dev -c user.email=dev@example.com -c init.defaultBranch=main "$@"; }
g init -q --bare "$T/origin.git"
g clone -q "$T/origin.git" "$T/dev" 2>/dev/null
cd "$T/dev"
printf '#!/bin/sh\ncat version\nexec sleep 100000\n' > app.sh
echo 1 > version
echo "module.exports = {apps: [{name: 'web', script: 'app.sh'}]}" > ecosystem.config.js
g add . && g commit -qm one && g push -q origin HEAD:main 2>/dev/null
g branch -q --set-upstream-to=origin/main
c1=$(git rev-parse HEAD)

cat > "$T/deploy.config.js" <<CONF
module.exports = {
  apps: [{name: 'web', script: 'app.sh'}],
  deploy: {
    production: {
      user: '$(id -un)',
      host: ['127.0.0.1'],
      ref: 'origin/main',
      repo: '$T/origin.git',
      path: '$T/srv',
      key: '$T/userkey',
      ssh_options: ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'Port=$port', 'LogLevel=ERROR'],
      'post-deploy': 'echo post-deploy FOO=\$FOO',
      env: {foo: 'bar'},
    },
  },
}
CONF

snap() {
	echo "== $1"
	(cd "$T/srv" && find . -path ./source/.git -prune -o -print | sort | while read -r p; do
		if [ -L "$p" ]; then echo "l $p -> $(readlink "$p")"
		elif [ -d "$p" ]; then echo "d $p"
		else echo "f $p"; fi
	done)
	echo "source/.git: $([ -d "$T/srv/source/.git" ] && echo dir)"
	echo "source HEAD: $(git -C "$T/srv/source" rev-parse HEAD) on $(git -C "$T/srv/source" rev-parse --abbrev-ref HEAD)"
	echo "--- .deploys"
	cat "$T/srv/.deploys" 2>/dev/null || echo "(none)"
}

out=$T/out.txt
"$pm2" deploy "$T/deploy.config.js" production setup >"$T/setup.log" 2>&1
snap "after setup" >>"$out"
"$pm2" deploy "$T/deploy.config.js" production >"$T/update1.log" 2>&1
snap "after update" >>"$out"
echo 2 > version && g commit -qam two && g push -q 2>/dev/null
c2=$(git rev-parse HEAD)
"$pm2" deploy "$T/deploy.config.js" production >"$T/update2.log" 2>&1
snap "after second update" >>"$out"
"$pm2" deploy "$T/deploy.config.js" production revert 1 >"$T/revert.log" 2>&1
snap "after revert 1" >>"$out"
{
	echo "== curr"; "$pm2" deploy "$T/deploy.config.js" production curr 2>&1 | grep -v '^-->' || true
	echo "== prev"; "$pm2" deploy "$T/deploy.config.js" production prev 2>&1 | grep -v '^-->' || true
	echo "== list"; "$pm2" deploy "$T/deploy.config.js" production list 2>&1 | grep -v '^-->' || true
} >>"$out"
{
	echo "# What pm2 deploy (PM2 7.0.4) leaves under the deploy path; made by deploy-layout.sh."
	echo "# <path> is the section's path, <c1> and <c2> the two commits (<c1s>/<c2s> short)."
	sed -e "s|$T/srv|<path>|g" -e "s|$c1|<c1>|g" -e "s|$c2|<c2>|g" \
		-e "s|${c1:0:7}|<c1s>|g" -e "s|${c2:0:7}|<c2s>|g" "$out"
} >"$here/deploy-layout.txt"
cat "$T/update2.log" >&2
