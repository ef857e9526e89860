package cli

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"
)

func newEnvCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "env <id>",
		Short: "Print the environment an app runs with",
		Args:  exactArgs(1, "env needs an app id or name, e.g. tend env 0"),
		RunE: func(cmd *cobra.Command, args []string) error {
			procs, err := f.Client().Processes(f.Context, args...)
			if err != nil {
				return err
			}
			for _, p := range procs {
				for _, k := range slices.Sorted(maps.Keys(p.Env.Env)) {
					fmt.Fprintf(f.IOStreams.Out, "%s: %s\n", k, p.Env.Env[k])
				}
			}
			return nil
		},
	}
}
