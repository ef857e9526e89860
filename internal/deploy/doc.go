// Package deploy is PM2's deploy over the system's ssh and git: the
// ecosystem file's deploy section unchanged, the same commands (setup,
// update, revert, curr, prev, list, exec) and the same layout on the server
// as pm2-deploy's script, so a server deployed by PM2 can be updated by tend
// and back:
//
//	<path>/source     a git clone of repo, reset to each deployed ref
//	<path>/current -> <path>/source
//	<path>/shared/{logs,pids}
//	<path>/.deploys   one full commit hash a line, the newest last
//
// Each command is one bash script (Script) run on every host through one
// `ssh ... bash -c <script>`, the hosts in parallel, every output line
// prefixed with its host (Run). The script is what differs from PM2's: one
// connection instead of one per step, and a post-deploy hook that fails
// resets source to the release before it and records nothing in .deploys
// (PM2 leaves the failed release checked out and logged).
package deploy
