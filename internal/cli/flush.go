package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// FlushOptions are flush's: the apps whose log files to empty.
type FlushOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Selectors []string
}

// NewCmdFlush builds flush; runF, if not nil, runs instead of flushRun.
func NewCmdFlush(f *Factory, runF func(*FlushOptions) error) *cobra.Command {
	if runF == nil {
		runF = flushRun
	}
	opts := &FlushOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "flush [name|id|namespace|all]...",
		Short: "Empty apps' log files (all apps without an argument)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"all"}
			}
			opts.Context = cmd.Context()
			opts.Selectors = args
			return runF(opts)
		},
	}
}

func flushRun(opts *FlushOptions) error {
	resp, err := opts.Client().Action(opts.Context, api.ActionRequest{Action: api.ActionFlush, Selectors: opts.Selectors})
	if err != nil {
		return err
	}
	for _, p := range resp.Processes {
		fmt.Fprintf(opts.IO.Out, "[tend] flushed logs of %s (id %d)\n", p.Name, p.PMID)
	}
	return nil
}
