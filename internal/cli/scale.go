package cli

import (
	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

func newScaleCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "scale <app> <N|+N|-N>",
		Short: "Set an app's number of instances",
		Long: "Add instances (they take the smallest free NODE_APP_INSTANCE index) or remove them\n" +
			"(lowest ids first, with their stop sequence), as PM2's scale does.",
		Example: "  tend scale api 4\n  tend scale api +2\n  tend scale api -1",
		// "-1" is a count here, not a flag.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
				return cmd.Help()
			}
			if err := exactArgs(2, "scale needs an app name and a count, e.g. tend scale api 4 (or +2, -1)")(cmd, args); err != nil {
				return err
			}
			resp, err := f.Client().Scale(f.Context, api.ScaleRequest{Name: args[0], Instances: args[1]})
			if err != nil {
				return err
			}
			return printTable(f, resp.Processes)
		},
	}
}
