package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
	"github.com/tendpm/tend/internal/spec"
)

// startFlags are the flags of start and the startOr* commands, PM2's
// names, as parsed. overlay turns the ones the user gave into the
// attributes they set; only -a (updateEnv) is not an attribute. restart
// and reload take them too (forAction), except -a and -f, which they
// define themselves.
type startFlags struct {
	forAction bool

	name, namespace, cwd     string
	instances                string
	interpreter, interpArgs  string
	updateEnv, force         bool
	out, errFile, logFile    string
	mergeLogs, disableLogs   bool
	noAutorestart            bool
	noAutostart, noTreekill  bool
	maxRestarts              int
	minUptime                string
	restartDelay, expBackoff millis
	stopExitCodes            []int
	killSignal               string
	killTimeout              millis
	listenTimeout            millis
	waitReady, shutdownMsg   bool
	maxMemory                string
	pidFile                  string
	timeStamps               bool
	logDateFormat, logType   string
	forkMode                 bool
	listen                   []string
	watch                    []string
	ignoreWatch              []string
	watchDelay               string
	watchReload              bool
	cronRestart              string
	isolation                isolationFlags
}

// watchOn is the value of --watch given without paths.
const watchOn = "true"

// register adds the flags to fs.
func (o *startFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&o.name, "name", "n", "", "app name (default: the script's name)")
	fs.StringVarP(&o.instances, "instances", "i", "", "number of instances: N, 0 or max (one per CPU), -N (CPUs minus N)")
	fs.StringVar(&o.namespace, "namespace", "", "namespace (default \"default\")")
	fs.StringVar(&o.cwd, "cwd", "", "working directory of the app (default: the current one)")
	fs.StringVar(&o.interpreter, "interpreter", "", "program that runs the script; none runs the file itself")
	fs.StringVar(&o.interpArgs, "interpreter-args", "", "arguments for the interpreter")
	fs.StringVar(&o.interpArgs, "node-args", "", "alias of --interpreter-args")
	if !o.forAction {
		fs.BoolVarP(&o.updateEnv, "update-env", "a", false, "when restarting an existing app, replace its environment with this shell's")
		fs.BoolVarP(&o.force, "force", "f", false, "start the script even if it already runs")
	}
	fs.StringVarP(&o.out, "output", "o", "", "stdout log file (NULL or /dev/null: none)")
	fs.StringVarP(&o.errFile, "error", "e", "", "stderr log file (NULL or /dev/null: none)")
	fs.StringVarP(&o.logFile, "log", "l", "", "combined stdout+stderr log file (-l alone: <name>.log in the logs dir)")
	optionalValue(fs, "log", spec.CombinedLogDefault)
	fs.BoolVar(&o.mergeLogs, "merge-logs", false, "instances share log files (no -<id> suffix)")
	fs.BoolVar(&o.disableLogs, "disable-logs", false, "write no log files")
	fs.BoolVar(&o.noAutorestart, "no-autorestart", false, "do not restart the app when it exits")
	fs.BoolVar(&o.noAutostart, "no-autostart", false, "add the app stopped")
	fs.BoolVar(&o.noTreekill, "no-treekill", false, "stop only the main process, not its process group")
	fs.IntVar(&o.maxRestarts, "max-restarts", api.DefaultMaxRestarts, "unstable restarts in a row before the app is errored")
	fs.StringVar(&o.minUptime, "min-uptime", "", "uptime below which an exit counts as unstable (ms, or 1s, 2m)")
	fs.Var(&o.restartDelay, "restart-delay", "delay before an automatic restart (1000, or 1s)")
	fs.Var(&o.expBackoff, "exp-backoff-restart-delay", "first automatic restart delay, growing x1.5 up to 15 s (100, or 0.1s)")
	fs.IntSliceVar(&o.stopExitCodes, "stop-exit-codes", nil, "exit codes after which the app is not restarted")
	fs.StringVar(&o.killSignal, "kill-signal", "", "signal that asks the app to stop (default SIGINT)")
	o.killTimeout, o.listenTimeout = api.DefaultKillTimeout, api.DefaultListenTimeout
	fs.VarP(&o.killTimeout, "kill-timeout", "k", "time between the stop signal and SIGKILL (1600, or 1.6s)")
	fs.Var(&o.listenTimeout, "listen-timeout", "time to wait for an app to be ready (3000, or 3s)")
	fs.BoolVar(&o.waitReady, "wait-ready", false, "online only once the app says it is ready")
	fs.BoolVar(&o.shutdownMsg, "shutdown-with-message", false, "stop a Node app with a 'shutdown' message instead of a signal")
	fs.StringVar(&o.maxMemory, "max-memory-restart", "", "restart when the app's memory exceeds this (e.g. 200M, 1G)")
	fs.StringVarP(&o.pidFile, "pid", "p", "", "pid file path")
	fs.BoolVar(&o.timeStamps, "time", false, "prefix log lines with a timestamp")
	fs.StringVar(&o.logDateFormat, "log-date-format", "", "timestamp format of log lines")
	fs.StringVar(&o.logType, "log-type", "", "log format (json)")
	fs.BoolVarP(&o.forkMode, "execute-command", "x", false, "run in fork mode")
	fs.StringArrayVar(&o.listen, "listen", nil, "address the app serves on, owned by tend and shared by instances (tcp://:8000, unix:///path)")
	watchHelp := "restart the app when files in its cwd change; --watch PATH (repeatable) watches PATH instead"
	if o.forAction {
		watchHelp = "turn watching on if it is off, off if it is on (PM2's toggle); --watch PATH watches PATH"
	}
	fs.StringArrayVar(&o.watch, "watch", nil, watchHelp)
	// As PM2's --watch [paths]: bare it watches the cwd, and the next
	// argument, unless it is a flag, is a path to watch.
	optionalValue(fs, "watch", watchOn)
	fs.StringArrayVar(&o.ignoreWatch, "ignore-watch", nil, "paths not to watch: globs, blank-separated or repeated (node_modules and dot names always are)")
	fs.StringVar(&o.watchDelay, "watch-delay", "", "quiet time after a change before the restart: seconds (4, as PM2), or 4000ms, 1.5s")
	fs.BoolVar(&o.watchReload, "watch-reload", false, "on a change, reload (one instance at a time) instead of restarting")
	fs.StringVarP(&o.cronRestart, "cron-restart", "c", "", "restart the app on a cron schedule (e.g. \"0 3 * * *\"; 6 fields: seconds first; 0: none)")
	fs.StringVar(&o.cronRestart, "cron", "", "alias of --cron-restart")
	o.isolation.register(fs)
}

