package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/config"
	"github.com/tendpm/tend/internal/spec"
)

// verbStart is StartOptions.Verb for start itself; the startOr* commands
// and restart or reload with a file use api.ActionRestart or
// api.ActionReload.
const verbStart = "start"

// StartOptions are what start and the startOr* commands act on: a script
// or the apps a name selects (Target), or an ecosystem file (File), with
// the flags the user gave.
type StartOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	// Target is a script, a command, or the name, id or namespace of apps
	// to restart (PM2's smart start); empty when File is set.
	Target string
	// ScriptArgs are the arguments after --, for the script or for the
	// file's apps; nil without --.
	ScriptArgs []string
	// File is the ecosystem file to apply ("-": standard input); Only and
	// Env pick its apps and their env_<name>.
	File string
	Only []string
	Env  string
	// Verb says what applying File does to apps that run: verbStart and
	// api.ActionRestart restart them, api.ActionReload reloads them.
	Verb string
	// DryRun prints the resolved apps as JSON and starts nothing.
	DryRun bool
	// UpdateEnv (-a) gives restarted apps this shell's environment.
	UpdateEnv bool
	// Overlay is the start flags the user gave, keyed by PM2 attribute.
	Overlay config.Overlay
}

// NewCmdStart builds start; runF, if not nil, runs instead of startRun.
func NewCmdStart(f *Factory, runF func(*StartOptions) error) *cobra.Command {
	if runF == nil {
		runF = startRun
	}
	opts := &StartOptions{IO: f.IOStreams, Client: f.Client, Verb: verbStart}
	sf := &startFlags{}
	ff := &fileFlags{}
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
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				args, opts.ScriptArgs = args[:dash], args[dash:]
			}
			path, isFile, err := ff.fileTarget(args, true)
			if err != nil {
				return err
			}
			if isFile {
				opts.File, opts.Only, opts.Env = path, ff.onlyList(), ff.env
			} else {
				opts.Target = args[0]
				switch {
				case cmd.ArgsLenAtDash() > 1:
					return fmt.Errorf("start takes one script; put its arguments after --, e.g. tend start app.js -- --port 3000: %w", api.ErrInvalid)
				case len(args) > 1:
					return fmt.Errorf("start takes one script; put its arguments after --, e.g. tend start %s -- %s: %w", opts.Target, strings.Join(args[1:], " "), api.ErrInvalid)
				}
			}
			if opts.Overlay, err = sf.overlay(cmd.Flags()); err != nil {
				return err
			}
			opts.Context = cmd.Context()
			opts.DryRun, opts.UpdateEnv = ff.dryRun, sf.updateEnv
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		sf.register(fs)
		ff.register(fs, true)
	})
	return cmd
}

// startRun starts a script, or restarts the apps a name, id or namespace
// selects (PM2's smart start), or applies an ecosystem file.
func startRun(opts *StartOptions) error {
	if opts.File != "" {
		return startFile(opts)
	}
	if opts.DryRun {
		s, err := opts.scriptSpec()
		if err != nil {
			return err
		}
		warnPending(opts.IO, &s)
		return printApps(opts.IO, []api.AppSpec{s})
	}
	c := opts.Client()
	if _, named := opts.Overlay["name"]; len(opts.ScriptArgs) == 0 && !named && !fileExists(opts.Target) {
		if done, err := restartExisting(opts, c); done || err != nil {
			return err
		}
	}
	s, err := opts.scriptSpec()
	if err != nil {
		return err
	}
	warnPending(opts.IO, &s)
	resp, err := c.Start(opts.Context, api.StartRequest{Apps: []api.AppSpec{s}, Update: opts.UpdateEnv})
	if err != nil {
		return err
	}
	for _, name := range resp.Restarted {
		fmt.Fprintf(opts.IO.Out, "[tend] app %q existed; restarted it\n", name)
	}
	return printTable(opts.IO, resp.Processes)
}

// restartExisting restarts the apps opts.Target selects, if any.
func restartExisting(opts *StartOptions, c *client.Client) (bool, error) {
	req := api.ActionRequest{Action: api.ActionRestart, Selectors: []string{opts.Target}}
	if opts.UpdateEnv {
		req.UpdateEnv, req.Env = true, environ()
	}
	resp, err := c.Action(opts.Context, req)
	if errors.Is(err, api.ErrNotFound) {
		return false, nil // not an app: a script or command to start
	}
	if err != nil {
		return true, err
	}
	return true, printTable(opts.IO, resp.Processes)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// scriptSpec is the AppSpec of the script, resolved here so that a missing
// script or interpreter is reported before the daemon is involved.
func (opts *StartOptions) scriptSpec() (api.AppSpec, error) {
	s := api.AppSpec{Script: opts.Target, Args: opts.ScriptArgs, Env: environ()}
	// The flags go through the same overlay as they do over an ecosystem
	// file, so a flag means the same with and without one.
	if err := opts.Overlay.Apply(&s); err != nil {
		return s, err
	}
	if err := spec.Resolve(&s); err != nil {
		return s, err
	}
	return s, nil
}
