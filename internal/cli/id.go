package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/client"
)

// IDOptions are id's: the app whose instances' pm_ids to print.
type IDOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Name string
}

// NewCmdID builds id; runF, if not nil, runs instead of idRun.
func NewCmdID(f *Factory, runF func(*IDOptions) error) *cobra.Command {
	if runF == nil {
		runF = idRun
	}
	opts := &IDOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Annotations: dataAnnotation,
		Use:         "id <name>",
		Short:       "Print the pm_id of an app's instances",
		Args:        exactArgs(1, "id needs an app name, e.g. tend id api"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Name = args[0]
			return runF(opts)
		},
	}
}

func idRun(opts *IDOptions) error {
	procs, err := opts.Client().Summaries(opts.Context, opts.Name)
	if err != nil {
		return err
	}
	ids := make([]int, len(procs))
	for i, p := range procs {
		ids[i] = p.PMID
	}
	b, _ := json.Marshal(ids)
	fmt.Fprintln(opts.IO.Out, string(b))
	return nil
}
