package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

func newSendSignalCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "sendSignal <signal> <name|id|namespace|all>...",
		Short: "Send a signal to apps' main processes",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := f.Client().Signal(f.Context, api.SignalRequest{Signal: args[0], Selectors: args[1:]})
			if err != nil {
				return err
			}
			for _, p := range resp.Processes {
				fmt.Fprintf(f.IOStreams.Out, "[tend] sent %s to %s (id %d, pid %d)\n", args[0], p.Name, p.PMID, p.PID)
			}
			return nil
		},
	}
}
