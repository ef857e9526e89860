package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/client"
)

func newKillCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "kill",
		Short: "Stop every app, then the daemon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.Client().Kill(f.Context)
			switch {
			case errors.Is(err, client.ErrNotRunning):
				fmt.Fprintln(f.IOStreams.Out, "[tend] no daemon was running")
				return nil
			case err != nil:
				return err
			case r.Stopped < 0:
				fmt.Fprintln(f.IOStreams.Out, "[tend] the daemon did not answer on its socket; stopped it and its apps with SIGTERM")
				return nil
			}
			fmt.Fprintf(f.IOStreams.Out, "[tend] stopped %d processes and the daemon\n", r.Stopped)
			return nil
		},
	}
}
