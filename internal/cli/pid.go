package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/client"
)

// PidOptions are pid's: the apps whose pids to print.
type PidOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Selectors []string
}

// NewCmdPid builds pid; runF, if not nil, runs instead of pidRun.
func NewCmdPid(f *Factory, runF func(*PidOptions) error) *cobra.Command {
	if runF == nil {
		runF = pidRun
	}
	opts := &PidOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Annotations: dataAnnotation,
		Use:         "pid [name|id]",
		Short:       "Print the pid of apps (all without an argument)",
		Args:        cobra.MaximumNArgs(1),
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

func pidRun(opts *PidOptions) error {
	procs, err := opts.Client().Summaries(opts.Context, opts.Selectors...)
	if err != nil {
		return err
	}
	for _, p := range procs {
		fmt.Fprintln(opts.IO.Out, p.PID)
	}
	return nil
}
