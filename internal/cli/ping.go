package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/client"
)

// PingOptions are ping's; it takes no flags.
type PingOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
}

// NewCmdPing builds ping; runF, if not nil, runs instead of pingRun.
func NewCmdPing(f *Factory, runF func(*PingOptions) error) *cobra.Command {
	if runF == nil {
		runF = pingRun
	}
	opts := &PingOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "ping",
		Short: "Check the daemon (starting it if needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
}

func pingRun(opts *PingOptions) error {
	p, err := opts.Client().Ping(opts.Context)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "pong: daemon pid %d, version %s, home %s\n", p.PID, p.Version, p.Home)
	return nil
}
