package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tendpm/tend/client"
)

// SaveOptions are save's (PM2's save and dump).
type SaveOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
	Force   bool
}

// NewCmdSave builds save (alias dump); runF, if not nil, runs instead of
// saveRun.
func NewCmdSave(f *Factory, runF func(*SaveOptions) error) *cobra.Command {
	if runF == nil {
		runF = saveRun
	}
	opts := &SaveOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:     "save",
		Aliases: []string{"dump"},
		Short:   "Save the process list, for tend resurrect and boot",
		Long: "Write every app (spec, environment, instances, stopped or not) to $TEND_HOME/dump.pm2, PM2's\n" +
			"file and format, atomically and readable by the daemon's user only; the previous list is kept\n" +
			"as dump.pm2.bak. An empty list is refused without --force. The daemon also saves when the\n" +
			"system stops it (SIGTERM, SIGINT), not on tend kill.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Force, "force", "f", false, "save even an empty list")
	return cmd
}

func saveRun(opts *SaveOptions) error {
	resp, err := opts.Client().Save(opts.Context, opts.Force)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "[tend] saved %d apps (%d processes) in %s\n", resp.Apps, resp.Processes, resp.Path)
	return nil
}

// ResurrectOptions are resurrect's; it takes no flags.
type ResurrectOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
}

// NewCmdResurrect builds resurrect; runF, if not nil, runs instead of
// resurrectRun.
func NewCmdResurrect(f *Factory, runF func(*ResurrectOptions) error) *cobra.Command {
	if runF == nil {
		runF = resurrectRun
	}
	opts := &ResurrectOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "resurrect",
		Short: "Start the apps of the saved process list",
		Long: "Start the apps saved by tend save that do not run yet (never twice), stopped ones stopped,\n" +
			"with new ids and counters. When dump.pm2 is missing or cannot be read, dump.pm2.bak is used;\n" +
			"a dump that cannot be read is moved aside as dump.pm2.corrupt-<time>, never used.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
}

func resurrectRun(opts *ResurrectOptions) error {
	resp, err := opts.Client().Resurrect(opts.Context)
	if resp.Corrupt != "" {
		fmt.Fprintf(opts.IO.ErrOut, "[tend] warning: the saved list could not be read (%s); moved it to %s\n", resp.CorruptError, resp.Corrupt)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "[tend] restoring processes from %s\n", resp.File)
	if len(resp.Running) > 0 {
		fmt.Fprintf(opts.IO.Out, "[tend] already running, not started again: %s\n", strings.Join(resp.Running, ", "))
	}
	if len(resp.Stopped) > 0 {
		fmt.Fprintf(opts.IO.Out, "[tend] added stopped, as saved: %s\n", strings.Join(resp.Stopped, ", "))
	}
	if len(resp.Started)+len(resp.Stopped) == 0 {
		fmt.Fprintln(opts.IO.Out, "[tend] nothing to start")
		return nil
	}
	return printTable(opts.IO, resp.Processes)
}

// ClearDumpOptions are cleardump's; it takes no flags.
type ClearDumpOptions struct {
	IO      *IOStreams
	Client  func() *client.Client
	Context context.Context
}

// NewCmdClearDump builds cleardump; runF, if not nil, runs instead of
// clearDumpRun.
func NewCmdClearDump(f *Factory, runF func(*ClearDumpOptions) error) *cobra.Command {
	if runF == nil {
		runF = clearDumpRun
	}
	opts := &ClearDumpOptions{IO: f.IOStreams, Client: f.Client}
	return &cobra.Command{
		Use:   "cleardump",
		Short: "Empty the saved process list",
		Long:  "Write an empty list to $TEND_HOME/dump.pm2, as PM2 does; the previous list is kept as dump.pm2.bak.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			return runF(opts)
		},
	}
}

func clearDumpRun(opts *ClearDumpOptions) error {
	resp, err := opts.Client().ClearDump(opts.Context)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "[tend] emptied %s\n", resp.Path)
	return nil
}
