package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
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

	// Targets are scripts, commands, or names, ids or namespaces of apps
	// to restart (PM2's smart start); empty when File is set.
	Targets []string
	// ScriptArgs are the arguments after --, for every script or for the
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
	// DryRun prints the resolved apps as JSON and starts nothing;
	// ShowSecrets shows secrets' values in it.
	DryRun, ShowSecrets bool
	// UpdateEnv (-a) gives restarted apps this shell's environment.
	UpdateEnv bool
	// Overlay is the start flags the user gave, keyed by PM2 attribute.
	Overlay config.Overlay
	// Attach follows the logs of the apps started until Ctrl-C.
	Attach bool
}

// NewCmdStart builds start; runF, if not nil, runs instead of startRun.
func NewCmdStart(f *Factory, runF func(*StartOptions) error) *cobra.Command {
	if runF == nil {
		runF = startRun
	}
	opts := &StartOptions{IO: f.IOStreams, Client: f.Client, Verb: verbStart}
	sf := &startFlags{}
	ff := &fileFlags{}
	cf := &compatFlags{}
	var noDaemon bool
	cmd := &cobra.Command{
		Use:   "start [script|command|name|id...|ecosystem file|-] [flags] [-- args...]",
		Short: "Start an app or an ecosystem file's apps (or restart them if they exist)",
		Long: "Start a script or command and keep it running. The interpreter comes from the extension\n" +
			"(.js node, .py python3, .sh bash, .rb ruby, .php php, .pl perl); files with a shebang and\n" +
			"binaries run directly; a command on PATH runs with its args (tend start redis-server -- --port 7000).\n" +
			"Starting the name or id of an app that exists restarts it. Several scripts start several apps,\n" +
			"each with the flags and the arguments after --; if one cannot start, none is started.\n\n" +
			"An ecosystem file (.json, .yaml, *.config.js; --config FILE for other names; - for standard\n" +
			"input; none: ./ecosystem.config.js) starts its apps and restarts those that run on the file's\n" +
			"spec. Flags given here override the file.",
		Example: "  tend start app.js -i 4 --name api\n  tend start worker.py --restart-delay 1000\n  tend start \"python3 -m http.server 8000\"\n" +
			"  tend start api.js worker.py --attach\n" +
			"  tend start ecosystem.config.js --env production --only api\n  tend start --dry-run",
		RunE: func(cmd *cobra.Command, args []string) error {
			if noDaemon {
				// cmd/tend runs start --no-daemon as tend runtime.
				return fmt.Errorf("--no-daemon is run by the tend binary itself; this build was not: %w", api.ErrInternal)
			}
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
				opts.Targets = args
			}
			if opts.Overlay, err = sf.overlay(cmd.Flags()); err != nil {
				return err
			}
			if _, named := opts.Overlay["name"]; named && len(opts.Targets) > 1 {
				return fmt.Errorf("--name names one app, and %d scripts were given; start them one by one to name each, or use an ecosystem file: %w", len(opts.Targets), api.ErrInvalid)
			}
			cf.overlay(cmd.Flags(), opts.Overlay)
			opts.Context = cmd.Context()
			opts.DryRun, opts.UpdateEnv, opts.Attach = ff.dryRun, sf.updateEnv, cf.attach
			opts.ShowSecrets = ff.showSecrets
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		sf.register(fs)
		ff.register(fs, true)
		cf.register(fs)
		fs.BoolVar(&noDaemon, "no-daemon", false, "run the daemon in this terminal with the apps, printing their logs, until Ctrl-C (tend runtime --no-auto-exit)")
	})
	return cmd
}

// NoDaemonArgs returns start's arguments without --no-daemon when they
// hold it before "--" (PM2's pm2 start --no-daemon), for cmd/tend to run
// them as tend runtime; ok is false otherwise.
func NoDaemonArgs(args []string) (rest []string, ok bool) {
	for i, a := range args {
		if a == "--" {
			break
		}
		if a == "--no-daemon" {
			return append(append([]string{}, args[:i]...), args[i+1:]...), true
		}
	}
	return args, false
}

