package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

func newSendCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "send <id|name> <line>...",
		Short: "Write a line to an app's standard input",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := f.Client().Stdin(f.Context, api.StdinRequest{Selectors: args[:1], Line: strings.Join(args[1:], " ")})
			return err
		},
	}
}
