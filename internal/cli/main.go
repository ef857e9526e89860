// Package cli is tend's command line: cobra commands that turn flags into
// api types, call the daemon through package client, and print tables or
// JSON. Each command is a constructor that takes the shared *Env; behaviour
// lives in plain functions so it can be tested without a terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/tendpm/tend/api"
	"github.com/tendpm/tend/client"
)

// ExitCode is the process exit status of a command.
type ExitCode int

// Exit codes: 0 on success, 1 on any failure (PM2 exits 1 too).
const (
	ExitOK    ExitCode = 0
	ExitError ExitCode = 1
)

// silentError is an error whose message was already printed.
type silentError struct{ error }

// Main runs the tend command line with os.Args and returns the exit code.
func Main() ExitCode {
	streams := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Color: isTerminal(os.Stdout) && os.Getenv("NO_COLOR") == ""}
	return Run(NewFactory(context.Background(), streams, client.DefaultHome()), os.Args[1:])
}

// Run runs one command line with f.
func Run(f *Factory, args []string) ExitCode {
	root := NewRootCmd(f)
	args = rewriteArgs(args)
	f.setupFlags(root, args)
	root.SetArgs(args)
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	err := root.ExecuteContext(f.Context)
	if err == nil {
		return ExitOK
	}
	var silent silentError
	if !errors.As(err, &silent) {
		fmt.Fprintf(f.IOStreams.ErrOut, "[tend] error: %s\n", errorText(err))
	}
	return ExitError
}

// rewriteArgs applies PM2's spellings cobra cannot express: "log" is
// "logs", and -v alone is the version.
func rewriteArgs(args []string) []string {
	if len(args) == 1 && (args[0] == "-v" || args[0] == "-V") {
		return []string{"--version"}
	}
	if len(args) > 0 && args[0] == "log" {
		return append([]string{"logs"}, args[1:]...)
	}
	return args
}

// errorText is the one line shown for an error.
func errorText(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	return api.Message(err)
}

// NewRootCmd builds the command tree. The flags of start and startOr* are
// registered by Run for the command it runs (see Factory.lazyFlags); a
// caller that executes the tree itself calls f.setupFlags first.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "tend",
		Short: "A process manager: PM2's model and command line, for programs in any language",
		Long: "tend runs your programs in the background, restarts them when they crash, keeps their logs,\n" +
			"and shows what they cost. Commands and ecosystem files are PM2's.",
		Version:           api.Version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%v; see \"tend %s --help\"", err, c.Name())
	})
	root.AddCommand(
		newStartCmd(f),
		newStartOrCmd(f, "startOrRestart", api.ActionRestart),
		newStartOrCmd(f, "startOrReload", api.ActionReload),
		newStartOrCmd(f, "startOrGracefulReload", api.ActionReload),
		newInitCmd(f),
		newActionCmd(f, api.ActionStop, nil, "Stop apps (they stay in the list)"),
		newActionCmd(f, api.ActionRestart, nil, "Restart apps"),
		newActionCmd(f, api.ActionReload, []string{"gracefulReload"}, "Reload apps (restart, one instance at a time when they share sockets)"),
		newActionCmd(f, api.ActionDelete, []string{"del"}, "Stop apps and remove them from the list"),
		newActionCmd(f, api.ActionReset, nil, "Reset apps' restart counters"),
		newFlushCmd(f),
		newListCmd(f),
		newJlistCmd(f),
		newPrettylistCmd(f),
		newDescribeCmd(f),
		newPidCmd(f),
		newIDCmd(f),
		newEnvCmd(f),
		newSendSignalCmd(f),
		newSendCmd(f),
		newSendDataCmd(f),
		newScaleCmd(f),
		newLogsCmd(f),
		newPingCmd(f),
		newKillCmd(f),
		newUpdateCmd(f),
	)
	return root
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
