// Package pm2 is what tend knows of a PM2 installation, for `tend import
// pm2`: reading PM2's saved list (dump.pm2) into tend's app specs, saying
// which of PM2's configuration keys tend cannot honour, and driving the
// pm2 command to stop PM2's copies of the imported apps.
//
// A dump holds each process's pm2_env: the app's configuration mixed with
// what PM2's God records while it runs (status, pm_id, restart counts,
// the @pm2/io agent's state) and the app's variables copied in flat. Every
// key is one of three kinds: an attribute tend honours (the keys of
// api.AppSpec, and PM2's pm_exec_path, pm_cwd and log and pid paths),
// PM2's runtime state (skipped without a word), or configuration tend has
// no counterpart for, which the import names with the reason. A key of
// none of these kinds is named too: silence is kept for what is known.
package pm2
