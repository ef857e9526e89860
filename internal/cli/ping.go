package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newPingCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "ping",
		Short: "Check the daemon (starting it if needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := f.Client().Ping(f.Context)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.Out, "pong: daemon pid %d, version %s, home %s\n", p.PID, p.Version, p.Home)
			return nil
		},
	}
}
