package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// JlistOptions are jlist's and prettylist's: the process list as JSON,
// PM2's jlist shape, as the daemon encoded it.
type JlistOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	// Pretty is prettylist: the same list as Node's util.inspect shows it,
	// as PM2's prettylist does.
	Pretty bool
	// ShowSecrets shows secret variables' values instead of [redacted].
	ShowSecrets bool
}

// NewCmdJlist builds jlist; runF, if not nil, runs instead of jlistRun.
func NewCmdJlist(f *Factory, runF func(*JlistOptions) error) *cobra.Command {
	return newJlistCmd(f, runF, "jlist", "Print apps as JSON, in PM2's jlist shape", false)
}

// NewCmdPrettylist builds prettylist; runF, if not nil, runs instead of
// jlistRun.
func NewCmdPrettylist(f *Factory, runF func(*JlistOptions) error) *cobra.Command {
	return newJlistCmd(f, runF, "prettylist", "Print apps as PM2 does: jlist's list in Node's util.inspect notation", true)
}

func newJlistCmd(f *Factory, runF func(*JlistOptions) error, use, short string, pretty bool) *cobra.Command {
	if runF == nil {
		runF = jlistRun
	}
	opts := &JlistOptions{IO: f.IOStreams, Client: f.Client, Pretty: pretty}
	cmd := &cobra.Command{
		Annotations: dataAnnotation,
		Use:         use,
		Short:       short,
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) { showSecretsFlag(fs, &opts.ShowSecrets) })
	return cmd
}

func jlistRun(opts *JlistOptions) error {
	b, err := opts.Client().ProcessesJSON(withSecrets(opts.Context, opts.ShowSecrets))
	if err != nil {
		return err
	}
	if opts.Pretty {
		s, err := inspect(b)
		if err != nil {
			return fmt.Errorf("read the process list: %v: %w", err, api.ErrInternal)
		}
		// PM2 ends without a newline; a terminal gets one, so the prompt
		// does not follow the closing bracket.
		if opts.IO.Columns > 0 {
			s += "\n"
		}
		b = []byte(s)
	}
	_, err = opts.IO.Out.Write(b)
	return err
}
