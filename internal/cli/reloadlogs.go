package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// ReloadLogsOptions are reloadLogs'; it takes no flags.
type ReloadLogsOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
}

// NewCmdReloadLogs builds reloadLogs; runF, if not nil, runs instead of
// reloadLogsRun.
func NewCmdReloadLogs(f *Factory, runF func(*ReloadLogsOptions) error) *cobra.Command {
	if runF == nil {
		runF = reloadLogsRun
	}
	opts := &ReloadLogsOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "reloadLogs",
		Short: "Reopen every log file, after an external tool (logrotate) renamed them",
		Long: "Reopen every log file (the apps' and tend.log): after a tool like logrotate renamed them away,\n" +
			"tend writes on in new files at the same paths. SIGUSR2 to the daemon does the same.\n" +
			"It never starts a daemon: with none running there is nothing to reopen.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
}

func reloadLogsRun(opts *ReloadLogsOptions) error {
	fmt.Fprintln(opts.IO.Out, "Reloading all logs...")
	resp, err := opts.Client().ReloadLogs(opts.Context)
	if errors.Is(err, client.ErrNoDaemon) {
		fmt.Fprintln(opts.IO.Out, "[tend] no daemon runs: no log file is open")
		return nil
	}
	if err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("%d log files reopened; these could not be: %s; fix their paths or permissions and run tend reloadLogs again: %w",
			resp.Files, strings.Join(resp.Errors, "; "), api.ErrUnavailable)
	}
	fmt.Fprintf(opts.IO.Out, "All logs reloaded (%d files)\n", resp.Files)
	return nil
}
