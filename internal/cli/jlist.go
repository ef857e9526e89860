package cli

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/client"
)

// JlistOptions are jlist's and prettylist's: the process list as JSON,
// PM2's jlist shape, as the daemon encoded it.
type JlistOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	// Indent is prettylist: the same JSON, indented.
	Indent bool
}

// NewCmdJlist builds jlist; runF, if not nil, runs instead of jlistRun.
func NewCmdJlist(f *Factory, runF func(*JlistOptions) error) *cobra.Command {
	return newJlistCmd(f, runF, "jlist", "Print apps as JSON, in PM2's jlist shape", false)
}

// NewCmdPrettylist builds prettylist; runF, if not nil, runs instead of
// jlistRun.
func NewCmdPrettylist(f *Factory, runF func(*JlistOptions) error) *cobra.Command {
	return newJlistCmd(f, runF, "prettylist", "Print apps as indented JSON", true)
}

func newJlistCmd(f *Factory, runF func(*JlistOptions) error, use, short string, indent bool) *cobra.Command {
	if runF == nil {
		runF = jlistRun
	}
	opts := &JlistOptions{IO: f.IOStreams, Client: f.Client, Indent: indent}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
}

func jlistRun(opts *JlistOptions) error {
	b, err := opts.Client().ProcessesJSON(opts.Context)
	if err != nil {
		return err
	}
	if opts.Indent {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			return err
		}
		b = out.Bytes()
	}
	_, err = opts.IO.Out.Write(b)
	return err
}
