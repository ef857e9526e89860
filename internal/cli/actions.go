package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

// newActionCmd builds stop, restart, reload, delete and reset: the same
// shape, one daemon call each.
func newActionCmd(f *Factory, action string, aliases []string, short string) *cobra.Command {
	var updateEnv, force bool
	var parallel int
	fo := &fileOptions{}
	withFile := action != api.ActionReset
	use := action + " <name|id|namespace|all|/regex/>..."
	if withFile {
		use = action + " <name|id|namespace|all|/regex/...|ecosystem file|->"
	}
	cmd := &cobra.Command{
		Use:     use,
		Aliases: aliases,
		Short:   short,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && fo.config == "" {
				return fmt.Errorf("%s needs an app: a name, an id, a namespace, /regex/ or all (e.g. tend %s api): %w", action, action, api.ErrInvalid)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if withFile {
				path, isFile, err := fo.fileTarget(args, false)
				if err != nil {
					return err
				}
				if isFile {
					return actionFile(f, fo, path, action)
				}
			}
			req := api.ActionRequest{Action: action, Selectors: args, Parallel: parallel, Force: force}
			if updateEnv {
				req.UpdateEnv, req.Env = true, environ()
			}
			resp, err := f.Client().Action(f.Context, req)
			if err != nil {
				return err
			}
			return printTable(f, resp.Processes)
		},
	}
	if action == api.ActionRestart || action == api.ActionReload {
		cmd.Flags().BoolVarP(&updateEnv, "update-env", "a", false, "replace the apps' environment with this shell's")
	}
	if withFile {
		fo.register(cmd.Flags(), false)
	}
	if action == api.ActionReload {
		cmd.Flags().IntVar(&parallel, "parallel", 1, "instances replaced at once")
		cmd.Flags().BoolVarP(&force, "force", "f", false, "reload even if another reload runs")
	}
	return cmd
}

// actionFile applies action to the apps of an ecosystem file. Restart and
// reload apply the file (PM2 starts the apps that do not run, too); stop and
// delete act on the apps it names, which need not be valid to be stopped.
func actionFile(f *Factory, fo *fileOptions, path, action string) error {
	switch action {
	case api.ActionRestart, api.ActionReload:
		file, err := fo.load(f, path, nil, false)
		if err != nil {
			return err
		}
		return applyFile(f, file, action)
	}
	file, err := fo.load(f, path, nil, true)
	if err != nil {
		return err
	}
	return actOnFile(f, file, action)
}
