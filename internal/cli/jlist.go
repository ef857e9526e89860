package cli

import (
	"bytes"
	"encoding/json"

	"github.com/spf13/cobra"
)

func newJlistCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "jlist",
		Short: "Print apps as JSON, in PM2's jlist shape",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := f.Client().ProcessesJSON(f.Context)
			if err != nil {
				return err
			}
			_, err = f.IOStreams.Out.Write(b)
			return err
		},
	}
}

func newPrettylistCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "prettylist",
		Short: "Print apps as indented JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := f.Client().ProcessesJSON(f.Context)
			if err != nil {
				return err
			}
			var out bytes.Buffer
			if err := json.Indent(&out, b, "", "  "); err != nil {
				return err
			}
			_, err = f.IOStreams.Out.Write(out.Bytes())
			return err
		},
	}
}
