package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/config"
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
	// Parallel and Force are reload's.
	Parallel int
	Force    bool
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
		if action == api.ActionReload {
			fs.IntVar(&opts.Parallel, "parallel", 1, "instances replaced at once")
			fs.BoolVarP(&opts.Force, "force", "f", false, "reload even if another reload runs")
		}
	})
	return cmd
}

func actionRun(opts *ActionOptions) error {
	if opts.File != "" {
		return actionFile(opts)
	}
	req := api.ActionRequest{Action: opts.Action, Selectors: opts.Selectors, Parallel: opts.Parallel, Force: opts.Force}
	if opts.UpdateEnv {
		req.UpdateEnv, req.Env = true, environ()
	}
	resp, err := opts.Client().Action(opts.Context, req)
	if err != nil {
		return err
	}
	return printTable(opts.IO, resp.Processes)
}

// actionFile applies the action to the apps of an ecosystem file. Restart
// and reload apply the file, as startOrRestart and startOrReload do (PM2
// starts the apps that do not run, too); stop and delete act on the apps
// it names, which need not be valid to be stopped.
func actionFile(opts *ActionOptions) error {
	switch opts.Action {
	case api.ActionRestart, api.ActionReload:
		return startFile(&StartOptions{
			IO: opts.IO, Client: opts.Client, Context: opts.Context,
			File: opts.File, Only: opts.Only, Env: opts.Env, Verb: opts.Action,
		})
	}
	file, err := loadFile(opts.IO, opts.File, config.LoadOptions{Env: opts.Env, Only: opts.Only, SkipResolve: true})
	if err != nil {
		return err
	}
	return actOnFile(opts, file)
}
