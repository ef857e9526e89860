package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// SendOptions are send's: a line for an app's standard input.
type SendOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Selector string
	Line     string
}

// NewCmdSend builds send; runF, if not nil, runs instead of sendRun.
func NewCmdSend(f *Factory, runF func(*SendOptions) error) *cobra.Command {
	if runF == nil {
		runF = sendRun
	}
	opts := &SendOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "send <id|name> <line>...",
		Short: "Write a line to an app's standard input",
		Args: leadingArgs(
			"send needs an app and a line, e.g. tend send api 'reload config'",
			"send needs a line after the app, e.g. tend send api 'reload config'"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Selector, opts.Line = args[0], strings.Join(args[1:], " ")
			return runF(opts)
		},
	}
}

func sendRun(opts *SendOptions) error {
	_, err := opts.Client().Stdin(opts.Context, api.StdinRequest{Selectors: []string{opts.Selector}, Line: opts.Line})
	return err
}
