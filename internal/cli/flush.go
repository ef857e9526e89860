package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

func newFlushCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "flush [name|id|namespace|all]...",
		Short: "Empty apps' log files (all apps without an argument)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"all"}
			}
			resp, err := f.Client().Action(f.Context, api.ActionRequest{Action: api.ActionFlush, Selectors: args})
			if err != nil {
				return err
			}
			for _, p := range resp.Processes {
				fmt.Fprintf(f.IOStreams.Out, "[tend] flushed logs of %s (id %d)\n", p.Name, p.PMID)
			}
			return nil
		},
	}
}