// overlay is the start flags the user gave, keyed by PM2 attribute name,
// to lay over an ecosystem file's apps. Paths are made absolute against the
// current directory, as they are for a script.
func (o *startFlags) overlay(flags *pflag.FlagSet) (config.Overlay, error) {
	ov := config.Overlay{}
	set := func(flag, key string, v any) {
		if flags.Changed(flag) {
			ov[key] = v
		}
	}
	if flags.Changed("name") && o.name == "" {
		return nil, fmt.Errorf("app name is empty; pass --name NAME: %w", api.ErrInvalid)
	}
	set("name", "name", o.name)
	set("namespace", "namespace", o.namespace)
	if flags.Changed("cwd") {
		abs, err := filepath.Abs(o.cwd)
		if err != nil {
			return nil, err
		}
		ov["cwd"] = abs
	}
	set("instances", "instances", o.instances)
	set("interpreter", "interpreter", o.interpreter)
	set("interpreter-args", "interpreter_args", o.interpArgs)
	set("node-args", "interpreter_args", o.interpArgs)
	if !o.forAction { // reload's -f is its own
		set("force", "force", o.force)
	}
	for _, p := range []struct {
		flag, key, val string
	}{{"output", "out_file", o.out}, {"error", "error_file", o.errFile}, {"log", "log_file", o.logFile}, {"pid", "pid_file", o.pidFile}} {
		if !flags.Changed(p.flag) {
			continue
		}
		switch {
		case p.flag == "log" && p.val == spec.CombinedLogDefault:
			ov[p.key] = true // -l without a path: the default combined log
		case p.val == "" || api.LogDisabled(p.val):
			ov[p.key] = p.val
		default:
			abs, err := filepath.Abs(p.val)
			if err != nil {
				return nil, err
			}
			ov[p.key] = abs
		}
	}
	set("merge-logs", "merge_logs", o.mergeLogs)
	set("disable-logs", "disable_logs", o.disableLogs)
	set("no-autorestart", "autorestart", !o.noAutorestart)
	set("no-autostart", "autostart", !o.noAutostart)
	set("no-treekill", "treekill", !o.noTreekill)
	set("max-restarts", "max_restarts", o.maxRestarts)
	set("min-uptime", "min_uptime", o.minUptime)
	set("restart-delay", "restart_delay", int(o.restartDelay))
	set("exp-backoff-restart-delay", "exp_backoff_restart_delay", int(o.expBackoff))
	set("stop-exit-codes", "stop_exit_codes", o.stopExitCodes)
	set("kill-signal", "kill_signal", o.killSignal)
	set("kill-timeout", "kill_timeout", int(o.killTimeout))
	set("listen-timeout", "listen_timeout", int(o.listenTimeout))
	set("wait-ready", "wait_ready", o.waitReady)
	set("shutdown-with-message", "shutdown_with_message", o.shutdownMsg)
	set("max-memory-restart", "max_memory_restart", o.maxMemory)
	set("time", "time", o.timeStamps)
	set("log-date-format", "log_date_format", o.logDateFormat)
	set("log-type", "log_type", o.logType)
	if flags.Changed("execute-command") && o.forkMode {
		ov["exec_mode"] = "fork"
	}
	set("listen", "listen", o.listen)
	if flags.Changed("watch") {
		// As written, as PM2 records it: true, or the paths given.
		paths := slices.DeleteFunc(slices.Clone(o.watch), func(p string) bool { return p == watchOn })
		if len(paths) == 0 {
			ov["watch"] = true
		} else {
			ov["watch"] = paths
		}
	}
	if flags.Changed("ignore-watch") {
		var l []string
		for _, v := range o.ignoreWatch {
			l = append(l, strings.Fields(v)...)
		}
		ov["ignore_watch"] = l
	}
	if flags.Changed("watch-delay") {
		ms, err := watchDelayMillis(o.watchDelay)
		if err != nil {
			return nil, err
		}
		ov["watch_delay"] = ms
	}
	set("watch-reload", "watch_reload", o.watchReload)
	set("cron-restart", "cron_restart", o.cronRestart)
	set("cron", "cron_restart", o.cronRestart)
	o.isolation.overlay(flags, ov)
	return ov, nil
}

// watchDelayMillis reads --watch-delay as PM2 does: a plain number is
// seconds (--watch-delay 4), "4000ms" milliseconds; tend takes any unit.
func watchDelayMillis(v string) (int, error) {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || f > 86400 {
			return 0, fmt.Errorf("--watch-delay %s is out of range; give seconds (4), or a duration like 500ms: %w", v, api.ErrInvalid)
		}
		return int(f * 1000), nil
	}
	ms, err := config.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("--watch-delay %q: give seconds (4, as PM2), or a duration like 500ms or 1.5s: %w", v, api.ErrInvalid)
	}
	return ms, nil
}