// startRun starts scripts, or restarts the apps a name, id or namespace
// selects (PM2's smart start), or applies an ecosystem file.
func startRun(opts *StartOptions) error {
	if opts.File != "" {
		return startFile(opts)
	}
	if opts.DryRun {
		specs, err := opts.scriptSpecs(opts.Targets)
		if err != nil {
			return err
		}
		return printApps(opts.IO, redactSpecs(specs, opts.ShowSecrets))
	}
	c := opts.Client()
	apps, scripts, err := opts.splitTargets(c)
	if err != nil {
		return err
	}
	// Every script is checked before anything starts or restarts.
	specs, err := opts.scriptSpecs(scripts)
	if err != nil {
		return err
	}
	var touched []api.Process
	if len(apps) > 0 {
		req := api.ActionRequest{Action: api.ActionRestart, Selectors: apps}
		if opts.UpdateEnv {
			req.UpdateEnv, req.Env = true, environ()
		}
		if ov := maps.Clone(opts.Overlay); len(ov) > 0 {
			// Start's flags apply to the apps it restarts, as PM2's do;
			// --watch turns watching on (PM2 toggles it here, as restart
			// does, and so turns it off on an app that watches). The
			// instance count is scale's.
			delete(ov, "instances")
			ao := &ActionOptions{IO: opts.IO, Client: opts.Client, Context: opts.Context, Action: api.ActionRestart, Selectors: apps, Overlay: ov}
			if req.Apps, _, err = ao.newSpecs(); err != nil {
				return err
			}
		}
		resp, err := c.Action(opts.Context, req)
		if err != nil {
			return err
		}
		touched = resp.Processes
	}
	if len(specs) > 0 {
		resp, err := c.Start(opts.Context, api.StartRequest{Apps: specs, Update: opts.UpdateEnv})
		if err != nil {
			return err
		}
		for _, name := range resp.Restarted {
			fmt.Fprintf(opts.IO.Out, "[tend] app %q existed; restarted it\n", name)
		}
		touched = append(touched, resp.Processes...)
	}
	if err := printTable(opts.IO, touched); err != nil || !opts.Attach {
		return err
	}
	return attachLogs(opts.Context, opts.IO, opts.Client, touched)
}

// splitTargets tells the targets that name apps tend runs, to restart, from
// the scripts and commands to start. A target is a script when it is a
// file, or given --name or arguments after --.
func (opts *StartOptions) splitTargets(c *client.Client) (apps, scripts []string, err error) {
	_, named := opts.Overlay["name"]
	for _, t := range opts.Targets {
		if len(opts.ScriptArgs) > 0 || named || fileExists(t) {
			scripts = append(scripts, t)
			continue
		}
		_, err := c.Summaries(opts.Context, t)
		switch {
		case err == nil:
			apps = append(apps, t)
		case errors.Is(err, api.ErrNotFound):
			scripts = append(scripts, t) // not an app: a command to start
		default:
			return nil, nil, err
		}
	}
	return apps, scripts, nil
}

// scriptSpecs resolves the specs of scripts, and warns about attributes
// they set that tend does not act on yet.
func (opts *StartOptions) scriptSpecs(scripts []string) ([]api.AppSpec, error) {
	specs := make([]api.AppSpec, 0, len(scripts))
	for i, script := range scripts {
		s, err := opts.scriptSpec(script)
		if err != nil && i > 0 && !strings.ContainsAny(script, "/.") {
			// tend start app.js production: an argument put before --.
			_, code := api.StatusOf(err)
			return nil, fmt.Errorf("%s; if %s is for %s, put it after --: tend start %s -- %s: %w", api.Message(err), script, scripts[0], scripts[0], script, api.ClassOf(code))
		}
		if err != nil {
			return nil, err
		}
		if j := slices.IndexFunc(specs, func(o api.AppSpec) bool { return o.Name == s.Name }); j >= 0 {
			return nil, fmt.Errorf("%s and %s would both be app %q; start them one at a time, each with its --name: %w", scripts[j], script, s.Name, api.ErrInvalid)
		}
		warnPending(opts.IO, &s)
		specs = append(specs, s)
	}
	return specs, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// scriptSpec is the AppSpec of script, resolved here so that a missing
// script or interpreter is reported before the daemon is involved.
func (opts *StartOptions) scriptSpec(script string) (api.AppSpec, error) {
	s := api.AppSpec{Script: script, Args: opts.ScriptArgs, Env: environ()}
	// The flags go through the same overlay as they do over an ecosystem
	// file, so a flag means the same with and without one.
	if err := opts.Overlay.Apply(&s); err != nil {
		return s, err
	}
	if err := spec.Resolve(&s); err != nil {
		return s, err
	}
	withShellUmask(&s)
	return s, nil
}
