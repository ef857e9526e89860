package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func newIDCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "id <name>",
		Short: "Print the pm_id of an app's instances",
		Args:  exactArgs(1, "id needs an app name, e.g. tend id api"),
		RunE: func(cmd *cobra.Command, args []string) error {
			procs, err := selectLocal(f, args)
			if err != nil {
				return err
			}
			ids := make([]int, len(procs))
			for i, p := range procs {
				ids[i] = p.PMID
			}
			b, _ := json.Marshal(ids)
			fmt.Fprintln(f.IOStreams.Out, string(b))
			return nil
		},
	}
}
