package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/internal/config"
	"github.com/tendpm/tend/internal/spec"
)

// fileOptions are the flags of commands that can act on an ecosystem file.
type fileOptions struct {
	config string
	only   string // comma-separated; a string flag, as pflag's slice flags cost a 4 KB buffer each to create
	env    string
	dryRun bool
}

// onlyList is --only as a list of names.
func (fo *fileOptions) onlyList() []string {
	var names []string
	for n := range strings.SplitSeq(fo.only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func (fo *fileOptions) register(f *pflag.FlagSet, dryRun bool) {
	f.StringVar(&fo.config, "config", "", "ecosystem file to use, whatever its name (ecosystem.prod, apps.conf)")
	f.StringVar(&fo.only, "only", "", "with an ecosystem file, act only on these apps (--only api,worker)")
	f.StringVar(&fo.env, "env", "", "with an ecosystem file, apply each app's env_<name> (--env production)")
	if dryRun {
		f.BoolVar(&fo.dryRun, "dry-run", false, "start nothing; print the resolved apps as JSON")
	}
}

// fileTarget tells whether args name an ecosystem file, and which: --config,
// "-" for standard input, or a path config.IsConfigFile recognizes. With
// findDefault and no argument, the default file of the current directory
// (ecosystem.config.js, then the other formats) is the target.
func (fo *fileOptions) fileTarget(args []string, findDefault bool) (string, bool, error) {
	if fo.config != "" {
		if len(args) > 0 {
			return "", false, fmt.Errorf("give the ecosystem file once, as an argument or with --config, not both (got %s and --config %s): %w", args[0], fo.config, api.ErrInvalid)
		}
		return fo.config, true, nil
	}
	if len(args) == 0 {
		if !findDefault {
			return "", false, nil
		}
		wd, err := os.Getwd()
		if err != nil {
			return "", false, fmt.Errorf("no working directory: %v: %w", err, api.ErrInvalid)
		}
		p, err := config.FindDefault(wd)
		return p, err == nil, err
	}
	for _, a := range args {
		if a == "-" || config.IsConfigFile(a) {
			if len(args) > 1 {
				return "", false, fmt.Errorf("%s is an ecosystem file; give it alone (one file per command), and pick its apps with --only: %w", a, api.ErrInvalid)
			}
			return a, true, nil
		}
	}
	if fo.only != "" || fo.env != "" {
		return "", false, fmt.Errorf("--only and --env apply to an ecosystem file, and %s is not one; name the file, or use --config FILE for an unusual name: %w", args[0], api.ErrInvalid)
	}
	return "", false, nil
}

// load reads the ecosystem file at path ("-": standard input) with the
// command's selection and overlay, and prints its warnings.
func (fo *fileOptions) load(f *Factory, path string, ov config.Overlay, skipResolve bool) (*config.File, error) {
	opts := config.LoadOptions{
		Env:         fo.env,
		Only:        fo.onlyList(),
		BaseEnv:     environ(),
		Overlay:     ov,
		SkipResolve: skipResolve,
		Console:     f.IOStreams.ErrOut, // stdout stays clean for --dry-run
	}
	var file *config.File
	var err error
	if path == "-" {
		file, err = config.LoadReader("-", f.IOStreams.In, opts)
	} else {
		file, err = config.Load(path, opts)
	}
	if err != nil {
		return nil, err
	}
	for _, w := range file.Warnings {
		fmt.Fprintf(f.IOStreams.ErrOut, "[tend] warning: %s\n", w)
	}
	return file, nil
}

// printApps prints specs as --dry-run shows them: a JSON array with PM2's
// attribute names.
func printApps(f *Factory, specs []api.AppSpec) error {
	b, err := json.MarshalIndent(specs, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = f.IOStreams.Out.Write(b)
	return err
}

// applyFile starts the apps of f and restarts (or reloads) those that exist
// on the file's spec: the file is the truth. verb is the command, for the
// notices: after restart or reload, apps that did not run are named as
// started (PM2 starts them too); apps started from this file before and no
// longer in it are left alone and named.
func applyFile(f *Factory, file *config.File, verb string) error {
	specs := file.Apps
	if file.Path != "-" {
		for i := range specs {
			specs[i].ConfigFile = file.Path
		}
	}
	c := f.Client()
	resp, err := c.Start(f.Context, api.StartRequest{Apps: specs, Update: true, Reload: verb == "reload"})
	if err != nil {
		return err
	}
	if verb != "start" {
		var started []string
		for _, s := range specs {
			if !slices.Contains(resp.Restarted, s.Name) {
				started = append(started, s.Name)
			}
		}
		if len(started) > 0 {
			fmt.Fprintf(f.IOStreams.Out, "[tend] %s not running; started\n", appList(started))
		}
	}
	if err := printTable(f, resp.Processes); err != nil {
		return err
	}
	if file.Path == "-" {
		return nil
	}
	procs, err := c.Summaries(f.Context)
	if err != nil {
		return err
	}
	if left := droppedApps(file, procs); len(left) > 0 {
		fmt.Fprintf(f.IOStreams.Out, "[tend] %s %s no longer in %s; left as %s (tend delete %s removes %s)\n",
			appList(left), pronoun(len(left), "is", "are"), displayPath(file.Path), pronoun(len(left), "it was", "they were"),
			strings.Join(left, " "), pronoun(len(left), "it", "them"))
	}
	return nil
}

// droppedApps names the apps last started from f's file that the file no
// longer declares (apps --only left out are still declared).
func droppedApps(f *config.File, procs []api.Process) []string {
	var left []string
	for _, p := range procs {
		name := p.Env.Name
		if p.Env.ConfigFile != f.Path || slices.Contains(left, name) || slices.Contains(f.Unselected, name) {
			continue
		}
		if !slices.ContainsFunc(f.Apps, func(s api.AppSpec) bool { return s.Name == name }) {
			left = append(left, name)
		}
	}
	return left
}

// actOnFile stops or deletes the apps f declares that tend manages; the
// others are named and skipped, as PM2 does.
func actOnFile(f *Factory, file *config.File, action string) error {
	c := f.Client()
	procs, err := c.Summaries(f.Context)
	if err != nil {
		return err
	}
	var sel, skipped []string
	for _, s := range file.Apps {
		if slices.ContainsFunc(procs, func(p api.Process) bool { return p.Name == s.Name }) {
			sel = append(sel, s.Name)
		} else {
			skipped = append(skipped, s.Name)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(f.IOStreams.Out, "[tend] %s from %s not managed by tend; nothing to %s\n", appList(skipped), displayPath(file.Path), action)
	}
	if len(sel) == 0 {
		return nil
	}
	resp, err := c.Action(f.Context, api.ActionRequest{Action: action, Selectors: sel})
	if err != nil {
		return err
	}
	return printTable(f, resp.Processes)
}

// appList is `app "a"` or `apps "a", "b"`.
func appList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return pronoun(len(names), "app ", "apps ") + strings.Join(q, ", ")
}

func pronoun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// displayPath shows a file relative to the current directory when it is
// inside it.
func displayPath(p string) string {
	if p == "-" {
		return "standard input"
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return p
}

// startFile is start, restart or reload with an ecosystem file: flags the
// user gave override the file.
func startFile(f *Factory, flags *pflag.FlagSet, o *startOptions, fo *fileOptions, path string, scriptArgs []string, verb string) error {
	ov, err := o.overlay(flags)
	if err != nil {
		return err
	}
	if scriptArgs != nil {
		ov["args"] = scriptArgs
	}
	file, err := fo.load(f, path, ov, false)
	if err != nil {
		return err
	}
	if fo.dryRun {
		return printApps(f, file.Apps)
	}
	return applyFile(f, file, verb)
}

// overlay is the start flags the user gave, keyed by PM2 attribute name,
// to lay over an ecosystem file's apps. Paths are made absolute against the
// current directory, as they are for a script.
func (o *startOptions) overlay(flags *pflag.FlagSet) (config.Overlay, error) {
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
	set("force", "force", o.force)
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
	set("restart-delay", "restart_delay", o.restartDelay)
	set("exp-backoff-restart-delay", "exp_backoff_restart_delay", o.expBackoff)
	set("stop-exit-codes", "stop_exit_codes", o.stopExitCodes)
	set("kill-signal", "kill_signal", o.killSignal)
	if flags.Changed("kill-timeout") && o.killTimeout < 0 {
		return nil, fmt.Errorf("--kill-timeout %d is negative; give milliseconds, e.g. -k 5000: %w", o.killTimeout, api.ErrInvalid)
	}
	set("kill-timeout", "kill_timeout", o.killTimeout)
	set("listen-timeout", "listen_timeout", o.listenTimeout)
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
	return ov, nil
}
