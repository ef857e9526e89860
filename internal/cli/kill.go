package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/client"
)

// KillOptions are kill's; it takes no flags.
type KillOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
}

// NewCmdKill builds kill; runF, if not nil, runs instead of killRun.
func NewCmdKill(f *Factory, runF func(*KillOptions) error) *cobra.Command {
	if runF == nil {
		runF = killRun
	}
	opts := &KillOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "kill",
		Short: "Stop every app, then the daemon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
}

func killRun(opts *KillOptions) error {
	r, err := opts.Client().Kill(opts.Context)
	switch {
	case errors.Is(err, client.ErrNotRunning):
		fmt.Fprintln(opts.IO.Out, "[tend] no daemon was running")
		return nil
	case err != nil:
		return err
	case r.Stopped < 0:
		fmt.Fprintln(opts.IO.Out, "[tend] the daemon did not answer on its socket; stopped it and its apps with SIGTERM")
		return nil
	}
	fmt.Fprintf(opts.IO.Out, "[tend] stopped %d %s and the daemon\n", r.Stopped, pronoun(r.Stopped, "process", "processes"))
	return nil
}
