package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/spec"
)

// startOptions are start's flags, PM2's names.
type startOptions struct {
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
	restartDelay, expBackoff int
	stopExitCodes            []int
	killSignal               string
	killTimeout              int
	listenTimeout            int
	waitReady, shutdownMsg   bool
	maxMemory                string
	pidFile                  string
	timeStamps               bool
	logDateFormat, logType   string
	forkMode                 bool
	listen                   []string
}

func newStartCmd(f *Factory) *cobra.Command {
	o := &startOptions{}
	fo := &fileOptions{}
	cmd := &cobra.Command{
		Use:   "start [script|command|name|id|ecosystem file|-] [flags] [-- args...]",
		Short: "Start an app or an ecosystem file's apps (or restart them if they exist)",
		Long: "Start a script or command and keep it running. The interpreter comes from the extension\n" +
			"(.js node, .py python3, .sh bash, .rb ruby, .php php, .pl perl); files with a shebang and\n" +
			"binaries run directly; a command on PATH runs with its args (tend start redis-server -- --port 7000).\n" +
			"Starting the name or id of an app that exists restarts it.\n\n" +
			"An ecosystem file (.json, .yaml, *.config.js; --config FILE for other names; - for standard\n" +
			"input; none: ./ecosystem.config.js) starts its apps and restarts those that run on the file's\n" +
			"spec. Flags given here override the file.",
		Example: "  tend start app.js -i 4 --name api\n  tend start worker.py --restart-delay 1000\n  tend start \"python3 -m http.server 8000\"\n" +
			"  tend start ecosystem.config.js --env production --only api\n  tend start --dry-run",
		RunE: func(cmd *cobra.Command, args []string) error {
			var scriptArgs []string
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				args, scriptArgs = args[:dash], args[dash:]
			}
			path, isFile, err := fo.fileTarget(args, true)
			if err != nil {
				return err
			}
			if isFile {
				return startFile(f, cmd.Flags(), o, fo, path, scriptArgs, "start")
			}
			target := args[0]
			switch {
			case cmd.ArgsLenAtDash() > 1:
				return fmt.Errorf("start takes one script; put its arguments after --, e.g. tend start app.js -- --port 3000: %w", api.ErrInvalid)
			case len(args) > 1:
				return fmt.Errorf("start takes one script; put its arguments after --, e.g. tend start %s -- %s: %w", target, strings.Join(args[1:], " "), api.ErrInvalid)
			}
			if fo.dryRun {
				spec, err := o.spec(cmd.Flags(), target, scriptArgs)
				if err != nil {
					return err
				}
				return printApps(f, []api.AppSpec{spec})
			}
			return startRun(f, cmd.Flags(), o, target, scriptArgs)
		},
	}
	f.lazyFlags(cmd, func(f *pflag.FlagSet) {
		o.register(f)
		fo.register(f, true)
	})
	return cmd
}

