package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
)

// NewCmdStartOr builds startOrRestart, startOrReload and
// startOrGracefulReload: start the file's missing apps, restart (verb
// api.ActionRestart) or reload (api.ActionReload) the others on the file's
// spec. runF, if not nil, runs instead of startRun.
func NewCmdStartOr(f *Factory, name, verb string, runF func(*StartOptions) error) *cobra.Command {
	if runF == nil {
		runF = startRun
	}
	opts := &StartOptions{IO: f.IOStreams, Client: f.Client, Verb: verb}
	sf := &startFlags{}
	ff := &fileFlags{}
	cf := &compatFlags{}
	cmd := &cobra.Command{
		Use:   name + " [ecosystem file]",
		Short: "Start an ecosystem file's missing apps and " + verb + " the others on the file's spec",
		Long: "Start the apps of an ecosystem file that are not running, and " + verb + " those that are, applying\n" +
			"what changed in the file (script, args, env, instances, limits). Without a file, the current\n" +
			"directory's ecosystem.config.js (or .json, .yaml) is used.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, ok, err := ff.fileTarget(args, true)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s needs an ecosystem file and %s is not one; for a script use tend start, or pass --config %s: %w", name, args[0], args[0], api.ErrInvalid)
			}
			if opts.Overlay, err = sf.overlay(cmd.Flags()); err != nil {
				return err
			}
			cf.overlay(cmd.Flags(), opts.Overlay)
			opts.Context = cmd.Context()
			opts.File, opts.Only, opts.Env = path, ff.onlyList(), ff.env
			opts.DryRun, opts.UpdateEnv, opts.Attach = ff.dryRun, sf.updateEnv, cf.attach
			opts.ShowSecrets = ff.showSecrets
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		sf.register(fs)
		ff.register(fs, true)
		cf.register(fs)
	})
	return cmd
}
