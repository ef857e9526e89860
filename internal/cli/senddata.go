package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
)

func newSendDataCmd(f *Factory) *cobra.Command {
	var topic string
	cmd := &cobra.Command{
		Use:   "sendData <name|id|namespace|all> <data>",
		Short: "Send a message to Node apps' process.on('message')",
		Long: "Send data over the IPC channel of Node apps. The app receives PM2's packet\n" +
			"{type: 'process:msg', topic, data, id}. data is JSON, or else sent as a string.",
		Example: "  tend sendData api '{\"cmd\":\"refresh\"}'\n  tend sendData 0 hello --topic greet",
		Args:    exactArgs(2, "sendData needs an app and the data, e.g. tend sendData api '{\"cmd\":\"refresh\"}'"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data := json.RawMessage(args[1])
			if !json.Valid(data) {
				data, _ = json.Marshal(args[1])
			}
			resp, err := f.Client().SendData(f.Context, api.SendDataRequest{Selectors: strings.Fields(args[0]), Topic: topic, Data: data})
			if err != nil {
				return err
			}
			for _, p := range resp.Processes {
				fmt.Fprintf(f.IOStreams.Out, "[tend] sent to %s (id %d)\n", p.Name, p.PMID)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&topic, "topic", "tend", "topic of the packet")
	return cmd
}