// register adds start's flags, PM2's names, to f.
func (o *startOptions) register(f *pflag.FlagSet) {
	f.StringVarP(&o.name, "name", "n", "", "app name (default: the script's name)")
	f.StringVarP(&o.instances, "instances", "i", "", "number of instances: N, 0 or max (one per CPU), -N (CPUs minus N)")
	f.StringVar(&o.namespace, "namespace", "", "namespace (default \"default\")")
	f.StringVar(&o.cwd, "cwd", "", "working directory of the app (default: the current one)")
	f.StringVar(&o.interpreter, "interpreter", "", "program that runs the script; none runs the file itself")
	f.StringVar(&o.interpArgs, "interpreter-args", "", "arguments for the interpreter")
	f.StringVar(&o.interpArgs, "node-args", "", "alias of --interpreter-args")
	f.BoolVarP(&o.updateEnv, "update-env", "a", false, "when restarting an existing app, replace its environment with this shell's")
	f.BoolVarP(&o.force, "force", "f", false, "start the script even if it already runs")
	f.StringVarP(&o.out, "output", "o", "", "stdout log file (NULL or /dev/null: none)")
	f.StringVarP(&o.errFile, "error", "e", "", "stderr log file (NULL or /dev/null: none)")
	f.StringVarP(&o.logFile, "log", "l", "", "combined stdout+stderr log file (no value: <name>.log in the logs dir)")
	f.Lookup("log").NoOptDefVal = "true"
	f.BoolVar(&o.mergeLogs, "merge-logs", false, "instances share log files (no -<id> suffix)")
	f.BoolVar(&o.disableLogs, "disable-logs", false, "write no log files")
	f.BoolVar(&o.noAutorestart, "no-autorestart", false, "do not restart the app when it exits")
	f.BoolVar(&o.noAutostart, "no-autostart", false, "add the app stopped")
	f.BoolVar(&o.noTreekill, "no-treekill", false, "stop only the main process, not its process group")
	f.IntVar(&o.maxRestarts, "max-restarts", api.DefaultMaxRestarts, "unstable restarts in a row before the app is errored")
	f.StringVar(&o.minUptime, "min-uptime", "", "uptime below which an exit counts as unstable (ms, or 1s, 2m)")
	f.IntVar(&o.restartDelay, "restart-delay", 0, "delay before an automatic restart (ms)")
	f.IntVar(&o.expBackoff, "exp-backoff-restart-delay", 0, "first automatic restart delay, growing x1.5 up to 15 s (ms)")
	f.IntSliceVar(&o.stopExitCodes, "stop-exit-codes", nil, "exit codes after which the app is not restarted")
	f.StringVar(&o.killSignal, "kill-signal", "", "signal that asks the app to stop (default SIGINT)")
	f.IntVarP(&o.killTimeout, "kill-timeout", "k", api.DefaultKillTimeout, "ms between the stop signal and SIGKILL")
	f.IntVar(&o.listenTimeout, "listen-timeout", api.DefaultListenTimeout, "ms to wait for an app to be ready")
	f.BoolVar(&o.waitReady, "wait-ready", false, "online only once the app says it is ready")
	f.BoolVar(&o.shutdownMsg, "shutdown-with-message", false, "stop a Node app with a 'shutdown' message instead of a signal")
	f.StringVar(&o.maxMemory, "max-memory-restart", "", "restart when the app's memory exceeds this (e.g. 200M, 1G)")
	f.StringVarP(&o.pidFile, "pid", "p", "", "pid file path")
	f.BoolVar(&o.timeStamps, "time", false, "prefix log lines with a timestamp")
	f.StringVar(&o.logDateFormat, "log-date-format", "", "timestamp format of log lines")
	f.StringVar(&o.logType, "log-type", "", "log format (json)")
	f.BoolVarP(&o.forkMode, "execute-command", "x", false, "run in fork mode")
	f.StringArrayVar(&o.listen, "listen", nil, "address the app serves on, owned by tend and shared by instances (tcp://:8000, unix:///path)")
}

// startRun starts a script, or restarts the apps a name, id or namespace
// selects (PM2's smart start).
func startRun(f *Factory, flags *pflag.FlagSet, o *startOptions, target string, scriptArgs []string) error {
	c := f.Client()
	if len(scriptArgs) == 0 && !flags.Changed("name") && !fileExists(target) {
		if done, err := restartExisting(f, c, target, o.updateEnv); done || err != nil {
			return err
		}
	}
	spec, err := o.spec(flags, target, scriptArgs)
	if err != nil {
		return err
	}
	resp, err := c.Start(f.Context, api.StartRequest{Apps: []api.AppSpec{spec}, Update: o.updateEnv})
	if err != nil {
		return err
	}
	for _, name := range resp.Restarted {
		fmt.Fprintf(f.IOStreams.Out, "[tend] app %q existed; restarted it\n", name)
	}
	return printTable(f, resp.Processes)
}

// restartExisting restarts the apps target selects, if any.
func restartExisting(f *Factory, c *client.Client, target string, updateEnv bool) (bool, error) {
	req := api.ActionRequest{Action: api.ActionRestart, Selectors: []string{target}}
	if updateEnv {
		req.UpdateEnv, req.Env = true, environ()
	}
	resp, err := c.Action(f.Context, req)
	if errors.Is(err, api.ErrNotFound) {
		return false, nil // not an app: a script or command to start
	}
	if err != nil {
		return true, err
	}
	return true, printTable(f, resp.Processes)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// spec turns flags into an AppSpec, resolved here so that a missing
// script or interpreter is reported before the daemon is involved.
func (o *startOptions) spec(flags *pflag.FlagSet, script string, args []string) (api.AppSpec, error) {
	s := api.AppSpec{Script: script, Args: args, Env: environ()}
	// The flags go through the same overlay as they do over an ecosystem
	// file, so a flag means the same with and without one.
	ov, err := o.overlay(flags)
	if err != nil {
		return s, err
	}
	if err := ov.Apply(&s); err != nil {
		return s, err
	}
	if err := spec.Resolve(&s); err != nil {
		return s, err
	}
	return s, nil
}
