package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/client"
)

// EnvOptions are env's: the app whose environment to print.
type EnvOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Selector string
}

// NewCmdEnv builds env; runF, if not nil, runs instead of envRun.
func NewCmdEnv(f *Factory, runF func(*EnvOptions) error) *cobra.Command {
	if runF == nil {
		runF = envRun
	}
	opts := &EnvOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Annotations: dataAnnotation,
		Use:         "env <id>",
		Short:       "Print the environment an app runs with",
		Args:        exactArgs(1, "env needs an app id or name, e.g. tend env 0"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Selector = args[0]
			return runF(opts)
		},
	}
}

func envRun(opts *EnvOptions) error {
	procs, err := opts.Client().Processes(opts.Context, opts.Selector)
	if err != nil {
		return err
	}
	for _, p := range procs {
		for _, k := range slices.Sorted(maps.Keys(p.Env.Env)) {
			fmt.Fprintf(opts.IO.Out, "%s: %s\n", k, p.Env.Env[k])
		}
	}
	return nil
}
