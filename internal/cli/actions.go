package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/config"
	"github.com/tendpm/tend/internal/spec"
)

// ActionOptions are stop's, restart's, reload's, delete's and reset's: the
// apps to act on, by selector or as an ecosystem file's.
type ActionOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	// Action is one of api.ActionStop, ActionRestart, ActionReload,
	// ActionDelete and ActionReset.
	Action    string
	Selectors []string
	// File is the ecosystem file whose apps to act on ("-": standard
	// input), instead of Selectors; Only and Env pick its apps.
	File string
	Only []string
	Env  string
	// UpdateEnv (-a) gives restarted apps this shell's environment.
	UpdateEnv bool
	// Overlay is start's flags given to restart or reload, keyed by PM2
	// attribute: laid over each selected app's spec (or over the file's
	// apps), which the app then restarts on, as PM2 applies them.
	Overlay config.Overlay
	// ToggleWatch is restart's or reload's --watch without paths: watching
	// turns on for an app that does not watch, off for one that does
	// (PM2's toggle).
	ToggleWatch bool
	// Parallel and Force are reload's.
	Parallel int
	Force    bool
	// JSON prints one JSON object at the end instead of progress lines
	// and a table (stop, restart, reload, delete).
	JSON bool
	// Attach follows the restarted processes' logs (restart --attach).
	Attach bool
}

// NewCmdAction builds stop, restart, reload, delete and reset: the same
// shape, one daemon call each. runF, if not nil, runs instead of
// actionRun.
func NewCmdAction(f *Factory, action string, aliases []string, short string, runF func(*ActionOptions) error) *cobra.Command {
	if runF == nil {
		runF = actionRun
	}
	opts := &ActionOptions{IO: f.IOStreams, Client: f.Client, Action: action}
	ff := &fileFlags{}
	withFile := action != api.ActionReset
	// restart and reload take start's flags, as PM2's do, and apply them.
	respec := action == api.ActionRestart || action == api.ActionReload
	sf := &startFlags{forAction: true}
	use := action + " <name|id|namespace|script|all|/regex/>..."
	if withFile {
		use = action + " <name|id|namespace|script|all|/regex/...|ecosystem file|->"
	}
	cmd := &cobra.Command{
		Use:     use,
		Aliases: aliases,
		Short:   short,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && ff.config == "" {
				return fmt.Errorf("%s needs an app: a name, an id, a namespace, /regex/ or all (e.g. tend %s api): %w", action, action, api.ErrInvalid)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if respec {
				if err := opts.takeStartFlags(sf, cmd.Flags(), args); err != nil {
					return err
				}
			}
			if withFile {
				path, isFile, err := ff.fileTarget(args, false)
				if err != nil {
					return err
				}
				if isFile {
					opts.File, opts.Only, opts.Env = path, ff.onlyList(), ff.env
					return runF(opts)
				}
			}
			opts.Selectors = args
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		if action == api.ActionRestart || action == api.ActionReload {
			fs.BoolVarP(&opts.UpdateEnv, "update-env", "a", false, "replace the apps' environment with this shell's")
		}
		if withFile {
			ff.register(fs, false)
		}
		if respec {
			sf.register(fs)
		}
		if action == api.ActionReload {
			fs.IntVar(&opts.Parallel, "parallel", 1, "instances replaced at once")
			fs.BoolVarP(&opts.Force, "force", "f", false, "reload even if another reload runs")
		}
		registerActionOutputFlags(fs, opts)
	})
	return cmd
}

// takeStartFlags sets Overlay and ToggleWatch from the start flags given
// to restart or reload. -i is refused: restart changes no instance count
// (PM2 records it and runs the same processes).
func (opts *ActionOptions) takeStartFlags(sf *startFlags, flags *pflag.FlagSet, args []string) error {
	if flags.Changed("instances") {
		app := "<app>"
		if len(args) == 1 {
			app = args[0]
		}
		return fmt.Errorf("%s does not change the number of instances; use tend scale %s %s: %w", opts.Action, app, sf.instances, api.ErrInvalid)
	}
	ov, err := sf.overlay(flags)
	if err != nil {
		return err
	}
	if v, ok := ov["watch"]; ok && v == true {
		delete(ov, "watch")
		opts.ToggleWatch = true
	}
	if len(ov) > 0 {
		opts.Overlay = ov
	}
	return nil
}

func actionRun(opts *ActionOptions) error {
	if opts.File != "" {
		return actionFile(opts)
	}
	req := api.ActionRequest{Action: opts.Action, Selectors: opts.Selectors, Parallel: opts.Parallel, Force: opts.Force}
	if opts.UpdateEnv {
		req.UpdateEnv, req.Env = true, environ()
	}
	if err := envFilesForAction(opts.Overlay, &req); err != nil {
		return err
	}
	var names []string // of the apps given a new spec, in pm_id order
	if len(opts.Overlay) > 0 || opts.ToggleWatch {
		var err error
		if req.Apps, names, err = opts.newSpecs(); err != nil {
			return err
		}
	}
	return runAction(opts, req, func() {
		for _, name := range names {
			s := req.Apps[name]
			warnPending(opts.IO, &s)
		}
	})
}

// actionFile applies the action to the apps of an ecosystem file. Restart
// and reload apply the file, as startOrRestart and startOrReload do (PM2
// starts the apps that do not run, too); stop and delete act on the apps
// it names, which need not be valid to be stopped.
func actionFile(opts *ActionOptions) error {
	switch opts.Action {
	case api.ActionRestart, api.ActionReload:
		if opts.ToggleWatch {
			// The file says whether each app watches; --watch sets it.
			if opts.Overlay == nil {
				opts.Overlay = config.Overlay{}
			}
			opts.Overlay["watch"] = true
		}
		return startFile(&StartOptions{
			IO: opts.IO, Client: opts.Client, Context: opts.Context,
			File: opts.File, Only: opts.Only, Env: opts.Env, Verb: opts.Action,
			Overlay: opts.Overlay,
		})
	}
	file, err := loadFile(opts.IO, opts.File, config.LoadOptions{Env: opts.Env, Only: opts.Only, SkipResolve: true})
	if err != nil {
		return err
	}
	return actOnFile(opts, file)
}

// newSpecs is the spec each selected app restarts on, by its current name
// (names lists them in pm_id order): start's flags laid over the spec it
// runs (by the same code start uses), resolved here so that a bad value is
// reported before anything restarts. The daemon keeps each app's
// environment, so none is sent.
func (opts *ActionOptions) newSpecs() (apps map[string]api.AppSpec, names []string, err error) {
	procs, err := opts.Client().Processes(opts.Context, opts.Selectors...)
	if err != nil {
		return nil, nil, err
	}
	apps = map[string]api.AppSpec{}
	for _, p := range procs { // in pm_id order: an app's first instance
		name := p.Env.Name
		if _, done := apps[name]; done {
			continue
		}
		s := p.Env.AppSpec
		if opts.ToggleWatch {
			s.Watch = api.Watch{Enabled: !s.Watch.Enabled}
		}
		if err := opts.Overlay.Apply(&s); err != nil {
			return nil, nil, err
		}
		if err := spec.Resolve(&s); err != nil {
			return nil, nil, err
		}
		s.Env = nil
		apps[name] = s
		names = append(names, name)
	}
	if to, ok := opts.Overlay["name"]; ok && len(apps) > 1 {
		return nil, nil, fmt.Errorf("--name %v renames one app, and %s select %d; name one app: %w", to, strings.Join(opts.Selectors, " "), len(apps), api.ErrInvalid)
	}
	return apps, names, nil
}
