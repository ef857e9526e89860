package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newPidCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "pid [name|id]",
		Short: "Print the pid of apps (all without an argument)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"all"}
			}
			procs, err := selectLocal(f, args)
			if err != nil {
				return err
			}
			for _, p := range procs {
				fmt.Fprintln(f.IOStreams.Out, p.PID)
			}
			return nil
		},
	}
}
