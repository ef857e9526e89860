package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/client"
	"github.com/tendpm/tend/internal/tui"
)

// MonitOptions are monit's; it takes no flags.
type MonitOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
}

// NewCmdMonit builds monit; runF, if not nil, runs instead of monitRun.
func NewCmdMonit(f *Factory, runF func(*MonitOptions) error) *cobra.Command {
	if runF == nil {
		runF = monitRun
	}
	opts := &MonitOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:     "monit",
		Aliases: []string{"dashboard", "dash"},
		Short:   "Dashboard of the apps: CPU, memory, logs, and keys to restart, reload, stop, scale",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
}

func monitRun(opts *MonitOptions) error {
	return tui.Run(opts.Context, opts.Client(), opts.IO.In, opts.IO.Out)
}
