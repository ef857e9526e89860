package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// ScaleOptions are scale's: an app and its new count.
type ScaleOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Name string
	// Instances is N, +N or -N, as typed: the daemon reads it.
	Instances string
}

// NewCmdScale builds scale; runF, if not nil, runs instead of scaleRun.
func NewCmdScale(f *Factory, runF func(*ScaleOptions) error) *cobra.Command {
	if runF == nil {
		runF = scaleRun
	}
	opts := &ScaleOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "scale <app> <N|+N|-N>",
		Short: "Set an app's number of instances",
		Long: "Add instances (they take the smallest free NODE_APP_INSTANCE index) or remove them\n" +
			"(lowest ids first, with their stop sequence), as PM2's scale does.",
		Example: "  tend scale api 4\n  tend scale api +2\n  tend scale api -1",
		// "-1" is a count here, not a flag.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			g, args := takeGlobalFlags(args)
			g.apply(opts.IO, cmd)
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
				return cmd.Help()
			}
			if err := exactArgs(2, "scale needs an app name and a count, e.g. tend scale api 4 (or +2, -1)")(cmd, args); err != nil {
				return err
			}
			opts.Context = cmd.Context()
			opts.Name, opts.Instances = args[0], args[1]
			return runF(opts)
		},
	}
}

func scaleRun(opts *ScaleOptions) error {
	resp, err := opts.Client().Scale(opts.Context, api.ScaleRequest{Name: opts.Name, Instances: opts.Instances})
	if err != nil {
		return err
	}
	return printTable(opts.IO, resp.Processes)
}
