package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// SendDataOptions are sendData's: a message for Node apps' IPC channel.
type SendDataOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context

	Selectors []string
	Topic     string
	// Data is the argument if it is JSON, else the argument as a JSON
	// string.
	Data json.RawMessage
}

// NewCmdSendData builds sendData; runF, if not nil, runs instead of
// sendDataRun.
func NewCmdSendData(f *Factory, runF func(*SendDataOptions) error) *cobra.Command {
	if runF == nil {
		runF = sendDataRun
	}
	opts := &SendDataOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "sendData <name|id|namespace|all> <data>",
		Short: "Send a message to Node apps' process.on('message')",
		Long: "Send data over the IPC channel of Node apps. The app receives PM2's packet\n" +
			"{type: 'process:msg', topic, data, id}. data is JSON, or else sent as a string.",
		Example: "  tend sendData api '{\"cmd\":\"refresh\"}'\n  tend sendData 0 hello --topic greet",
		Args:    exactArgs(2, "sendData needs an app and the data, e.g. tend sendData api '{\"cmd\":\"refresh\"}'"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			opts.Selectors = strings.Fields(args[0])
			opts.Data = json.RawMessage(args[1])
			if !json.Valid(opts.Data) {
				opts.Data, _ = json.Marshal(args[1])
			}
			return runF(opts)
		},
	}
	f.lazyFlags(cmd, func(fs *pflag.FlagSet) {
		fs.StringVar(&opts.Topic, "topic", "tend", "topic of the packet")
	})
	return cmd
}

func sendDataRun(opts *SendDataOptions) error {
	resp, err := opts.Client().SendData(opts.Context, api.SendDataRequest{Selectors: opts.Selectors, Topic: opts.Topic, Data: opts.Data})
	if err != nil {
		return err
	}
	for _, p := range resp.Processes {
		fmt.Fprintf(opts.IO.Out, "[tend] sent to %s (id %d)\n", p.Name, p.PMID)
	}
	return nil
}
