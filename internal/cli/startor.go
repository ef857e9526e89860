package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
)

// newStartOrCmd builds startOrRestart, startOrReload and
// startOrGracefulReload: start the file's missing apps, restart (or reload)
// the others on the file's spec.
func newStartOrCmd(f *Factory, name, verb string) *cobra.Command {
	o := &startOptions{}
	fo := &fileOptions{}
	cmd := &cobra.Command{
		Use:   name + " [ecosystem file]",
		Short: "Start an ecosystem file's missing apps and " + verb + " the others on the file's spec",
		Long: "Start the apps of an ecosystem file that are not running, and " + verb + " those that are, applying\n" +
			"what changed in the file (script, args, env, instances, limits). Without a file, the current\n" +
			"directory's ecosystem.config.js (or .json, .yaml) is used.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, ok, err := fo.fileTarget(args, true)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s needs an ecosystem file and %s is not one; for a script use tend start, or pass --config %s: %w", name, args[0], args[0], api.ErrInvalid)
			}
			return startFile(f, cmd.Flags(), o, fo, path, nil, verb)
		},
	}
	f.lazyFlags(cmd, func(f *pflag.FlagSet) {
		o.register(f)
		fo.register(f, true)
	})
	return cmd
}
