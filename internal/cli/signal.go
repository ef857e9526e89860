package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// SignalOptions are sendSignal's: a signal and the apps to send it to.
type SignalOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Signal    string
	Selectors []string
}

// NewCmdSignal builds sendSignal; runF, if not nil, runs instead of
// signalRun.
func NewCmdSignal(f *Factory, runF func(*SignalOptions) error) *cobra.Command {
	if runF == nil {
		runF = signalRun
	}
	opts := &SignalOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "sendSignal <signal> <name|id|namespace|all>...",
		Short: "Send a signal to apps' main processes",
		Args: leadingArgs(
			"sendSignal needs a signal and an app, e.g. tend sendSignal SIGUSR2 api",
			"sendSignal needs an app after the signal, e.g. tend sendSignal SIGUSR2 api"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Signal, opts.Selectors = args[0], args[1:]
			return runF(opts)
		},
	}
}

func signalRun(opts *SignalOptions) error {
	resp, err := opts.Client().Signal(opts.Context, api.SignalRequest{Signal: opts.Signal, Selectors: opts.Selectors})
	if err != nil {
		return err
	}
	for _, p := range resp.Processes {
		fmt.Fprintf(opts.IO.Out, "[tend] sent %s to %s (id %d, pid %d)\n", opts.Signal, p.Name, p.PMID, p.PID)
	}
	return nil
}
