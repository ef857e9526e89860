package cli

import (
	"context"
	"fmt"
	"os"

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
	// Without a terminal on both ends the dashboard cannot draw or read
	// keys; say so instead of bubbletea's low-level error.
	for _, s := range []any{opts.IO.In, opts.IO.Out} {
		if f, ok := s.(*os.File); !ok || !isTerminal(f) {
			return fmt.Errorf("monit needs a terminal on its input and output: run it in an interactive shell (scripts: use tend jlist or tend events)")
		}
	}
	return tui.Run(opts.Context, opts.Client(), opts.IO.In, opts.IO.Out)
}
