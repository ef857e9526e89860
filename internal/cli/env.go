package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/client"
)

// EnvOptions are env's: the app whose environment to print.
type EnvOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Selector    string
	ShowSecrets bool
}

// NewCmdEnv builds env; runF, if not nil, runs instead of envRun.
func NewCmdEnv(f *Factory, runF func(*EnvOptions) error) *cobra.Command {
	if runF == nil {
		runF = envRun
	}
	opts := &EnvOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
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
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) { showSecretsFlag(fs, &opts.ShowSecrets) })
	return cmd
}

func envRun(opts *EnvOptions) error {
	procs, err := opts.Client().Processes(withSecrets(opts.Context, opts.ShowSecrets), opts.Selector)
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
